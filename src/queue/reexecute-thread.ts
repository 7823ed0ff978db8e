/**
 * Re-execution off the event loop. Judging an epoch replays every governance input through the
 * reference model, which can take seconds on a backlog; on the main thread that would starve BullMQ's
 * lock renewals and the follower's polls. A worker thread runs it; its entry loads tsx first, because
 * Vigil runs from its TypeScript sources.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { VigilError } from '../core/errors.ts';
import type { GovernanceInput } from '../governance/inputs.ts';
import type { GenesisOptions } from '../governance/state.ts';

export type ReexecutionRequest = {
  inputs: readonly GovernanceInput[];
  genesis?: GenesisOptions;
  /** A fault-catalogue executor name (tests and the devnet's operator); the reference by default. */
  executor?: string;
  trace?: boolean;
};

export type ReexecutionReply = {
  root: Uint8Array;
  epochs: { epoch: bigint; stepIndex: number; root: Uint8Array }[];
  /** Root after each step, when a trace was requested. */
  stepRoots: Uint8Array[] | undefined;
  accepted: number;
  rejected: number;
};

export class ReexecutionThreadError extends VigilError {
  override name = 'ReexecutionThreadError';
}

const requireHere = createRequire(import.meta.url);
// createRequire gives the CommonJS build; the thread needs the ESM one next to it.
const TSX_API = pathToFileURL(requireHere.resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
const ENTRY = new URL('./reexecute-entry.ts', import.meta.url).href;
const BOOT = `import(${JSON.stringify(TSX_API)}).then((m) => { m.register(); return import(${JSON.stringify(ENTRY)}); });`;

/** Runs one re-execution in a fresh worker thread and resolves with its roots. */
export function reexecuteInThread(request: ReexecutionRequest): Promise<ReexecutionReply> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(BOOT, { eval: true, workerData: request });
    let settled = false;
    worker.once('message', (reply: ReexecutionReply) => {
      settled = true;
      resolve(reply);
      void worker.terminate();
    });
    worker.once('error', (err) => {
      settled = true;
      reject(new ReexecutionThreadError('Re-execution failed in its worker thread', { cause: err }));
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new ReexecutionThreadError(`The re-execution thread exited with code ${code}`));
    });
  });
}
