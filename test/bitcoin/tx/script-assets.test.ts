/**
 * script_assets_test.json, every record, on the boundary flag sets of Core's rule: a success under the
 * record's own flags, under no flags, and (when `final`) under all consensus flags; a failure under the
 * record's own flags and under all consensus flags. The full sweep of all 64 consensus flag sets per
 * record, exactly as Core's script_assets_test does, is script-assets.long.test.ts (npm run test:long).
 */
import { ALL_CONSENSUS, runScriptAssets } from './script-assets-harness.ts';

runScriptAssets('script_assets_test.json (boundary flag sets)', (applicable, testFlags, expectValid) => {
  const wanted = expectValid ? [testFlags, 0, ALL_CONSENSUS] : [testFlags, ALL_CONSENSUS];
  return applicable.filter((flags) => wanted.includes(flags));
});
