/**
 * What a soak's samples say (issue #21): whether the daemon's memory and Redis's stay flat as epochs go
 * by. Pure: the soak runner (soak.ts) gathers the samples, this judges them.
 *
 * "Flat" is a least-squares slope over the samples taken after warm-up, in bytes per 1,000 epochs, under
 * a stated bound. A slope is robust to the saw-tooth of garbage collection in a way that "last sample
 * minus first" is not, and a bound per 1,000 epochs reads directly as "what a month of epochs would add".
 *
 * The RSS judged is each window's floor: the lowest of the reads taken every half second since the last
 * sample. A reading at one instant lands anywhere on the saw-tooth of the collector and of the work under
 * way (a graph imported, a dispute's transactions built): a 2,000-epoch soak's readings spread over 60 MiB
 * and scattered 8.8 MiB (standard deviation) about their trend, the floors of the same run 6.4 MiB. The
 * floor is what the process returns to, and a leak raises it like every other reading.
 */
import { createRng } from '../governance/workload.ts';

export type SoakSample = {
  /** Epochs the daemon had judged when the sample was taken. */
  epoch: number;
  /** Milliseconds since the soak started. */
  atMs: number;
  /** The daemon's resident set (VmRSS) when the sample was taken. */
  rssBytes: number;
  /** The lowest resident set read since the previous sample (reads every half second): what is judged. */
  rssFloorBytes: number;
  /** The V8 heap in use after the daemon's latest full collection (`vigil_heap_live_bytes`; NaN before one). */
  heapLiveBytes: number;
  /** The daemon's V8 heap in use. */
  heapUsedBytes: number;
  /** The V8 heap the daemon holds from the system (used or not): with `external`, what RSS is made of. */
  heapTotalBytes: number;
  /** Memory outside the V8 heap that JS objects own: ArrayBuffers (Uint8Array bytes), Buffers. */
  externalBytes: number;
  /**
   * Of the RSS, the Winternitz hashes of settled graphs (`vigil_graph_settled_wots_bytes`): kept for the
   * reuse check for as long as the process runs, by design (docs/operations.md), so judged apart as the
   * dispute history is in Redis.
   */
  settledWotsBytes: number;
  /** Redis's `used_memory`. */
  redisUsedBytes: number;
  /** Keys in the Redis database the soak owns. */
  redisKeys: number;
  /**
   * Of those, the dispute history (`<p>:dispute:<id>` and its `:events`/`:applied`): kept for ever by
   * design (docs/operations.md "Running for months"), so it grows with every dispute and is judged apart.
   */
  historyBytes: number;
  historyKeys: number;
  /** The L2 journal (`<p>:l2:journal`), reported on its own: what part of Redis's growth it is. */
  journalBytes: number;
};

export type SoakBounds = {
  /** Samples at or below this epoch are warm-up: caches filling, JIT, the first disputes. */
  warmupEpochs: number;
  /** Largest allowed slope of the RSS floor less the settled Winternitz hashes after warm-up, bytes per 1,000 epochs. */
  maxRssSlope: number;
  /** Largest allowed Redis `used_memory` slope after warm-up, bytes per 1,000 epochs. */
  maxRedisSlope: number;
  /** Largest allowed key-count slope after warm-up, keys per 1,000 epochs. */
  maxKeySlope: number;
};

export type SeriesSummary = { start: number; end: number; max: number; slopePerKEpoch: number };

export type SoakVerdict = {
  ok: boolean;
  /** Why it is not ok, one line each. */
  problems: string[];
  /** Samples used for the slopes (after warm-up). */
  steadySamples: number;
  /** The daemon's RSS at each sample. */
  rss: SeriesSummary;
  /** The RSS floor of each window. */
  rssFloor: SeriesSummary;
  /** The RSS floor less the settled graphs' Winternitz hashes: what must stay flat. */
  rssFloorLessWots: SeriesSummary;
  /** The settled graphs' Winternitz hashes (grow by design, with every graph). */
  settledWots: SeriesSummary;
  heap: SeriesSummary;
  /** The heap after the latest full collection (samples before one are left out). */
  heapLive: SeriesSummary;
  heapTotal: SeriesSummary;
  external: SeriesSummary;
  /** RSS less the heap V8 holds and external memory: code, the allocator's own heap and its holes. */
  native: SeriesSummary;
  /** Redis's `used_memory` less the dispute history: what must stay flat. */
  redis: SeriesSummary;
  /** Keys less the dispute history's. */
  keys: SeriesSummary;
  /** The dispute history (grows by design, with every dispute). */
  history: SeriesSummary;
  /** The L2 journal (part of `redis`). */
  journal: SeriesSummary;
};

/** Least-squares slope of y over x; 0 with fewer than two distinct x. */
export function leastSquaresSlope(xs: readonly number[], ys: readonly number[]): number {
  if (xs.length !== ys.length) throw new RangeError('slope: xs and ys differ in length');
  const n = xs.length;
  if (n < 2) return 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i] as number;
    sy += ys[i] as number;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    sxx += dx * dx;
    sxy += dx * ((ys[i] as number) - my);
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

function summarise(samples: readonly SoakSample[], pick: (s: SoakSample) => number): SeriesSummary {
  const ys = samples.map(pick);
  return {
    start: ys[0] ?? 0,
    end: ys.at(-1) ?? 0,
    max: ys.length === 0 ? 0 : Math.max(...ys),
    slopePerKEpoch:
      leastSquaresSlope(
        samples.map((s) => s.epoch),
        ys,
      ) * 1000,
  };
}

