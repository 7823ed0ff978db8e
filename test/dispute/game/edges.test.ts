/**
 * Edge cases of the narrowing game's twins and referee found in review (docs/protocol.md §24): a tape
 * position past the tape fails every level, a read of no address is never an RV disprove, T′ = 0 is
 * disproved at the assert, and a reveal′ at or past the read's step is judged against h_i.
 */
import { describe, expect, it } from 'vitest';
import { REGTEST_SEARCH } from '../../../src/dispute/game/grid.ts';
import {
  assertLeafSpends,
  tapeRevealLeafSpends,
  writeRevealLeafSpends,
} from '../../../src/dispute/game/leaves.ts';
import type { OperatorPlayer } from '../../../src/dispute/game/players.ts';
import { playGame } from '../../../src/dispute/game/referee.ts';
import { ruleChallenger } from '../../../src/dispute/game/rule.ts';
import { NO_ACCESS, NONE, type StepRecord, TAPE_HALF_DEPTH, TAPE_LIMIT } from '../../../src/machine/isa.ts';
import { FAULT_CASES } from '../../governance/fault-cases.ts';
import { contextOf, honestEpoch, operatorOf } from './setup.ts';

const { scenario } = (FAULT_CASES['vote-counted-twice'] as (typeof FAULT_CASES)[string])();
const epoch = honestEpoch(scenario.genesis, scenario.inputs);
const ctx = contextOf(epoch, epoch.honest.result);
const shape = REGTEST_SEARCH;

describe('edges of the game', () => {
  it('a tape position past the tape fails at every level of its path', () => {
    const record: StepRecord = {
      pc: 0,
      r1: { addr: 1, value: BigInt(TAPE_LIMIT) },
      r2: NO_ACCESS,
      w: { addr: 2, value: 0n },
      nextPc: 1,
    };
    const reveal = {
      position: TAPE_LIMIT,
      nodes: Array.from({ length: TAPE_HALF_DEPTH + 1 }, () => new Uint8Array(32)),
      siblings: Array.from({ length: TAPE_HALF_DEPTH }, () => new Uint8Array(32)),
    };
    for (let level = 0; level < TAPE_HALF_DEPTH; level++) {
      expect(tapeRevealLeafSpends(ctx, { record }, reveal, { leaf: 'tape-level', level })).toBe(true);
    }
    expect(tapeRevealLeafSpends(ctx, { record }, reveal, { leaf: 'tape-top' })).toBe(true);
  });

  it('no RV leaf spends on a read of no address, whatever the step', () => {
    const h = new Uint8Array(20);
    for (const [step, w] of [
      [3, NO_ACCESS],
      [3, { addr: 9, value: 1n }],
      [0, NO_ACCESS],
    ] as const) {
      const site = {
        step,
        readStep: 5,
        address: NONE,
        value: 0n,
        lastWrite: NONE,
        committedH: h,
        committedHNext: h,
      };
      const reveal = { h, hNext: h, pc: 0, nextPc: 1, w };
      for (const leaf of ['read-value', 'later-write', 'not-a-write'] as const) {
        expect(writeRevealLeafSpends(site, reveal, { leaf }), `${leaf} at ${step}`).toBe(false);
      }
    }
  });

  it('T′ = 0 and T′ > 2^K are disproved at the assert; 1 … 2^K are not', () => {
    const assert = (steps: number) => ({
      steps,
      h0: new Uint8Array(20),
      hEnd: new Uint8Array(20),
      points: [],
    });
    expect(assertLeafSpends(ctx, shape, assert(0), { leaf: 'length' })).toBe(true);
    expect(assertLeafSpends(ctx, shape, assert(2 ** 20 + 1), { leaf: 'length' })).toBe(true);
    expect(assertLeafSpends(ctx, shape, assert(1), { leaf: 'length' })).toBe(false);
    expect(assertLeafSpends(ctx, shape, assert(2 ** 20), { leaf: 'length' })).toBe(false);
  });

  it('a reveal′ at or past the read step, in place of the refusal it is owed, is judged against h_i', () => {
    const T = epoch.honest.steps.length;
    const halt = epoch.honest.steps[T - 1] as StepRecord;
    const claimed = epoch.honest.result ^ 1n;
    const lying = contextOf(epoch, claimed);
    const honest = operatorOf(shape, epoch);
    const operator: OperatorPlayer = {
      ...honest,
      reveal(i) {
        const r = honest.reveal(i);
        if (r === undefined || 'refuse' in r || i !== T - 1) return r;
        return { ...r, record: { ...halt, r1: { addr: halt.r1.addr, value: claimed } } };
      },
      // It answers j ≥ i with the padded chain instead of refusing.
      revealWrite(_q, j) {
        const step = epoch.honest.steps[Math.min(j, T - 1)] as StepRecord;
        return {
          h: epoch.view.chainAt(j),
          hNext: epoch.view.chainAt(j + 1),
          pc: step.pc,
          nextPc: step.nextPc,
          w: step.w,
        };
      },
    };
    const rule = ruleChallenger(lying, shape, epoch.view);
    // A challenger that plays the rule but steers the second search past i.
    const outcome = playGame(lying, shape, operator, {
      ...rule,
      chooseRead: (_q, _view, bits) => 2 ** bits - 1,
    });
    expect(outcome.writeStep).toBeGreaterThanOrEqual(T - 1);
    // Nothing crashed, and the game ended on a leaf twin or a timeout, never an exception.
    expect(['disproved', 'timeout']).toContain(outcome.end);
  });
});
