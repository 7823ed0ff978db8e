/**
 * devnet.test.ts in the long suite (VIGIL_LONG=1): every fault of the catalogue end to end on the devnet,
 * the four slowest included, with each dispute's bundles replayed.
 */
import './devnet.test.ts';
