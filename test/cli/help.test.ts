/**
 * Each command's help shows its own options and examples; the ~45 configuration-key flags are accepted
 * by the commands that read the configuration but listed once, in `vigil config --help`.
 */
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.ts';
import { configLeaves } from '../../src/config/fields.ts';

function leafCommands(cmd: Command, path: string[] = []): { path: string; cmd: Command }[] {
  const out: { path: string; cmd: Command }[] = [];
  for (const sub of cmd.commands) {
    const p = [...path, sub.name()];
    if (sub.commands.length === 0) out.push({ path: p.join(' '), cmd: sub });
    else out.push(...leafCommands(sub, p));
  }
  return out;
}

describe('command help', () => {
  it('every command shows examples, and no configuration-key flag, only a pointer to them', async () => {
    const program = await buildProgram();
    const leaves = leafCommands(program);
    expect(leaves.length).toBeGreaterThanOrEqual(10);
    for (const { path, cmd } of leaves) {
      // Text added with addHelpText is written on --help, not returned by helpInformation().
      const chunks: string[] = [];
      cmd.configureOutput({ writeOut: (s) => chunks.push(s), writeErr: (s) => chunks.push(s) });
      cmd.outputHelp();
      const text = chunks.join('');
      expect(text, path).toContain('Examples:');
      expect(text, path).not.toContain('--redis-url <value>');
      const readsConfig = cmd.options.some((o) => o.long === '--l2-rpc-urls');
      if (readsConfig) expect(text, path).toContain('`vigil config --help` lists them all');
    }
  });

  it('vigil config --help lists every configuration key as a flag, with its key and description', async () => {
    const program = await buildProgram();
    const config = program.commands.find((c) => c.name() === 'config') as Command;
    const chunks: string[] = [];
    config.configureOutput({ writeOut: (s) => chunks.push(s), writeErr: (s) => chunks.push(s) });
    config.outputHelp();
    const text = chunks.join('');
    for (const leaf of configLeaves()) {
      expect(text).toContain(`--${leaf.flag} <value>`);
      expect(text).toContain(`${leaf.key}: ${leaf.description}`);
    }
  });
});
