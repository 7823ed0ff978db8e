/**
 * The dispute queue: one BullMQ queue whose jobs carry a dispute through its life (open → challenge →
 * track), processed by workers in any number of processes. Queue keys live under a hash-tagged prefix
 * so Redis Cluster keeps each queue in one slot (BullMQ's Lua scripts touch only the queue's keys);
 * worker connections never give up on a command (`maxRetriesPerRequest: null`), as BullMQ requires. On
 * a cluster the queue and its worker each get a `Cluster` of their own (./connection.ts).
 */
import { type ConnectionOptions, type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { processChallenge } from '../challenger/challenge.ts';
import type { DisputeJobContext } from '../challenger/context.ts';
import { processOpen } from '../challenger/open.ts';
import type { DisputeJobData, OpenJobData } from '../challenger/payloads.ts';
import { processTrack } from '../challenger/track.ts';
import { VigilError } from '../core/errors.ts';
import { type BullConnection, bullConnection, type QueueConnection } from './connection.ts';
import { challengeJobId, openJobId, trackSchedulerId } from './job-ids.ts';

export const DISPUTE_QUEUE = 'disputes';

export class QueuePrefixError extends VigilError {
  override name = 'QueuePrefixError';
}

export type DisputeQueueOptions = {
  /** Options for one Redis, or a cluster's (./connection.ts `queueConnectionFromUrl`). */
  connection: ConnectionOptions | QueueConnection;
  /** BullMQ key prefix; must contain a {hash tag}. */
  prefix: string;
  concurrency?: number;
  /** How often a dispute is re-checked while it is open. */
  trackEveryMs?: number;
  attempts?: number;
  backoffMs?: number;
};

export const DEFAULT_JOB_OPTIONS = {
  attempts: 8,
  // Exponential backoff with jitter, so processes retrying the same failure do not stampede.
  backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 5000 },
} as const;

type Names = 'open' | 'challenge' | 'track';

/** What the queue's health check reads (src/watcher/component-health.ts `queueHealth` decides). */
export type DisputeQueueState = {
  worker: 'running' | 'paused' | 'closed' | 'stopped' | 'not-started';
  /** Each Redis connection the queue uses and its ioredis status (`ready` when usable). */
  connections: { role: string; status: string }[];
  /** Jobs in the failed set: BullMQ puts a job there only once it will not be retried. */
  failed: {
    id: string;
    name: string;
    disputeId: string | undefined;
    at: number | undefined;
    reason: string;
  }[];
  /** The failed set could not be read. */
  readError?: string;
};

