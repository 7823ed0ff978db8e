/**
 * The honest run's worker thread (honest-run-thread.ts starts it through honest-run-worker.mjs): one run,
 * one answer. The tape is rebuilt from its words (its Merkle levels do not travel).
 */
import { parentPort } from 'node:worker_threads';
import { runHonest } from '../dispute/game/honest-view.ts';
import { Tape } from '../machine/tape.ts';
import type { HonestRunRequest, HonestRunResponse } from './honest-run-thread.ts';

const port = parentPort;
if (port === null) throw new Error('honest-run-worker.ts runs as a worker thread only');

port.once('message', (m: HonestRunRequest) => {
  let response: HonestRunResponse;
  try {
    const tape = new Tape({ image: m.image, inputs: m.inputs });
    response = { ok: true, run: runHonest(m.program, tape, m.options) };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    response = { ok: false, name: e.name, message: e.message };
  }
  port.postMessage(response);
});
