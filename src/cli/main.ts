import { Command, CommanderError } from 'commander';
import { NotImplementedError, VigilError } from '../core/errors.ts';
import { buildInfo } from '../observability/metrics.ts';
import { configCommand } from './commands/config.ts';
import { devnetCommand } from './commands/devnet.ts';
import { disputesCommand } from './commands/disputes.ts';
import { replayCommand } from './commands/replay.ts';
import { txCommand } from './commands/tx.ts';
import { verifyCommand } from './commands/verify.ts';
import { watchCommand } from './commands/watch.ts';
import { ExitCode } from './exit-codes.ts';

export function buildProgram(): Command {
  const program = new Command('vigil')
    .description(
      'Vigil keeps a Bitcoin L2 honest: it re-executes governance and challenges fraud on Bitcoin.',
    )
    .version(buildInfo().version)
    .showHelpAfterError();
  for (const cmd of [
    watchCommand(),
    devnetCommand(),
    verifyCommand(),
    replayCommand(),
    disputesCommand(),
    txCommand(),
    configCommand(),
  ]) {
    program.addCommand(cmd);
  }
  program.exitOverride();
  return program;
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof NotImplementedError) return ExitCode.NotImplemented;
  if (err instanceof VigilError) {
    const code = (err as { exitCode?: unknown }).exitCode;
    return typeof code === 'number' ? code : ExitCode.Failed;
  }
  return ExitCode.Internal;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
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
