import { Command } from 'commander';
import { notImplemented } from '../not-implemented.ts';

export function verifyCommand(): Command {
  return new Command('verify')
    .description(
      "Check a validator's own epoch commitment against Vigil's re-execution before anyone else does",
    )
    .option('-c, --config <file>', 'YAML configuration file')
    .option('--epoch <n>', 'the epoch to check')
    .option('--json', 'print the verdict as JSON')
    .action(notImplemented('vigil verify', 'a later release (validator self-checks)'));
}
