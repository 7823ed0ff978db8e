import { describe, expect, it } from 'vitest';
import {
  applyInput,
  createGenesisState,
  ProposalStatus,
  serializeInputsFile,
} from '../../src/governance/index.ts';
import { BPS } from '../../src/governance/params.ts';
import { generateWorkload } from '../../src/governance/workload.ts';

/** What a workload reached, counted while the reference re-executes it. */
function coverage(seed: number, inputs: number) {
  const w = generateWorkload({ seed, inputs });
  const s = createGenesisState(w.genesis);
  const hit = {
    rejected: 0,
    queued: 0,
    executed: 0,
    failed: 0,
    canceled: 0,
    fullUnstake: 0,
    fullUndelegate: 0,
    delegatorOverride: 0,
    capBinding: 0,
    rankTie: 0,
    paramAtBound: 0,
  };
  for (const input of w.inputs) {
    if (input.kind === 'endEpoch') {
      const totals = [...s.validators.values()]
        .filter((v) => v.selfStake >= s.params.minStake)
        .map((v) => v.selfStake + v.delegated);
      if (new Set(totals.map(String)).size < totals.length) hit.rankTie++;
    }
    if (input.kind === 'vote') {
      const d = s.delegations.get(input.sender);
      if (d && d.amount > 0n) hit.delegatorOverride++;
    }
    if (!applyInput(s, input).accepted) hit.rejected++;
    if (input.kind === 'unstake' && s.validators.get(input.sender)?.selfStake === 0n) hit.fullUnstake++;
    if (input.kind === 'undelegate' && s.delegations.get(input.sender)?.amount === 0n) hit.fullUndelegate++;
    if (input.kind === 'queue') hit.queued++;
    if (input.kind === 'execute') {
      const st = s.proposals.get(input.proposalId)?.status;
      if (st === ProposalStatus.Executed) hit.executed++;
      if (st === ProposalStatus.Failed) hit.failed++;
    }
    if (input.kind === 'cancel') hit.canceled++;
    if (input.kind === 'propose') {
      for (const a of input.actions)
        if (a.kind === 'setParameter' && (a.value === 1n || a.value === 10_000n)) hit.paramAtBound++;
    }
    if (input.kind === 'endEpoch') {
      let total = 0n;
      for (const e of s.active) {
        const v = s.validators.get(e.validator);
        total += v ? v.selfStake + v.delegated : 0n;
      }
      const cap = (total * s.params.maxPowerBps) / BPS;
      if (s.active.filter((e) => e.power === cap).length >= 2) hit.capBinding++;
    }
  }
  return hit;
}

describe('workload generator', () => {
  it('is deterministic per seed and different across seeds', () => {
    const a = serializeInputsFile(generateWorkload({ seed: 21, inputs: 200 }));
    expect(serializeInputsFile(generateWorkload({ seed: 21, inputs: 200 }))).toBe(a);
    expect(serializeInputsFile(generateWorkload({ seed: 22, inputs: 200 }))).not.toBe(a);
  });

  it('produces only inputs the reference accepts, reaching every boundary the rules care about', () => {
    const total: Record<string, number> = {};
    for (const seed of [1, 2, 3, 4, 5]) {
      for (const [k, v] of Object.entries(coverage(seed, 400))) total[k] = (total[k] ?? 0) + v;
    }
    const { rejected, ...reached } = total;
    expect(rejected).toBe(0);
    for (const [what, count] of Object.entries(reached)) expect(count, what).toBeGreaterThan(0);
  });
});
