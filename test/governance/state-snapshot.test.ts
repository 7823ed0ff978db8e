import { describe, expect, it } from 'vitest';
import { bytesToHex, utf8 } from '../../src/core/bytes.ts';
import {
  computeStateRoot,
  createGenesisState,
  type GovernanceInput,
  type GovernanceState,
  reexecute,
} from '../../src/governance/index.ts';
import {
  cloneState,
  decodeStateSnapshot,
  encodeStateSnapshot,
  StateSnapshotError,
  sameState,
} from '../../src/governance/state-snapshot.ts';
import { generateWorkload } from '../../src/governance/workload.ts';

function stateAfter(
  w: { genesis: Parameters<typeof createGenesisState>[0] },
  inputs: readonly GovernanceInput[],
) {
  const state = createGenesisState(w.genesis);
  if (inputs.length > 0) reexecute(inputs, { state });
  return state;
}

/** Runs `rest` on both states and expects the same root after every input and the same state at the end. */
function expectSameFuture(a: GovernanceState, b: GovernanceState, rest: readonly GovernanceInput[]): void {
  const ra = reexecute(rest, { state: a, trace: true });
  const rb = reexecute(rest, { state: b, trace: true });
  expect(rb.trace?.length).toBe(rest.length);
  const rootsA = (ra.trace ?? []).map((s) => bytesToHex(s.root));
  const rootsB = (rb.trace ?? []).map((s) => bytesToHex(s.root));
  expect(rootsB).toEqual(rootsA);
  expect(bytesToHex(rb.root)).toBe(bytesToHex(ra.root));
  expect(bytesToHex(b.leaves.image())).toBe(bytesToHex(a.leaves.image()));
  expect(sameState(a, b)).toBe(true);
}

