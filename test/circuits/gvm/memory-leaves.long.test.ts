/**
 * GVM-1: the memory leaves' soundness cases (read after write, unwritten read, differ, pc range) at full count. `npm run test:long` sets VIGIL_LONG=1, under which
 * memory-leaves.test.ts runs 10,000 correct and 10,000 wrong cases per leaf kind (VIGIL_GVM_CASES overrides
 * the count, e.g. for a shorter check run).
 */
import './memory-leaves.test.ts';
