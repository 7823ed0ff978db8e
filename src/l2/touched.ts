/**
 * What the inputs since the last epoch-end cross-check touched, so the next check reads those records
 * (and cheap globals) instead of every record the L2 ever created: the cost of a check follows the
 * epoch's inputs, not the length of history (docs/l2-ingestion.md "What the cross-check reads").
 *
 * Keys are taken from each input itself, whether the model accepted it or not (a log is an input the
 * chain accepted, so this is also what the chain touched), and, at an epoch end, from what the end of
 * epoch pays: the active set's validators and their delegators, and the voters of the proposals executed
 * in the epoch (docs/protocol.md §6), plus every account the model's own ledger credited.
 */
import type { Address, GovernanceInput, GovernanceState } from '../governance/index.ts';

export class TouchedKeys {
  /** Every record must be read: nothing is known about what changed (a start, a replay, a rewind). */
  full = true;
  readonly validators = new Set<Address>();
  readonly delegators = new Set<Address>();
  readonly rewards = new Set<Address>();
  readonly proposals = new Set<bigint>();
  /** An executed proposal may change modules: the module list is read again. */
  modules = false;

  /** Everything must be read at the next check. */
  markFull(): void {
    this.full = true;
  }

  /** Starts a new collection (after a check has read this one). */
  take(): TouchedKeys {
    const out = new TouchedKeys();
    out.full = this.full;
    out.modules = this.modules;
    for (const v of this.validators) out.validators.add(v);
    for (const d of this.delegators) out.delegators.add(d);
    for (const r of this.rewards) out.rewards.add(r);
    for (const p of this.proposals) out.proposals.add(p);
    this.full = false;
    this.modules = false;
    this.validators.clear();
    this.delegators.clear();
    this.rewards.clear();
    this.proposals.clear();
    return out;
  }

  /** Adds another collection (a failed check's keys, read again at the next check). */
  merge(other: TouchedKeys): void {
    if (other.full) this.full = true;
    if (other.modules) this.modules = true;
    for (const v of other.validators) this.validators.add(v);
    for (const d of other.delegators) this.delegators.add(d);
    for (const r of other.rewards) this.rewards.add(r);
    for (const p of other.proposals) this.proposals.add(p);
  }

  /**
   * Records the keys an input names, read from the state BEFORE it is applied (a redelegation's or an
   * undelegation's previous validator, an end of epoch's payees).
   */
  beforeInput(s: GovernanceState, input: GovernanceInput): void {
    if (this.full) return;
    const sender = input.sender as Address;
    switch (input.kind) {
      case 'registerValidator':
      case 'stake':
      case 'unstake':
        this.validators.add(sender);
        return;
      case 'delegate':
      case 'undelegate': {
        this.delegators.add(sender);
        this.validators.add(input.validator as Address);
        const previous = s.delegations.get(sender)?.validator;
        if (previous) this.validators.add(previous);
        return;
      }
      case 'propose':
        // Its id is the next one; the check also reads every id above the count it last verified.
        this.proposals.add(s.proposalCount + 1n);
        return;
      case 'vote':
      case 'queue':
      case 'cancel':
        this.proposals.add(input.proposalId);
        return;
      case 'execute':
        this.proposals.add(input.proposalId);
        this.modules = true;
        return;
      case 'endEpoch':
        // The end of epoch credits the set chosen at the previous end and the voters of the proposals
        // executed during the epoch (docs/protocol.md §6.1–6.3).
        for (const a of s.active) {
          this.rewards.add(a.validator);
          const v = s.validators.get(a.validator);
          if (v) for (const d of v.delegators) this.rewards.add(d);
        }
        for (const id of s.executedThisEpoch) {
          const p = s.proposals.get(id);
          if (p) for (const voter of p.votes.keys()) this.rewards.add(voter);
        }
        return;
    }
  }

  /** Records the accounts the model's end of epoch credited (its ledger, `state.payouts`). */
  credited(accounts: Iterable<Address>): void {
    if (this.full) return;
    for (const a of accounts) this.rewards.add(a);
  }
}
