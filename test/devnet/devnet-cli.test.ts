/**
 * `vigil devnet` as a user runs it: the story, the `--json` line, the exit code, and the
 * `--bitcoin-rpc` path against a node reached over JSON-RPC like an external Bitcoin Core (here the
 * simnet's own RPC front, started by the test: the same backend code talks to both).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simnet, startSimnet } from '../../src/bitcoin/simnet/start.ts';
import { runCli } from '../cli/run-cli.ts';

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
      ['devnet', '--epochs', '2', '--seed', '3', '--bitcoin-rpc', u.toString(), '--json'],
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

  it('refuses a bad --operator value', async () => {
    const r = await runCli(['devnet', '--operator', 'sometimes'], { env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--operator must be assert or never-assert/);
  });
});
