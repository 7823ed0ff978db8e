/**
 * The judge: one epoch's evidence from both chains and the reference model in, one verdict out.
 * Pure. It fails closed: a challenge costs money and accuses someone, so "fraud" is only returned when
 * every fact it rests on is complete and at depth; anything missing makes the verdict "unavailable",
 * with the reasons, and the caller alerts on it as the deadline nears.
 *
 * What is challengeable on Bitcoin is the kick-off: a revealed state root (or epoch, or L2 block hash)
 * that differs from what the model computed. The L2 commitment is compared too: when it and the
 * kick-off disagree the operator has equivocated, which is reported whichever of the two is wrong.
 * A missing L2 commitment never blocks judging the kick-off: otherwise an operator could stall every
 * challenge by simply not committing on the L2.
 */
import { bytesToHex, equalBytes } from '../core/bytes.ts';

export type VerdictOutcome = 'valid' | 'fraud' | 'unavailable';

/** Why a verdict is what it is; codes are stable (logs, metrics, alerts), messages are for humans. */
export type ReasonCode =
  | 'reexecution-incomplete'
  | 'l2-behind'
  | 'l2-not-at-depth'
  | 'kickoff-not-seen'
  | 'kickoff-not-at-depth'
  | 'kickoff-unreadable'
  | 'graph-unverified'
  | 'root-mismatch'
  | 'epoch-mismatch'
  | 'l2-block-mismatch'
  | 'l2-commitment-missing'
  | 'l2-commitment-wrong'
  | 'equivocation';

export type VerdictReason = { code: ReasonCode; message: string };

/** The model's side: the root it computed for the epoch, or why it could not. */
export type ReexecutionFact =
  | {
      complete: true;
      root: Uint8Array;
      stepIndex?: number;
      /** r_0 … r_k of the epoch's trace (src/dispute/trace-checkpoints.ts), when the source computed them. */
      checkpoints?: Uint8Array[];
    }
  | { complete: false; reason: string };

/** The L2 side: how far ingestion is, and what the operator committed for the epoch. */
export type L2Fact = {
  /** Ingestion has every input of the epoch at `l2.confirmations` depth. */
  inputsFinal: boolean;
  /** Ingestion's head is behind the epoch's end (a node that is still syncing). */
  behind: boolean;
  /** The L2 block hash at the epoch's end, when known. */
  epochEndBlockHash?: Uint8Array;
  commitment:
    | { status: 'committed'; root: Uint8Array; depth: number }
    | { status: 'missing' }
    | { status: 'pending'; depth: number };
};

/** The Bitcoin side: the operator's kick-off of this epoch and what its witness revealed. */
export type KickoffFact =
  | { status: 'not-seen' }
  | { status: 'unreadable'; reason: string; txid: string }
  | {
      status: 'seen';
      txid: string;
      depth: number;
      /** The values the Winternitz signatures reveal. */
      revealed: { epoch: bigint; stateRoot: Uint8Array; l2BlockHash: Uint8Array };
    };

export type EpochEvidence = {
  epoch: bigint;
  reexecution: ReexecutionFact;
  l2: L2Fact;
  kickoff: KickoffFact;
  /** The operator's graph was imported and verified (every transaction rebuilt, every signature checked). */
  graphVerified: boolean;
  /** Depths required before a fact is acted on. */
  depth: { l2: number; bitcoin: number };
};

export type Verdict = {
  epoch: bigint;
  outcome: VerdictOutcome;
  /** True only for fraud the kick-off carries: the one thing a challenge on Bitcoin can answer. */
  challengeable: boolean;
  equivocation: boolean;
  reasons: VerdictReason[];
  expectedRoot: Uint8Array | undefined;
  kickoffTxid: string | undefined;
};

const hex = (b: Uint8Array): string => bytesToHex(b);

