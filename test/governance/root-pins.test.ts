/**
 * Roots of fixed seeded workloads, pinned as computed before the re-execution speed-ups: a performance
 * change that alters a single leaf byte, leaf order or tree shape breaks these. The trace digest is the
 * SHA-256 of the root after every step, so it also pins every intermediate root.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import { executorByName, leafIds, REFERENCE_EXECUTOR, reexecute } from '../../src/governance/index.ts';
import { generateOneEpochWorkload, generateWorkload, type Workload } from '../../src/governance/workload.ts';

function traced(w: Workload, executorName = 'reference') {
  const executor = executorName === 'reference' ? REFERENCE_EXECUTOR : executorByName(executorName);
  const r = reexecute(w.inputs, { genesis: w.genesis, trace: true, executor });
  const digest = createHash('sha256');
  for (const step of r.trace ?? []) digest.update(step.root);
  return { root: bytesToHex(r.root), trace: digest.digest('hex'), epochs: r.epochs.length };
}

describe('pinned state roots', () => {
  it.each([
    {
      seed: 1,
      root: '04597307667005ff6d2a3e55701ecc8b3ee44822367862f58f58dec499f4ebb8',
      trace: 'b3626e09656cce931b6e9d280187b1bff0b3a05c3d045e60fa9e41cfd8fb2293',
      epochs: 9,
    },
    {
      seed: 7,
      root: '9ae4223665baaf4b68bde7dab507e0f10a2507a71b5405148987416a54412c07',
      trace: 'a28fcb57f50940e4e3146de83e0024e3b0466bdf9bd8946195442c3610c68f83',
      epochs: 9,
    },
    {
      seed: 42,
      root: '17adc2b74ea622171cc0a2e334b7c33c7ba2c07d8183ea5de540d5b938ffa432',
      trace: '63b06ccf019d578bac90b89ef0b3f03234fe252a6b22e9d99b21e6fe6c63b99b',
      epochs: 8,
    },
  ])('seed $seed, 400 inputs: final root and every step root', ({ seed, ...expected }) => {
    expect(traced(generateWorkload({ seed, inputs: 400 }))).toEqual(expected);
  });

  it('the bench-shaped epoch (5000 inputs, 2000 delegators) keeps its root', () => {
    const w = generateOneEpochWorkload(5_000);
    expect(bytesToHex(reexecute(w.inputs, { genesis: w.genesis }).root)).toBe(
      'e14b87b31c305163d219198075cf9c9520c277355ada60869203435272b1581c',
    );
  });

  // Faulty executors share the leaf code; one per kind of divergence (votes, bounds, set, rewards, unstake).
  it.each([
    {
      fault: 'delegator-override-ignored',
      root: 'baff78d7b7474b5f033500d2a29c3079e8155965677830c6b3a30d6034e1a246',
      trace: '29a5d4bf8e650fcc91f2a82ae03d572687218e7713be3085fbb26233ae241585',
    },
    {
      fault: 'out-of-bounds-applied',
      root: 'dc84c59ae42654a6541c74626b422295292970395acf499283863bbb3d9e7bb3',
      trace: 'bca94ee4aacaf3c5359912bc28d4db71d5f7edab74e537266ccf9bac9fe29cf7',
    },
    {
      fault: 'power-cap-not-applied',
      root: '206ba03063193749fbd0a7a918edd5f179cb24ea1eed2cd4ec4b8d5849a9b3a1',
      trace: '4ee164f18bde6fb06594e6dacc8200e7628dd53e79145522eacfa348f44a99f0',
    },
    {
      fault: 'commission-not-taken',
      root: 'a66f7e6ee90b919f148d6002353d6a33e28735995d3b75d45ca9f194bff10ab1',
      trace: 'a04f5aeb94c2ae0956cc9065621840be8d76353dbfe929c211bb531ba5974e6e',
    },
    {
      fault: 'rewards-rounded-up',
      root: '3bda3a9272b866fcf1b72e691b403d185112e02ce68044dccfc7f085dd6b2373',
      trace: 'cdfa882fa333f3749b62535f18a34dac466efa16bd5d7b87e41aed65e7df0250',
    },
    {
      fault: 'unstake-keeps-power',
      root: 'c539e57cf8d6849b0daa9dd1c2176adb4764661abb6c07e52f4adea5ed2ff4a3',
      trace: '57c7a65a41835aa97426aa322e97d94a7f8e50b27d6eac6604dab1705de16142',
    },
  ])('seed 3 under $fault keeps its roots', ({ fault, root, trace }) => {
    const r = traced(generateWorkload({ seed: 3, inputs: 300 }), fault);
    expect({ root: r.root, trace: r.trace }).toEqual({ root, trace });
  });

  it('checkpoint leaves are found under their documented ids (the executor builds them from cached parts)', () => {
    const w = generateWorkload({ seed: 11, inputs: 300 });
    const { state } = reexecute(w.inputs, { genesis: w.genesis });
    let found = 0;
    for (const v of state.validators.values()) {
      for (const [kind, history] of [
        [0, v.selfHistory],
        [1, v.delegatedHistory],
      ] as const) {
        for (const block of history.blocks) {
          expect(state.leaves.leaf(leafIds.checkpoint(kind, v.address, block))).toBeDefined();
          found++;
        }
      }
    }
    for (const d of state.delegations.values()) {
      for (const block of d.history.blocks) {
        expect(state.leaves.leaf(leafIds.checkpoint(2, d.delegator, block))).toBeDefined();
        found++;
      }
    }
    expect(found).toBeGreaterThan(50);
  });
});
