/**
 * The governance state and its leaves. The state is a mutable object owned by one executor run; every
 * mutation marks the leaf it changes, and `flushLeaves` turns the marks into tree updates (existing
 * leaves rehashed in place, new leaves appended sorted by key bytes, docs/protocol.md §8).
 */
import { bytesToHex, hexToBytes, utf8 } from '../core/bytes.ts';
import { LeafWriter, ZERO_ADDRESS } from './encoding.ts';
import { leafWordsInto, RECORD_BYTES } from './image.ts';
import type { Address, Hash32, InputPosition, ProposalAction, VoteSupport } from './inputs.ts';
import { hashLeaf, MerkleTree } from './merkle.ts';
import { PARAM_KEYS, type ParamKey, ROLLUP_PARAM_KEYS } from './params.ts';

/** A value history: parallel arrays of blocks (increasing) and values. */
export type History = { blocks: bigint[]; values: bigint[] };
export type DelegationHistory = History & { validators: (Address | null)[] };

export type ValidatorRecord = {
  readonly address: Address;
  readonly commissionBps: number;
  selfStake: bigint;
  delegated: bigint;
  /** Delegators with a non-zero delegation, in order of becoming non-zero (payout order is irrelevant). */
  readonly delegators: Set<Address>;
  readonly selfHistory: History;
  readonly delegatedHistory: History;
  /** This record's leaf, resolved once (see `LeafSlot`). */
  leafSlot?: LeafSlot;
};

export type DelegationRecord = {
  readonly delegator: Address;
  validator: Address;
  amount: bigint;
  readonly history: DelegationHistory;
  /** This record's leaf, resolved once (see `LeafSlot`). */
  leafSlot?: LeafSlot;
};

export const ProposalStatus = { Active: 0, Queued: 1, Executed: 2, Canceled: 3, Failed: 4 } as const;
export type ProposalStatus = (typeof ProposalStatus)[keyof typeof ProposalStatus];

export type VoteRecord = { support: VoteSupport; isValidator: boolean; weight: bigint };

export type ProposalRecord = {
  readonly id: bigint;
  readonly proposer: Address;
  readonly createdBlock: bigint;
  readonly snapshotBlock: bigint;
  readonly voteEnd: bigint;
  readonly quorumBps: bigint;
  readonly thresholdBps: bigint;
  readonly timelock: bigint;
  readonly bondedAtSnapshot: bigint;
  readonly actions: readonly ProposalAction[];
  readonly actionsHash: Uint8Array;
  status: ProposalStatus;
  eta: bigint;
  executedEpoch: bigint;
  tally: { for: bigint; against: bigint; abstain: bigint };
  readonly votes: Map<Address, VoteRecord>;
  /** Per validator: the snapshot delegations of its delegators that voted themselves. */
  readonly overridden: Map<Address, bigint>;
  /** This record's leaf, resolved once (see `LeafSlot`). */
  leafSlot?: LeafSlot;
};

export type ModuleRecord = { version: bigint; codeHash: Hash32 };
/** A rollup parameter's change waiting for its epoch; `activationEpoch` 0 means none is pending. */
export type PendingParam = { value: bigint; activationEpoch: bigint };
export type ActiveEntry = { validator: Address; power: bigint };

/**
 * One credit made at an end of epoch, as `endEpoch` splits it (docs/protocol.md §6). Treasury entries are
 * the remainders the treasury keeps: `reward-rounding` (per validator's split when `validator` is set, else
 * the set-level split), `subsidy-rounding`, `no-power` (no active power: the whole reward) and `no-voters`
 * (an executed proposal no validator voted on: its whole subsidy). Zero amounts are not recorded, as zero
 * credits create no leaf.
 */
export type Payout =
  | { kind: 'block-commission' | 'block-self-share'; account: Address; amount: bigint }
  | { kind: 'dividend'; account: Address; validator: Address; amount: bigint }
  | { kind: 'subsidy'; account: Address; proposalId: bigint; amount: bigint }
  | { kind: 'reward-rounding'; validator: Address | null; amount: bigint }
  | { kind: 'subsidy-rounding' | 'no-voters'; proposalId: bigint; amount: bigint }
  | { kind: 'no-power'; amount: bigint };

/** The credits of one end of epoch, in the order they were made. */
export type PayoutLedger = Payout[];

