/**
 * The narrowing game's small leaves at full count. `npm run test:long` sets VIGIL_LONG=1, under which
 * game-leaves.test.ts runs 10,000 perturbations per leaf and 10,000 honest steps of the real trace
 * (VIGIL_GVM_CASES overrides the count, e.g. for a shorter check run).
 */
import './game-leaves.test.ts';
