/**
 * The governance program's per-input equivalence with the model at full count: `npm run test:long` sets
 * VIGIL_LONG=1, under which governance-equivalence.test.ts checks 500 seeded workloads of the validator
 * kinds instead of 12, and 300 model-reached pre-states with proposals instead of 10.
 */
import './governance-equivalence.test.ts';
