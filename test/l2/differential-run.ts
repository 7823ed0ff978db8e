/** One differential run: generate, replay on a fresh anvil, ingest with cross-checks, compare. */
import type { GovernanceInput } from '../../src/governance/inputs.ts';
import { generateWorkload, type WorkloadOptions } from '../../src/governance/workload.ts';
import { createGovernanceIngester } from '../../src/l2/governance-ingester.ts';
import { RollupSequencer } from '../../src/l2/rollup-sequencer.ts';
import { L2Rpc } from '../../src/l2/rpc.ts';
import { startChain, testRedis } from './helpers.ts';

export type DifferentialResult = {
  inputs: number;
  epochsChecked: number;
  checksOk: number;
  reverted: string[];
  faults: string[];
  decodedMatchesWorkload: boolean;
  firstMismatch: string | undefined;
  blocks: bigint;
};

/** The input without its position: what must survive the trip through the chain unchanged. */
export function inputBody(i: GovernanceInput): string {
  const { position: _p, ...rest } = i;
  return JSON.stringify(rest, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

export async function runDifferential(
  options: WorkloadOptions,
  run: { checkReceipts?: boolean } = {},
): Promise<DifferentialResult> {
  const w = generateWorkload(options);
  const chain = await startChain(w.genesis);
  const { redis, prefix, cleanup } = testRedis();
  try {
    // Blocks obey the rollup parameters in force, as the devnet's do.
    const sequencer = new RollupSequencer(chain.rpc, chain.deployment.addresses.registry);
    await sequencer.start();
    const replay = await chain.driver.replay(w.inputs, {
      checkReceipts: run.checkReceipts ?? false,
      sequencer,
    });
    const rpc = new L2Rpc({ urls: [chain.anvil.rpcUrl] });
    const gi = createGovernanceIngester({ rpc, redis, prefix, deployment: chain.deployment, maxRange: 500n });
    await gi.ingester.syncTo(replay.lastBlock);
    const decoded = gi.derivation.inputs;
    let firstMismatch: string | undefined;
    const n = Math.max(decoded.length, w.inputs.length);
    for (let k = 0; k < n && firstMismatch === undefined; k++) {
      const a = w.inputs[k];
      const b = decoded[k];
      if (
        !a ||
        !b ||
        inputBody(a) !== inputBody(b) ||
        a.position.block + replay.offset !== b.position.block
      ) {
        firstMismatch = `input ${k}: workload ${a ? inputBody(a) : '-'} vs decoded ${b ? inputBody(b) : '-'}`;
      }
    }
    return {
      inputs: w.inputs.length,
      epochsChecked: gi.checks.length,
      checksOk: gi.checks.filter((c) => c.ok).length,
      reverted: replay.reverted.map((r) => `${r.input.kind} at workload block ${r.input.position.block}`),
      faults: gi.faults.map((f) =>
        f.kind === 'state-mismatch'
          ? f.differences.join('; ')
          : f.kind === 'rejected-input'
            ? `${f.inputKind}: ${f.reason}`
            : f.kind === 'rollup-param-violated'
              ? `block ${f.block}: ${f.param} voted ${f.voted}, header ${f.observed}`
              : `${f.inputKind}: reverted on chain, accepted by the model (${f.txHash})`,
      ),
      decodedMatchesWorkload: firstMismatch === undefined,
      firstMismatch,
      blocks: replay.lastBlock,
    };
  } finally {
    await cleanup();
    await chain.stop();
  }
}
