/**
 * The derivation's recorded traces (`keepStepRoots`), which the watcher judges from, are exactly the
 * traces a separate re-execution of each epoch from the state before it walks through: refused inputs
 * are steps, inputs the chain overruled are not, and a derivation restarted from a pruned base records
 * what one that was never pruned does.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import {
  applyInput,
  computeStateRoot,
  createGenesisState,
  type GovernanceInput,
  reexecute,
} from '../../src/governance/index.ts';
import { generateWorkload } from '../../src/governance/workload.ts';
import type { JournalBlock } from '../../src/l2/cursor-store.ts';
import type { L2Entry } from '../../src/l2/decode.ts';
import { type EpochEnd, GovernanceDerivation } from '../../src/l2/derivation.ts';

const hex = (roots: readonly Uint8Array[]) => roots.map(bytesToHex);

const w = generateWorkload({ seed: 44, inputs: 400, epochLength: 12, rejected: 0.15 });

/**
 * The workload as L2 blocks of three entries. Refused inputs arrive as reverted transactions, but one in
 * four as accepted ones (the chain taking what the model refuses: rejected by the derivation).
 */
function blocksOf(
  inputs: readonly GovernanceInput[],
  overrule: ReadonlySet<number>,
): JournalBlock<L2Entry>[] {
  const probe = createGenesisState(w.genesis);
  let refused = 0;
  const entries: L2Entry[] = inputs.map((input, i) => {
    const accepted = overrule.has(i) ? false : applyInput(probe, input).accepted;
    return accepted || (!overrule.has(i) && refused++ % 4 === 3)
      ? { type: 'input', input }
      : { type: 'reverted', input, txHash: `0x${i.toString(16).padStart(64, '0')}` };
  });
  const blocks: JournalBlock<L2Entry>[] = [];
  for (let i = 0; i < entries.length; i += 3) {
    const number = BigInt(blocks.length + 1);
    blocks.push({
      number,
      hash: `0x${number.toString(16).padStart(64, '0')}`,
      entries: entries.slice(i, i + 3),
    });
  }
  return blocks;
}

/** What a re-execution of `end`'s epoch walks through, the overruled inputs left out of the feed. */
function expectedSteps(end: EpochEnd, overruled: ReadonlySet<number>) {
  const keep = (from: number, to: number) =>
    w.inputs.slice(from, to).filter((_, i) => !overruled.has(from + i));
  const state = createGenesisState(w.genesis);
  reexecute(keep(0, end.firstInput), { state });
  const preRoot = bytesToHex(computeStateRoot(state));
  const r = reexecute(keep(end.firstInput, end.lastInput + 1), { state, trace: true });
  return { preRoot, roots: hex((r.trace ?? []).map((s) => s.root)) };
}

function derive(blocks: readonly JournalBlock<L2Entry>[], keep = true): GovernanceDerivation {
  const d = new GovernanceDerivation(w.genesis, undefined, keep);
  for (const b of blocks) d.applyBlock(b);
  return d;
}

describe('the derivation records each epoch trace', () => {
  it('as a re-execution from the state before the epoch walks through it, refused inputs included', () => {
    const blocks = blocksOf(w.inputs, new Set());
    const d = derive(blocks);
    expect(d.epochEnds.length).toBeGreaterThan(20);
    expect(blocks.flatMap((b) => b.entries).filter((e) => e.type === 'reverted').length).toBeGreaterThan(10);
    expect(d.rejected.length).toBeGreaterThan(3);
    for (const end of d.epochEnds) {
      const steps = d.stepsOf(end);
      expect(steps).toBeDefined();
      if (!steps) continue;
      expect({ preRoot: bytesToHex(steps.preRoot), roots: hex(steps.roots) }).toEqual(
        expectedSteps(end, new Set()),
      );
      expect(steps.roots).toHaveLength(end.lastInput - end.firstInput + 1);
      expect(`0x${bytesToHex(steps.roots.at(-1) as Uint8Array)}`).toBe(end.root);
    }
  });

  it('leaves out an input the chain overruled, mid-epoch, and keeps the steps before it', () => {
    // A stake the reference accepts, reverted on the chain: the derivation rebuilds without it.
    const plain = derive(blocksOf(w.inputs, new Set()));
    const end = plain.epochEnds[6] as EpochEnd;
    let at = -1;
    for (let i = end.firstInput + 1; i < end.lastInput && at < 0; i++) {
      if (w.inputs[i]?.kind === 'stake' && !plain.rejected.some((r) => r.input === w.inputs[i])) at = i;
    }
    expect(at).toBeGreaterThan(0);
    const overruled = new Set([at]);
    const d = derive(blocksOf(w.inputs, overruled));
    expect(d.revertedAccepted).toHaveLength(1);
    expect(d.overruledInputs).toEqual(overruled);
    for (const e of d.epochEnds) {
      const steps = d.stepsOf(e);
      if (!steps) throw new Error(`no steps for epoch ${e.epoch}`);
      expect({ preRoot: bytesToHex(steps.preRoot), roots: hex(steps.roots) }).toEqual(
        expectedSteps(e, overruled),
      );
    }
    const overruledEnd = d.epochEnds.find((e) => e.firstInput <= at && at <= e.lastInput) as EpochEnd;
    expect(d.stepsOf(overruledEnd)?.roots).toHaveLength(overruledEnd.lastInput - overruledEnd.firstInput);
  });

  it('after a restart from a pruned base, records what a derivation never pruned does', () => {
    const blocks = blocksOf(w.inputs, new Set());
    const whole = derive(blocks);
    const at = whole.epochEnds[10] as EpochEnd;
    const base = whole.baseAt(at.epoch);
    const restarted = new GovernanceDerivation(w.genesis, undefined, true);
    restarted.reset(base);
    for (const b of blocks) {
      if (b.number < base.block) continue;
      restarted.applyBlock(b, b.number === base.block ? base.entries : 0);
    }
    const later = whole.epochEnds.filter((e) => e.epoch > at.epoch);
    expect(restarted.epochEnds.map((e) => e.root)).toEqual(later.map((e) => e.root));
    restarted.epochEnds.forEach((e, i) => {
      const mine = restarted.stepsOf(e);
      const theirs = whole.stepsOf(later[i] as EpochEnd);
      expect(mine && hex([mine.preRoot, ...mine.roots])).toEqual(
        theirs && hex([theirs.preRoot, ...theirs.roots]),
      );
    });
    // The state rebuilt from the held (deflated) base is the base's.
    expect(`0x${bytesToHex(computeStateRoot(restarted.startingState()))}`).toBe(at.root);
  });

  it('records nothing unless asked to', () => {
    const d = derive(blocksOf(w.inputs, new Set()), false);
    expect(d.epochEnds.length).toBeGreaterThan(20);
    expect(d.epochEnds.map((e) => d.stepsOf(e))).toEqual(d.epochEnds.map(() => undefined));
  });
});
