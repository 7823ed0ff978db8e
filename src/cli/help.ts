import type { Command } from 'commander';

/** Appends an "Examples:" block to a command's help: one command line per entry, with a comment. */
export function withExamples(cmd: Command, examples: readonly (readonly [string, string])[]): Command {
  const width = Math.max(...examples.map(([line]) => line.length));
  const lines = examples.map(([line, why]) => `  ${line.padEnd(width)}  # ${why}`);
  return cmd.addHelpText('after', `\nExamples:\n${lines.join('\n')}`);
}
