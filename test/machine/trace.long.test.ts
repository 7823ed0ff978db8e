/**
 * The GVM-1 trace checks at full count: `npm run test:long` sets VIGIL_LONG=1, under which trace.test.ts
 * runs 3,000 random programs instead of 300.
 */
import './trace.test.ts';