/** `p`, or `undefined` once `ms` have passed (a command on a connection that is down waits forever). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export class DisputeQueue {
  readonly queue: Queue;
  private worker: Worker | undefined;
  private readonly options: DisputeQueueOptions;
  private readonly connections: BullConnection[] = [];

  constructor(options: DisputeQueueOptions) {
    if (!/\{[^}]+\}/.test(options.prefix)) {
      throw new QueuePrefixError(
        `Queue prefix ${options.prefix} has no {hash tag}; Redis Cluster would split it`,
      );
    }
    this.options = options;
    const connection = bullConnection(options.connection, 'queue');
    this.connections.push(connection);
    this.queue = new Queue(DISPUTE_QUEUE, {
      connection: connection.connection,
      prefix: options.prefix,
      defaultJobOptions: {
        ...DEFAULT_JOB_OPTIONS,
        attempts: options.attempts ?? DEFAULT_JOB_OPTIONS.attempts,
        backoff: {
          ...DEFAULT_JOB_OPTIONS.backoff,
          delay: options.backoffMs ?? DEFAULT_JOB_OPTIONS.backoff.delay,
        },
      },
    });
    // A Redis outage makes the queue's connection emit errors; ioredis reconnects by itself. Without a
    // listener they would be printed raw (or, for an EventEmitter, thrown); with one they are logged once
    // the worker knows the logger.
    this.queue.on('error', (err) => this.onQueueError(err));
  }

  private onQueueError: (err: Error) => void = () => {};

  /** A context bound to this queue's scheduling (track/untrack). */
  bind(ctx: Omit<DisputeJobContext, 'track' | 'untrack'>): DisputeJobContext {
    return {
      ...ctx,
      track: async (id) => {
        await this.queue.upsertJobScheduler(
          trackSchedulerId(id),
          { every: this.options.trackEveryMs ?? 5000 },
          { name: 'track', data: { disputeId: id } },
        );
      },
      untrack: async (id) => {
        await this.queue.removeJobScheduler(trackSchedulerId(id));
      },
    };
  }

  async open(data: OpenJobData): Promise<void> {
    await this.queue.add('open', data, { jobId: openJobId(data.disputeId) });
  }

  startWorker(ctx: DisputeJobContext): Worker {
    const connection = bullConnection(this.options.connection, 'worker');
    this.connections.push(connection);
    const worker = new Worker(
      DISPUTE_QUEUE,
      async (job: Job) => {
        switch (job.name as Names) {
          case 'open': {
            const data = job.data as OpenJobData;
            const status = await processOpen(ctx, data);
            await this.queue.add(
              'challenge',
              { disputeId: data.disputeId },
              { jobId: challengeJobId(data.disputeId) },
            );
            return status;
          }
          case 'challenge':
            return processChallenge(ctx, job.data as DisputeJobData);
          case 'track':
            return processTrack(ctx, job.data as DisputeJobData);
          default:
            throw new UnrecoverableError(`Unknown job ${job.name}`);
        }
      },
      {
        connection: connection.connection,
        prefix: this.options.prefix,
        concurrency: this.options.concurrency ?? 4,
        // Every job is safe to run again, so a job whose worker died (SIGKILL, OOM) is re-run however
        // often that happens: BullMQ's default would fail it for good after one stall and leave the
        // dispute stuck. A short lock makes the re-run come within seconds, not a minute.
        maxStalledCount: 1_000,
        lockDuration: 15_000,
        stalledInterval: 5_000,
      },
    );
    worker.on('failed', (job, err) => {
      if (!job) return;
      const permanent = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
      ctx.metrics?.jobFailures.inc({
        queue: DISPUTE_QUEUE,
        dispute_job: job.name,
        kind: permanent ? 'permanent' : 'retry',
      });
      ctx.logger?.warn({ job: job.id, name: job.name, err: err.message, permanent }, 'dispute job failed');
    });
    worker.on('completed', (job, result) => {
      ctx.logger?.debug({ job: job.id, name: job.name, result }, 'dispute job done');
    });
    worker.on('error', (err) => ctx.logger?.error({ err: err.message }, 'dispute worker error'));
    this.onQueueError = (err) => ctx.logger?.warn({ err: err.message }, 'dispute queue connection error');
    this.worker = worker;
    return worker;
  }

  /**
   * Puts every unfinished dispute back on its way: one still `detected` gets its challenge job again (a
   * job that failed for good — attempts used up, a deadline still ahead — is retried; a missing one is
   * added), any other open state gets its tracker. Idempotent (deterministic job ids, upserted
   * schedulers); the follow loop calls it every few seconds so no crash can leave a dispute parked.
   */
  async redrive(ctx: DisputeJobContext, records: readonly { id: string; state: string }[]): Promise<number> {
    let moved = 0;
    for (const r of records) {
      if (r.state === 'resolved') continue;
      if (r.state !== 'detected') {
        await ctx.track(r.id);
        continue;
      }
      const id = challengeJobId(r.id);
      const job = await this.queue.getJob(id);
      if (!job) {
        await this.queue.add('challenge', { disputeId: r.id }, { jobId: id });
        moved++;
      } else if (await job.isFailed()) {
        await job.retry('failed');
        moved++;
      }
    }
    return moved;
  }

  /** The worker in this process (undefined before startWorker). */
  get activeWorker(): Worker | undefined {
    return this.worker;
  }

  /**
   * The worker's state, its connections' and the failed set (at most `failedLimit` jobs), each read
   * within `timeoutMs`: for /healthz, which must answer while Redis is away.
   */
  async state(options: { failedLimit?: number; timeoutMs?: number } = {}): Promise<DisputeQueueState> {
    const ms = options.timeoutMs ?? 500;
    const w = this.worker;
    const worker: DisputeQueueState['worker'] =
      w === undefined
        ? 'not-started'
        : w.closing !== undefined
          ? 'closed'
          : w.isPaused()
            ? 'paused'
            : w.isRunning()
              ? 'running'
              : 'stopped';
    const statusOf = async (client: Promise<{ status: string }>): Promise<string> => {
      try {
        return (await within(client, ms))?.status ?? 'connecting';
      } catch (err) {
        return `failing (${err instanceof Error ? err.message : String(err)})`;
      }
    };
    const connections = [{ role: 'queue', status: await statusOf(this.queue.getBackend().client) }];
    if (w !== undefined && worker !== 'closed') {
      const backend = w.getBackend();
      connections.push({ role: 'worker', status: await statusOf(backend.client) });
      const blocking = backend.blockingClient;
      if (blocking) connections.push({ role: 'worker blocking', status: await statusOf(blocking) });
    }
    const out: DisputeQueueState = { worker, connections, failed: [] };
    if (connections[0]?.status !== 'ready') return out;
    try {
      const jobs = await within(this.queue.getFailed(0, (options.failedLimit ?? 50) - 1), ms);
      if (jobs === undefined) return { ...out, readError: `no answer within ${ms} ms` };
      out.failed = jobs.map((j) => ({
        id: String(j.id),
        name: j.name,
        disputeId:
          typeof (j.data as { disputeId?: unknown } | undefined)?.disputeId === 'string'
            ? (j.data as { disputeId: string }).disputeId
            : undefined,
        at: j.finishedOn,
        reason: j.failedReason ?? '',
      }));
    } catch (err) {
      out.readError = err instanceof Error ? err.message : String(err);
    }
    return out;
  }

  /** Publishes queue depths to the gauge. */
  async observe(ctx: Pick<DisputeJobContext, 'metrics'>): Promise<void> {
    const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
    for (const [state, n] of Object.entries(counts))
      ctx.metrics?.queueJobs.set({ queue: DISPUTE_QUEUE, state }, n);
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
    // A cluster connection made here is not BullMQ's to close (it was handed over as an instance).
    await Promise.all(this.connections.map((c) => c.close()));
  }
}
