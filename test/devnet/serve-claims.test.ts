/**
 * The served operator's claims: the walk that carries the reference state from epoch to epoch gives
 * exactly the claims of the definition (re-execution from genesis) on a mixed schedule of honest and
 * faulty epochs, skipped epochs (claimed before a restart) included; the fault control's range; and the
 * served workload's epoch length.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import {
  ClaimWalk,
  executorForEpoch,
  type OperatorEpochClaim,
  operatorEpochClaim,
} from '../../src/devnet/serve-claims.ts';
import { DEFAULT_CONTROL } from '../../src/devnet/serve-dir.ts';
import { servedWorkload } from '../../src/devnet/serve-workload.ts';
import { executorByName, REFERENCE_EXECUTOR, reexecute } from '../../src/governance/index.ts';
import type { EpochEnd } from '../../src/l2/derivation.ts';
import { devnetWorkload } from '../../src/l2/devnet.ts';

const TRACE_STEPS = 3;

/** The epoch ends of a workload as the L2 derivation makes them (block hashes made up). */
function epochEnds(w: ReturnType<typeof servedWorkload>): EpochEnd[] {
  const r = reexecute(w.inputs, { genesis: w.genesis });
  let first = 0;
  return r.epochs.map((e) => {
    const end: EpochEnd = {
      epoch: e.epoch,
      block: BigInt(e.stepIndex),
      blockHash: `0x${bytesToHex(new Uint8Array(32).fill(Number(e.epoch % 256n)))}`,
      root: `0x${bytesToHex(e.root)}`,
      firstInput: first,
      lastInput: e.stepIndex,
    };
    first = e.stepIndex + 1;
    return end;
  });
}

const plain = (c: OperatorEpochClaim) => ({
  epoch: c.epoch,
  stateRoot: bytesToHex(c.stateRoot),
  referenceRoot: bytesToHex(c.referenceRoot),
  checkpoints: c.checkpoints.map(bytesToHex),
  fraud: c.fraud,
  executor: c.executor,
  challengeWindow: c.challengeWindow,
  l2BlockHash: bytesToHex(c.l2BlockHash),
});

describe('the served operator’s claims', () => {
  it('the walk claims what re-execution from genesis claims, on a mixed honest and faulty schedule', () => {
    const w = servedWorkload({ seed: 7, epochs: 60, epochLength: 6 });
    const ends = epochEnds(w);
    expect(ends).toHaveLength(60);
    // Faults in ranges, one alone, and epochs the walk never claims (claimed before a restart).
    const faultOf = (e: number): string | undefined =>
      e >= 8 && e <= 11
        ? 'quorum-not-checked'
        : e === 20 || e === 21
          ? 'commission-not-taken'
          : e === 40
            ? 'quorum-not-checked'
            : undefined;
    const skipped = new Set([30, 31, 32, 45]);
    const walk = new ClaimWalk(w.genesis, TRACE_STEPS);
    let frauds = 0;
    let honest = 0;
    for (const end of ends) {
      const e = Number(end.epoch);
      if (skipped.has(e)) continue;
      const fault = faultOf(e);
      const executor = fault === undefined ? REFERENCE_EXECUTOR : executorByName(fault);
      const walked = walk.claim(w.inputs, end, executor);
      const defined = operatorEpochClaim({
        inputs: w.inputs,
        genesis: w.genesis,
        end,
        executor,
        traceSteps: TRACE_STEPS,
      });
      expect(plain(walked), `epoch ${e}`).toEqual(plain(defined));
      if (walked.fraud) frauds++;
      else honest++;
      // An honest epoch leaves the walk at the next epoch's first input; a faulty one where it was.
      if (fault === undefined) expect(walk.position).toBe(end.lastInput + 1);
    }
    expect(frauds, 'the faults bite somewhere').toBeGreaterThan(0);
    expect(honest).toBeGreaterThan(40);
  });

  it('each claim carries the challenge window in force at its epoch’s start, the one the watcher imports its graph against', () => {
    // Seed 1 at length 6 changes the window by governance within 150 epochs (a soak saw 8 → 6).
    const w = servedWorkload({ seed: 1, epochs: 150, epochLength: 6 });
    const ends = epochEnds(w);
    const walk = new ClaimWalk(w.genesis, TRACE_STEPS);
    let changes = 0;
    let previous: number | undefined;
    for (const end of ends) {
      const start = reexecute(w.inputs.slice(0, end.firstInput), { genesis: w.genesis });
      const inForce = Number(start.state.params.challengeWindow);
      const claim = walk.claim(w.inputs, end, REFERENCE_EXECUTOR);
      expect(claim.challengeWindow, `epoch ${end.epoch}`).toBe(inForce);
      if (previous !== undefined && inForce !== previous) changes++;
      previous = inForce;
    }
    expect(changes, 'the workload changes the window at least once').toBeGreaterThan(0);
  });

  it('an epoch before the walk’s position starts it again from genesis, with the same claim', () => {
    const w = servedWorkload({ seed: 3, epochs: 12, epochLength: 6 });
    const ends = epochEnds(w);
    const walk = new ClaimWalk(w.genesis, TRACE_STEPS);
    const late = walk.claim(w.inputs, ends[10] as EpochEnd, REFERENCE_EXECUTOR);
    const early = walk.claim(w.inputs, ends[2] as EpochEnd, REFERENCE_EXECUTOR);
    for (const [claim, end] of [
      [late, ends[10]],
      [early, ends[2]],
    ] as const) {
      const defined = operatorEpochClaim({
        inputs: w.inputs,
        genesis: w.genesis,
        end: end as EpochEnd,
        executor: REFERENCE_EXECUTOR,
        traceSteps: TRACE_STEPS,
      });
      expect(plain(claim)).toEqual(plain(defined));
      expect(claim.fraud).toBe(false);
    }
  });

  it('the fault control applies from its first epoch to its last, when it has one', () => {
    const c = { ...DEFAULT_CONTROL, fault: 'quorum-not-checked', fromEpoch: 4 };
    const names = (control: typeof c) =>
      [3n, 4n, 9n, 10n, 1000n].map((e) => executorForEpoch(control, e).name);
    expect(names(c)).toEqual([
      'reference',
      'quorum-not-checked',
      'quorum-not-checked',
      'quorum-not-checked',
      'quorum-not-checked',
    ]);
    expect(names({ ...c, toEpoch: 9 })).toEqual([
      'reference',
      'quorum-not-checked',
      'quorum-not-checked',
      'reference',
      'reference',
    ]);
    expect(names({ ...c, fault: 'none', toEpoch: 9 })).toEqual(Array(5).fill('reference'));
  });

  it('the served workload: the devnet’s at 30 inputs an epoch, and exactly the epochs asked at any length', () => {
    const json = (x: unknown) => JSON.stringify(x, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
    expect(json(servedWorkload({ seed: 5, epochs: 20, epochLength: 30 }))).toBe(
      json(devnetWorkload({ seed: 5, epochs: 20 })),
    );
    for (const epochLength of [2, 6, 30]) {
      const w = servedWorkload({ seed: 5, epochs: 40, epochLength });
      expect(w.inputs.filter((i) => i.kind === 'endEpoch')).toHaveLength(40);
      expect(w.inputs.at(-1)?.kind).toBe('endEpoch');
    }
    // Shorter epochs, fewer inputs each: what lets a soak run thousands of them.
    const short = servedWorkload({ seed: 5, epochs: 40, epochLength: 6 }).inputs.length;
    const long = servedWorkload({ seed: 5, epochs: 40, epochLength: 30 }).inputs.length;
    expect(short * 2).toBeLessThan(long);
  });
});
