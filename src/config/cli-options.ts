/**
 * Command-line flags for every configuration key, derived from the schema (see fields.ts for the
 * naming rule), so `--redis-url` and `VIGIL_REDIS_URL` always name the same setting.
 */
import { type Command, Option } from 'commander';
import { configLeaves } from './fields.ts';
import { type LoadedConfig, loadConfig } from './load.ts';

const GROUP = 'Configuration overrides (beat VIGIL_* env and the file):';

/** Adds `--config` and one flag per configuration key. Keys already present (e.g. `--mode`) are kept. */
export function addConfigOptions(cmd: Command): Command {
  if (!cmd.options.some((o) => o.long === '--config')) {
    cmd.option('-c, --config <file>', 'YAML configuration file (default: $VIGIL_CONFIG, else none)');
  }
  for (const leaf of configLeaves()) {
    if (cmd.options.some((o) => o.long === `--${leaf.flag}`)) continue;
    cmd.addOption(new Option(`--${leaf.flag} <value>`, `${leaf.key}: ${leaf.description}`).helpGroup(GROUP));
  }
  return cmd;
}

/** The configuration keys given as flags on `cmd`, by dotted key, as typed. */
export function configFlagValues(cmd: Command): Record<string, string> {
  const values: Record<string, string> = {};
  for (const leaf of configLeaves()) {
    const option = cmd.options.find((o) => o.long === `--${leaf.flag}`);
    if (!option) continue;
    const value: unknown = cmd.getOptionValue(option.attributeName());
    if (value === undefined) continue;
    values[leaf.key] = typeof value === 'string' ? value : String(value);
  }
  return values;
}

/** Loads the configuration for a command that called addConfigOptions. */
export function loadConfigFromCommand(cmd: Command, env = process.env): LoadedConfig {
  const file: unknown = cmd.getOptionValue('config');
  return loadConfig({ file: typeof file === 'string' ? file : undefined, env, flags: configFlagValues(cmd) });
}