const MIB = 1024 * 1024;
const mib = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MiB`;

/** Judges a soak's samples against its bounds. At least three samples after warm-up are needed. */
export function judgeSoak(samples: readonly SoakSample[], bounds: SoakBounds): SoakVerdict {
  const steady = samples.filter((s) => s.epoch > bounds.warmupEpochs);
  const problems: string[] = [];
  const rssFloorLessWots = summarise(steady, (s) => s.rssFloorBytes - s.settledWotsBytes);
  const redis = summarise(steady, (s) => s.redisUsedBytes - s.historyBytes);
  const keys = summarise(steady, (s) => s.redisKeys - s.historyKeys);
  const journal = summarise(steady, (s) => s.journalBytes);
  if (steady.length < 3) {
    problems.push(
      `only ${steady.length} samples after the ${bounds.warmupEpochs}-epoch warm-up: at least 3 are needed to call memory flat`,
    );
  } else {
    if (rssFloorLessWots.slopePerKEpoch > bounds.maxRssSlope) {
      problems.push(
        `the daemon's RSS floor less the settled graphs' Winternitz hashes grows ${mib(rssFloorLessWots.slopePerKEpoch)} per 1,000 epochs after warm-up (bound ${mib(bounds.maxRssSlope)})`,
      );
    }
    if (redis.slopePerKEpoch > bounds.maxRedisSlope) {
      problems.push(
        `Redis memory outside the dispute history grows ${mib(redis.slopePerKEpoch)} per 1,000 epochs after warm-up (bound ${mib(bounds.maxRedisSlope)}; the L2 journal ${mib(journal.slopePerKEpoch)} of it)`,
      );
    }
    if (keys.slopePerKEpoch > bounds.maxKeySlope) {
      problems.push(
        `Redis keys outside the dispute history grow ${keys.slopePerKEpoch.toFixed(0)} per 1,000 epochs after warm-up (bound ${bounds.maxKeySlope})`,
      );
    }
  }
  return {
    ok: problems.length === 0,
    problems,
    steadySamples: steady.length,
    rss: summarise(steady, (s) => s.rssBytes),
    rssFloor: summarise(steady, (s) => s.rssFloorBytes),
    rssFloorLessWots,
    settledWots: summarise(steady, (s) => s.settledWotsBytes),
    heap: summarise(steady, (s) => s.heapUsedBytes),
    heapLive: summarise(
      steady.filter((s) => Number.isFinite(s.heapLiveBytes)),
      (s) => s.heapLiveBytes,
    ),
    heapTotal: summarise(steady, (s) => s.heapTotalBytes),
    external: summarise(steady, (s) => s.externalBytes),
    native: summarise(steady, (s) => s.rssBytes - s.heapTotalBytes - s.externalBytes),
    redis,
    keys,
    history: summarise(steady, (s) => s.historyBytes),
    journal,
  };
}

/** The epochs a seeded soak makes faulty: about one in `every`, never two within `gap` of each other. */
export function faultyEpochs(o: {
  seed: number;
  epochs: number;
  every: number;
  gap: number;
  from: number;
}): number[] {
  const next = createRng(o.seed);
  const out: number[] = [];
  let last = Number.NEGATIVE_INFINITY;
  for (let e = o.from; e < o.epochs; e++) {
    if (e - last < o.gap) continue;
    if (next() < 1 / o.every) {
      out.push(e);
      last = e;
    }
  }
  return out;
}

/** One line per sample, for the soak's output and the long test's log. */
export function formatSample(s: SoakSample): string {
  return `epoch ${s.epoch}: daemon RSS ${mib(s.rssBytes)} (floor ${mib(s.rssFloorBytes)}), heap ${mib(s.heapUsedBytes)} (live ${Number.isFinite(s.heapLiveBytes) ? mib(s.heapLiveBytes) : 'unknown'}) of ${mib(s.heapTotalBytes)}, external ${mib(s.externalBytes)}, settled Winternitz hashes ${mib(s.settledWotsBytes)}; Redis ${mib(s.redisUsedBytes)}, ${s.redisKeys} keys (dispute history ${mib(s.historyBytes)} in ${s.historyKeys} keys, L2 journal ${mib(s.journalBytes)}) (${(s.atMs / 1000).toFixed(0)} s)`;
}

/** The verdict's figures in one paragraph. */
export function formatVerdict(v: SoakVerdict): string {
  const series = (name: string, x: SeriesSummary, unit: (n: number) => string) =>
    `${name} ${unit(x.start)} → ${unit(x.end)} (max ${unit(x.max)}, slope ${unit(x.slopePerKEpoch)}/1k epochs)`;
  const keys = (n: number) => n.toFixed(0);
  return [
    `after warm-up (${v.steadySamples} samples):`,
    series('daemon RSS', v.rss, mib),
    series('RSS floor', v.rssFloor, mib),
    series('RSS floor less the settled Winternitz hashes (judged)', v.rssFloorLessWots, mib),
    series('settled Winternitz hashes (kept)', v.settledWots, mib),
    series('heap used', v.heap, mib),
    series('heap live (after a full collection)', v.heapLive, mib),
    series('heap held', v.heapTotal, mib),
    series('external', v.external, mib),
    series('native (RSS less heap held and external)', v.native, mib),
    series('Redis outside the dispute history', v.redis, mib),
    series('of it the L2 journal', v.journal, mib),
    series('keys outside the dispute history', v.keys, keys),
    series('dispute history (kept)', v.history, mib),
    v.ok ? 'flat: within bounds' : `NOT flat: ${v.problems.join('; ')}`,
  ].join('\n  ');
}
