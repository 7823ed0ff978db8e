/**
 * The honest run of an epoch's governance program on a thread of its own. A mainnet epoch is tens of
 * millions of machine steps (seconds of CPU): run on the main thread, it would stall everything that
 * keeps the daemon alive meanwhile (the Bitcoin lease's renewal, BullMQ's job locks, /healthz, the L2
 * follower). The worker makes the first run (`runHonest`) and sends back its plain result; the view's
 * later questions re-run at most one snapshot's spacing on the caller's thread.
 *
 * One worker per run, stopped when it answers: a run happens once per game (its material is cached)
 * and again after a restart, so a pool would only hold a V8 heap for nothing.
 */
import { Worker } from 'node:worker_threads';
import type { CheckpointOptions, HonestRun } from '../dispute/game/honest-view.ts';
import type { Program } from '../machine/program.ts';
import type { Tape } from '../machine/tape.ts';

export type HonestRunRequest = {
  readonly program: Program;
  readonly image: readonly bigint[];
  readonly inputs: readonly bigint[];
  readonly options: CheckpointOptions;
};

export type HonestRunResponse = { ok: true; run: HonestRun } | { ok: false; name: string; message: string };

/** Runs the first run somewhere and answers with it (claim-games.ts takes any; production, a thread). */
export type HonestRunner = (program: Program, tape: Tape, options: CheckpointOptions) => Promise<HonestRun>;

/** A run the worker refused or failed (a program that faults, a step limit): the worker's own error. */
export class HonestRunError extends Error {
  override name = 'HonestRunError';
}

const WORKER_URL = new URL('./honest-run-worker.mjs', import.meta.url);

export const runHonestOnThread: HonestRunner = (program, tape, options) =>
  new Promise<HonestRun>((resolve, reject) => {
    const worker = new Worker(WORKER_URL);
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
      void worker.terminate();
    };
    worker.on('message', (m: HonestRunResponse) =>
      settle(() =>
        m.ok
          ? resolve(m.run)
          : reject(new HonestRunError(`${m.name}: ${m.message} (the honest run's thread)`)),
      ),
    );
    worker.on('error', (err) =>
      settle(() => reject(new HonestRunError(`the honest run's thread failed: ${err.message}`))),
    );
    worker.on('exit', (code) =>
      settle(() => reject(new HonestRunError(`the honest run's thread exited with code ${code}`))),
    );
    const request: HonestRunRequest = { program, image: tape.image, inputs: tape.inputs, options };
    worker.postMessage(request);
  });
