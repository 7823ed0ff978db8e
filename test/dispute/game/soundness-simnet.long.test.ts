/**
 * Soundness on simnet at full count: `npm run test:long` sets VIGIL_LONG=1, under which
 * soundness-simnet.test.ts plays 52 griefing games (every catalogue scenario's honest epoch, 4 or 5
 * griefers each), trying every leaf after every operator move.
 */
import './soundness-simnet.test.ts';
