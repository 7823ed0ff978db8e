/** Invariants every reference state satisfies (docs/protocol.md §5–6); returns the broken ones. */
import type { GovernanceState } from '../../src/governance/index.ts';
import { BPS } from '../../src/governance/params.ts';

export function checkInvariants(s: GovernanceState, afterEpoch: boolean): string[] {
  const broken: string[] = [];
  let bonded = 0n;
  for (const v of s.validators.values()) bonded += v.selfStake + v.delegated;
  let delegated = 0n;
  for (const d of s.delegations.values()) delegated += d.amount;
  let selfTotal = 0n;
  for (const v of s.validators.values()) selfTotal += v.selfStake;
  if (bonded !== s.totalBonded || selfTotal + delegated !== s.totalBonded) broken.push('totalBonded');

  let power = 0n;
  let total = 0n;
  for (const e of s.active) power += e.power;
  if (power > s.totalBonded && afterEpoch) broken.push('active power ≤ bonded');
  if (afterEpoch) {
    for (const e of s.active) {
      const v = s.validators.get(e.validator);
      total += v ? v.selfStake + v.delegated : 0n;
    }
    const cap = (total * s.params.maxPowerBps) / BPS;
    for (const e of s.active) if (e.power > cap) broken.push(`power cap (${e.validator})`);
  }

  let paid = 0n;
  for (const r of s.rewards.values()) paid += r;
  if (paid > s.totalIssued) broken.push('rewards paid ≤ issued');
  if (s.treasury < 0n) broken.push('treasury ≥ 0');
  if (paid + s.treasury !== s.totalIssued) broken.push('paid + treasury = issued');

  for (const p of s.proposals.values()) {
    const { for: f, against, abstain } = p.tally;
    if (f < 0n || against < 0n || abstain < 0n || f + against + abstain > p.bondedAtSnapshot) {
      broken.push(`tally of proposal ${p.id}`);
    }
  }
  return broken;
}
