/**
 * The GVM-1 execution leaves' soundness cases at full count: `npm run test:long` sets VIGIL_LONG=1, under
 * which exec-leaf.test.ts runs 10,000 correct and 10,000 wrong steps per opcode (mul and div included)
 * instead of 15 and 42 (5 and 14 for mul and div), and the judgement alone on 20,000 steps per opcode
 * instead of 600 (200 for mul and div). Projected on the shared 2-core machine: about 7 hours (~88 ms a
 * case through the whole leaf). VIGIL_EXEC_CASES / VIGIL_EXEC_WRONG override the leaf counts and
 * VIGIL_EXEC_JUDGED the judgement-alone count, for a shorter run of this file.
 */
import './exec-leaf.test.ts';
