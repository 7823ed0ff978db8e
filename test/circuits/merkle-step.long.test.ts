/**
 * The Merkle-step leaf's soundness cases at full count: `npm run test:long` sets VIGIL_LONG=1, under
 * which merkle-step.test.ts runs 1,000 correct and 1,000 wrong steps instead of 250 each.
 */
import './merkle-step.test.ts';
