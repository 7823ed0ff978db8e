/**
 * strategies.test.ts in the long suite (VIGIL_LONG=1): every operator strategy, assert-last-block and
 * never-assert (which wait out the whole assert window) included.
 */
import './strategies.test.ts';
