/**
 * `vigil devnet serve --game` and `vigil watch` in two processes (in the long suite: the two processes
 * and their games take minutes). The watch config names the challenger registry and Vigil's L2 key,
 * nothing is claimed before a challenger registers, the daemon registers and posts a bundle for each
 * claim, honest claims are judged valid and taken back with nobody accused; then a false claim played to
 * the end: a fault injected for one epoch, the daemon's game against it, `serve` stopped in the middle of that game
 * and started again on its directory (the operator rebuilds the claim and plays on), and the operator
 * slashed; then an operator that never asserts, slashed by the assert-timeout. One game per false epoch,
 * none for the honest epochs around them. Real anvil, the simnet behind its Core-RPC front, real Redis.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { stopVigil, until } from '../cli/child-process.ts';
import { runCli } from '../cli/run-cli.ts';
import { endedEpochs, faultOneEpoch, gameEnded, type ServedGame, servedGame } from './serve-game-harness.ts';

const FAULT = 'commission-not-taken';
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
  }, 200_000);

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

  it('a false root for one epoch: the daemon plays its game, serve stopped mid-game resumes it, and the operator ends slashed', async () => {
    const target = await faultOneEpoch(s, FAULT);
    const game = await until(
      `a game of epoch ${target} under way`,
      async () => (await s.disputes()).find((g) => g.epoch === String(target) && (g.moves ?? 0) >= 2),
      300_000,
    );
    expect(game.state).not.toBe('resolved');
    // Ctrl-C in serve's terminal: a clean stop, then the same directory again.
    const exited = s.serve?.exited;
    process.kill(-(s.serve?.child.pid as number), 'SIGINT');
    expect(await exited).toBe(0);
    const serve = await s.startServe(false);
    expect(serve.out()).toContain(`resumed the devnet in ${s.dir}`);
    await until('the resumed operator following its claims', async () =>
      /operator: following again the \d+ game claims not over yet/.test(serve.out()) ? true : undefined,
    );
    await until(`the resumed operator rebuilding epoch ${target}'s claim`, async () =>
      new RegExp(`operator: epoch ${target}: follows again a false root`).test(serve.out())
        ? true
        : undefined,
    );
    const resolved = await until(
      `game ${game.id} resolved`,
      async () => (await s.disputes()).find((g) => g.id === game.id && g.state === 'resolved'),
      300_000,
    );
    expect(resolved.outcome).toBe('operator-slashed');
    await until(`the operator's end of epoch ${target}`, async () =>
      endedEpochs(serve.out(), 'slashed').includes(BigInt(target)) ? true : undefined,
    );
    // One game, for the one false epoch: the honest epochs around it were left alone.
    expect((await s.disputes()).map((g) => g.epoch)).toEqual([String(target)]);
    const journal = readFileSync(join(s.dir, 'game-claims.jsonl'), 'utf8');
    expect(journal).toContain(`{"epoch":"${target}","ended":"slashed"}`);
  }, 900_000);

  it('an operator that never asserts: the daemon takes the assert-timeout and the operator ends timed out', async () => {
    const changed = await runCli(['devnet', 'operator', 'never-assert', '--dir', s.dir]);
    expect(changed.code, changed.stderr).toBe(0);
    const target = await faultOneEpoch(s, FAULT);
    expect(await gameEnded(s, target, 'timed-out')).toBe('operator-slashed');
    expect(s.serve?.out()).not.toMatch(new RegExp(`operator: epoch ${target}: assert`));
  }, 900_000);

  it('both processes exit 0 on SIGTERM', async () => {
    expect(await stopVigil(s.watch)).toBe(0);
    expect(await stopVigil(s.serve)).toBe(0);
  }, 120_000);
});
