/**
 * GVM-1: the trace-chain link leaf's soundness cases at full count. `npm run test:long` sets VIGIL_LONG=1, under which
 * chain-leaf.test.ts runs 10,000 correct and 10,000 wrong cases per leaf kind (VIGIL_GVM_CASES overrides
 * the count, e.g. for a shorter check run).
 */
import './chain-leaf.test.ts';
