/**
 * Prints, one per line, the state root of the workload for each seed given on the command line. Run in a
 * separate process by properties.test.ts to show that roots do not depend on the process that computes
 * them (map iteration order, hash state, module caches).
 */
import { bytesToHex } from '../../src/core/bytes.ts';
import { reexecute } from '../../src/governance/index.ts';
import { generateWorkload } from '../../src/governance/workload.ts';

for (const arg of process.argv.slice(2)) {
  const w = generateWorkload({ seed: Number(arg), inputs: Number(process.env.VIGIL_WORKLOAD_INPUTS ?? 200) });
  process.stdout.write(`${bytesToHex(reexecute(w.inputs, { genesis: w.genesis }).root)}\n`);
}
