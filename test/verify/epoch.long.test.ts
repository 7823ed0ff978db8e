/**
 * epoch.test.ts in the long suite (VIGIL_LONG=1): `vigil verify` refuses every fault of the catalogue,
 * the four the default suite's chain does not reach included (three more L2 stories, on other seeds).
 */
import './epoch.test.ts';
