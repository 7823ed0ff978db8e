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
import type { GameJobContext } from '../challenger/game-context.ts';
import { processGame } from '../challenger/game-play.ts';
import { processOpen } from '../challenger/open.ts';
import type { DisputeJobData, OpenJobData } from '../challenger/payloads.ts';
import { processTrack } from '../challenger/track.ts';
import { VigilError } from '../core/errors.ts';
import { type BullConnection, bullConnection, type QueueConnection } from './connection.ts';
import { challengeJobId, gameSchedulerId, openJobId, trackSchedulerId, urgentTrackJobId } from './job-ids.ts';

export const DISPUTE_QUEUE = 'disputes';

/**
 * How long `close()` lets BullMQ finish the jobs in flight and close by itself before it cuts the
 * connections. After a cluster failover a job's command could stay pending in ioredis for good, and
 * a graceful close waiting on it kept a process alive after SIGTERM (issue #21); every job is safe to
 * run again, so one cut short is re-run by another process once its lock expires.
 */
const CLOSE_GRACE_MS = 10_000;

/**
 * A worker that started no job while jobs sat in `wait` for this long, and runs none, is taken as
 * wedged and replaced. Seen on a Redis Cluster after a failover (issue #21): BullMQ's fetch loop stays
 * parked in the reset of its blocking connection (that connection sends no BZPOPMIN again, no error is
 * emitted), so a process holds jobs in `wait` for good while its connections look `ready`. A healthy
 * idle worker takes a waiting job within milliseconds, and a job waits only while no process takes it,
 * so a few seconds say enough; replacing a worker that was not wedged costs a reconnect, nothing more.
 */
const WEDGED_AFTER_MS = 4_000;
const WEDGE_CHECK_MS = 1_000;

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
  /**
   * A game's run that has not finished after this long is abandoned (default 5 min): its job returns,
   * freeing the worker's slot, and the game's next repetition runs (protocol §24.11 item 41).
   */
  gameRunDeadlineMs?: number;
};

/**
 * A game's run normally takes well under a second; its first, which imports the claim, seconds. A run
 * stuck on I/O that never answers (a Redis that accepts connections and says nothing) would otherwise
 * hold its game, and a worker slot, for good, while the game's deadlines are counted in blocks.
 */
export const GAME_RUN_DEADLINE_MS = 5 * 60_000;

/**
 * Finished jobs kept in Redis (docs/operations.md "Running for months"). A completed job is only a
 * debugging aid: the dispute record holds its history, and every job is safe to run again, so the
 * newest few are enough. An `open` job carries the operator's graph (~30 KB): with 100 kept, Redis grew
 * by one per dispute for the first 100 disputes (the soak's 2,000 epochs never reached the cap). Failed
 * jobs are what `/healthz` reports, so more of them stay.
 */
export const DEFAULT_JOB_OPTIONS = {
  attempts: 8,
  // Exponential backoff with jitter, so processes retrying the same failure do not stampede.
  backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
  removeOnComplete: { count: 10 },
  removeOnFail: { count: 5000 },
} as const;

/**
 * A `track` run every few seconds per open dispute: a completed one says nothing the record does not,
 * so it is removed at once (kept, they filled the completed set with thousands of copies).
 */
export const TRACK_JOB_OPTIONS = { removeOnComplete: true } as const;

/** The queue's event stream (BullMQ's default keeps ~10,000; nothing in Vigil reads it). */
export const EVENTS_STREAM_MAX_LEN = 1000;

type Names = 'open' | 'challenge' | 'track' | 'game';

/** Games whose last run's start this process remembers (`gameRunSince`), oldest forgotten first. */
const GAME_RUNS_KEPT = 4_096;
/**
 * A game's failure this long after its last one in this process starts a new count: a game's runs repeat
 * every few seconds, so a gap says other processes ran it meanwhile (and may have played it well).
 */