export type GovernanceState = {
  /** The values in force. */
  params: Record<ParamKey, bigint>;
  /** One entry per rollup parameter (ROLLUP_PARAM_KEYS), zeros when no change is pending. */
  readonly pendingParams: Map<ParamKey, PendingParam>;
  readonly modules: Map<string, ModuleRecord>;
  readonly validators: Map<Address, ValidatorRecord>;
  readonly delegations: Map<Address, DelegationRecord>;
  /** The set chosen at the last end of epoch, in rank order. */
  active: ActiveEntry[];
  /** Active slots ever written (leaves are never removed). */
  activeSlots: number;
  readonly rewards: Map<Address, bigint>;
  treasury: bigint;
  totalIssued: bigint;
  totalBonded: bigint;
  readonly bondedHistory: History;
  readonly proposals: Map<bigint, ProposalRecord>;
  proposalCount: bigint;
  epoch: bigint;
  lastPosition: InputPosition | null;
  /** Ids of proposals executed in the current epoch (derivable from their leaves; kept for speed). */
  executedThisEpoch: bigint[];
  readonly leaves: LeafTable;
  /**
   * When set, `endEpoch` appends each credit it makes here. An observer for callers that explain an epoch
   * (src/verify/): no rule reads it and no leaf encodes it, so roots are the same with or without it.
   * Absent by default; the caller sets it before the endEpoch input and clears it after.
   */
  payouts?: PayoutLedger | undefined;
};

type LeafEncoder = () => Uint8Array;

/** `index` is -1 from the mark that creates the leaf until its input ends (`endStep`). */
type LeafEntry = { index: number; encode: LeafEncoder; dirty: boolean };

/** A leaf table as a snapshot keeps it (`LeafTable.layout`). */
export type LeafLayout = {
  entries: { id: string; index: number; bytes: Uint8Array }[];
  series: { kind: CheckpointKind; account: Address; indices: number[] }[];
};

/**
 * A record's handle on its leaf: the id and encoder are built once, and the tree entry is
 * remembered, so marking the record again costs no id string, closure or map lookup. Only for leaves whose
 * encoder reads the record itself (never a captured value).
 */
export type LeafSlot = { readonly id: string; readonly encode: LeafEncoder; entry: LeafEntry | undefined };

/**
 * One account's checkpoints of one kind. Checkpoints are most of the leaves (four in five of a long
 * epoch's), and each is an entry of the history the rules keep anyway (history.ts): the series holds only
 * each entry's tree index, and its leaf is encoded from the history when it is hashed or read. No id
 * string, entry object or closure per checkpoint is kept, so they cost a few words each instead of a few
 * hundred bytes.
 */
type CheckpointSeries = {
  readonly kind: CheckpointKind;
  readonly account: Address;
  /** The ids' common part, `0a0<kind><account>`; an id appends the block as 16 hex digits. */
  readonly prefix: string;
  readonly history: History;
  /** The delegation history's validators (kind Delegation), else undefined. */
  readonly validators: readonly (Address | null)[] | undefined;
  /** The tree index of each history entry's leaf; -1 until the input that created it ends. */
  readonly indices: number[];
  /** The entry queued for a rehash since the last flush (only the last one can be rewritten), or -1. */
  dirtyAt: number;
};

/** A checkpoint created by the current input: the series and its history entry. */
type CreatedCheckpoint = { readonly series: CheckpointSeries; readonly at: number };

const isCreatedCheckpoint = (e: LeafEntry | CreatedCheckpoint): e is CreatedCheckpoint => 'series' in e;

function encodeSeriesLeaf(c: CheckpointSeries, at: number): Uint8Array {
  return encodeCheckpointLeaf(
    c.kind,
    c.account,
    c.history.blocks[at] as bigint,
    c.validators ? (c.validators[at] ?? null) : null,
    c.history.values[at] as bigint,
  );
}

