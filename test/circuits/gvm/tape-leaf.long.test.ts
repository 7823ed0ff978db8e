/**
 * GVM-1: the tape Merkle-path leaves' soundness cases (level and top) at full count. `npm run test:long` sets VIGIL_LONG=1, under which
 * tape-leaf.test.ts runs 10,000 correct and 10,000 wrong cases per leaf kind (VIGIL_GVM_CASES overrides
 * the count, e.g. for a shorter check run).
 */
import './tape-leaf.test.ts';
