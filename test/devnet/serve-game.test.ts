/**
 * `vigil devnet serve --game` and `vigil watch` in two processes (the honest path; the long suite plays a
 * false claim to the slash across a restart of serve): the watch config names the challenger registry
 * and Vigil's L2 key, nothing is claimed before a challenger registers, the daemon registers and posts a
 * bundle for each claim, and the operator's honest claims are judged valid and taken back with nobody
 * accused. Real anvil, the simnet behind its Core-RPC front, real Redis.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { stopVigil, until } from '../cli/child-process.ts';
import { runCli } from '../cli/run-cli.ts';
import { endedEpochs, type ServedGame, servedGame } from './serve-game-harness.ts';

let s: ServedGame;

beforeAll(async () => {
  s = await servedGame();
});
afterAll(async () => s.cleanUp());

describe('vigil devnet serve --game + vigil watch in two processes', () => {
  it('writes a watch config naming the challenger registry and Vigil’s L2 key, and claims nothing before a challenger registers', async () => {
    const serve = await s.startServe(true);
    const record = JSON.parse(readFileSync(join(s.dir, 'serve.json'), 'utf8')) as {
      game: { registry: string; bundleWindow: string; commitWindow: string };
    };
    // 30 s of 300 ms L2 blocks, and four times that to commit.
    expect(record.game).toMatchObject({ bundleWindow: '100', commitWindow: '400' });
    const config = parse(readFileSync(s.configFile, 'utf8')) as {
      l2: { contracts: { challengerRegistry: string } };
      keys: { l2: { file: string } };
    };
    expect(config.l2.contracts.challengerRegistry).toBe(record.game.registry);
    expect(config.keys.l2.file).toBe(join(s.dir, 'vigil-l2.key'));
    expect(statSync(join(s.dir, 'vigil-l2.key')).mode & 0o777).toBe(0o600);
    await until('an epoch waiting for a challenger', async () =>
      /epoch \d+ waits: no challenger has registered/.test(serve.out()) ? true : undefined,
    );
    expect(serve.out()).not.toMatch(/claims the true root/);
    const check = await runCli(['config', 'check', '--config', s.configFile, '--probe']);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    await s.startWatch();
  }, 150_000);

  it('the daemon registers and posts bundles; honest claims are judged valid, taken back, and nobody is accused', async () => {
    const taken = await until(
      'two honest claims taken back',
      async () => {
        const epochs = endedEpochs(s.serve?.out() ?? '', 'taken');
        return epochs.length >= 2 ? epochs : undefined;
      },
      200_000,
    );
    expect(taken.length).toBeGreaterThanOrEqual(2);
    expect(s.serve?.out()).toMatch(/claims the true root, kick-off [0-9a-f]{12}… \(1 challenger\)/);
    expect(s.watch?.out()).toMatch(/Vigil's challenger key is registered on the L2/);
    expect(s.watch?.out()).toMatch(/Vigil's bundle is posted/);
    expect((await s.get('/metrics')).body).toMatch(
      /^vigil_verdicts_total\{[^}]*outcome="valid"[^}]*\} [1-9]/m,
    );
    expect(await s.disputes()).toEqual([]);
    const journal = readFileSync(join(s.dir, 'game-claims.jsonl'), 'utf8');
    for (const e of taken) expect(journal).toContain(`{"epoch":"${e}","ended":"taken"}`);
  }, 220_000);

  it('both processes exit 0 on SIGTERM', async () => {
    expect(await stopVigil(s.watch)).toBe(0);
    expect(await stopVigil(s.serve)).toBe(0);
  }, 120_000);
});