describe('governance state snapshot', () => {
  it('genesis round-trips, and runs a whole workload as the original does', () => {
    const w = generateWorkload({ seed: 5, inputs: 400, rejected: 0.1 });
    const a = createGenesisState(w.genesis);
    const b = decodeStateSnapshot(encodeStateSnapshot(a));
    expect(bytesToHex(computeStateRoot(b))).toBe(bytesToHex(computeStateRoot(a)));
    expectSameFuture(a, b, w.inputs);
  });

  for (const seed of [1, 2, 3, 4, 7, 11]) {
    it(`seed ${seed}: a state decoded at every epoch end runs the rest of the workload as the original`, () => {
      const w = generateWorkload({ seed, inputs: 600, epochLength: 25, rejected: 0.05 });
      const ends = w.inputs.flatMap((x, i) => (x.kind === 'endEpoch' ? [i + 1] : []));
      expect(ends.length).toBeGreaterThan(10);
      // Every end for the first few, then a sample: each cut re-executes the whole tail twice.
      const cuts = [
        ...ends.slice(0, 6),
        ...ends.filter((_, k) => k % 5 === 0),
        Math.floor(w.inputs.length / 2) + 1,
      ];
      for (const cut of new Set(cuts)) {
        const original = stateAfter(w, w.inputs.slice(0, cut));
        const decoded = decodeStateSnapshot(encodeStateSnapshot(original));
        expect(bytesToHex(computeStateRoot(decoded))).toBe(bytesToHex(computeStateRoot(original)));
        expect(sameState(original, decoded)).toBe(true);
        expectSameFuture(original, decoded, w.inputs.slice(cut));
      }
    });
  }

  it('a clone (the tree copied, not rehashed) runs the rest of a workload as the original', () => {
    for (const seed of [3, 4]) {
      const w = generateWorkload({ seed, inputs: 500, epochLength: 25, rejected: 0.05 });
      const original = stateAfter(w, w.inputs.slice(0, 240));
      const clone = cloneState(original);
      expect(bytesToHex(computeStateRoot(clone))).toBe(bytesToHex(computeStateRoot(original)));
      expectSameFuture(original, clone, w.inputs.slice(240));
    }
  });

  it('a clone is independent: running one leaves the other as it was', () => {
    const w = generateWorkload({ seed: 9, inputs: 300 });
    const a = stateAfter(w, w.inputs.slice(0, 150));
    const before = encodeStateSnapshot(a);
    const b = cloneState(a);
    reexecute(w.inputs.slice(150), { state: b });
    expect(bytesToHex(encodeStateSnapshot(a))).toBe(bytesToHex(before));
    expect(bytesToHex(computeStateRoot(b))).not.toBe(bytesToHex(computeStateRoot(a)));
  });

  it('a clone made in a spare copy (its tree buffers reused) runs as the original, whatever the spare held', () => {
    const w = generateWorkload({ seed: 5, inputs: 600, epochLength: 25, rejected: 0.05 });
    // Spares of the same size, of a smaller tree and of a larger one: each ends as a copy of the original.
    for (const spareAt of [300, 40, 600]) {
      const original = stateAfter(w, w.inputs.slice(0, 300));
      const spare = stateAfter(w, w.inputs.slice(0, spareAt));
      const copy = cloneState(original, spare);
      expect(bytesToHex(computeStateRoot(copy))).toBe(bytesToHex(computeStateRoot(original)));
      expect(sameState(original, copy)).toBe(true);
      expectSameFuture(original, copy, w.inputs.slice(300));
    }
    // Copied again into the copy it made before, after that copy ran on: the runs never touch the original.
    const original = stateAfter(w, w.inputs.slice(0, 300));
    const before = encodeStateSnapshot(original);
    let spare = cloneState(original);
    for (let i = 0; i < 3; i++) {
      reexecute(w.inputs.slice(300, 400 + i * 50), { state: spare });
      spare = cloneState(original, spare);
      expect(bytesToHex(computeStateRoot(spare))).toBe(bytesToHex(computeStateRoot(original)));
    }
    expect(bytesToHex(encodeStateSnapshot(original))).toBe(bytesToHex(before));
    expect(() => cloneState(original, original)).toThrow(/into itself/);
  });

  it('a snapshot of a snapshot is the same bytes', () => {
    const w = generateWorkload({ seed: 13, inputs: 500 });
    const a = stateAfter(w, w.inputs);
    const bytes = encodeStateSnapshot(a);
    expect(bytesToHex(encodeStateSnapshot(decodeStateSnapshot(bytes)))).toBe(bytesToHex(bytes));
  });

  describe('refuses what is not a snapshot of the state it names', () => {
    const w = generateWorkload({ seed: 21, inputs: 300 });
    const good = JSON.parse(new TextDecoder().decode(encodeStateSnapshot(stateAfter(w, w.inputs)))) as {
      version: number;
      root: string;
      validators: { selfHistory: { values: string[] } }[];
      leaves: { entries: [string, number, string][]; series: [number, string, number[]][] };
    };
    const refuse = (mutate: (j: typeof good) => void, message: RegExp): void => {
      const j = structuredClone(good);
      mutate(j);
      expect(() => decodeStateSnapshot(utf8(JSON.stringify(j)))).toThrow(StateSnapshotError);
      expect(() => decodeStateSnapshot(utf8(JSON.stringify(j)))).toThrow(message);
    };

    it('not JSON, not UTF-8, another version', () => {
      expect(() => decodeStateSnapshot(utf8('{"version":1'))).toThrow(/Not a governance state snapshot/);
      expect(() => decodeStateSnapshot(new Uint8Array([0xff, 0xfe]))).toThrow(StateSnapshotError);
      refuse((j) => {
        j.version = 2;
      }, /version 2, not 1/);
    });

    it('a leaf whose bytes were changed', () => {
      refuse((j) => {
        const e = j.leaves.entries.find(([id]) => id.startsWith('04')) as [string, number, string];
        e[2] = `${e[2].slice(0, -2)}${e[2].endsWith('00') ? '01' : '00'}`;
      }, /decodes to/);
    });

    it('a checkpoint history whose value was changed', () => {
      refuse((j) => {
        const h = (j.validators[0] as { selfHistory: { values: string[] } }).selfHistory;
        h.values[0] = String(BigInt(h.values[0] as string) + 1n);
      }, /decodes to/);
    });

    it('two leaves at one index, a missing index, and a series longer than its history', () => {
      refuse((j) => {
        const [a, b] = j.leaves.entries as [[string, number, string], [string, number, string]];
        b[1] = a[1];
      }, /repeated/);
      refuse((j) => {
        j.leaves.entries.pop();
      }, /missing|repeated|beyond/);
      refuse((j) => {
        (j.leaves.series[0] as [number, string, number[]])[2].push(10_000_000);
      }, /history/);
    });

    it('a root that is not the state root', () => {
      refuse((j) => {
        j.root = '00'.repeat(32);
      }, /names root/);
    });
  });
});
