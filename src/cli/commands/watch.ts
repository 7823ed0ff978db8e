import { Command } from 'commander';
import { addConfigOptions, loadConfigFromCommand } from '../../config/cli-options.ts';
import { exitCodeForDaemon, exitCodeForImmediateExit } from '../exit-codes.ts';
import { withExamples } from '../help.ts';

export function watchCommand(): Command {
  const cmd = new Command('watch')
    .description('Follow the L2 and Bitcoin, judge every epoch commitment, and challenge fraud (the daemon)')
    .option('-c, --config <file>', 'YAML configuration file')
    .option('--mode <mode>', 'watch (alert only) | challenge (spend) | dry-run (build, never broadcast)');
  withExamples(cmd, [
    ['vigil watch -c /etc/vigil/vigil.yaml', 'the daemon with its configuration file'],
    ['vigil watch -c vigil.yaml --mode dry-run', 'build and check every challenge, send nothing'],
  ]);
  addConfigOptions(cmd);
  cmd.action(async (_opts: unknown, command: Command) => {
    const loaded = loadConfigFromCommand(command);
    for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
    // Heavy modules (BullMQ, ioredis, the script engine) load only when the daemon actually starts.
    const { runWatchDaemon } = await import('../../daemon/watch.ts');
    const outcome = await runWatchDaemon(loaded.config, (why) => process.exit(exitCodeForImmediateExit(why)));
    // Every component has stopped or been abandoned, and the log is written synchronously: end here.
    // Waiting for the event loop to drain kept a daemon whose Redis had gone away alive for good, its
    // abandoned queue connections reconnecting, after it had stopped all work.
    process.exit(exitCodeForDaemon(outcome));
  });
  return cmd;
}
