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
      root: '87942531a259a733311844c11c6a69cc79a73dc2c02e9aaff7f029185e370f52',
      trace: '4c8f394e8083e54778a65efab760d7b17d8e8816609235c26b48cf93ef58b483',
      epochs: 8,
    },
    {
      seed: 7,
      root: '537f6089d14ebad56bb31cf7fc7d793ad74698c673995d8ff70b629d7c7ee9d5',
      trace: 'da07fca0788d83bd10ec0f7f0bcd787fbf429561313ad4db03da8405a953b695',
      epochs: 9,
    },
    {
      seed: 42,
      root: '4f2ccea77ef06cb957ecd7f1c38baf433ef10d3efefe00a48299f988eff48f78',
      trace: '47e259a58ee2e45f66ddff32ecc8da96950a956c9c009de8ea5ea44804739da7',
      epochs: 9,
    },
  ])('seed $seed, 400 inputs: final root and every step root', ({ seed, ...expected }) => {
    expect(traced(generateWorkload({ seed, inputs: 400 }))).toEqual(expected);
  });

  it('the bench-shaped epoch (5000 inputs, 2000 delegators) keeps its root', () => {
    const w = generateOneEpochWorkload(5_000);
    expect(bytesToHex(reexecute(w.inputs, { genesis: w.genesis }).root)).toBe(
      '7bca702f193a0f576bf3cdb2acd2012a79bcf70b3b884915e3b83ae81686a870',
    );
  });

  // Faulty executors share the leaf code; one per kind of divergence (votes, bounds, set, rewards, unstake).
  it.each([
    {
      fault: 'delegator-override-ignored',
      root: '2783135ca21404d1959b732ac0387d9cdd8a123ab649792bef2ae53983d9a081',
      trace: '51f80174046e3075301998e3fe528f0d9051bc16f62338da65f8e3d10302414f',
    },
    {
      fault: 'out-of-bounds-applied',
      root: 'c3e9f57c06fecc335a5b00bd88ab1330479a9a31ca42289da2ee7be0ad673a11',
      trace: '880801c2c1372e66c91ae85e539c3ef14ff39039e558962d4f0947bde3d81522',
    },
    {
      fault: 'power-cap-not-applied',
      root: '37517fc635f346232458a0ffdbf7b1c3878ef3d897ace7ff10118f75d2ec590a',
      trace: '30d388f0a2a80f4a4fd0c5f024b013250149438d7261abb3ac014e6609f80c6c',
    },
    {
      fault: 'commission-not-taken',
      root: '086fa5e4ad04f7fc4480eef72ddef5c4e1f13550213471c5efad111ce944d06d',
      trace: '75b60ab967bc5c0a681fe9cabb1319c03f057a54a79cfb930b16fea05b67d3e0',
    },
    {
      fault: 'rewards-rounded-up',
      root: '8b2975d711853b0823119401c23ffcb7d53d89cc64461003763ebf51338d483f',
      trace: 'ca70327bbcd4e80935eb895320667ab9f4c7285e52c5a7b318f116c25cd5db03',
    },
    {
      fault: 'unstake-keeps-power',
      root: '2c72690cb4a98e9dc18505b3b03b2edf9823c88b099402d35cb2abed17d77b88',
      trace: '2e3c4bff036340e28cc1642e2493c1f04855c2f5bd21624f9d8aac2d4f637161',
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