/** The entry of `blocks` (increasing) equal to `block`, or -1. */
function indexOfBlock(blocks: readonly bigint[], block: bigint): number {
  let lo = 0;
  let hi = blocks.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const b = blocks[mid] as bigint;
    if (b === block) return mid;
    if (b < block) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

const CHECKPOINT_ID = /^0a0([0-3])([0-9a-f]{40})([0-9a-f]{16})$/;

/**
 * Leaf id → tree index, plus the leaves marked since the last flush. Leaves an input creates enter the
 * table at once (so a second mark in the same input finds them) but get their index when the input ends
 * (sorted by key bytes, docs/protocol.md §8); every leaf's hash is computed at the next flush, so
 * re-executing without a per-step root hashes each changed leaf once per flush. Checkpoint leaves live in
 * their series (`CheckpointSeries`), every other leaf in `entries`.
 */
export class LeafTable {
  constructor(readonly tree: MerkleTree = new MerkleTree()) {}
  private readonly entries = new Map<string, LeafEntry>();
  /** Leaves created by the current input, not yet given an index: parallel arrays. */
  private createdIds: string[] = [];
  private createdEntries: (LeafEntry | CreatedCheckpoint)[] = [];
  private dirty: LeafEntry[] = [];
  /** Checkpoints to rehash at the next flush: parallel arrays of series and history entry. */
  private dirtySeries: CheckpointSeries[] = [];
  private dirtyAt: number[] = [];
  /** Checkpoint series by kind, then account. */
  private readonly series: Map<Address, CheckpointSeries>[] = [new Map(), new Map(), new Map(), new Map()];
  private checkpointCount = 0;

  get size(): number {
    return this.entries.size + this.checkpointCount;
  }

  private globalEntry: LeafEntry | undefined;

  /** Appends a genesis leaf at once (genesis order is fixed by the spec, not sorted). */
  appendGenesis(id: string, encode: LeafEncoder): void {
    const entry: LeafEntry = { index: this.tree.append(hashLeaf(encode())), encode, dirty: false };
    this.entries.set(id, entry);
    if (id === '01') this.globalEntry = entry;
  }

  /** Marks the global leaf (every accepted input changes it), without a lookup. */
  markGlobal(): void {
    const e = this.globalEntry;
    if (e && !e.dirty) {
      e.dirty = true;
      this.dirty.push(e);
    }
  }

  /** The leaf's current bytes and index, or undefined for an unknown id (or one its input has not ended). */
  leaf(id: string): { index: number; bytes: Uint8Array } | undefined {
    const e = this.entries.get(id);
    if (e !== undefined) return e.index >= 0 ? { index: e.index, bytes: e.encode().slice() } : undefined;
    const m = CHECKPOINT_ID.exec(id);
    if (m === null) return undefined;
    const c = this.series[Number(m[1])]?.get(`0x${m[2]}` as Address);
    if (c === undefined) return undefined;
    const at = indexOfBlock(c.history.blocks, BigInt(`0x${m[3]}`));
    const index = at < 0 ? -1 : (c.indices[at] ?? -1);
    return index >= 0 ? { index, bytes: encodeSeriesLeaf(c, at).slice() } : undefined;
  }

  *ids(): IterableIterator<string> {
    yield* this.entries.keys();
    for (const byAccount of this.series) {
      for (const c of byAccount.values()) {
        for (let at = 0; at < c.indices.length; at++) {
          yield c.prefix + u64Hex(c.history.blocks[at] as bigint);
        }
      }
    }
  }

  mark(id: string, encode: LeafEncoder): void {
    const e = this.entries.get(id);
    if (e === undefined) {
      this.create(id, encode);
      return;
    }
    e.encode = encode;
    if (!e.dirty) {
      e.dirty = true;
      this.dirty.push(e);
    }
  }

  /** `mark` for a record's slot: after the first time, only a dirty flag. */
  markSlot(slot: LeafSlot): void {
    let e = slot.entry;
    if (e === undefined) {
      e = this.entries.get(slot.id);
      if (e === undefined) {
        slot.entry = this.create(slot.id, slot.encode);
        return;
      }
      slot.entry = e;
      e.encode = slot.encode;
    }
    if (!e.dirty) {
      e.dirty = true;
      this.dirty.push(e);
    }
  }

  /**
   * Marks the checkpoint leaf of `history`'s last entry, just written for `account` (history.ts): a new
   * entry creates its leaf, a rewritten one (same block) is rehashed. Every write to a checkpointed
   * history is followed by this mark, so the history's entries and the series' leaves stay in step.
   */
  markCheckpoint(kind: CheckpointKind, account: Address, history: History): void {
    const byAccount = this.series[kind] as Map<Address, CheckpointSeries>;
    let c = byAccount.get(account);
    if (c === undefined) {
      c = {
        kind,
        account,
        prefix: leafIds.checkpoint(kind, account, 0n).slice(0, -16),
        history,
        validators:
          kind === CheckpointKind.Delegation ? (history as DelegationHistory).validators : undefined,
        indices: [],
        dirtyAt: -1,
      };
      byAccount.set(account, c);
    }
    if (c.history !== history) throw new Error(`checkpoint series ${c.prefix} is bound to another history`);
    const at = history.blocks.length - 1;
    if (at === c.indices.length) {
      c.indices.push(-1);
      this.checkpointCount++;
      this.createdIds.push(c.prefix + u64Hex(history.blocks[at] as bigint));
      this.createdEntries.push({ series: c, at });
      return;
    }
    if (at !== c.indices.length - 1) {
      throw new Error(`checkpoint series ${c.prefix} has ${c.indices.length} leaves for ${at + 1} entries`);
    }
    // A rewrite in the same block: a leaf its input created is hashed once placed.
    if ((c.indices[at] as number) >= 0) this.markSeriesDirty(c, at);
  }

  private markSeriesDirty(c: CheckpointSeries, at: number): void {
    if (c.dirtyAt === at) return;
    c.dirtyAt = at;
    this.dirtySeries.push(c);
    this.dirtyAt.push(at);
  }

  /** A new leaf: dirty from the start, queued for `endStep` rather than the dirty list. */
  private create(id: string, encode: LeafEncoder): LeafEntry {
    const entry: LeafEntry = { index: -1, encode, dirty: true };
    this.entries.set(id, entry);
    this.createdIds.push(id);
    this.createdEntries.push(entry);
    return entry;
  }

  /**
   * Ends an accepted input: gives the leaves it created their indices, in key-byte order. Leaf ids are the
   * lowercase hex of the key bytes, fixed-length per tag, so ordering ids orders keys.
   */
  endStep(): void {
    const n = this.createdIds.length;
    if (n === 0) return;
    const ids = this.createdIds;
    const created = this.createdEntries;
    // Insertion sort of both arrays by id (an input creates a handful of leaves; ids are distinct, and
    // `<` compares UTF-16 code units as the default sort does).
    for (let i = 1; i < n; i++) {
      const id = ids[i] as string;
      const entry = created[i] as LeafEntry | CreatedCheckpoint;
      let j = i - 1;
      while (j >= 0 && (ids[j] as string) > id) {
        ids[j + 1] = ids[j] as string;
        created[j + 1] = created[j] as LeafEntry | CreatedCheckpoint;
        j--;
      }
      ids[j + 1] = id;
      created[j + 1] = entry;
    }
    for (let i = 0; i < n; i++) this.place(created[i] as LeafEntry | CreatedCheckpoint);
    ids.length = 0;
    created.length = 0;
  }

  private place(entry: LeafEntry | CreatedCheckpoint): void {
    const index = this.tree.appendEmpty();
    if (isCreatedCheckpoint(entry)) {
      entry.series.indices[entry.at] = index;
      this.markSeriesDirty(entry.series, entry.at);
    } else {
      entry.index = index;
      this.dirty.push(entry);
    }
  }

  /**
   * The image and copies of its tree's levels from the record roots up (`MerkleTree.levelsFromRecords`),
   * taken together: both after one flush, so the levels are those of the words.
   */
  imageWithLevels(): { words: Uint8Array; recordLevels: { bytes: Uint8Array; count: number }[] } {
    const words = this.image();
    return { words, recordLevels: this.tree.levelsFromRecords() };
  }

  /**
   * The state image (docs/protocol.md §8): every record's 16 words in index order, 512 bytes per
   * record. Flushes first, so leaves created by an input that has ended are included.
   */
  image(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.tree.leafCount * RECORD_BYTES);
    for (const e of this.entries.values()) {
      if (e.index >= 0) leafWordsInto(e.encode(), out, e.index * RECORD_BYTES);
    }
    for (const byAccount of this.series) {
      for (const c of byAccount.values()) {
        for (let at = 0; at < c.indices.length; at++) {
          const index = c.indices[at] as number;
          if (index >= 0) leafWordsInto(encodeSeriesLeaf(c, at), out, index * RECORD_BYTES);
        }
      }
    }
    return out;
  }

  /**
   * What a snapshot of the table needs (state-snapshot.ts), after a flush: every plain leaf's id, tree
   * index and current bytes, and every checkpoint series' leaf indices (their bytes come from the
   * histories the snapshot carries anyway).
   */
  layout(): LeafLayout {
    this.flush();
    // One buffer for every leaf's bytes, handed out as views: a copy per leaf was one allocation of the
    // process's native heap each, and diagnosis copies a whole state once per catalogue fault.
    let packed = new Uint8Array(this.entries.size * 128);
    const ends: number[] = [];
    let end = 0;
    for (const e of this.entries.values()) {
      const bytes = e.encode();
      if (end + bytes.length > packed.length) {
        const grown = new Uint8Array(Math.max(packed.length * 2, end + bytes.length));
        grown.set(packed.subarray(0, end));
        packed = grown;
      }
      packed.set(bytes, end);
      end += bytes.length;
      ends.push(end);
    }
    const entries: LeafLayout['entries'] = [];
    let at = 0;
    let start = 0;
    for (const [id, e] of this.entries) {
      const stop = ends[at++] as number;
      entries.push({ id, index: e.index, bytes: packed.subarray(start, stop) });
      start = stop;
    }
    const series: LeafLayout['series'] = [];
    for (const byAccount of this.series) {
      for (const c of byAccount.values())
        series.push({ kind: c.kind, account: c.account, indices: [...c.indices] });
    }
    return { entries, series };
  }

  /**
   * A table rebuilt from a layout. A plain leaf keeps its stored bytes until its record is marked again,
   * which installs the record's own encoder (every mutation marks its leaf, so stored bytes are never
   * stale); the global leaf, marked without an encoder, is bound to `global` at once. Each series is
   * bound to the history `historyOf` names for it. Throws when the layout is not one table's: an index
   * missing, repeated or out of range, or a series whose history has another length.
   */
  static restore(
    layout: LeafLayout,
    global: LeafEncoder,
    historyOf: (kind: CheckpointKind, account: Address) => History | undefined,
    /** The tree of the table the layout was taken of, when it is at hand: adopted as is, not rehashed. */
    tree?: MerkleTree,
  ): LeafTable {
    const t = new LeafTable(tree);
    const count = layout.entries.length + layout.series.reduce((n, c) => n + c.indices.length, 0);
    if (tree !== undefined && tree.leafCount !== count) {
      throw new RangeError(`leaf layout: ${count} leaves for a tree of ${tree.leafCount}`);
    }
    // Without a tree, each leaf is hashed into a new one as it is met. With one, nothing is encoded: a
    // state copy (diagnosis makes one per catalogue fault) would otherwise copy every checkpoint's bytes,
    // most of the leaves, only to drop them.
    const rehash = tree === undefined;
    if (rehash) for (let i = 0; i < count; i++) t.tree.appendEmpty();
    const claimed = new Uint8Array(count);
    const claim = (index: number, what: string): void => {
      if (!Number.isInteger(index) || index < 0 || index >= count || claimed[index] === 1) {
        throw new RangeError(`leaf layout: ${what} has index ${index}, missing, repeated or beyond ${count}`);
      }
      claimed[index] = 1;
    };
    for (const { id, index, bytes } of layout.entries) {
      claim(index, `leaf ${id}`);
      if (rehash) t.tree.setLeafBytes(index, bytes);
      const entry: LeafEntry = { index, encode: id === '01' ? global : () => bytes, dirty: false };
      t.entries.set(id, entry);
      if (id === '01') t.globalEntry = entry;
    }
    for (const s of layout.series) {
      const history = historyOf(s.kind, s.account);
      if (history === undefined || history.blocks.length !== s.indices.length) {
        throw new RangeError(
          `leaf layout: checkpoint series ${s.kind}/${s.account} has ${s.indices.length} leaves and its history ${history?.blocks.length ?? 'is missing'}`,
        );
      }
      const c: CheckpointSeries = {
        kind: s.kind,
        account: s.account,
        prefix: leafIds.checkpoint(s.kind, s.account, 0n).slice(0, -16),
        history,
        validators:
          s.kind === CheckpointKind.Delegation ? (history as DelegationHistory).validators : undefined,
        indices: [...s.indices],
        dirtyAt: -1,
      };
      (t.series[s.kind] as Map<Address, CheckpointSeries>).set(s.account, c);
      t.checkpointCount += s.indices.length;
      for (let at = 0; at < s.indices.length; at++) {
        const index = s.indices[at] as number;
        claim(index, `checkpoint ${c.prefix}#${at}`);
        if (rehash) t.tree.setLeafBytes(index, encodeSeriesLeaf(c, at));
      }
    }
    return t;
  }

  /** Hashes every changed or new leaf into the tree. */
  flush(): void {
    this.endStep();
    const dirty = this.dirty;
    this.dirty = [];
    for (const e of dirty) {
      e.dirty = false;
      this.tree.setLeafBytes(e.index, e.encode());
    }
    const series = this.dirtySeries;
    const at = this.dirtyAt;
    this.dirtySeries = [];
    this.dirtyAt = [];
    for (let i = 0; i < series.length; i++) {
      const c = series[i] as CheckpointSeries;
      const k = at[i] as number;
      c.dirtyAt = -1;
      this.tree.setLeafBytes(c.indices[k] as number, encodeSeriesLeaf(c, k));
    }
  }
}

