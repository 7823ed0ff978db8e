/**
 * One account at one epoch end, explained: what it holds as a validator and as a delegator, why it is or
 * is not in the active set, what the epoch end credited it and the treasury, and for every figure that
 * lives in a leaf, that leaf and its Merkle proof against the state root. Pure: it reads a state replayed
 * to the epoch end (epoch-replay.ts) and that end's payout ledger.
 */
import {
  type Address,
  BPS,
  computeStateRoot,
  type GovernanceState,
  leafIds,
  type MerkleProof,
  type ParamKey,
  proveLeaf,
  REFERENCE_HOOKS,
} from '../governance/index.ts';
import type { PayoutLedger } from '../governance/state.ts';

/** One leaf of the state, with its proof against `AccountReport.root`. */
export type LeafEvidence = {
  /** The leaf id (`leafIds`): the lowercase hex of its key bytes. */
  id: string;
  /** What the leaf is, for people (`validator 0x…`, `param minStake`). */
  what: string;
  /** The leaf's bytes (docs/protocol.md §8), a copy. */
  leaf: Uint8Array;
  proof: MerkleProof;
};

/** Why a validator is or is not in the set chosen at this epoch end (docs/protocol.md §6.4). */
export type ActiveStatus = {
  active: boolean;
  /**
   * `active`; `below-min-stake` (selfStake < minStake: not a candidate); `outside-top` (a candidate ranked
   * after maxValidators).
   */
  reason: 'active' | 'below-min-stake' | 'outside-top';
  /** selfStake + delegated: what the ranking compares. */
  total: bigint;
  /** 1-based rank among the candidates (total descending, address ascending); null when not a candidate. */
  rank: number | null;
  candidates: number;
  /** The active-slot index (rank − 1) and its power; null when not active. */
  slot: number | null;
  power: bigint | null;
  /** floor(Σ selected totals × maxPowerBps / 10000), as selectActiveSet computes it. */
  cap: bigint;
  /** Whether the cap cut this validator's power (total > cap); false when not active. */
  capped: boolean;
  /**
   * Whether the set recomputed from this state by the reference rules equals the state's active set. False
   * means the state came from an executor that selects differently (a faulty one): `reason` then follows
   * the state's set, `rank` the reference ranking.
   */
  selectionConsistent: boolean;
  /** The validator's active-slot leaf, when active. */
  slotLeaf: LeafEvidence | null;
};

export type ValidatorFigures = {
  commissionBps: number;
  selfStake: bigint;
  delegated: bigint;
  delegatorCount: number;
  leaf: LeafEvidence;
  status: ActiveStatus;
};

export type DelegationFigures = { validator: Address; amount: bigint; leaf: LeafEvidence };

/** This epoch end's credits to the account, by kind (sums; zero when none). */
export type AccountPayouts = {
  blockCommission: bigint;
  blockSelfShare: bigint;
  dividends: { validator: Address; amount: bigint }[];
  subsidies: { proposalId: bigint; amount: bigint }[];
  total: bigint;
};

/** What the treasury kept at this epoch end, by kind. */
export type TreasuryRemainders = {
  rewardRounding: bigint;
  subsidyRounding: bigint;
  noPower: bigint;
  noVoters: bigint;
  total: bigint;
};

export type AccountReport = {
  /** The epoch that ended. */
  epoch: bigint;
  root: Uint8Array;
  account: Address;
  /** Null when the account is no registered validator (no validator leaf). */
  validator: ValidatorFigures | null;
  /** Null when the account never delegated (no delegation leaf); a record with amount 0 stays. */
  delegation: DelegationFigures | null;
  rewards: {
    /** Accrued over all epochs so far. */
    accrued: bigint;
    /** Null when the account was never credited (no reward leaf). */
    leaf: LeafEvidence | null;
    payouts: AccountPayouts;
  };
  global: {
    treasury: bigint;
    totalIssued: bigint;
    totalBonded: bigint;
    activeCount: number;
    remainders: TreasuryRemainders;
    leaf: LeafEvidence;
  };
  /** The parameters the "why" uses, each with its leaf. */
  params: Record<ReasonParam, { value: bigint; leaf: LeafEvidence }>;
  /** Every leaf above, once each, in the order: global, params, validator, slot, delegation, reward. */
  leaves: LeafEvidence[];
};

export const REASON_PARAMS = [
  'maxValidators',
  'minStake',
  'maxPowerBps',
] as const satisfies readonly ParamKey[];
export type ReasonParam = (typeof REASON_PARAMS)[number];

