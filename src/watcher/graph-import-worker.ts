/**
 * A graph import worker thread (graph-import-pool.ts starts it through graph-import-worker.mjs): imports
 * each job it is sent, one at a time, and answers with the reply under the job's id.
 */
import { parentPort } from 'node:worker_threads';
import { STEP_CIRCUITS } from '../../circuits/index.ts';
import { type GraphImportReply, runGraphImportJob } from '../dispute/graph/import-job.ts';
import type { GraphImportRequest, GraphImportResponse } from './graph-import-pool.ts';

const port = parentPort;
if (port === null) throw new Error('graph-import-worker.ts runs as a worker thread only');

port.on('message', (m: GraphImportRequest) => {
  const circuit = STEP_CIRCUITS.find((c) => c.id === m.job.circuitId);
  const reply: GraphImportReply = circuit
    ? runGraphImportJob(m.job, circuit)
    : { kind: 'failed', message: `no step circuit ${m.job.circuitId} in this build` };
  const response: GraphImportResponse = { id: m.id, reply };
  port.postMessage(response);
});
