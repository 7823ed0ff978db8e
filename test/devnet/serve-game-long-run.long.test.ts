/**
 * Epochs whose governance run is longer than regtest's 2^20 steps (docs/protocol.md §24.2), served with
 * `vigil devnet serve --game` at 300 inputs an epoch, the length at which the state outgrows the search
 * by epoch 5 (each input's steps no longer grow with the state, so it takes about 2,500 records), and
 * watched by `vigil watch` in another process. The honest operator passes over those
 * epochs (it could not defend their claims); a lying one claims a false root over one of them anyway,
 * its run cut at 2^20 steps, and the daemon, whose own run is cut there too, still plays the game to
 * the operator's slash. Long suite: the L2 must carry about 1,800 inputs first. Real anvil, the simnet behind its
 * Core-RPC front, real Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopVigil, until } from '../cli/child-process.ts';
import { endedEpochs, faultOneEpoch, gameEnded, type ServedGame, servedGame } from './serve-game-harness.ts';

// On the served workload's 300-input epochs 5–11, commission-not-taken gives the honest root (the faulty
// model's roots, compared); unstake-keeps-power gives a wrong one in every one of them.
const FAULT = 'unstake-keeps-power';
let s: ServedGame;

beforeAll(async () => {
  s = await servedGame({ epochs: 14, epochLength: 300 });
});
afterAll(async () => s.cleanUp());

const passedOver = (text: string): number[] =>
  [
    ...text.matchAll(/operator: epoch (\d+) cannot be claimed in the game: Epoch \d+'s run is longer than/g),
  ].map((m) => Number(m[1]));

describe('epochs longer than the search: passed over when honest, slashed when false', () => {
  it('the honest operator passes over the epochs whose run outgrows 2^20 steps, and claims the ones before', async () => {
    await s.startServe(true);
    await s.startWatch();
    const first = await until(
      'an epoch passed over',
      async () => passedOver(s.serve?.out() ?? '')[0],
      1_500_000,
    );
    expect(first).toBeGreaterThan(2);
    // Every epoch before it was claimed on Bitcoin and judged valid by the daemon.
    await until(`epoch ${first - 1}'s claim taken back`, async () =>
      endedEpochs(s.serve?.out() ?? '', 'taken').includes(BigInt(first - 1)) ? true : undefined,
    );
    expect(await s.disputes()).toEqual([]);
  }, 1_800_000);

  it('a false root over such an epoch is claimed with its run cut at 2^20 steps, and the daemon slashes it', async () => {
    // A 300-input epoch takes about two minutes on the L2: two epochs ahead leaves the CLI time enough.
    const target = await faultOneEpoch(s, FAULT, { ahead: 2, waitMs: 600_000 });
    expect(passedOver(s.serve?.out() ?? '')[0]).toBeLessThan(target);
    await until(
      `epoch ${target}'s false claim`,
      async () =>
        new RegExp(`operator: epoch ${target}: claims a false root`).test(s.serve?.out() ?? '')
          ? true
          : undefined,
      300_000,
    );
    expect(await gameEnded(s, target, 'slashed')).toBe('operator-slashed');
    // The daemon said why its run stops short, and opened no game over the honest epochs around it.
    expect(s.watch?.out()).toMatch(
      new RegExp(`epoch ${target}'s run does not halt within the graph's 1048576 steps`),
    );
    expect((await s.disputes()).map((g) => g.epoch)).toEqual([String(target)]);
  }, 1_800_000);

  it('both processes exit 0 on SIGTERM', async () => {
    expect(await stopVigil(s.watch)).toBe(0);
    expect(await stopVigil(s.serve)).toBe(0);
  }, 120_000);
});