function missingFacts(e: EpochEvidence): VerdictReason[] {
  const out: VerdictReason[] = [];
  if (!e.reexecution.complete) {
    out.push({ code: 'reexecution-incomplete', message: `re-execution incomplete: ${e.reexecution.reason}` });
  }
  if (e.l2.behind) out.push({ code: 'l2-behind', message: 'the L2 node is behind the epoch end' });
  else if (!e.l2.inputsFinal) {
    out.push({ code: 'l2-not-at-depth', message: `the epoch's L2 inputs are not ${e.depth.l2} blocks deep` });
  }
  const k = e.kickoff;
  if (k.status === 'not-seen') out.push({ code: 'kickoff-not-seen', message: 'no kick-off on Bitcoin yet' });
  else if (k.status === 'unreadable') {
    out.push({ code: 'kickoff-unreadable', message: `kick-off ${k.txid} unreadable: ${k.reason}` });
  } else if (k.depth < e.depth.bitcoin) {
    out.push({
      code: 'kickoff-not-at-depth',
      message: `kick-off ${k.txid} has ${k.depth} confirmations, ${e.depth.bitcoin} required`,
    });
  }
  if (!e.graphVerified) {
    out.push({ code: 'graph-unverified', message: "the operator's graph is not imported and verified" });
  }
  return out;
}

/** Judges one epoch. Never throws on missing data: that is what "unavailable" is for. */
export function judgeEpoch(e: EpochEvidence): Verdict {
  const kickoffTxid =
    e.kickoff.status === 'seen' || e.kickoff.status === 'unreadable' ? e.kickoff.txid : undefined;
  const expectedRoot = e.reexecution.complete ? e.reexecution.root : undefined;
  const missing = missingFacts(e);
  if (missing.length > 0 || expectedRoot === undefined || e.kickoff.status !== 'seen') {
    return {
      epoch: e.epoch,
      outcome: 'unavailable',
      challengeable: false,
      equivocation: false,
      reasons: missing,
      expectedRoot,
      kickoffTxid,
    };
  }
  const revealed = e.kickoff.revealed;
  const reasons: VerdictReason[] = [];
  let challengeable = false;
  if (revealed.epoch !== e.epoch) {
    challengeable = true;
    reasons.push({
      code: 'epoch-mismatch',
      message: `kick-off reveals epoch ${revealed.epoch}, not ${e.epoch}`,
    });
  }
  if (!equalBytes(revealed.stateRoot, expectedRoot)) {
    challengeable = true;
    reasons.push({
      code: 'root-mismatch',
      message: `kick-off reveals root ${hex(revealed.stateRoot)}, the model computed ${hex(expectedRoot)}`,
    });
  }
  if (e.l2.epochEndBlockHash !== undefined && !equalBytes(revealed.l2BlockHash, e.l2.epochEndBlockHash)) {
    challengeable = true;
    reasons.push({
      code: 'l2-block-mismatch',
      message: `kick-off names L2 block ${hex(revealed.l2BlockHash)}, the epoch ended at ${hex(e.l2.epochEndBlockHash)}`,
    });
  }
  let equivocation = false;
  const c = e.l2.commitment;
  if (c.status === 'committed' && c.depth >= e.depth.l2) {
    if (!equalBytes(c.root, expectedRoot)) {
      reasons.push({
        code: 'l2-commitment-wrong',
        message: `the L2 commitment ${hex(c.root)} differs from the model's root`,
      });
    }
    if (!equalBytes(c.root, revealed.stateRoot)) {
      equivocation = true;
      reasons.push({
        code: 'equivocation',
        message: `the L2 commits ${hex(c.root)} while the kick-off reveals ${hex(revealed.stateRoot)}`,
      });
    }
  } else {
    reasons.push({
      code: 'l2-commitment-missing',
      message: 'no L2 commitment for this epoch at depth (the kick-off is judged on its own)',
    });
  }
  const lied = reasons.some((r) => r.code !== 'l2-commitment-missing');
  return {
    epoch: e.epoch,
    outcome: lied ? 'fraud' : 'valid',
    challengeable,
    equivocation,
    reasons,
    expectedRoot,
    kickoffTxid,
  };
}
