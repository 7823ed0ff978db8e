/**
 * `vigil_heap_live_bytes`: the V8 heap in use just after the process's latest full garbage collection.
 * `nodejs_heap_size_used_bytes` counts garbage not yet collected as well, so a scrape lands anywhere on
 * the saw-tooth between two collections; right after a full (mark-sweep-compact) collection the heap
 * holds what is still reachable: it climbs for good only with what the process must keep (the L2's state
 * in the reference model) or with a leak.
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { Gauge, type Registry } from 'prom-client';

/** The heap in use after the latest full collection, once one has run in this process. */
let liveAfterFullGc: number | undefined;
let observer: PerformanceObserver | undefined;

/**
 * One observer per process, however many registries read it (tests make many). The callback runs soon
 * after the collection, in a later turn of the event loop: what was allocated in between is counted too,
 * a few kilobytes against a heap of tens of megabytes.
 */
function observeFullCollections(): void {
  if (observer !== undefined) return;
  observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      // A gc entry's detail ({ kind, flags }) is not in @types/node's PerformanceEntry.
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) liveAfterFullGc = getHeapStatistics().used_heap_size;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
}

/** The latest figure, undefined before the first full collection. */
export function heapLiveBytes(): number | undefined {
  return liveAfterFullGc;
}

export function registerLiveHeapGauge(registry: Registry): void {
  observeFullCollections();
  new Gauge({
    name: 'vigil_heap_live_bytes',
    help: 'V8 heap in use just after the latest full garbage collection (what is still reachable); NaN before the first one',
    registers: [registry],
    collect() {
      // NaN (Prometheus's "no value") until a full collection has run: a zero would read as an empty heap.
      this.set(liveAfterFullGc ?? Number.NaN);
    },
  });
}
