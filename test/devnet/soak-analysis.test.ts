import { describe, expect, it } from 'vitest';
import {
  faultyEpochs,
  formatVerdict,
  judgeSoak,
  leastSquaresSlope,
  type SoakBounds,
  type SoakSample,
} from '../../src/devnet/soak-analysis.ts';

const MIB = 1024 * 1024;
const BOUNDS: SoakBounds = {
  warmupEpochs: 300,
  maxRssSlope: 8 * MIB,
  maxRedisSlope: 1 * MIB,
  maxKeySlope: 100,
};

/** Samples every 100 epochs to `epochs`, each series a function of the epoch. */
function series(
  epochs: number,
  f: {
    rss: (e: number) => number;
    /** The window's floor; the sample's own RSS when not given. */
    floor?: (e: number) => number;
    redis?: (e: number) => number;
    keys?: (e: number) => number;
    history?: (e: number) => number;
    wots?: (e: number) => number;
  },
): SoakSample[] {
  const out: SoakSample[] = [];
  for (let e = 100; e <= epochs; e += 100) {
    out.push({
      epoch: e,
      atMs: e * 100,
      rssBytes: f.rss(e),
      rssFloorBytes: f.floor?.(e) ?? f.rss(e),
      heapLiveBytes: e < 200 ? Number.NaN : f.rss(e) / 3,
      heapUsedBytes: f.rss(e) / 2,
      heapTotalBytes: (f.rss(e) * 3) / 4,
      externalBytes: MIB,
      settledWotsBytes: f.wots?.(e) ?? 0,
      redisUsedBytes: f.redis?.(e) ?? 2 * MIB,
      redisKeys: (f.keys?.(e) ?? 40) + Math.floor(e / 25) * 3,
      historyBytes: f.history?.(e) ?? 0,
      historyKeys: Math.floor(e / 25) * 3,
      journalBytes: MIB / 2,
    });
  }
  return out;
}

describe('leastSquaresSlope', () => {
  it('recovers the slope of a line exactly, and of a noisy one closely', () => {
    const xs = Array.from({ length: 20 }, (_, i) => i * 100);
    expect(
      leastSquaresSlope(
        xs,
        xs.map((x) => 3 * x + 7),
      ),
    ).toBeCloseTo(3, 10);
    // A saw-tooth of ±5 around a flat line (garbage collection) has a slope near 0.
    const saw = xs.map((_, i) => 100 + (i % 2 === 0 ? 5 : -5));
    expect(Math.abs(leastSquaresSlope(xs, saw))).toBeLessThan(0.01);
  });

  it('is 0 for fewer than two points or one repeated x, and refuses mismatched lengths', () => {
    expect(leastSquaresSlope([], [])).toBe(0);
    expect(leastSquaresSlope([5], [9])).toBe(0);
    expect(leastSquaresSlope([5, 5], [1, 9])).toBe(0);
    expect(() => leastSquaresSlope([1, 2], [1])).toThrow(RangeError);
  });
});