// ---- leaf encoders (docs/protocol.md §8): each returns a view into a shared buffer; copy it to keep it ----

export function encodeGlobalLeaf(s: GovernanceState): Uint8Array {
  const p = s.lastPosition;
  return LeafWriter.shared(1 + 8 + 8 + 4 + 4 + 8 + 4 + 32 * 3)
    .u8(0x01)
    .u64(s.epoch)
    .u64(p ? p.block : 0n)
    .u32(p ? p.txIndex : 0)
    .u32(p ? p.logIndex : 0)
    .u64(s.proposalCount)
    .u32(s.active.length)
    .u256(s.totalBonded)
    .u256(s.totalIssued)
    .u256(s.treasury)
    .done();
}

export function encodeParamLeaf(key: ParamKey, value: bigint): Uint8Array {
  return LeafWriter.shared(1 + 32 + 32)
    .u8(0x02)
    .name32(key)
    .u256(value)
    .done();
}

export function encodePendingParamLeaf(key: ParamKey, pending: PendingParam): Uint8Array {
  return LeafWriter.shared(1 + 32 + 32 + 8)
    .u8(0x0b)
    .name32(key)
    .u256(pending.value)
    .u64(pending.activationEpoch)
    .done();
}

export function encodeModuleLeaf(id: string, m: ModuleRecord): Uint8Array {
  return LeafWriter.shared(1 + 32 + 8 + 32)
    .u8(0x03)
    .name32(id)
    .u64(m.version)
    .raw(hexToBytes(m.codeHash, 'codeHash'))
    .done();
}

