import { Command, CommanderError } from 'commander';
import { VigilError } from '../core/errors.ts';
import { buildInfo } from '../observability/build-info.ts';
import { ExitCode, exitCodeFor } from './exit-codes.ts';

/**
 * Every command, in the order `--help` lists them. Each is imported only when needed: a command pulls
 * in its whole subsystem (the script engine, the model, the Redis client), and `vigil config check`
 * should not wait for the others to load.
 */
const COMMANDS: readonly (readonly [string, () => Promise<Command>])[] = [
  ['watch', async () => (await import('./commands/watch.ts')).watchCommand()],
  ['devnet', async () => (await import('./commands/devnet.ts')).devnetCommand()],
  ['verify', async () => (await import('./commands/verify.ts')).verifyCommand()],
  ['replay', async () => (await import('./commands/replay.ts')).replayCommand()],
  ['disputes', async () => (await import('./commands/disputes.ts')).disputesCommand()],
  ['tx', async () => (await import('./commands/tx.ts')).txCommand()],
  ['wallet', async () => (await import('./commands/wallet.ts')).walletCommand()],
  ['config', async () => (await import('./commands/config.ts')).configCommand()],
];

/**
 * The `vigil` program. Given `argv` whose first operand names a command, only that command is loaded;
 * otherwise (help, version, an unknown command) all of them are, so help and suggestions are complete.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command('vigil')
    .description(
      'Vigil keeps a Bitcoin L2 honest: it re-executes governance and challenges fraud on Bitcoin.',
    )
    .version(buildInfo().version)
    .showHelpAfterError()
    // Options after a command name are that command's: `vigil verify proof <f> --root` is proof's --root.
    .enablePositionalOptions();
  const first = argv?.slice(2).find((a) => !a.startsWith('-'));
  const chosen = COMMANDS.filter(([name]) => name === first);
  for (const [, load] of chosen.length === 1 ? chosen : COMMANDS) program.addCommand(await load());
  // Commands built apart and added do not inherit the program's settings: every command, at any depth,
  // must throw its parse errors here (exit 2) instead of exiting 1 from inside commander.
  const settle = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.showHelpAfterError();
    for (const sub of cmd.commands) settle(sub);
  };
  settle(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with code 0.
      return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    if (err instanceof VigilError) {
      // The message is written for humans and complete; no prefix, no stack (that is for --verbose logs).
      process.stderr.write(`${err.message}\n`);
    } else {
      process.stderr.write(
        `vigil: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
    }
    return exitCodeFor(err);
  }
}