/** The report for `account` (lowercase 0x address) in `state`, a state right after an endEpoch. */
export function accountReport(state: GovernanceState, ledger: PayoutLedger, account: Address): AccountReport {
  const address = account.toLowerCase() as Address;
  const root = computeStateRoot(state);
  const leaves: LeafEvidence[] = [];
  const evidence = (id: string, what: string): LeafEvidence | null => {
    const p = proveLeaf(state, id);
    if (!p) return null;
    const e: LeafEvidence = { id, what, leaf: p.leaf, proof: p.proof };
    leaves.push(e);
    return e;
  };
  const mustEvidence = (id: string, what: string): LeafEvidence => {
    const e = evidence(id, what);
    // The global and param leaves exist from genesis; a state without them is no governance state.
    if (!e) throw new Error(`no ${what} leaf in the state`);
    return e;
  };

  const globalLeaf = mustEvidence(leafIds.global(), 'global');
  const params = {} as AccountReport['params'];
  for (const key of REASON_PARAMS) {
    params[key] = { value: state.params[key], leaf: mustEvidence(leafIds.param(key), `param ${key}`) };
  }

  let validator: ValidatorFigures | null = null;
  const v = state.validators.get(address);
  if (v) {
    const leaf = mustEvidence(leafIds.validator(address), `validator ${address}`);
    const status = activeStatus(state, address, evidence);
    validator = {
      commissionBps: v.commissionBps,
      selfStake: v.selfStake,
      delegated: v.delegated,
      delegatorCount: v.delegators.size,
      leaf,
      status,
    };
  }

  let delegation: DelegationFigures | null = null;
  const d = state.delegations.get(address);
  if (d) {
    const leaf = mustEvidence(leafIds.delegation(address), `delegation of ${address}`);
    delegation = { validator: d.validator, amount: d.amount, leaf };
  }

  const rewardLeaf = evidence(leafIds.reward(address), `reward of ${address}`);
  return {
    epoch: state.epoch - 1n,
    root,
    account: address,
    validator,
    delegation,
    rewards: {
      accrued: state.rewards.get(address) ?? 0n,
      leaf: rewardLeaf,
      payouts: payoutsOf(ledger, address),
    },
    global: {
      treasury: state.treasury,
      totalIssued: state.totalIssued,
      totalBonded: state.totalBonded,
      activeCount: state.active.length,
      remainders: treasuryRemainders(ledger),
      leaf: globalLeaf,
    },
    params,
    leaves,
  };
}

/** The selection of docs/protocol.md §6.4 redone on this state, from the validator's point of view. */
function activeStatus(
  state: GovernanceState,
  address: Address,
  evidence: (id: string, what: string) => LeafEvidence | null,
): ActiveStatus {
  const { minStake, maxValidators, maxPowerBps } = state.params;
  const candidates: { address: Address; total: bigint }[] = [];
  for (const c of state.validators.values()) {
    if (c.selfStake >= minStake) candidates.push({ address: c.address, total: c.selfStake + c.delegated });
  }
  candidates.sort(REFERENCE_HOOKS.rankOrder);
  const selected = candidates.slice(0, Number(maxValidators));
  let sum = 0n;
  for (const c of selected) sum += c.total;
  const cap = (sum * maxPowerBps) / BPS;
  const selectionConsistent =
    selected.length === state.active.length &&
    selected.every((c, i) => {
      const a = state.active[i];
      return (
        a !== undefined && a.validator === c.address && a.power === REFERENCE_HOOKS.capPower(c.total, cap)
      );
    });

  const v = state.validators.get(address);
  const total = v ? v.selfStake + v.delegated : 0n;
  const index = candidates.findIndex((c) => c.address === address);
  const slot = state.active.findIndex((e) => e.validator === address);
  const active = slot >= 0;
  const entry = active ? state.active[slot] : undefined;
  const reason: ActiveStatus['reason'] = active
    ? 'active'
    : v && v.selfStake < minStake
      ? 'below-min-stake'
      : 'outside-top';
  return {
    active,
    reason,
    total,
    rank: index >= 0 ? index + 1 : null,
    candidates: candidates.length,
    slot: active ? slot : null,
    power: entry ? entry.power : null,
    cap,
    capped: active && total > cap,
    selectionConsistent,
    slotLeaf: active ? evidence(leafIds.activeSlot(slot), `active slot ${slot}`) : null,
  };
}

function payoutsOf(ledger: PayoutLedger, account: Address): AccountPayouts {
  const out: AccountPayouts = {
    blockCommission: 0n,
    blockSelfShare: 0n,
    dividends: [],
    subsidies: [],
    total: 0n,
  };
  for (const p of ledger) {
    if (!('account' in p) || p.account !== account) continue;
    out.total += p.amount;
    if (p.kind === 'block-commission') out.blockCommission += p.amount;
    else if (p.kind === 'block-self-share') out.blockSelfShare += p.amount;
    else if (p.kind === 'dividend') out.dividends.push({ validator: p.validator, amount: p.amount });
    else if (p.kind === 'subsidy') out.subsidies.push({ proposalId: p.proposalId, amount: p.amount });
  }
  return out;
}

function treasuryRemainders(ledger: PayoutLedger): TreasuryRemainders {
  const out: TreasuryRemainders = {
    rewardRounding: 0n,
    subsidyRounding: 0n,
    noPower: 0n,
    noVoters: 0n,
    total: 0n,
  };
  for (const p of ledger) {
    if (p.kind === 'reward-rounding') out.rewardRounding += p.amount;
    else if (p.kind === 'subsidy-rounding') out.subsidyRounding += p.amount;
    else if (p.kind === 'no-power') out.noPower += p.amount;
    else if (p.kind === 'no-voters') out.noVoters += p.amount;
    else continue;
    out.total += p.amount;
  }
  return out;
}