export function encodeValidatorLeaf(v: ValidatorRecord): Uint8Array {
  return LeafWriter.shared(1 + 20 + 2 + 32 + 32 + 4)
    .u8(0x04)
    .address(v.address)
    .u16(v.commissionBps)
    .u256(v.selfStake)
    .u256(v.delegated)
    .u32(v.delegators.size)
    .done();
}

export function encodeDelegationLeaf(d: DelegationRecord): Uint8Array {
  return LeafWriter.shared(1 + 20 + 20 + 32)
    .u8(0x05)
    .address(d.delegator)
    .address(d.validator)
    .u256(d.amount)
    .done();
}

export function encodeActiveLeaf(index: number, entry: ActiveEntry | undefined): Uint8Array {
  return LeafWriter.shared(1 + 4 + 20 + 32)
    .u8(0x06)
    .u32(index)
    .address(entry ? entry.validator : ZERO_ADDRESS)
    .u256(entry ? entry.power : 0n)
    .done();
}

export function encodeRewardLeaf(account: Address, accrued: bigint): Uint8Array {
  return LeafWriter.shared(1 + 20 + 32)
    .u8(0x07)
    .address(account)
    .u256(accrued)
    .done();
}

export function encodeProposalLeaf(p: ProposalRecord): Uint8Array {
  return LeafWriter.shared(1 + 8 + 20 + 8 * 3 + 2 + 2 + 8 + 32 + 1 + 8 + 8 + 32 * 3 + 32)
    .u8(0x08)
    .u64(p.id)
    .address(p.proposer)
    .u64(p.createdBlock)
    .u64(p.snapshotBlock)
    .u64(p.voteEnd)
    .u16(Number(p.quorumBps))
    .u16(Number(p.thresholdBps))
    .u64(p.timelock)
    .u256(p.bondedAtSnapshot)
    .u8(p.status)
    .u64(p.eta)
    .u64(p.executedEpoch)
    .u256(p.tally.for)
    .u256(p.tally.against)
    .u256(p.tally.abstain)
    .raw(p.actionsHash)
    .done();
}

