import { Command } from 'commander';
import { notImplemented } from '../not-implemented.ts';

export function watchCommand(): Command {
  return new Command('watch')
    .description('Follow the L2 and Bitcoin, judge every epoch commitment, and challenge fraud (the daemon)')
    .option('-c, --config <file>', 'YAML configuration file')
    .option('--mode <mode>', 'watch (alert only) | challenge (spend) | dry-run (build, never broadcast)')
    .action(notImplemented('vigil watch', 'the watcher daemon (issue #8)'));
}
