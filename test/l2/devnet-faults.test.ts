/**
 * Every fault of the catalogue makes the devnet operator commit a wrong root, at exactly the epoch where
 * the model says the fault first changes a root. For each fault the seed is searched here (re-executing
 * the devnet's workload with the reference and the faulty executor), never taken from a table. The
 * precondition faults only bite through reverted transactions, which the feed now carries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import { executorByName, FAULTS, reexecute } from '../../src/governance/index.ts';
import type { Workload } from '../../src/governance/workload.ts';
import { devnetWorkload, startL2Devnet } from '../../src/l2/devnet.ts';
import { createGovernanceIngester } from '../../src/l2/governance-ingester.ts';
import { L2Rpc } from '../../src/l2/rpc.ts';
import { inputBody } from './differential-run.ts';
import { testRedis } from './helpers.ts';

const EPOCHS = 2;
const MAX_SEED = 200;

type Target = { seed: number; epoch: bigint | undefined };

/** Epoch roots of a re-execution, 0x-hex, with the epoch each ends. */
function epochRoots(w: Workload, fault: string): { epoch: bigint; root: string }[] {
  return reexecute(w.inputs, {
    genesis: w.genesis,
    executor: executorByName(fault === 'none' ? 'reference' : fault),
  }).epochs.map((e) => ({ epoch: e.epoch, root: `0x${bytesToHex(e.root)}` }));
}

function firstDivergent(w: Workload, fault: string): bigint | undefined {
  const ref = epochRoots(w, 'none');
  const bad = epochRoots(w, fault);
  return ref.find((e, i) => bad[i]?.root !== e.root)?.epoch;
}

/** The first seed whose workload makes `fault` change an epoch root, and that epoch. */
function target(fault: string): Target {
  if (fault === 'none') return { seed: 1, epoch: undefined };
  for (let seed = 1; seed <= MAX_SEED; seed++) {
    const epoch = firstDivergent(devnetWorkload({ seed, epochs: EPOCHS }), fault);
    if (epoch !== undefined) return { seed, epoch };
  }
  throw new Error(`${fault} changes no epoch root on the devnet workloads of seeds 1..${MAX_SEED}`);
}

describe('devnet operator with each fault of the catalogue', () => {
  let r: ReturnType<typeof testRedis>;
  beforeAll(() => {
    r = testRedis();
  });
  afterAll(async () => {
    await r?.cleanup();
  });

  it.each(['none', ...FAULTS.map((f) => f.name)])('%s', async (fault) => {
    const t = target(fault);
    const devnet = await startL2Devnet({ redis: r.redis, seed: t.seed, epochs: EPOCHS, fault });
    try {
      const run = await devnet.run();
      expect(run.epochs.length).toBe(EPOCHS);
      // The feed as the chain holds it (chain positions, reverted transactions included).
      const feed = createGovernanceIngester({
        rpc: new L2Rpc({ urls: [devnet.rpcUrl] }),
        redis: r.redis,
        prefix: `${r.prefix}:feed-${fault}`,
        deployment: devnet.deployment,
        crossCheck: false,
      });
      await feed.ingester.syncTo(await new L2Rpc({ urls: [devnet.rpcUrl] }).blockNumber());
      const w: Workload = { genesis: devnet.deployment.genesis, inputs: feed.derivation.inputs };
      expect(w.inputs.map(inputBody)).toEqual(
        devnetWorkload({ seed: t.seed, epochs: EPOCHS }).inputs.map(inputBody),
      );
      // Vigil's reference ingestion agrees with the model and with the contracts, reverts included…
      expect(run.epochs.map((e) => e.referenceRoot)).toEqual(epochRoots(w, 'none').map((e) => e.root));
      expect(run.executionFaults).toEqual([]);
      // …and the operator committed exactly what its executor computes from the feed, reverts included.
      expect(run.epochs.map((e) => e.committedRoot)).toEqual(epochRoots(w, fault).map((e) => e.root));
      const firstWrong = run.epochs.find((e) => !e.agrees)?.epoch;
      expect(firstWrong).toBe(t.epoch);
      expect(firstDivergent(w, fault)).toBe(t.epoch);
    } finally {
      await devnet.stop();
    }
  });
});
