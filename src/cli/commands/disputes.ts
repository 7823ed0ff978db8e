import { Command } from 'commander';
import { notImplemented } from '../not-implemented.ts';

export function disputesCommand(): Command {
  const cmd = new Command('disputes').description('Inspect the disputes this Vigil follows');
  cmd
    .command('list')
    .description('List disputes with their state')
    .option('-c, --config <file>', 'YAML configuration file')
    .option('--json', 'print JSON')
    .action(notImplemented('vigil disputes list', 'the watcher daemon (issue #8)'));
  cmd
    .command('show <id>')
    .description('Show one dispute: state, history, transactions and the re-execution trace')
    .option('-c, --config <file>', 'YAML configuration file')
    .option('--json', 'print JSON')
    .action(notImplemented('vigil disputes show', 'the watcher daemon (issue #8)'));
  cmd
    .command('export <id>')
    .description('Write a self-contained bundle of one dispute for offline replay')
    .option('-c, --config <file>', 'YAML configuration file')
    .option('-o, --out <file>', 'output file')
    .action(notImplemented('vigil disputes export', 'the watcher daemon (issue #8)'));
  return cmd;
}
