/**
 * What a devnet run with a faulty sequencer must show: for each rollup parameter its chain broke, Vigil
 * reports an L2 execution fault at exactly the first block that broke it (the sequencer's own record,
 * read from the contracts and the mined headers), with the same voted and observed values; and Vigil
 * reports no header fault the chain did not commit. Every other kind of L2 execution fault is a problem
 * in any run: it means the contracts and the reference model disagree.
 */
import type { L2ExecutionFault } from '../l2/governance-ingester.ts';
import type { SequencerDeviation } from '../l2/rollup-sequencer.ts';

/** Vigil's first header fault per parameter, as the summary reports it. */
export type RollupFinding = { block: bigint; param: string; voted: bigint; observed: bigint };

export function judgeL2Faults(
  faults: readonly L2ExecutionFault[],
  deviations: readonly SequencerDeviation[],
): { findings: RollupFinding[]; problems: string[] } {
  const problems: string[] = [];
  const others = faults.filter((f) => f.kind !== 'rollup-param-violated');
  if (others.length > 0) {
    problems.push(
      `${others.length} L2 execution faults (${[...new Set(others.map((f) => f.kind))].join(', ')}): the contracts' state differs from the reference model (a bug in one of them)`,
    );
  }
  const findings: RollupFinding[] = [];
  for (const f of faults) {
    if (f.kind !== 'rollup-param-violated' || findings.some((x) => x.param === f.param)) continue;
    findings.push({ block: f.block, param: f.param, voted: f.voted, observed: f.observed });
  }
  for (const d of deviations) {
    const got = findings.find((x) => x.param === d.param);
    if (got === undefined) {
      problems.push(
        `the L2 broke ${d.param} at block ${d.block} (in force ${d.inForce}, block has ${d.observed}) and Vigil did not report it`,
      );
    } else if (got.block !== d.block || got.voted !== d.inForce || got.observed !== d.observed) {
      problems.push(
        `Vigil reported ${d.param} broken at block ${got.block} (voted ${got.voted}, observed ${got.observed}); the L2 first broke it at block ${d.block} (in force ${d.inForce}, block has ${d.observed})`,
      );
    }
  }
  for (const f of findings) {
    if (!deviations.some((d) => d.param === f.param)) {
      problems.push(
        `Vigil reported ${f.param} broken at block ${f.block} (voted ${f.voted}, observed ${f.observed}), but the L2 obeyed it`,
      );
    }
  }
  return { findings, problems };
}