/**
 * A proposal's action as a leaf (§8, tag 0x0c), written once by `propose`: the state keeps the actions
 * themselves, not only their hash, so `execute` in GVM-1 (Part III) reads them from the image (the
 * machine cannot recompute the SHA-256 actionsHash).
 */
export function encodeActionLeaf(proposalId: bigint, index: number, a: ProposalAction): Uint8Array {
  const w = LeafWriter.shared(1 + 8 + 1 + 1 + 32 * 3)
    .u8(0x0c)
    .u64(proposalId)
    .u8(index);
  if (a.kind === 'setParameter') return w.u8(0).name32(a.key).u256(a.value).u256(0n).done();
  return w.u8(1).name32(a.moduleId).u256(a.version).raw(hexToBytes(a.codeHash, 'codeHash')).done();
}

const SUPPORT_CODE: Record<VoteSupport, number> = { against: 0, for: 1, abstain: 2 };

export function encodeVoteLeaf(proposalId: bigint, voter: Address, v: VoteRecord): Uint8Array {
  return LeafWriter.shared(1 + 8 + 20 + 1 + 1 + 32)
    .u8(0x09)
    .u64(proposalId)
    .address(voter)
    .u8(SUPPORT_CODE[v.support])
    .u8(v.isValidator ? 1 : 0)
    .u256(v.weight)
    .done();
}

