/**
 * The devnet's block clock. A real chain mines on its own schedule; the devnet mines the next Bitcoin
 * block only once the watcher has looked at the current tip and its queue has nothing waiting or running
 * (and at least `minIntervalMs` after the last block). So the story is the same on a loaded machine
 * as on an idle one: no deadline is missed because the test machine was slow, and the detection latency
 * it measures is the watcher's own.
 */
export type PacerProbe = {
  tip(): Promise<number>;
  /** The highest tip the watcher has finished a poll at. */
  watcherTip(): number;
  /** Jobs waiting or running in the dispute queue. */
  busyJobs(): Promise<number>;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the watcher has judged `tip` and its queue is idle; false after `timeoutMs`. */
export async function settled(
  probe: PacerProbe,
  tip: number,
  timeoutMs: number,
  onTick?: () => Promise<void>,
) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    await onTick?.();
    if (probe.watcherTip() >= tip && (await probe.busyJobs()) === 0) {
      // A poll that started before the last job finished may enqueue more: look once more after a beat.
      await sleep(20);
      if ((await probe.busyJobs()) === 0) return true;
    }
    if (Date.now() > end) return false;
    await sleep(25);
  }
}
