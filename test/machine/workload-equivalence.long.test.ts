/**
 * Whole random workloads at full count: `npm run test:long` sets VIGIL_LONG=1, under which
 * workload-equivalence.test.ts checks 500 seeded workloads of every input kind instead of 50.
 */
import './workload-equivalence.test.ts';