describe('judgeSoak', () => {
  it('a flat daemon (GC saw-tooth, warm-up growth before the bound) is flat', () => {
    const s = series(2000, {
      rss: (e) => (e <= 300 ? 60 * MIB + e * 100_000 : 120 * MIB + (e % 200) * 1000),
    });
    const v = judgeSoak(s, BOUNDS);
    expect(v.ok).toBe(true);
    expect(v.problems).toEqual([]);
    expect(v.steadySamples).toBe(17);
    expect(Math.abs(v.rss.slopePerKEpoch)).toBeLessThan(MIB);
    expect(formatVerdict(v)).toMatch(/flat: within bounds/);
  });

  it('a leak of 16 KiB per epoch fails on RSS, and names the figure', () => {
    const s = series(2000, { rss: (e) => 100 * MIB + e * 16 * 1024 });
    const v = judgeSoak(s, BOUNDS);
    expect(v.ok).toBe(false);
    expect(v.problems).toHaveLength(1);
    expect(v.problems[0]).toMatch(
      /RSS floor less the settled graphs' Winternitz hashes grows 15\.6 MiB per 1,000 epochs after warm-up \(bound 8\.0 MiB\)/,
    );
  });

  it('the floor is judged: samples caught at the peak of a collection or an import do not tilt it, a rising floor fails', () => {
    // The instant's reading swings by 60 MiB with when it lands (the 2,000-epoch soak's spread), late
    // samples happening to land high: its slope is tens of MiB per 1,000 epochs on a flat floor.
    const swing = (e: number) => (e > 1200 && e % 300 !== 0 ? 60 * MIB : (e % 3) * 10 * MIB);
    const flat = judgeSoak(
      series(2000, { rss: (e) => 200 * MIB + swing(e), floor: () => 190 * MIB }),
      BOUNDS,
    );
    expect(flat.rss.slopePerKEpoch).toBeGreaterThan(30 * MIB);
    expect(flat.rssFloorLessWots.slopePerKEpoch).toBe(0);
    expect(flat.problems).toEqual([]);
    // A leak raises the floor with everything else, whatever the instants show.
    const leak = judgeSoak(
      series(2000, { rss: () => 260 * MIB, floor: (e) => 190 * MIB + e * 12 * 1024 }),
      BOUNDS,
    );
    expect(leak.rss.slopePerKEpoch).toBe(0);
    expect(leak.ok).toBe(false);
    expect(leak.problems[0]).toMatch(/RSS floor less .* grows 11\.7 MiB per 1,000 epochs/);
  });

  it('the live heap is reported from the samples that have one', () => {
    const v = judgeSoak(series(2000, { rss: (e) => 90 * MIB + e * 3 * 1024 }), BOUNDS);
    expect(v.heapLive.start).toBe((90 * MIB + 400 * 3 * 1024) / 3);
    expect(v.heapLive.slopePerKEpoch).toBeCloseTo(1_024_000, 3);
    const early = judgeSoak(series(2000, { rss: () => 90 * MIB }), { ...BOUNDS, warmupEpochs: 0 });
    // The first sample (epoch 100) came before any full collection: NaN, left out rather than averaged.
    expect(early.heapLive.start).toBe(30 * MIB);
    expect(early.heapLive.slopePerKEpoch).toBe(0);
    expect(formatVerdict(v)).toMatch(/heap live \(after a full collection\) 30\.4 MiB/);
  });

  it('Redis memory and keys growing with every epoch fail on their own bounds', () => {
    const s = series(2000, { rss: () => 100 * MIB, redis: (e) => MIB + e * 4096, keys: (e) => 10 + e });
    const v = judgeSoak(s, BOUNDS);
    expect(v.ok).toBe(false);
    expect(v.problems.join('\n')).toMatch(
      /Redis memory outside the dispute history grows 3\.9 MiB per 1,000 epochs after warm-up \(bound 1\.0 MiB; the L2 journal 0\.0 MiB of it\)/,
    );
    expect(v.problems.join('\n')).toMatch(
      /Redis keys outside the dispute history grow 1000 per 1,000 epochs/,
    );
  });

  it('the dispute history, kept by design, grows without failing the soak, and is reported', () => {
    // 60 KB a dispute, one dispute every 25 epochs (three keys each, added by the series).
    const history = (e: number) => Math.floor(e / 25) * 60_000;
    const s = series(2000, {
      rss: () => 100 * MIB,
      redis: (e) => 2 * MIB + history(e),
      history,
    });
    const v = judgeSoak(s, BOUNDS);
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.history.slopePerKEpoch).toBeGreaterThan(2 * MIB);
    expect(formatVerdict(v)).toMatch(/dispute history \(kept\) /);
  });

  it("the settled graphs' Winternitz hashes, kept by design, grow the RSS without failing the soak; a leak beside them still fails", () => {
    // About 10 KB a graph, one graph an epoch: the devnet's 353 hashes at ~30 bytes.
    const wots = (e: number) => e * 10_000;
    const kept = judgeSoak(series(2000, { rss: (e) => 100 * MIB + wots(e), wots }), BOUNDS);
    expect(kept.problems).toEqual([]);
    expect(kept.rss.slopePerKEpoch).toBeGreaterThan(9 * MIB);
    expect(Math.abs(kept.rssFloorLessWots.slopePerKEpoch)).toBeLessThan(1);
    expect(formatVerdict(kept)).toMatch(/settled Winternitz hashes \(kept\) /);
    // What is neither V8's heap nor external memory is named too: there the allocator's holes show.
    expect(kept.native.start).toBe(kept.rss.start - (kept.rss.start * 3) / 4 - MIB);
    const leak = judgeSoak(series(2000, { rss: (e) => 100 * MIB + wots(e) + e * 16 * 1024, wots }), BOUNDS);
    expect(leak.ok).toBe(false);
    expect(leak.problems[0]).toMatch(/grows 15\.6 MiB per 1,000 epochs/);
  });

  it('too few samples after warm-up cannot call anything flat', () => {
    const v = judgeSoak(series(400, { rss: () => 100 * MIB }), BOUNDS);
    expect(v.ok).toBe(false);
    expect(v.problems[0]).toMatch(/only 1 samples after the 300-epoch warm-up/);
  });
});

describe('faultyEpochs', () => {
  it('is seeded, about one in `every`, gapped, and inside the run', () => {
    const a = faultyEpochs({ seed: 7, epochs: 2000, every: 25, gap: 3, from: 2 });
    expect(faultyEpochs({ seed: 7, epochs: 2000, every: 25, gap: 3, from: 2 })).toEqual(a);
    expect(faultyEpochs({ seed: 8, epochs: 2000, every: 25, gap: 3, from: 2 })).not.toEqual(a);
    expect(a.length).toBeGreaterThan(50);
    expect(a.length).toBeLessThan(110);
    expect(a[0]).toBeGreaterThanOrEqual(2);
    expect(a.at(-1)).toBeLessThan(2000);
    for (let i = 1; i < a.length; i++)
      expect((a[i] as number) - (a[i - 1] as number)).toBeGreaterThanOrEqual(3);
  });
});
