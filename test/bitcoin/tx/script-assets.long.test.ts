/** script_assets_test.json under every applicable consensus flag set, exactly as Core's test runs it. */
import { runScriptAssets } from './script-assets-harness.ts';

runScriptAssets('script_assets_test.json (all consensus flag sets)', (applicable) => applicable);
