/**
 * The narrowing game on random workloads at full count: `npm run test:long` sets VIGIL_LONG=1, under
 * which workload-games.test.ts plays 100 workloads (every fault that changes the root, 20 griefers each).
 */
import './workload-games.test.ts';