export const CheckpointKind = { Self: 0, Delegated: 1, Delegation: 2, Bonded: 3 } as const;
export type CheckpointKind = (typeof CheckpointKind)[keyof typeof CheckpointKind];

export function encodeCheckpointLeaf(
  kind: CheckpointKind,
  account: Address,
  block: bigint,
  validator: Address | null,
  value: bigint,
): Uint8Array {
  return LeafWriter.shared(1 + 1 + 20 + 8 + 20 + 32)
    .u8(0x0a)
    .u8(kind)
    .address(account)
    .u64(block)
    .address(validator ?? ZERO_ADDRESS)
    .u256(value)
    .done();
}

// ---- leaf ids: the lowercase hex of each leaf's key bytes (tag + key fields) ----

const u64Hex = (v: bigint): string => v.toString(16).padStart(16, '0');
const nameHex = (name: string): string => bytesToHex(utf8(name)).padEnd(64, '0');

/** Leaf ids, for `proveLeaf` and for reading one leaf. */
export const leafIds = {
  global: (): string => '01',
  param: (key: ParamKey): string => `02${nameHex(key)}`,
  module: (id: string): string => `03${nameHex(id)}`,
  validator: (a: Address): string => `04${a.slice(2)}`,
  delegation: (delegator: Address): string => `05${delegator.slice(2)}`,
  activeSlot: (i: number): string => `06${i.toString(16).padStart(8, '0')}`,
  reward: (a: Address): string => `07${a.slice(2)}`,
  proposal: (id: bigint): string => `08${u64Hex(id)}`,
  vote: (id: bigint, voter: Address): string => `09${u64Hex(id)}${voter.slice(2)}`,
  checkpoint: (kind: CheckpointKind, account: Address, block: bigint): string =>
    `0a0${kind}${account.slice(2)}${u64Hex(block)}`,
  pendingParam: (key: ParamKey): string => `0b${nameHex(key)}`,
  action: (id: bigint, index: number): string => `0c${u64Hex(id)}${index.toString(16).padStart(2, '0')}`,
};

// ---- marking helpers: the one place that knows each leaf's id ----

export function markGlobal(s: GovernanceState): void {
  s.leaves.markGlobal();
}
export const markParam = (s: GovernanceState, key: ParamKey): void =>
  s.leaves.mark(leafIds.param(key), () => encodeParamLeaf(key, s.params[key]));
export const markPendingParam = (s: GovernanceState, key: ParamKey): void =>
  s.leaves.mark(leafIds.pendingParam(key), () =>
    encodePendingParamLeaf(key, s.pendingParams.get(key) as PendingParam),
  );
export const markModule = (s: GovernanceState, id: string): void =>
  s.leaves.mark(leafIds.module(id), () => encodeModuleLeaf(id, s.modules.get(id) as ModuleRecord));
