/**
 * The honest run's worker thread (honest-run-thread.ts starts it through honest-run-worker.mjs): one run,
 * one answer. The tape is rebuilt from its recipe (a re-execution since the L2 journal's base) or taken
 * from the levels sent, and a rebuilt one goes back as its levels, transferred.
 */
import { type MessagePort, parentPort } from 'node:worker_threads';
import { runHonest } from '../dispute/game/honest-view.ts';
import type { GovernanceInput } from '../governance/index.ts';
import { Tape } from '../machine/tape.ts';
import type { HonestRunRequest, HonestRunResponse, PriorChunk } from './honest-run-thread.ts';

if (parentPort === null) throw new Error('honest-run-worker.ts runs as a worker thread only');
const port: MessagePort = parentPort;

/** The request, and for a recipe its history from the chunks that follow it. */
function receive(): Promise<HonestRunRequest> {
  return new Promise((resolve) => {
    let request: HonestRunRequest | undefined;
    const prior: GovernanceInput[] = [];
    const done = (r: HonestRunRequest) => {
      port.off('message', onMessage);
      resolve(r);
    };
    const onMessage = (m: HonestRunRequest | PriorChunk) => {
      if (request === undefined) request = m as HonestRunRequest;
      else for (const input of (m as PriorChunk).prior) prior.push(input);
      const source = request.source;
      if (!('recipe' in source)) done(request);
      else if (prior.length >= source.priorCount) {
        done({ ...request, source: { ...source, recipe: { ...source.recipe, prior } } });
      }
    };
    port.on('message', onMessage);
  });
}

void receive().then(async (m) => {
  let response: HonestRunResponse;
  let transfer: ArrayBuffer[] = [];
  try {
    const rebuilt = 'recipe' in m.source;
    // The model is loaded only to rebuild a tape: a tape sent along starts the run sooner.
    const tape =
      'recipe' in m.source
        ? (await import('../l2/tape-recipe.ts')).tapeOfRecipe(m.source.recipe)
        : Tape.fromParts(m.source.parts);
    const run = runHonest(m.program, tape, m.options);
    if (rebuilt) transfer = tape.transferables();
    response = { ok: true, run, tape: rebuilt ? tape.parts() : undefined };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    response = { ok: false, name: e.name, message: e.message };
  }
  port.postMessage(response, transfer);
});
