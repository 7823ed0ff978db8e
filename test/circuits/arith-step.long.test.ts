/**
 * The arithmetic-step leaves' soundness cases at full count: `npm run test:long` sets VIGIL_LONG=1, under
 * which arith-step.test.ts runs 1,000 correct and 1,000 wrong steps per kind instead of 250 each.
 */
import './arith-step.test.ts';
