/**
 * `vigil devnet serve --game` killed (SIGKILL, its whole process group: anvil and the simnet go with it)
 * in the middle of a game against a separate `vigil watch`, then started again on its directory: the
 * operator takes its claims back from game-claims.jsonl and the chains as they were last saved, and the
 * daemon's game of the false epoch still ends with the operator slashed. Long suite. Real anvil, the
 * simnet behind its Core-RPC front, real Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopVigil, until } from '../cli/child-process.ts';
import { faultOneEpoch, gameEnded, type ServedGame, servedGame } from './serve-game-harness.ts';

const FAULT = 'commission-not-taken';
let s: ServedGame;

beforeAll(async () => {
  s = await servedGame();
});
afterAll(async () => s.cleanUp());

describe('vigil devnet serve --game killed mid-game', () => {
  it('resumes after a SIGKILL and the false claim still ends with the operator slashed', async () => {
    await s.startServe(true);
    await s.startWatch();
    await until(
      'two honest claims kicked off',
      async () =>
        (s.serve?.out().match(/claims the true root, kick-off/g)?.length ?? 0) >= 2 ? true : undefined,
      300_000,
    );
    const target = await faultOneEpoch(s, FAULT);
    const game = await until(
      `a game of epoch ${target} under way`,
      async () => (await s.disputes()).find((g) => g.epoch === String(target) && (g.moves ?? 0) >= 2),
      300_000,
    );
    expect(game.state).not.toBe('resolved');
    const exited = s.serve?.exited;
    process.kill(-(s.serve?.child.pid as number), 'SIGKILL');
    expect(await exited).toBeNull();
    const serve = await s.startServe(false);
    expect(serve.out()).toContain(`resumed the devnet in ${s.dir}`);
    expect(await gameEnded(s, target, 'slashed')).toBe('operator-slashed');
    // One game, for the one false epoch.
    expect((await s.disputes()).map((g) => g.epoch)).toEqual([String(target)]);
  }, 1_200_000);

  it('both processes exit 0 on SIGTERM', async () => {
    expect(await stopVigil(s.watch)).toBe(0);
    expect(await stopVigil(s.serve)).toBe(0);
  }, 120_000);
});
