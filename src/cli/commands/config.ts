import { Command } from 'commander';
import { notImplemented } from '../not-implemented.ts';

export function configCommand(): Command {
  const cmd = new Command('config').description('Validate and show configuration');
  cmd
    .command('check')
    .description('Validate the configuration and print the effective config with secrets redacted')
    .option('-c, --config <file>', 'YAML configuration file')
    .action(notImplemented('vigil config check', 'the foundation (issue #2)'));
  return cmd;
}
