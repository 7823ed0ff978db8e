/**
 * The GVM-1 execution leaves' soundness cases at full count: `npm run test:long` sets VIGIL_LONG=1, under
 * which exec-leaf.test.ts runs 10,000 correct and 10,000 wrong steps per opcode (mul and div included)
 * instead of 12 and 36 (4 and 12 for mul and div). VIGIL_EXEC_CASES / VIGIL_EXEC_WRONG override the
 * counts (a shorter run that still goes through this file).
 */
import './exec-leaf.test.ts';
