/**
 * A governance state as bytes and back: what lets a long-running watcher forget the inputs behind a
 * settled epoch (src/l2/derivation.ts keeps one as its base and Redis keeps it beside the journal), and
 * what a restart or a lease hand-over starts from instead of genesis.
 *
 * The encoding is versioned JSON (bigints as decimal strings, bytes as hex): every record of the state
 * in its maps' iteration order (insertion order is part of the state: a decoded state must run the same
 * way as the one encoded), and the leaf table's layout (indices, and the bytes of every leaf that is not a
 * checkpoint). Decoding rebuilds the Merkle tree from those bytes and checks the root the snapshot names,
 * so a snapshot that does not decode to the state it was taken of is refused, never used.
 */
import { bytesToHex, equalBytes, hexToBytes, utf8 } from '../core/bytes.ts';
import { VigilError } from '../core/errors.ts';
import type { Address, Hash32, InputPosition, ProposalAction, VoteSupport } from './inputs.ts';
import type { MerkleTree } from './merkle.ts';
import type { ParamKey } from './params.ts';
import {
  type ActiveEntry,
  CheckpointKind,
  type DelegationHistory,
  type DelegationRecord,
  encodeGlobalLeaf,
  type GovernanceState,
  type History,
  type LeafLayout,
  LeafTable,
  type ModuleRecord,
  type PendingParam,
  type ProposalRecord,
  type ProposalStatus,
  type ValidatorRecord,
  type VoteRecord,
} from './state.ts';

export const STATE_SNAPSHOT_VERSION = 1;

/** A snapshot that cannot be decoded, or does not decode to the root it names. */
export class StateSnapshotError extends VigilError {
  override name = 'StateSnapshotError';
}

const ZERO: Address = `0x${'0'.repeat(40)}`;

type Dec = string;
type HistoryJson = { blocks: Dec[]; values: Dec[] };
type ProposalJson = {
  id: Dec;
  proposer: Address;
  createdBlock: Dec;
  snapshotBlock: Dec;
  voteEnd: Dec;
  quorumBps: Dec;
  thresholdBps: Dec;
  timelock: Dec;
  bondedAtSnapshot: Dec;
  actions: (
    | { kind: 'setParameter'; key: string; value: Dec }
    | { kind: 'upgradeModule'; moduleId: string; version: Dec; codeHash: Hash32 }
  )[];
  actionsHash: string;
  status: number;
  eta: Dec;
  executedEpoch: Dec;
  tally: { for: Dec; against: Dec; abstain: Dec };
  votes: [Address, { support: VoteSupport; isValidator: boolean; weight: Dec }][];
  overridden: [Address, Dec][];
};
type SnapshotJson = {
  version: number;
  root: string;
  params: [string, Dec][];
  pendingParams: [string, { value: Dec; activationEpoch: Dec }][];
  modules: [string, { version: Dec; codeHash: Hash32 }][];
  validators: {
    address: Address;
    commissionBps: number;
    selfStake: Dec;
    delegated: Dec;
    delegators: Address[];
    selfHistory: HistoryJson;
    delegatedHistory: HistoryJson;
  }[];
  delegations: {
    delegator: Address;
    validator: Address;
    amount: Dec;
    history: HistoryJson & { validators: (Address | null)[] };
  }[];
  active: { validator: Address; power: Dec }[];
  activeSlots: number;
  rewards: [Address, Dec][];
  treasury: Dec;
  totalIssued: Dec;
  totalBonded: Dec;
  bondedHistory: HistoryJson;
  proposals: ProposalJson[];
  proposalCount: Dec;
  epoch: Dec;
  lastPosition: { block: Dec; txIndex: number; logIndex: number } | null;
  executedThisEpoch: Dec[];
  leaves: {
    entries: [string, number, string][];
    series: [number, Address, number[]][];
  };
};

const historyJson = (h: History): HistoryJson => ({
  blocks: h.blocks.map(String),
  values: h.values.map(String),
});

/**
 * The state as bytes. Takes the state between inputs only (as every caller holds it); flushes its leaf
 * table, which changes no root.
 */
export function encodeStateSnapshot(s: GovernanceState): Uint8Array {
  return utf8(JSON.stringify(snapshotJson(s)));
}

/**
 * The state in the snapshot's shape. `layout` is the leaf table's (taken here unless given); without
 * `hexLeaves` the leaves' bytes are left out (a clone passes the layout itself: no hex round trip).
 */
