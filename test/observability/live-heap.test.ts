import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { heapLiveBytes } from '../../src/observability/live-heap.ts';
import { buildInfo, createMetricsRegistry } from '../../src/observability/metrics.ts';

// A full collection on demand: the flag makes `gc` a global of contexts created after it.
setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

/** The gauge's value in a scrape of `registry`. */
async function scraped(registry: ReturnType<typeof createMetricsRegistry>): Promise<number> {
  const line = (await registry.metrics()).split('\n').find((l) => l.startsWith('vigil_heap_live_bytes '));
  if (line === undefined) throw new Error('vigil_heap_live_bytes is not in the scrape');
  return Number(line.split(' ')[1]);
}

/** The observer's callback runs in a later turn of the event loop. */
async function collectAndSettle(): Promise<void> {
  fullGc();
  await new Promise((r) => setTimeout(r, 20));
}

describe('vigil_heap_live_bytes', () => {
  it('follows what stays reachable, not the garbage between collections', async () => {
    const registry = createMetricsRegistry(buildInfo());
    await collectAndSettle();
    const base = await scraped(registry);
    expect(base).toBe(heapLiveBytes());
    expect(base).toBeGreaterThan(1024 * 1024);

    // 40 MB of garbage made after the collection does not count (a full collection the allocations
    // themselves set off may move the figure by what was in flight, not by the garbage).
    for (let i = 0; i < 20; i++) Array.from({ length: 100_000 }, (_, k) => ({ k, s: `x${k}` }));
    expect(Math.abs((await scraped(registry)) - base)).toBeLessThan(4 * 1024 * 1024);

    // 20 MB that stays reachable (a leak): the next full collection shows it.
    const kept = Array.from({ length: 250_000 }, (_, k) => ({ k, s: `kept ${k}` }));
    await collectAndSettle();
    const leaked = await scraped(registry);
    expect(leaked - base).toBeGreaterThan(10 * 1024 * 1024);

    // Let go of it: the figure comes back down.
    kept.length = 0;
    await collectAndSettle();
    expect(leaked - (await scraped(registry))).toBeGreaterThan(10 * 1024 * 1024);
  });

  it('every registry of the process reads the same observer', async () => {
    const a = createMetricsRegistry(buildInfo());
    const b = createMetricsRegistry(buildInfo());
    await collectAndSettle();
    expect(await scraped(a)).toBe(await scraped(b));
  });
});
