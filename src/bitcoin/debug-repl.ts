/**
 * The command loop of a transaction debugging session (`vigil tx debug`, `vigil replay --debug`): the
 * banner, then one command per line until `quit` or the end of input. A terminal gets a prompt; any other
 * input (a script of commands, a pipe) has each command echoed before its output, so a transcript reads
 * like the interactive session.
 */
import { createInterface } from 'node:readline';
import type { VerifyScriptResult } from './script/verify.ts';
import type { TxDebugSession } from './tx/debug-session.ts';

export type DebugReplIo = {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream;
};

/** Runs the session; returns its verdict (undefined when input ended before verification finished). */
export async function runDebugRepl(
  session: TxDebugSession,
  banner: string[],
  io: DebugReplIo,
): Promise<VerifyScriptResult | undefined> {
  const print = (lines: string[]) => {
    if (lines.length > 0) io.output.write(`${lines.join('\n')}\n`);
  };
  print(banner);
  const interactive = io.input.isTTY === true;
  const rl = createInterface({
    input: io.input,
    ...(interactive ? { output: io.output, prompt: '(vigil-debug) ' } : {}),
    terminal: interactive,
  });
  if (interactive) {
    print(['type help for the commands']);
    rl.prompt();
  }
  for await (const line of rl) {
    const cmd = line.trim();
    if (!interactive && cmd !== '') print([`(vigil-debug) ${cmd}`]);
    if (cmd === 'quit' || cmd === 'q' || cmd === 'exit') break;
    print(session.execute(cmd));
    if (interactive) rl.prompt();
  }
  rl.close();
  return session.result;
}
