/**
 * propose and execute at full count: `npm run test:long` sets VIGIL_LONG=1, under which
 * propose-execute.test.ts checks 100 seeded workloads instead of 6.
 */
import './propose-execute.test.ts';
