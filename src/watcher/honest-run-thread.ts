/**
 * The honest run of an epoch's governance program on a thread of its own. A mainnet epoch is tens of
 * millions of machine steps (a 1,000-input epoch: about 90 s of a core), and its tape is a re-execution
 * of the history since the L2 journal's base (seconds more): done on the main thread, either would stall
 * everything that keeps the daemon alive meanwhile (the Bitcoin lease's renewal, BullMQ's job locks,
 * /healthz, the L2 follower). The worker rebuilds the tape from its recipe, makes the first run
 * (`runHonest`) and sends both back, the tape's levels transferred, not copied; the view's later
 * questions re-run at most one snapshot's spacing on the caller's thread.
 *
 * One worker per run, stopped when it answers: a run happens once per game (its material is cached)
 * and again after a restart, so an idle worker would only hold a V8 heap for nothing. The daemon's pool
 * bounds how many run at once and stops them when the watcher stops.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CheckpointOptions, HonestRun } from '../dispute/game/honest-view.ts';
import type { GovernanceInput } from '../governance/index.ts';
import type { TapeRecipe } from '../l2/tape-recipe.ts';
import type { Program } from '../machine/program.ts';
import { Tape, type TapeParts } from '../machine/tape.ts';

/** An epoch's tape at hand, or what it is rebuilt from (the watcher's: a re-execution, made off its thread). */
export type TapeSource = { readonly tape: Tape } | { readonly recipe: TapeRecipe };

/**
 * The first message to the worker. A recipe's `prior` inputs follow in `PriorChunk` messages, `priorCount`
 * in all: hundreds of thousands of inputs cloned in one message would stall the caller for a second.
 */
export type HonestRunRequest = {
  readonly program: Program;
  readonly source:
    | { readonly parts: TapeParts }
    | { readonly recipe: TapeRecipe; readonly priorCount: number };
  readonly options: CheckpointOptions;
};

export type PriorChunk = { readonly prior: readonly GovernanceInput[] };

/** Inputs per message: about 30 ms of the caller's thread to clone each. */
export const PRIOR_CHUNK = 8192;

export type HonestRunResponse =
  | { ok: true; run: HonestRun; tape: TapeParts | undefined }
  | { ok: false; name: string; message: string };

/** The first run and the tape it ran on. */
export type HonestRunResult = { readonly run: HonestRun; readonly tape: Tape };

/** Makes the first run somewhere and answers with it (claim-games.ts takes any; production, a thread). */
export type HonestRunner = (
  program: Program,
  source: TapeSource,
  options: CheckpointOptions,
) => Promise<HonestRunResult>;

/** A run the worker refused or failed (a program that faults, a step limit): the worker's own error. */
export class HonestRunError extends Error {
  override name = 'HonestRunError';
}

const WORKER_URL = new URL('./honest-run-worker.mjs', import.meta.url);

type Started = { readonly done: Promise<HonestRunResult>; stop(): Promise<void> };

/** One run on a worker of its own, stopped once it answers (or when `stop` is called). */
function startRun(program: Program, source: TapeSource, options: CheckpointOptions): Started {
  const worker = new Worker(WORKER_URL);
  let settled = false;
  let fail: (e: Error) => void = () => {};
  const done = new Promise<HonestRunResult>((resolve, reject) => {
    fail = reject;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
      void worker.terminate();
    };
    worker.on('message', (m: HonestRunResponse) =>
      settle(() => {
        if (!m.ok) {
          reject(new HonestRunError(`${m.name}: ${m.message} (the honest run's thread)`));
          return;
        }
        // A tape sent along stays the caller's; one rebuilt there comes back as its levels.
        const tape =
          'tape' in source ? source.tape : m.tape === undefined ? undefined : Tape.fromParts(m.tape);
        if (tape === undefined) reject(new HonestRunError("the honest run's thread sent back no tape"));
        else resolve({ run: m.run, tape });
      }),
    );
    worker.on('error', (err) =>
      settle(() => reject(new HonestRunError(`the honest run's thread failed: ${err.message}`))),
    );
    worker.on('exit', (code) =>
      settle(() => reject(new HonestRunError(`the honest run's thread exited with code ${code}`))),
    );
  });
  // A tape at hand is copied over (the caller keeps using it); a recipe is a fraction of its size, and
  // its history goes over in chunks, the event loop turning between them.
  const request: HonestRunRequest = {
    program,
    source:
      'tape' in source
        ? { parts: source.tape.parts() }
        : { recipe: { ...source.recipe, prior: [] }, priorCount: source.recipe.prior.length },
    options,
  };
  worker.postMessage(request);
  if ('recipe' in source) {
    // A chunk that cannot be posted leaves the worker waiting for it: the run fails and the thread stops.
    postPrior(worker, source.recipe.prior, () => settled).catch((err: unknown) => {
      if (settled) return;
      settled = true;
      fail(new HonestRunError(`the recipe's history could not be posted: ${String(err)}`));
      void worker.terminate();
    });
  }
  return {
    done,
    stop: async () => {
      if (settled) return;
      settled = true;
      fail(new HonestRunError("the honest run's thread was stopped"));
      await worker.terminate();
    },
  };
}

async function postPrior(
  worker: Worker,
  prior: readonly GovernanceInput[],
  stopped: () => boolean,
): Promise<void> {
  for (let i = 0; i < prior.length && !stopped(); i += PRIOR_CHUNK) {
    const chunk: PriorChunk = { prior: prior.slice(i, i + PRIOR_CHUNK) };
    worker.postMessage(chunk);
    await new Promise((r) => setImmediate(r));
  }
}

/** One run on a thread of its own (the bench, and a caller with no pool). */
export const runHonestOnThread: HonestRunner = (program, source, options) =>
  startRun(program, source, options).done;

export type HonestRunPool = {
  readonly run: HonestRunner;
  /** Runs on a thread now, and runs waiting for one. */
  counts(): { running: number; waiting: number };
  /** Stops the runs under way and refuses the rest: their callers fail (a game's run is retried later). */
  close(): Promise<void>;
};

/** At most this many runs at once: every core but one, which the poll and the jobs keep. */
export function defaultHonestRunConcurrency(): number {
  return Math.max(1, availableParallelism() - 1);
}

/**
 * Runs on threads, at most `concurrency` at once, in the order asked: after a restart every open game
 * asks for its run at once, and each is a core's worth of work for a minute or more on mainnet.
 */
export function createHonestRunPool(o: { concurrency?: number } = {}): HonestRunPool {
  const limit = o.concurrency ?? defaultHonestRunConcurrency();
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`at least one honest run at a time, got ${limit}`);
  const running = new Set<Started>();
  const waiting: { start: () => void; refuse: (e: Error) => void }[] = [];
  let closed = false;
  const next = () => {
    while (!closed && running.size < limit && waiting.length > 0) waiting.shift()?.start();
  };
  return {
    run: (program, source, options) =>
      new Promise<HonestRunResult>((resolve, reject) => {
        if (closed) {
          reject(new HonestRunError('the honest run pool is closed'));
          return;
        }
        waiting.push({
          start: () => {
            const started = startRun(program, source, options);
            running.add(started);
            // Its slot is free before its caller hears the answer.
            started.done
              .finally(() => {
                running.delete(started);
                next();
              })
              .then(resolve, reject);
          },
          refuse: reject,
        });
        next();
      }),
    counts: () => ({ running: running.size, waiting: waiting.length }),
    async close() {
      closed = true;
      for (const w of waiting.splice(0)) w.refuse(new HonestRunError('the honest run pool is closed'));
      await Promise.all([...running].map((r) => r.stop()));
    },
  };
}
