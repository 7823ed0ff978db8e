/**
 * Rollup parameters (docs/protocol.md §2, §6.6, §8): bounds at `execute`, the pending value and its
 * activation at the end of the epoch in which the change was executed, and their leaves.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import {
  getParam,
  getPendingParam,
  getProposal,
  leafIds,
  PARAM_KEYS,
  PARAM_SPECS,
  type ParamKey,
  ProposalStatus,
  ROLLUP_PARAM_KEYS,
} from '../../src/governance/index.ts';
import { addr, Scenario } from './scenario.ts';

const A = addr('aa');

/** A scenario with one validator and a proposal that passed and is ready to execute at block 18. */
function passed(actions: Parameters<Scenario['propose']>[1], s = new Scenario().at(1).validator(A, 1000n)) {
  s.at(s.block + 1n);
  const id = s.propose(A, actions);
  s.vote(A, id, 'for');
  s.at(s.block + 11n).queue(id);
  s.at(s.block + 5n);
  return { s, id };
}

describe('rollup parameters', () => {
  it('are the five rollup keys, after the nine governance keys, all activating at the next epoch', () => {
    expect(ROLLUP_PARAM_KEYS).toEqual([
      'l2GasLimit',
      'minBaseFee',
      'batchInterval',
      'withdrawalDelay',
      'challengeWindow',
    ]);
    expect(PARAM_KEYS.slice(9)).toEqual(ROLLUP_PARAM_KEYS);
    for (const k of PARAM_KEYS.slice(0, 9)) expect(PARAM_SPECS[k].activation).toBe('at-execute');
  });

  describe.each(ROLLUP_PARAM_KEYS.map((k) => [k, PARAM_SPECS[k]] as const))(
    '%s bounds (execute.bounds)',
    (key, spec) => {
      const cases: { value: bigint; ok: boolean }[] = [
        { value: spec.min, ok: true },
        { value: spec.max, ok: true },
        { value: spec.max + 1n, ok: false },
      ];
      if (spec.min > 0n) cases.push({ value: spec.min - 1n, ok: false });
      it.each(cases)('$value → executed: $ok', ({ value, ok }) => {
        const { s, id } = passed([{ kind: 'setParameter', key, value }]);
        const before = getParam(s.state, key);
        expect(s.execute(id).accepted).toBe(true);
        expect(getProposal(s.state, id)?.status).toBe(ok ? ProposalStatus.Executed : ProposalStatus.Failed);
        expect(getParam(s.state, key)).toBe(before); // never in force before the epoch ends
        expect(getPendingParam(s.state, key)).toEqual(ok ? { value, activationEpoch: 1n } : undefined);
        s.endEpoch();
        expect(getParam(s.state, key)).toBe(ok ? value : before);
        expect(getPendingParam(s.state, key)).toBeUndefined();
      });
    },
  );

  it('a change executed in epoch e is in force from the end of e, not earlier and not later', () => {
    const s = new Scenario().at(1).validator(A, 1000n);
    s.endEpoch(); // epoch 1
    const { id } = passed([{ kind: 'setParameter', key: 'l2GasLimit', value: 45_000_000n }], s);
    s.execute(id);
    expect(s.state.epoch).toBe(1n);
    expect(getPendingParam(s.state, 'l2GasLimit')).toEqual({ value: 45_000_000n, activationEpoch: 2n });
    s.at(s.block + 1n);
    s.stake(A, 1n); // more inputs of epoch 1: still pending
    expect(getParam(s.state, 'l2GasLimit')).toBe(30_000_000n);
    const out = s.endEpoch();
    expect(out.accepted && out.rules).toContain('epoch.params.activate');
    expect(getParam(s.state, 'l2GasLimit')).toBe(45_000_000n);
    s.endEpoch();
    expect(getParam(s.state, 'l2GasLimit')).toBe(45_000_000n);
  });

  it('a change executed in the last block of an epoch, just before endEpoch, activates at that endEpoch', () => {
    const { s, id } = passed([{ kind: 'setParameter', key: 'minBaseFee', value: 7n }]);
    s.execute(id);
    s.endEpoch(); // same block as the execute
    expect(getParam(s.state, 'minBaseFee')).toBe(7n);
  });

  it('a change executed right after endEpoch in the same block waits for the following end of epoch', () => {
    const { s, id } = passed([{ kind: 'setParameter', key: 'challengeWindow', value: 10n }]);
    s.endEpoch();
    s.execute(id);
    expect(getPendingParam(s.state, 'challengeWindow')).toEqual({ value: 10n, activationEpoch: 2n });
    expect(getParam(s.state, 'challengeWindow')).toBe(6n);
    s.endEpoch();
    expect(getParam(s.state, 'challengeWindow')).toBe(10n);
  });

  it('the later of two changes to one key in an epoch wins; governance keys in the same proposal apply at once', () => {
    const { s, id } = passed([
      { kind: 'setParameter', key: 'batchInterval', value: 20n },
      { kind: 'setParameter', key: 'epochReward', value: 5n },
      { kind: 'setParameter', key: 'batchInterval', value: 30n },
    ]);
    s.execute(id);
    expect(getParam(s.state, 'epochReward')).toBe(5n);
    expect(getParam(s.state, 'batchInterval')).toBe(10n);
    const second = passed([{ kind: 'setParameter', key: 'batchInterval', value: 40n }], s);
    s.execute(second.id);
    expect(getPendingParam(s.state, 'batchInterval')).toEqual({ value: 40n, activationEpoch: 1n });
    s.endEpoch();
    expect(getParam(s.state, 'batchInterval')).toBe(40n);
  });

  it('one out-of-bounds rollup action fails the whole proposal and leaves nothing pending', () => {
    const { s, id } = passed([
      { kind: 'setParameter', key: 'withdrawalDelay', value: 5n },
      { kind: 'setParameter', key: 'l2GasLimit', value: PARAM_SPECS.l2GasLimit.max + 1n },
    ]);
    s.execute(id);
    expect(getProposal(s.state, id)?.status).toBe(ProposalStatus.Failed);
    expect(getPendingParam(s.state, 'withdrawalDelay')).toBeUndefined();
  });

  it('keeps a param leaf and a pending-param leaf per rollup key, in the documented order and bytes', () => {
    const s = new Scenario();
    const ids = [...s.state.leaves.ids()];
    const params = PARAM_KEYS.map((k) => leafIds.param(k));
    const pendings = ROLLUP_PARAM_KEYS.map((k: ParamKey) => leafIds.pendingParam(k));
    expect(ids.slice(0, 1 + params.length + pendings.length)).toEqual(['01', ...params, ...pendings]);
    const { s: run, id } = passed([
      { kind: 'setParameter', key: 'l2GasLimit', value: 0x01_02_03_04n + 1_000_000n },
    ]);
    run.execute(id);
    const name = Buffer.from('l2GasLimit').toString('hex').padEnd(64, '0');
    const leaf = run.state.leaves.leaf(leafIds.pendingParam('l2GasLimit'));
    expect(leafIds.pendingParam('l2GasLimit')).toBe(`0b${name}`);
    expect(bytesToHex(leaf?.bytes ?? new Uint8Array())).toBe(
      `0b${name}${(0x01_02_03_04n + 1_000_000n).toString(16).padStart(64, '0')}${'1'.padStart(16, '0')}`,
    );
    const rootPending = run.root();
    run.endEpoch();
    expect(
      bytesToHex(run.state.leaves.leaf(leafIds.pendingParam('l2GasLimit'))?.bytes ?? new Uint8Array()),
    ).toBe(`0b${name}${'0'.repeat(64)}${'0'.repeat(16)}`);
    expect(bytesToHex(run.root())).not.toBe(bytesToHex(rootPending));
  });
});
