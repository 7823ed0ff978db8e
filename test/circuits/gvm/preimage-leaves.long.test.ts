/**
 * GVM-1: the narrowing game's preimage leaves (pc link, wrong predecessor, h_0) at full count.
 * `npm run test:long` sets VIGIL_LONG=1, under which preimage-leaves.test.ts tries every step of its
 * epoch's run (up to 10,000; VIGIL_GVM_CASES overrides) with the honest preimage, two perturbed ones and
 * two forgeries each.
 */
import './preimage-leaves.test.ts';