const FAILING_GAP_MS = 120_000;

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
  /** Jobs being processed in this process, by job id: what a close that overran was waiting for. */
  private readonly inFlight = new Map<string, string>();
  private logger: DisputeJobContext['logger'];
  /** Where game jobs run, when this process plays games (`startWorker`'s `game`). */
  private gameCtx: GameJobContext | undefined;
  /** When the current worker last started a job (or was created). */
  private lastStart = Date.now();
  /** Games with a run under way in this process, and when it started (the run's token). */
  private readonly gameRuns = new Map<string, number>();
  /** Games with an abandoned run still pending: at most one per game is ever left behind. */
  private readonly abandonedRuns = new Set<string>();
  /**
   * When each game's runs began to fail one after another in this process (ms): a game Vigil cannot
   * play (its material cannot be made, a backend refuses it) must not look like one waiting its turn.
   */
  private readonly gameFailingFrom = new Map<string, { from: number; at: number }>();
  /** When the last run of each game that completed in this process started (ms). */
  private readonly lastGameRun = new Map<string, number>();
  private wedgeTimer: NodeJS.Timeout | undefined;
  private closing = false;
  /** Since when every wedge check saw jobs waiting while this process ran none (undefined: not now). */
  private waitingSince: number | undefined;
  /** Each worker's own Cluster connection (absent for plain options), to cut it when abandoned. */
  private readonly workerConnections = new Map<Worker, BullConnection>();
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
      streams: { events: { maxLen: EVENTS_STREAM_MAX_LEN } },
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
          { name: 'track', data: { disputeId: id }, opts: TRACK_JOB_OPTIONS },
        );
      },
      untrack: async (id) => {
        await this.queue.removeJobScheduler(trackSchedulerId(id));
      },
    };
  }

  /**
   * A game context bound to this queue's scheduling: its repeating job is stopped once resolved. Pass it
   * to `startWorker` for this process to play games.
   */
  bindGame(ctx: Omit<GameJobContext, 'untrack'>): GameJobContext {
    return {
      ...ctx,
      untrack: async (id) => {
        this.lastGameRun.delete(id);
        await this.queue.removeJobScheduler(gameSchedulerId(id));
      },
    };
  }

  /**
   * Whether a run of game `id` that started at or after `since` (ms) has completed in this process: the
   * devnet's block clock waits for it, so each game is looked at in every block.
   */
  gameRunSince(id: string, since: number): boolean {
    return (this.lastGameRun.get(id) ?? -1) >= since;
  }

  /** Starts (or keeps) the repeating job of game `id`, every `trackEveryMs`. Idempotent. */
  async trackGame(id: string): Promise<void> {
    await this.queue.upsertJobScheduler(
      gameSchedulerId(id),
      { every: this.options.trackEveryMs ?? 5000 },
      { name: 'game', data: { disputeId: id }, opts: TRACK_JOB_OPTIONS },
    );
  }

  /**
   * Puts every unresolved game back on its repeating job (upserted, so idempotent): a scheduler lost with
   * a Redis primary, or never started by a process that crashed after opening the record, comes back.
   */
  async redriveGames(records: readonly { id: string; state: string }[]): Promise<number> {
    let n = 0;
    for (const r of records) {
      if (r.state === 'resolved') continue;
      await this.trackGame(r.id);
      n++;
    }
    return n;
  }

  async open(data: OpenJobData): Promise<void> {
    await this.queue.add('open', data, { jobId: openJobId(data.disputeId) });
  }

  /** Runs one job: each kind has its processor (../challenger). */
  private async process(ctx: DisputeJobContext, job: Job): Promise<unknown> {
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
      case 'game': {
        if (this.gameCtx === undefined) throw new UnrecoverableError('This process plays no games');
        const id = (job.data as DisputeJobData).disputeId;
        // One run of a game at a time in this process: a repetition due while the last run still reads
        // the chain would decide on the same facts and only race it (jobs are safe to run twice, but a
        // stale run's state move is refused).
        if (this.gameRuns.has(id)) return 'skipped: a run of this game is under way in this process';
        const started = Date.now();
        this.gameRuns.set(id, started);
        const deadline = this.options.gameRunDeadlineMs ?? GAME_RUN_DEADLINE_MS;
        const run = this.failingTold(id, processGame(this.gameCtx, job.data as DisputeJobData));
        try {
          // A game with a run already abandoned waits for this one however long it takes: at most two runs
          // of a game are ever pending, whatever Redis or a backend does.
          const done = this.abandonedRuns.has(id) ? await run : await within(run, deadline);
          if (done === undefined) {
            // Abandoned, not cancelled: it may still finish. Its state moves are compare-and-sets on the
            // state it read and its transactions are written ahead under their ids, so its late writes
            // change nothing a later run decided; a fee child it writes late is one more version.
            this.abandonedRuns.add(id);
            run.then(
              () => this.abandonedRuns.delete(id),
              () => this.abandonedRuns.delete(id),
            );
            this.logger?.error(
              { game: id, deadlineMs: deadline },
              'a run of this game did not finish in time (I/O that never answered?): abandoned, the next run goes on',
            );
            return `abandoned after ${deadline} ms: the next run goes on`;
          }
          this.lastGameRun.set(id, started);
          // Bounded: a game resolved by its run (untracked first) or by another process leaves its entry.
          if (this.lastGameRun.size > GAME_RUNS_KEPT)
            this.lastGameRun.delete(this.lastGameRun.keys().next().value as string);
          return done;
        } finally {
          if (this.gameRuns.get(id) === started) this.gameRuns.delete(id);
        }
      }
      default:
        throw new UnrecoverableError(`Unknown job ${job.name}`);
    }
  }

  /**
   * `run`, with `vigil_game_failing_seconds{dispute}` set while the game's runs in this process fail one
   * after another and removed once one completes. A failure more than FAILING_GAP_MS after the last one
   * starts a new count (other processes may have played the game in between), and a run left behind
   * that completes late ends only a count that began after it started.
   */
  private async failingTold<T>(id: string, run: Promise<T>): Promise<T> {
    const gauge = this.gameCtx?.metrics?.gameFailing;
    const started = Date.now();
    try {
      const done = await run;
      const failing = this.gameFailingFrom.get(id);
      if (failing === undefined || failing.from <= started) {
        this.gameFailingFrom.delete(id);
        gauge?.remove({ dispute: id });
      }
      return done;
    } catch (err) {
      const now = Date.now();
      const last = this.gameFailingFrom.get(id);
      const from = last !== undefined && now - last.at <= FAILING_GAP_MS ? last.from : now;
      this.gameFailingFrom.delete(id);
      this.gameFailingFrom.set(id, { from, at: now });
      // Bounded: a game resolved by another process never completes a run here again.
      if (this.gameFailingFrom.size > GAME_RUNS_KEPT) {
        const oldest = this.gameFailingFrom.keys().next().value as string;
        this.gameFailingFrom.delete(oldest);
        gauge?.remove({ dispute: oldest });
      }
      gauge?.set({ dispute: id }, Math.round((now - from) / 1000));
      throw err;
    }
  }

  startWorker(ctx: DisputeJobContext, options: { game?: GameJobContext } = {}): Worker {
    this.logger = ctx.logger;
    if (options.game !== undefined) this.gameCtx = options.game;
    const connection = bullConnection(this.options.connection, 'worker');
    this.connections.push(connection);
    const worker = new Worker(
      DISPUTE_QUEUE,
      async (job: Job) => {
        this.lastStart = Date.now();
        const key = job.id ?? job.name;
        this.inFlight.set(key, `${job.name} ${(job.data as { disputeId?: string }).disputeId ?? ''}`);
        try {
          return await this.process(ctx, job);
        } finally {
          this.inFlight.delete(key);
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
    this.workerConnections.set(worker, connection);
    this.lastStart = Date.now();
    if (!this.wedgeTimer) {
      this.wedgeTimer = setInterval(() => void this.checkWedged(ctx), WEDGE_CHECK_MS);
      this.wedgeTimer.unref();
    }
    return worker;
  }

  /**
   * Replaces the worker when jobs have been waiting for WEDGED_AFTER_MS, checked every WEDGE_CHECK_MS,
   * while it started none and none runs in this process.
   */
  private async checkWedged(ctx: DisputeJobContext): Promise<void> {
    const old = this.worker;
    if (!old || this.closing || old.isPaused() || this.inFlight.size > 0) {
      this.waitingSince = undefined;
      return;
    }
    const checkedAt = Date.now();
    const waiting = await within(
      this.queue.getWaitingCount().catch(() => 0),
      WEDGE_CHECK_MS,
    );
    if (!waiting || this.lastStart >= (this.waitingSince ?? checkedAt)) {
      this.waitingSince = waiting ? checkedAt : undefined;
      return;
    }
    this.waitingSince ??= checkedAt;
    if (this.closing || this.worker !== old || this.inFlight.size > 0) return;
    const since = this.waitingSince;
    if (Date.now() - since < WEDGED_AFTER_MS) return;
    this.waitingSince = undefined;
    const blocking = await within(
      Promise.resolve(old.getBackend().blockingClient).catch(() => undefined),
      500,
    );
    ctx.logger?.warn(
      {
        waiting,
        idleMs: Date.now() - this.lastStart,
        waitingForMs: Date.now() - since,
        blocking: (blocking as { status?: string } | undefined)?.status ?? 'unknown',
        connection: this.workerConnections.get(old)?.describe(),
      },
      'dispute worker started no job while jobs wait: replacing it',
    );
    this.startWorker(ctx);
    void this.abandon(old);
  }

  /**
   * Closes `worker` without waiting for its fetch loop (`close(true)`: a wedged loop never ends), then
   * cuts its connection; whatever is left of it holds no socket open.
   */
  private async abandon(worker: Worker): Promise<void> {
    await within(
      worker.close(true).catch(() => {}),
      CLOSE_GRACE_MS,
    );
    const connection = this.workerConnections.get(worker);
    this.workerConnections.delete(worker);
    if (connection) {
      await connection.close();
      this.connections.splice(this.connections.indexOf(connection), 1);
    }
  }

  /**
   * Puts every unfinished dispute back on its way: one still `detected` gets its challenge job again (a
   * job that failed for good — attempts used up, a deadline still ahead — is retried; a missing one is
   * added), any other open state gets its tracker. Idempotent (deterministic job ids, upserted
   * schedulers); the follow loop calls it every few seconds so no crash can leave a dispute parked.
   */
  async redrive(
    ctx: DisputeJobContext,
    records: readonly { id: string; state: string }[],
    urgent?: { ids: ReadonlySet<string>; tip: number },
  ): Promise<number> {
    let moved = 0;
    for (const r of records) {
      if (r.state === 'resolved') continue;
      const atRisk = urgent?.ids.has(r.id) === true;
      if (r.state !== 'detected') {
        await ctx.track(r.id);
        // A deadline at risk: a track run now, whatever became of the scheduler's next one.
        if (atRisk && urgent) {
          const id = urgentTrackJobId(r.id, urgent.tip);
          if (!(await this.queue.getJob(id))) {
            await this.queue.add('track', { disputeId: r.id }, { jobId: id, ...TRACK_JOB_OPTIONS });
          }
        }
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
      } else if (ctx.mode === 'challenge' && (await job.isCompleted())) {
        // In mode challenge a completed challenge job leaves its dispute past `detected`; still
        // `detected` means its writes were lost (a Redis failover): run it again.
        await job.retry('completed');
        moved++;
      } else if (atRisk && (await job.isDelayed())) {
        // Waiting out a retry's backoff while the window closes: run it now.
        await job.promote();
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

  /**
   * Closes the worker (letting its jobs in flight finish), the queue and the connections made here. A
   * close that overruns CLOSE_GRACE_MS is logged with what it waited for, and the connections are cut:
   * their pending commands fail, which ends what waited on them.
   */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.wedgeTimer);
    // The jobs running here finish first (bounded); then BullMQ is closed without waiting for its
    // fetch loop, which after a cluster failover may never end. Every job is safe to run again.
    const drained = await within(this.drained(), CLOSE_GRACE_MS);
    if (!drained) {
      this.logger?.warn(
        {
          graceMs: CLOSE_GRACE_MS,
          jobsInFlight: [...this.inFlight.values()],
          connections: this.connections.map((c) => c.describe()),
        },
        'dispute jobs still running at shutdown: abandoning them (another process re-runs them)',
      );
    }
    const worker = this.worker;
    if (worker) await this.abandon(worker);
    await within(
      this.queue.close().catch(() => {}),
      CLOSE_GRACE_MS,
    );
    // A cluster connection made here is not BullMQ's to close (it was handed over as an instance).
    await Promise.all(this.connections.map((c) => c.close()));
  }

  /** Resolves once no job runs in this process. */
  private async drained(): Promise<true> {
    while (this.inFlight.size > 0) await new Promise((r) => setTimeout(r, 50));
    return true;
  }
}
