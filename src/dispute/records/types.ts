/**
 * What a dispute record holds, as types the compiler checks: one record type per state (what a state
 * guarantees is a required field of its type), one event type per kind, amounts as bigint, heights as
 * numbers, transaction bytes as Uint8Array and txids as checked hex. The Redis form (strings in a hash,
 * JSON events) is `codec.ts`'s business alone.
 */
import type { DisputeOutcome, DisputeState } from './state-machine.ts';

declare const txidBrand: unique symbol;
declare const blockHashBrand: unique symbol;

/** A transaction id as Bitcoin displays it: 64 lowercase hex digits. */
export type Txid = string & { readonly [txidBrand]: true };
/** A block hash as Bitcoin displays it: 64 lowercase hex digits. */
export type BlockHash = string & { readonly [blockHashBrand]: true };

const HASH_HEX = /^[0-9a-f]{64}$/;

export function isTxid(s: string): s is Txid {
  return HASH_HEX.test(s);
}

/** `s` as a txid; a RangeError when it is not 64 lowercase hex digits. */
export function asTxid(s: string): Txid {
  if (!isTxid(s)) throw new RangeError(`Not a txid: ${s}`);
  return s;
}

/** `s` as a block hash; a RangeError when it is not 64 lowercase hex digits. */
export function asBlockHash(s: string): BlockHash {
  if (!HASH_HEX.test(s)) throw new RangeError(`Not a block hash: ${s}`);
  return s as BlockHash;
}

/** The role of a transaction Vigil sends in a game (game-types.ts), as metrics and events name it. */
export type GameTxRole =
  | 'game-challenge'
  | 'game-move'
  | 'game-slash'
  | 'game-timeout'
  | 'game-assert-timeout'
  | 'game-refund'
  /** A child of w's challenge paying for it (CPFP through w's change). */
  | 'game-challenge-cpfp'
  /** A child of one of w's moves paying for it through its anchor and the game's purse. */
  | 'game-move-cpfp';

/** The transactions Vigil sends, as metrics and events name them. */
export type SentTx = 'challenge' | 'assert-timeout' | 'disprove' | GameTxRole;

/** One version of Vigil's challenge (the original, then each replacement). Rates in sat/kvB. */
export type ChallengeVersion = { txid: Txid; raw: Uint8Array; fee: bigint; feeRate: bigint };

/** A wallet coin a challenge version spends. */
export type CommittedCoin = { txid: Txid; vout: number; value: bigint };

/** Set when the dispute is opened (the verdict and deadlines) and by the diagnosis after it. */
export type OpenedFacts = {
  /** The operator's graph document (JSON), kept for re-import and export. */
  graph: string;
  /** The verdict (JSON), informational. */
  verdict: string;
  /** When the fraudulent kick-off was seen at depth (ms since the epoch). */
  seenAt?: number;
  /** The last height at which a challenge still counts (every open job sets it; records of tests may not). */
  challengeBy?: number;
  /** The first height at which the assert-timeout may be mined (set with `challengeBy`). */
  assertTimeoutFrom?: number;
  /** Vigil's own trace roots r_0 … r_k as opened (hex strings, checked when a disprove is planned). */
  expectedTrace?: string[];
  /** Where the fraud is (JSON), informational. */
  diagnosis?: string;
};

/**
 * The challenge that spends (or is about to spend) connector A. `txid` is the one followed now, Vigil's
 * or someone else's (`by`); `raw`, `fee` and `feeRate` are Vigil's current version.
 */
export type ChallengeFacts = {
  txid?: Txid;
  raw?: Uint8Array;
  fee?: bigint;
  feeRate?: bigint;
  /** Every version Vigil wrote, original first (absent in records written before fee bumping). */
  versions?: ChallengeVersion[];
  /** The wallet coins the current version spends. */
  coins?: CommittedCoin[];
  /** The tip height when the current version was written. */
  sentHeight?: number;
  by?: 'vigil' | 'other';
  /** The tip height when someone else's challenge was first seen. */
  foreignSeenHeight?: number;
  /** The block the challenge's confirmation was last checked in. */
  seenIn?: { txid: Txid; blockHash: BlockHash };
};

/** A transaction Vigil built whose reward it fills in (assert-timeout, disprove). */
export type RewardTxFacts = { txid?: Txid; raw?: Uint8Array; fee?: bigint };

/** A transaction built and checked in mode dry-run, never sent. */
export type DryRunTx = { txid: Txid; raw: Uint8Array };

export type DisproveFacts = RewardTxFacts & {
  /** The step the stored disprove disproves. */
  step?: number;
  sentHeight?: number;
  /** Why no step can be disproved (a `DisproveImpossibleCode`), once judged. */
  impossible?: string;
};

/** The facts every record carries, whatever its state. */
export type DisputeFacts = {
  opened: OpenedFacts;
  challenge: ChallengeFacts;
  timeout: RewardTxFacts;
  /** The assert's block and the disprove deadline it sets. */
  assert: { height?: number; disproveBy?: number };
  disprove: DisproveFacts;
  /** The disprove that spent the asserted stake, Vigil's or another challenger's. */
  disproved: { txid?: Txid; by?: 'vigil' | 'other'; step?: number };
  dryRun: { challenge?: DryRunTx; disprove?: DryRunTx };
};

type RecordBase = DisputeFacts & {
  id: string;
  epoch: bigint;
  kickoffTxid: Txid;
  kickoffHeight: number;
  /** Incremented by every change. */
  version: number;
  createdAt: number;
  updatedAt: number;
  /** The schema version the record was read from (`codec.ts`). */
  schema: number;
};

