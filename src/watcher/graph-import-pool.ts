/**
 * Worker threads that import operator graphs, so that a watcher catching up a backlog verifies graphs
 * (rebuild, transaction comparison, every presigned signature: ~15 ms each on the devnet) on other cores
 * while its main thread ingests the L2 and judges. Each job is a plain-data import (import-job.ts); the
 * registry adopts the reply in file order, so what it concludes is what an import in place concludes.
 *
 * A worker that dies (a crash, an out-of-memory kill) fails the jobs it held with an Error, which the
 * registry treats as "not imported yet" (read again on the next poll); the next job starts a new one.
 * Workers start on demand (loading the sources takes about half a second of CPU each, which is why the
 * registry imports a lone new graph in place) and stop after `idleMs` without work, so a watcher that
 * keeps up holds no idle thread (each is a V8 heap of its own); they never hold the process open.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { GraphImportJob, GraphImportReply } from '../dispute/graph/import-job.ts';

export type GraphImportRequest = { id: number; job: GraphImportJob };
export type GraphImportResponse = { id: number; reply: GraphImportReply };

/** What the registry needs of a pool (a test may stand in its own). */
export type GraphImportRunner = {
  /** Workers at most (how many imports the registry starts ahead). */
  readonly size: number;
  run(job: GraphImportJob): Promise<GraphImportReply>;
};

/**
 * Workers when `dispute.importWorkers` is unset: one per core, 1 to 4. Not one less for the main thread:
 * while graphs are imported it mostly waits on the L2 node (bench `watcher.graph-import`: on 2 cores,
 * 2 workers import 1.76× as many graphs per second as the main thread alone).
 */
export function defaultImportWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

type Pending = { resolve: (r: GraphImportReply) => void; reject: (e: Error) => void };
type Slot = {
  worker: Worker;
  pending: Map<number, Pending>;
  gone: boolean;
  idle: NodeJS.Timeout | undefined;
};

/** How long a worker without work is kept (a backlog's next poll comes well within it). */
export const IMPORT_WORKER_IDLE_MS = 30_000;

const WORKER_URL = new URL('./graph-import-worker.mjs', import.meta.url);

export class GraphImportPool implements GraphImportRunner {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly o: { size: number; idleMs?: number; logger?: Logger }) {
    if (!Number.isInteger(o.size) || o.size < 1) {
      throw new RangeError(`a graph import pool needs at least one worker, got ${o.size}`);
    }
  }

  get size(): number {
    return this.o.size;
  }

  /** Workers running now (started by jobs, stopped when idle or dead). */
  get running(): number {
    return this.slots.length;
  }

  run(job: GraphImportJob): Promise<GraphImportReply> {
    if (this.closed) return Promise.reject(new Error('the graph import pool is closed'));
    const slot = this.pick();
    const id = this.nextId++;
    return new Promise<GraphImportReply>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      clearTimeout(slot.idle);
      slot.idle = undefined;
      if (slot.pending.size === 1) slot.worker.ref();
      const request: GraphImportRequest = { id, job };
      slot.worker.postMessage(request);
    });
  }

  /** Stops every worker; jobs still held fail. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    await Promise.all(
      slots.map(async (s) => {
        clearTimeout(s.idle);
        s.gone = true;
        this.fail(s, new Error('the graph import pool was closed'));
        await s.worker.terminate();
      }),
    );
  }

  /** An idle worker, a new one while fewer than `size` run, else the least busy. */
  private pick(): Slot {
    const idle = this.slots.find((s) => s.pending.size === 0);
    if (idle) return idle;
    if (this.slots.length < this.o.size) return this.spawn();
    let best = this.slots[0] as Slot;
    for (const s of this.slots) if (s.pending.size < best.pending.size) best = s;
    return best;
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL);
    const slot: Slot = { worker, pending: new Map(), gone: false, idle: undefined };
    worker.unref();
    worker.on('message', (m: GraphImportResponse) => {
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
      if (slot.pending.size === 0) {
        worker.unref();
        this.idleAfterWork(slot);
      }
      p.resolve(m.reply);
    });
    worker.on('error', (err) => this.lose(slot, `failed: ${err.message}`));
    worker.on('exit', (code) => this.lose(slot, `exited with code ${code}`));
    this.slots.push(slot);
    return slot;
  }

  private idleAfterWork(slot: Slot): void {
    slot.idle = setTimeout(() => this.retire(slot), this.o.idleMs ?? IMPORT_WORKER_IDLE_MS);
    slot.idle.unref();
  }

  /** Stops a worker that has had no work for `idleMs`. */
  private retire(slot: Slot): void {
    if (slot.gone || slot.pending.size > 0) return;
    slot.gone = true;
    const i = this.slots.indexOf(slot);
    if (i !== -1) this.slots.splice(i, 1);
    void slot.worker.terminate();
  }

  private lose(slot: Slot, what: string): void {
    if (slot.gone) return;
    slot.gone = true;
    clearTimeout(slot.idle);
    const i = this.slots.indexOf(slot);
    if (i !== -1) this.slots.splice(i, 1);
    if (!this.closed) {
      this.o.logger?.error(
        { jobs: slot.pending.size },
        `a graph import worker ${what}: its graphs are imported again on the next poll`,
      );
    }
    this.fail(slot, new Error(`the graph import worker ${what}`));
  }

  private fail(slot: Slot, err: Error): void {
    for (const p of slot.pending.values()) p.reject(err);
    slot.pending.clear();
  }
}
