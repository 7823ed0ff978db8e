/** Entry of the re-execution worker thread (see reexecute-thread.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { executorByName } from '../governance/faults.ts';
import { reexecute } from '../governance/reexecute.ts';
import type { ReexecutionReply, ReexecutionRequest } from './reexecute-thread.ts';

const request = workerData as ReexecutionRequest;
const r = reexecute(request.inputs, {
  genesis: request.genesis,
  executor: request.executor === undefined ? undefined : executorByName(request.executor),
  trace: request.trace === true,
});
const reply: ReexecutionReply = {
  root: r.root,
  epochs: r.epochs,
  stepRoots: r.trace?.map((s) => s.root),
  accepted: r.accepted,
  rejected: r.rejected,
};
parentPort?.postMessage(reply);