type Challenged = { challenge: ChallengeFacts & { txid: Txid } };

export type DetectedRecord = RecordBase & { state: 'detected'; outcome: undefined };
export type ChallengedRecord = RecordBase & Challenged & { state: 'challenged'; outcome: undefined };
export type ConfirmedRecord = RecordBase & Challenged & { state: 'confirmed'; outcome: undefined };
export type AssertedRecord = RecordBase & Challenged & { state: 'asserted'; outcome: undefined };
export type TimedOutRecord = RecordBase & Challenged & { state: 'timed-out'; outcome: undefined };
export type DisprovedRecord = RecordBase &
  Challenged & {
    state: 'disproved';
    outcome: undefined;
    disproved: { txid: Txid; by: 'vigil' | 'other'; step?: number };
  };
export type ResolvedRecord = RecordBase & { state: 'resolved'; outcome: DisputeOutcome };

export type DisputeRecord =
  | DetectedRecord
  | ChallengedRecord
  | ConfirmedRecord
  | AssertedRecord
  | TimedOutRecord
  | DisprovedRecord
  | ResolvedRecord;

/** A change to a record's facts: each group's fields that are set are written, the rest left alone. */
export type DisputePatch = {
  opened?: Partial<OpenedFacts>;
  challenge?: ChallengeFacts;
  timeout?: RewardTxFacts;
  assert?: DisputeFacts['assert'];
  disprove?: DisproveFacts;
  disproved?: DisputeFacts['disproved'];
  dryRun?: DisputeFacts['dryRun'];
};

/** The transactions a record writes ahead: the first writer of the slot wins (`note`'s `onlyIfAbsent`). */
export type WriteAheadSlot = 'challenge' | 'timeout' | 'disprove';

// ---- events ----------------------------------------------------------------------------------------

type Built = { txid: Txid; fee: bigint; vsize: number };

/** What a move between states carries; which fields are set depends on the move. */
export type TransitionDetail = {
  txid?: Txid;
  /** Whether the challenge or disprove is Vigil's. */
  ours?: boolean;
  /** The assert-timeout's sender. */
  by?: 'vigil' | 'other';
  blockHash?: BlockHash;
  height?: number;
  /** Why a confirmed challenge went back to `challenged`. */
  reason?: string;
  step?: number;
  /** The take that spent connector A (outcome `missed`). */
  take?: Txid;
  /** Vigil's disprove that lost to the payout. */
  lostDisprove?: Txid;
  disproveImpossible?: string;
};

/** Every kind of event, with what it carries. */
export type EventBody =
  | { type: 'detected'; detail?: { epoch: bigint; kickoffTxid: Txid } }
  | { type: 'transition'; detail?: TransitionDetail }
  | { type: 'challenge-built'; detail: Built }
  | { type: 'challenge-rebuilt'; detail: Built & { replaces: string; reason: string } }
  | {
      type: 'challenge-bumped';
      detail: Built & { replaces: string; feeRate: bigint; estimate?: bigint };
    }
  | { type: 'challenge-withheld'; detail: { mode: string; reason?: string } }
  | { type: 'challenge-conflicted'; detail: { by: Txid } }
  | { type: 'challenge-followed'; detail: { txid: Txid; replacedBy?: Txid; blockHash?: BlockHash } }
  | { type: 'challenge-in-block'; detail: { txid: Txid; blockHash: BlockHash; height: number } }
  | { type: 'dry-run-built'; detail: Built & { step?: number; tx?: 'disprove' } }
  | { type: 'broadcast' | 'rebroadcast' | 'disprove-rebroadcast'; detail: { txid: Txid } }
  | {
      type: 'send-conflict';
      detail: { tx: SentTx; txid: Txid; kind?: 'conflict' | 'fee-too-low'; reason: string };
    }
  | {
      type: 'send-refused';
      detail: { tx: SentTx; txid: Txid; kind: 'refused' | 'fee-cap' | 'check'; reason: string };
    }
  | {
      type: 'fee-capped';
      /** `txid` is 'none' when no challenge was stored yet. */
      detail: { txid: string; tx?: SentTx; feeRate?: bigint; reason: string };
    }
  | { type: 'timeout-built'; detail: Built }
  | { type: 'timeout-followed'; detail: { txid: Txid; replaces: Txid } }
  | {
      type: 'assert-timeout-rebuilt' | 'disprove-rebuilt';
      detail: { replaces: Txid; txid: Txid; fee: bigint; reason: string };
    }
  | { type: 'disprove-window'; detail: { assertTxid: Txid; assertHeight: number; disproveBy: number } }
  | { type: 'disprove-built'; detail: Built & { step: number } }
  | { type: 'disprove-broadcast'; detail: { txid: Txid; step: number } }
  | { type: 'disprove-impossible'; detail: { code: string; reason: string; step?: number } }
  | { type: 'disprove-withheld'; detail: { step: number; mode: string; reason: string } }
  | { type: 'diagnosed'; detail: { diagnosis: unknown } };

export type DisputeEventType = EventBody['type'];

/** An event that records a fact without a state change. */
export type NoteBody = Exclude<EventBody, { type: 'detected' | 'transition' }>;

export type DisputeEvent = EventBody & {
  /** Position in the history, from 1. */
  seq: number;
  /** Milliseconds since the epoch. */
  at: number;
  from?: DisputeState;
  to?: DisputeState;
  /** The idempotency key that applied it. */
  key: string;
};