function snapshotJson(s: GovernanceState, layout = s.leaves.layout(), hexLeaves = true): SnapshotJson {
  const json: SnapshotJson = {
    version: STATE_SNAPSHOT_VERSION,
    root: bytesToHex(s.leaves.tree.root()),
    params: Object.entries(s.params).map(([k, v]) => [k, String(v)]),
    pendingParams: [...s.pendingParams].map(([k, p]) => [
      k,
      { value: String(p.value), activationEpoch: String(p.activationEpoch) },
    ]),
    modules: [...s.modules].map(([id, m]) => [id, { version: String(m.version), codeHash: m.codeHash }]),
    validators: [...s.validators.values()].map((v) => ({
      address: v.address,
      commissionBps: v.commissionBps,
      selfStake: String(v.selfStake),
      delegated: String(v.delegated),
      delegators: [...v.delegators],
      selfHistory: historyJson(v.selfHistory),
      delegatedHistory: historyJson(v.delegatedHistory),
    })),
    delegations: [...s.delegations.values()].map((d) => ({
      delegator: d.delegator,
      validator: d.validator,
      amount: String(d.amount),
      history: { ...historyJson(d.history), validators: [...d.history.validators] },
    })),
    active: s.active.map((a) => ({ validator: a.validator, power: String(a.power) })),
    activeSlots: s.activeSlots,
    rewards: [...s.rewards].map(([a, v]) => [a, String(v)]),
    treasury: String(s.treasury),
    totalIssued: String(s.totalIssued),
    totalBonded: String(s.totalBonded),
    bondedHistory: historyJson(s.bondedHistory),
    proposals: [...s.proposals.values()].map(proposalJson),
    proposalCount: String(s.proposalCount),
    epoch: String(s.epoch),
    lastPosition: s.lastPosition
      ? {
          block: String(s.lastPosition.block),
          txIndex: s.lastPosition.txIndex,
          logIndex: s.lastPosition.logIndex,
        }
      : null,
    executedThisEpoch: s.executedThisEpoch.map(String),
    leaves: {
      entries: hexLeaves ? layout.entries.map((e) => [e.id, e.index, bytesToHex(e.bytes)]) : [],
      series: layout.series.map((c) => [c.kind, c.account, c.indices]),
    },
  };
  return json;
}

function proposalJson(p: ProposalRecord): ProposalJson {
  return {
    id: String(p.id),
    proposer: p.proposer,
    createdBlock: String(p.createdBlock),
    snapshotBlock: String(p.snapshotBlock),
    voteEnd: String(p.voteEnd),
    quorumBps: String(p.quorumBps),
    thresholdBps: String(p.thresholdBps),
    timelock: String(p.timelock),
    bondedAtSnapshot: String(p.bondedAtSnapshot),
    actions: p.actions.map((a) =>
      a.kind === 'setParameter'
        ? { kind: a.kind, key: a.key, value: String(a.value) }
        : { kind: a.kind, moduleId: a.moduleId, version: String(a.version), codeHash: a.codeHash },
    ),
    actionsHash: bytesToHex(p.actionsHash),
    status: p.status,
    eta: String(p.eta),
    executedEpoch: String(p.executedEpoch),
    tally: { for: String(p.tally.for), against: String(p.tally.against), abstain: String(p.tally.abstain) },
    votes: [...p.votes].map(([a, v]) => [
      a,
      { support: v.support, isValidator: v.isValidator, weight: String(v.weight) },
    ]),
    overridden: [...p.overridden].map(([a, w]) => [a, String(w)]),
  };
}

const big = (v: Dec): bigint => BigInt(v);
const history = (h: HistoryJson): History => ({ blocks: h.blocks.map(big), values: h.values.map(big) });

/**
 * The state a snapshot was taken of. Throws StateSnapshotError on anything else: bytes that are not a
 * snapshot of this version, or whose records and leaves do not make the root it names.
 */
