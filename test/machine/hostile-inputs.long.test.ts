/**
 * Hostile inputs at full count: `npm run test:long` sets VIGIL_LONG=1, under which hostile-inputs.test.ts
 * runs 200 seeds instead of 8.
 */
import './hostile-inputs.test.ts';
