/**
 * `vigil replay <bundle>` from the outside: exit codes, the text and JSON a user reads, the report file,
 * and the specific errors a bad bundle or bad usage gets (never a stack trace).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.ts';

const fixture = (name: string) => new URL(`../fixtures/replay/${name}`, import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'vigil-replay-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vigil replay <bundle>', () => {
  it('a fraudulent epoch: exit 1, the first divergent step and its rule, agreement with the watcher', async () => {
    const r = await runCli(['replay', fixture('fraud-exported.json')]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('epoch 1: fraud');
    expect(r.stdout).toContain('first divergent step 25 of the epoch');
    expect(r.stdout).toContain('rule vote.override');
    expect(r.stdout).toContain('watcher: the replay agrees with what the watcher decided');
  });

  it('an honest epoch: exit 0', async () => {
    const r = await runCli(['replay', fixture('valid-fetched.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('epoch 0: valid');
  });

  it('--json twice gives byte-identical output; --report writes one self-contained page', async () => {
    const report = join(dir, 'report.html');
    const a = await runCli(['replay', fixture('fraud-exported.json'), '--json', '--report', report]);
    const b = await runCli(['replay', fixture('fraud-exported.json'), '--json']);
    expect(a.code).toBe(1);
    expect(b.stdout).toBe(a.stdout);
    expect((JSON.parse(a.stdout) as { divergence: { step: number } }).divergence.step).toBe(25);
    const html = readFileSync(report, 'utf8');
    expect(html).toContain('Content-Security-Policy');
    expect(html).not.toMatch(/(src|href)="https?:/);
  });

  it('a corrupted bundle: exit 2 and the field named, no stack trace', async () => {
    const b = JSON.parse(readFileSync(fixture('fraud-exported.json'), 'utf8')) as { kickoffTxid: string };
    b.kickoffTxid = 'zz';
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify(b));
    const r = await runCli(['replay', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('kickoffTxid');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a version-1 bundle: exit 2, saying why and what to run instead', async () => {
    const v1 = join(dir, 'v1.json');
    writeFileSync(v1, JSON.stringify({ format: 'vigil-dispute-bundle', version: 1 }));
    const r = await runCli(['replay', v1]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('vigil replay fetch');
  });

  it('bad usage: exit 2 with the reason', async () => {
    const cases: [string[], string][] = [
      [['replay', '--report', join(dir, 'x.html')], 'need a bundle'],
      [['replay', fixture('fraud-exported.json'), '--inputs', 'x.json'], 'do not go together'],
      [['replay', join(dir, 'missing.json')], 'cannot read bundle'],
      [['replay', fixture('fraud-exported.json'), '--debug', 'nosuch'], 'kickoff'],
      [
        ['replay', fixture('fraud-exported.json'), '--report', join(dir, 'no', 'such', 'r.html')],
        'cannot write the report',
      ],
      [['replay', fixture('fraud-exported.json'), '--debug', 'kickoff', '--json'], 'does not go with'],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });
});
