/**
 * Command-line flags for every configuration key, derived from the schema (see fields.ts for the
 * naming rule), so `--redis-url` and `VIGIL_REDIS_URL` always name the same setting.
 */
import { type Command, Option } from 'commander';
import { configLeaves } from './fields.ts';
import { type LoadedConfig, loadConfig } from './load.ts';

const POINTER =
  '\nEvery configuration key is also a flag here, beating VIGIL_* env and the file\n' +
  '(--redis-url, --l2-rpc-urls, …): `vigil config --help` lists them all.';

/**
 * Adds `--config` and one flag per configuration key. Keys already present (e.g. `--mode`) are kept. The
 * key flags are accepted but not listed in the command's help, which points to `vigil config --help`.
 */
export function addConfigOptions(cmd: Command): Command {
  if (!cmd.options.some((o) => o.long === '--config')) {
    cmd.option('-c, --config <file>', 'YAML configuration file (default: $VIGIL_CONFIG, else none)');
  }
  for (const leaf of configLeaves()) {
    if (cmd.options.some((o) => o.long === `--${leaf.flag}`)) continue;
    cmd.addOption(new Option(`--${leaf.flag} <value>`, `${leaf.key}: ${leaf.description}`).hideHelp());
  }
  cmd.addHelpText('after', POINTER);
  return cmd;
}

/** Every configuration key's flag and env variable with its description: `vigil config --help`. */
export function configOverridesHelp(): string {
  const leaves = configLeaves();
  const width = Math.max(...leaves.map((l) => l.flag.length)) + 10;
  const lines = leaves.map((l) => `  ${`--${l.flag} <value>`.padEnd(width)} ${l.key}: ${l.description}`);
  return [
    '',
    'Configuration keys, as flags of watch, verify, disputes and config check (precedence: defaults <',
    'file < VIGIL_* env < flags; each key also has an env variable, docs/configuration.md):',
    ...lines,
  ].join('\n');
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