export const markValidator = (s: GovernanceState, v: ValidatorRecord): void => {
  v.leafSlot ??= { id: leafIds.validator(v.address), encode: () => encodeValidatorLeaf(v), entry: undefined };
  s.leaves.markSlot(v.leafSlot);
};
export const markDelegation = (s: GovernanceState, d: DelegationRecord): void => {
  d.leafSlot ??= {
    id: leafIds.delegation(d.delegator),
    encode: () => encodeDelegationLeaf(d),
    entry: undefined,
  };
  s.leaves.markSlot(d.leafSlot);
};
export const markActiveSlot = (s: GovernanceState, i: number): void =>
  s.leaves.mark(leafIds.activeSlot(i), () => encodeActiveLeaf(i, s.active[i]));
export const markReward = (s: GovernanceState, account: Address): void =>
  s.leaves.mark(leafIds.reward(account), () => encodeRewardLeaf(account, s.rewards.get(account) ?? 0n));
export const markProposal = (s: GovernanceState, p: ProposalRecord): void => {
  p.leafSlot ??= { id: leafIds.proposal(p.id), encode: () => encodeProposalLeaf(p), entry: undefined };
  s.leaves.markSlot(p.leafSlot);
};
/** Creates the leaves of a new proposal's actions (they never change afterwards). */
export function markActions(s: GovernanceState, p: ProposalRecord): void {
  p.actions.forEach((a, i) => {
    s.leaves.mark(leafIds.action(p.id, i), () => encodeActionLeaf(p.id, i, a));
  });
}
export const markVote = (s: GovernanceState, p: ProposalRecord, voter: Address): void =>
  s.leaves.mark(leafIds.vote(p.id, voter), () =>
    encodeVoteLeaf(p.id, voter, p.votes.get(voter) as VoteRecord),
  );

/** Marks the checkpoint leaf of `history`'s last entry, just written (see `LeafTable.markCheckpoint`). */
export function markCheckpoint(
  s: GovernanceState,
  kind: CheckpointKind,
  account: Address,
  history: History,
): void {
  s.leaves.markCheckpoint(kind, account, history);
}

export type GenesisOptions = {
  /** Parameter overrides; each must lie within its bounds. */
  params?: Partial<Record<ParamKey, bigint>>;
  /** Modules registered at genesis, in leaf order. */
  modules?: readonly { id: string; version: bigint; codeHash: Hash32 }[];
};

/** Builds the genesis state without validation; use `createGenesisState` (genesis.ts) from outside. */
export function buildGenesisState(
  params: Record<ParamKey, bigint>,
  options: GenesisOptions,
): GovernanceState {
  const s: GovernanceState = {
    params,
    pendingParams: new Map(ROLLUP_PARAM_KEYS.map((k) => [k, { value: 0n, activationEpoch: 0n }])),
    modules: new Map(),
    validators: new Map(),
    delegations: new Map(),
    active: [],
    activeSlots: 0,
    rewards: new Map(),
    treasury: 0n,
    totalIssued: 0n,
    totalBonded: 0n,
    bondedHistory: { blocks: [], values: [] },
    proposals: new Map(),
    proposalCount: 0n,
    epoch: 0n,
    lastPosition: null,
    executedThisEpoch: [],
    leaves: new LeafTable(),
  };
  // Genesis leaves keep the documented order: global, params in PARAM_KEYS order, pending rollup
  // parameters in ROLLUP_PARAM_KEYS order, modules as given.
  s.leaves.appendGenesis(leafIds.global(), () => encodeGlobalLeaf(s));
  for (const key of PARAM_KEYS)
    s.leaves.appendGenesis(leafIds.param(key), () => encodeParamLeaf(key, s.params[key]));
  for (const key of ROLLUP_PARAM_KEYS)
    s.leaves.appendGenesis(leafIds.pendingParam(key), () =>
      encodePendingParamLeaf(key, s.pendingParams.get(key) as PendingParam),
    );
  for (const m of options.modules ?? []) {
    s.modules.set(m.id, { version: m.version, codeHash: m.codeHash });
    s.leaves.appendGenesis(leafIds.module(m.id), () =>
      encodeModuleLeaf(m.id, s.modules.get(m.id) as ModuleRecord),
    );
  }
  return s;
}
