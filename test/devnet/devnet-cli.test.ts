/**
 * `vigil devnet --part2` (Part II's graph) as a user runs it: the story, the `--json` line, the exit
 * code, and the `--bitcoin-rpc` path against a node reached over JSON-RPC like an external Bitcoin Core
 * (here the simnet's own RPC front, started by the test: the same backend code talks to both); and the
 * usage errors of plain `vigil devnet` (the narrowing game), which point at `--part2` for what only Part
 * II does. The game's own runs are `devnet-game.test.ts`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simnet, startSimnet } from '../../src/bitcoin/simnet/start.ts';
import { runCli } from '../cli/run-cli.ts';
import { findBitingSeed } from './fault-seeds.ts';

const bite = findBitingSeed('commission-not-taken', 3);

const env = { VIGIL_REDIS_URL: 'redis://127.0.0.1:6379' };

function lastJson(stdout: string): Record<string, unknown> {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Record<string, unknown>;
}

describe('vigil devnet (CLI)', () => {
  let node: Simnet;
  beforeAll(async () => {
    node = await startSimnet();
  });
  afterAll(async () => {
    await node.stop();
  });

  it('runs against an external regtest node given by --bitcoin-rpc, credentials in the URL, never printed', async () => {
    const u = new URL(node.rpcUrl);
    u.username = node.rpcAuth.user;
    u.password = node.rpcAuth.password;
    const r = await runCli(
      ['devnet', '--part2', '--epochs', '2', '--seed', '3', '--bitcoin-rpc', u.toString(), '--json'],
      {
        env,
      },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('regtest node at');
    expect(r.stdout).not.toContain(node.rpcAuth.password);
    const summary = lastJson(r.stdout);
    expect(summary).toMatchObject({
      graph: 'part2',
      ok: true,
      fault: 'none',
      epochsJudged: 2,
      verdicts: { valid: 2, fraud: 0, unavailable: 0 },
      disputes: [],
      problems: [],
    });
    // The operator's kick-offs and takes really went to that node.
    expect(node.chain.height).toBeGreaterThan(200);
  }, 240_000);

  it('refuses an unknown fault before starting anything, listing the catalogue', async () => {
    const r = await runCli(['devnet', '--fault', 'no-such-fault'], { env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no-such-fault/);
    expect(r.stderr).toMatch(/commission-not-taken/);
  });

  it('refuses what only Part II does without --part2, saying to add it', async () => {
    for (const args of [
      ['--operator', 'strip-and-steal'],
      ['--fault', 'rollup-param-ignored'],
      ['--export-bundles', '/tmp/vigil-no-bundles'],
    ]) {
      const r = await runCli(['devnet', ...args], { env });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain('--part2');
    }
    const both = await runCli(['devnet', '--game', '--part2'], { env });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--game and --part2 choose two different graphs/);
  });

  it('refuses an unknown --part2 --operator strategy before starting anything, listing every strategy with its doc', async () => {
    const r = await runCli(['devnet', '--part2', '--operator', 'sometimes'], { env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Unknown operator strategy "sometimes"/);
    for (const name of ['never-assert', 'strip-and-steal', 'pin-connector-a', 'lying-backend-hide-spends']) {
      expect(r.stderr).toContain(name);
    }
  });

  it('refuses a bad --log-level, with and without --part2', async () => {
    for (const graph of [[], ['--part2']]) {
      const r = await runCli(['devnet', ...graph, '--log-level', 'loud'], { env });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/--log-level must be one of/);
    }
  });

  it('refuses a simnet-only strategy with --bitcoin-rpc', async () => {
    const r = await runCli(
      ['devnet', '--operator', 'fee-spike', '--bitcoin-rpc', node.rpcUrl, '--epochs', '1'],
      { env },
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/needs the in-process simnet/);
  }, 120_000);

  it('tells an attack in the story, logs to stderr at --log-level, and carries strategy, ends, spend and alerts in --json', async () => {
    const r = await runCli(
      [
        'devnet',
        '--part2',
        '--epochs',
        '3',
        '--seed',
        String(bite.seed),
        '--fault',
        'commission-not-taken',
        '--operator',
        'strip-and-steal',
        '--log-level',
        'info',
        '--json',
      ],
      { env },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/strategy strip-and-steal: it copies Vigil's challenge/);
    expect(r.stdout).toMatch(/stripped Vigil's challenge/);
    expect(r.stdout).toMatch(/vigil's wallet: paid -?\d+ sat/);
    // Log lines are JSON on stderr, never on stdout (which ends with the summary line).
    const logs = r.stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.some((l) => (JSON.parse(l) as { msg?: string }).msg === 'epoch judged')).toBe(true);
    const summary = lastJson(r.stdout);
    expect(summary).toMatchObject({
      graph: 'part2',
      ok: true,
      strategy: 'strip-and-steal',
      expect: 'slashed-by-disprove',
      operatorEnds: [
        { epoch: String(bite.epoch), end: 'slashed-by-disprove' },
        ...Array.from({ length: 2 - Number(bite.epoch) }, () => ({ end: 'slashed-by-disprove' })),
      ],
    });
    const w = summary.walletSpend as { spent: string; allowance: string };
    expect(BigInt(w.spent) <= BigInt(w.allowance)).toBe(true);
    expect((summary.alerts as { name: string }[]).map((a) => a.name)).toContain('VigilFraudDetected');
  }, 240_000);
});