export function decodeStateSnapshot(bytes: Uint8Array): GovernanceState {
  let json: SnapshotJson;
  let s: GovernanceState;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as SnapshotJson;
    if (json === null || typeof json !== 'object' || json.version !== STATE_SNAPSHOT_VERSION) {
      throw new Error(
        `version ${String((json as { version?: unknown } | null)?.version)}, not ${STATE_SNAPSHOT_VERSION}`,
      );
    }
    s = stateOf(json);
  } catch (err) {
    if (err instanceof StateSnapshotError) throw err;
    throw new StateSnapshotError(
      `Not a governance state snapshot: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const root = bytesToHex(s.leaves.tree.root());
  if (root !== json.root) {
    throw new StateSnapshotError(`The state snapshot names root 0x${json.root} and decodes to 0x${root}`);
  }
  return s;
}

/**
 * An independent copy of a state (between inputs): what a walk that mutates its state starts from. The
 * records go through the snapshot's shape (no bytes), and the tree is copied, not rehashed. `spare`, a
 * copy the caller is done with, lends its tree's buffers (MerkleTree.clone) and must not be used again.
 */
export function cloneState(s: GovernanceState, spare?: GovernanceState): GovernanceState {
  if (spare === s) throw new RangeError('a state cannot be copied into itself');
  // Each leaf's bytes go from one table to the other as they are: diagnosis copies a state once per
  // catalogue fault, and a hex string and a decoded copy per leaf were most of what a copy allocated.
  const layout = s.leaves.layout();
  return stateOf(snapshotJson(s, layout, false), s.leaves.tree.clone(spare?.leaves.tree), layout, s);
}

/** `from`, the state `j` was just taken of, lends its proposals' action hashes (never written after propose). */
function stateOf(
  j: SnapshotJson,
  tree?: MerkleTree,
  given?: LeafLayout,
  from?: GovernanceState,
): GovernanceState {
  const validators = new Map<Address, ValidatorRecord>(
    j.validators.map((v) => [
      v.address,
      {
        address: v.address,
        commissionBps: v.commissionBps,
        selfStake: big(v.selfStake),
        delegated: big(v.delegated),
        delegators: new Set(v.delegators),
        selfHistory: history(v.selfHistory),
        delegatedHistory: history(v.delegatedHistory),
      },
    ]),
  );
  const delegations = new Map<Address, DelegationRecord>(
    j.delegations.map((d) => [
      d.delegator,
      {
        delegator: d.delegator,
        validator: d.validator,
        amount: big(d.amount),
        history: { ...history(d.history), validators: [...d.history.validators] } as DelegationHistory,
      },
    ]),
  );
  const bondedHistory = history(j.bondedHistory);
  const historyOf = (kind: CheckpointKind, account: Address): History | undefined => {
    switch (kind) {
      case CheckpointKind.Self:
        return validators.get(account)?.selfHistory;
      case CheckpointKind.Delegated:
        return validators.get(account)?.delegatedHistory;
      case CheckpointKind.Delegation:
        return delegations.get(account)?.history;
      case CheckpointKind.Bonded:
        return account === ZERO ? bondedHistory : undefined;
      default:
        return undefined;
    }
  };
  const layout: LeafLayout = given ?? {
    entries: j.leaves.entries.map(([id, index, hex]) => ({
      id,
      index,
      bytes: hexToBytes(hex, `leaf ${id}`),
    })),
    series: j.leaves.series.map(([kind, account, indices]) => ({
      kind: kind as CheckpointKind,
      account,
      indices,
    })),
  };
  const s: GovernanceState = {
    params: Object.fromEntries(j.params.map(([k, v]) => [k, big(v)])) as Record<ParamKey, bigint>,
    pendingParams: new Map(
      j.pendingParams.map(([k, p]): [ParamKey, PendingParam] => [
        k as ParamKey,
        { value: big(p.value), activationEpoch: big(p.activationEpoch) },
      ]),
    ),
    modules: new Map(
      j.modules.map(([id, m]): [string, ModuleRecord] => [
        id,
        { version: big(m.version), codeHash: m.codeHash },
      ]),
    ),
    validators,
    delegations,
    active: j.active.map((a): ActiveEntry => ({ validator: a.validator, power: big(a.power) })),
    activeSlots: j.activeSlots,
    rewards: new Map(j.rewards.map(([a, v]): [Address, bigint] => [a, big(v)])),
    treasury: big(j.treasury),
    totalIssued: big(j.totalIssued),
    totalBonded: big(j.totalBonded),
    bondedHistory,
    proposals: new Map(
      j.proposals.map((p): [bigint, ProposalRecord] => {
        const id = big(p.id);
        return [id, proposalOf(p, from?.proposals.get(id)?.actionsHash)];
      }),
    ),
    proposalCount: big(j.proposalCount),
    epoch: big(j.epoch),
    lastPosition: j.lastPosition
      ? ({
          block: big(j.lastPosition.block),
          txIndex: j.lastPosition.txIndex,
          logIndex: j.lastPosition.logIndex,
        } satisfies InputPosition)
      : null,
    executedThisEpoch: j.executedThisEpoch.map(big),
    // Bound below, once the state it encodes the global leaf of exists.
    leaves: undefined as unknown as LeafTable,
  };
  (s as { leaves: LeafTable }).leaves = LeafTable.restore(layout, () => encodeGlobalLeaf(s), historyOf, tree);
  return s;
}

function proposalOf(p: ProposalJson, actionsHash?: Uint8Array): ProposalRecord {
  return {
    id: big(p.id),
    proposer: p.proposer,
    createdBlock: big(p.createdBlock),
    snapshotBlock: big(p.snapshotBlock),
    voteEnd: big(p.voteEnd),
    quorumBps: big(p.quorumBps),
    thresholdBps: big(p.thresholdBps),
    timelock: big(p.timelock),
    bondedAtSnapshot: big(p.bondedAtSnapshot),
    actions: p.actions.map(
      (a): ProposalAction =>
        a.kind === 'setParameter'
          ? { kind: a.kind, key: a.key, value: big(a.value) }
          : { kind: a.kind, moduleId: a.moduleId, version: big(a.version), codeHash: a.codeHash },
    ),
    actionsHash: actionsHash ?? hexToBytes(p.actionsHash, 'actionsHash'),
    status: p.status as ProposalStatus,
    eta: big(p.eta),
    executedEpoch: big(p.executedEpoch),
    tally: { for: big(p.tally.for), against: big(p.tally.against), abstain: big(p.tally.abstain) },
    votes: new Map(
      p.votes.map(([a, v]): [Address, VoteRecord] => [
        a,
        { support: v.support, isValidator: v.isValidator, weight: big(v.weight) },
      ]),
    ),
    overridden: new Map(p.overridden.map(([a, w]): [Address, bigint] => [a, big(w)])),
  };
}

/** True when two states encode to the same snapshot: same records, same order, same leaves. */
export function sameState(a: GovernanceState, b: GovernanceState): boolean {
  return equalBytes(encodeStateSnapshot(a), encodeStateSnapshot(b));
}
