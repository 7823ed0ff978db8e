import { Command } from 'commander';
import { notImplemented } from '../not-implemented.ts';

export function replayCommand(): Command {
  return new Command('replay')
    .description('Re-execute governance inputs offline and print the state root of every epoch')
    .option('--inputs <file>', 'an inputs file (docs/inputs-format.md)')
    .option('--trace', 'print the root after every step')
    .option('--fault <name>', 'run a faulty executor of the catalogue and show the first divergent step')
    .option('--json', 'print JSON')
    .action(notImplemented('vigil replay', 'the governance reference model (issue #3)'));
}
