/**
 * Child-pays-for-parent for w's challenge (docs/protocol.md §24.11 item 30). C_w's txid is fixed by the
 * graph (every game transaction spends its outputs), so its fee cannot be raised by replacement. Its
 * change output is w's alone (a key-path P2TR of w's key, the bond address), so a child spending it
 * lifts the package: Core mines by ancestor fee rate, and a replacement of C_w must pay more than C_w and
 * every descendant together (BIP-125 rule 3). Each child replaces the one before (they spend the same
 * change), paying its fee plus the incremental relay fee for its own size (rules 3 and 4).
 *
 * The only transaction that conflicts with C_w is the take (it spends every A_w, valid from T_c): the
 * presigned take has one fee and no ladder, so a package that pays more than the take in all, at a
 * higher rate, can be neither replaced by it in a mempool nor passed over for it by a miner maximising
 * fees (`takeBar`).
 *
 * Pure: the caller reads the chain and the estimate, this says what the child pays and builds it.
 */
import { taprootOutput } from '../../bitcoin/taproot/output.ts';
import { txid, txVsize } from '../../bitcoin/tx/serialize.ts';
import { SIGHASH_DEFAULT } from '../../bitcoin/tx/sighash.ts';
import type { Prevout, Tx } from '../../bitcoin/tx/types.ts';
import { equalBytes } from '../../core/bytes.ts';
import { signKeyPathInput } from '../graph/challenge.ts';
import { type ClaimGraph, challengeId } from './claim-graph.ts';
import {
  CORE_MAX_FEE_RATE,
  GAME_CONNECTOR_VALUE,
  GAME_SEQUENCE_NO_LOCK,
  GAME_TX_VERSION,
  gameTx,
} from './game-graph.ts';

/** The kick-off's output S (the stake): the take and the assert spend it. */
export const stakeVoutOf = (graph: ClaimGraph): number =>
  graph.spec.challengers.length + graph.assertConnectors.length;

/** C_w's output 1: w's change, the one output of the challenge nobody else can spend. */
export const CHALLENGE_CHANGE_VOUT = 1;

/** What a child's plan needs of the challenge: its fee and size as built, and its change. */
export type ChallengeParent = { readonly fee: bigint; readonly vsize: number; readonly change: bigint };

/** C_w as the graph fixes it: the fee it pays, its size with w's key-path signature, its change. */
export function challengeParent(graph: ClaimGraph, w: number, vsize: number): ChallengeParent {
  const gtx = gameTx(graph, challengeId(w));
  const change = gtx.tx.outputs[CHALLENGE_CHANGE_VOUT]?.value;
  if (change === undefined) throw new Error(`${gtx.id} has no change output`);
  return { fee: gtx.fee, vsize, change };
}

/** The child paying `fee`: C_w's change back to w's key, less the fee, signed by w (SIGHASH_DEFAULT). */
export function challengeChildTx(graph: ClaimGraph, w: number, fee: bigint, secret: Uint8Array): Tx {
  const tx = unsignedChild(graph, w, fee);
  signKeyPathInput({ tx, prevouts: [challengeChangePrevout(graph, w)] }, 0, secret, SIGHASH_DEFAULT);
  return tx;
}

function unsignedChild(graph: ClaimGraph, w: number, fee: bigint): Tx {
  const gtx = gameTx(graph, challengeId(w));
  const change = gtx.tx.outputs[CHALLENGE_CHANGE_VOUT];
  const key = graph.spec.challengers[w]?.key;
  if (change === undefined || key === undefined) throw new Error(`The claim has no challenge ${w}`);
  if (change.value - fee < GAME_CONNECTOR_VALUE) {
    throw new Error(
      `A child paying ${fee} sats leaves less than 330 of C_${w}'s ${change.value} sats of change`,
    );
  }
  return {
    version: GAME_TX_VERSION,
    inputs: [
      {
        prevTxid: txid(gtx.tx),
        vout: CHALLENGE_CHANGE_VOUT,
        scriptSig: new Uint8Array(),
        sequence: GAME_SEQUENCE_NO_LOCK,
        witness: [],
      },
    ],
    outputs: [{ value: change.value - fee, script: taprootOutput(key).scriptPubKey }],
    locktime: 0,
  };
}

/** What the child spends: C_w's change. */
export function challengeChangePrevout(graph: ClaimGraph, w: number): Prevout {
  const change = gameTx(graph, challengeId(w)).tx.outputs[CHALLENGE_CHANGE_VOUT];
  if (change === undefined) throw new Error(`The claim has no challenge ${w}`);
  return { value: change.value, script: change.script };
}

/** A child's size: one key-path input, one P2TR output (the signature is 64 bytes: fixed). */
export function challengeChildVsize(graph: ClaimGraph, w: number): number {
  const tx = unsignedChild(graph, w, 0n);
  (tx.inputs[0] as Tx['inputs'][number]).witness = [new Uint8Array(64)];
  return txVsize(tx);
}

/**
 * What the package must beat once T_c has passed: the presigned take's fee (the whole of it, plus the
 * incremental relay fee for its size, so that the take cannot replace the package: rule 3) and its rate
 * (so that a miner earns more from the package: the take pays one rate and has no ladder).
 */
export type TakeBar = { readonly fee: bigint; readonly rate: bigint };

export function takeBar(graph: ClaimGraph, incremental: bigint): TakeBar {
  const take = gameTx(graph, 'take');
  const vsize = BigInt(Math.ceil(take.maxWeight / 4));
  return { fee: take.fee + (incremental * vsize + 999n) / 1000n, rate: (take.fee * 1000n) / vsize };
}

export type ChildPlan =
  | { readonly kind: 'wait'; readonly reason: string }
  /** Nothing more can be paid (the cap, the change or the wallet's absolute cap): `reason` says which. */
  | { readonly kind: 'capped'; readonly reason: string }
  /** Send a child paying `fee`; the package then pays `rate` (sat/kvB). `limited` when a cap held it back. */
  | { readonly kind: 'child'; readonly fee: bigint; readonly rate: bigint; readonly limited?: string };

/** Rates in sat/kvB. */
export type ChildPlanInput = {
  readonly parent: ChallengeParent;
  readonly childVsize: number;
  /** The fee of the latest child written, if any: a new one replaces it. */
  readonly previous: bigint | undefined;
  /** The rate the package should pay. */
  readonly rate: bigint;
  /** The least the package must pay in all (the take's bar near T_c), if any. */
  readonly leastTotal?: bigint;
  /** The highest rate the package may pay (Vigil's cap). */
  readonly cap: bigint;
  /** The relay's incremental fee rate. */
  readonly incremental: bigint;
  /** The most one child may pay (Vigil's absolute cap). */
  readonly maxFee: bigint;
  /** The least a child pays on its own (the relay floor for its size: Core checks a child's own fee). */
  readonly minFee?: bigint;
};

const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

/** The package's rate with a child paying `child`. */
export function packageRate(parent: ChallengeParent, childVsize: number, child: bigint | undefined): bigint {
  const vsize = BigInt(parent.vsize + (child === undefined ? 0 : childVsize));
  return ((parent.fee + (child ?? 0n)) * 1000n) / vsize;
}

/**
 * What the next child pays: enough for the package to pay `rate` (and `leastTotal`), at least the
 * previous child's fee plus the incremental fee for its size, never more than the cap allows the
 * package, the change can give (330 sats stay), `maxFee`, or Core's maxfeerate allows the child.
 */
export function planChallengeChild(p: ChildPlanInput): ChildPlan {
  const vsize = BigInt(p.parent.vsize + p.childVsize);
  let want = ceilDiv(p.rate * vsize, 1000n) - p.parent.fee;
  if (p.leastTotal !== undefined && p.leastTotal - p.parent.fee > want) want = p.leastTotal - p.parent.fee;
  if (want <= 0n || (p.previous !== undefined && p.previous >= want)) {
    return { kind: 'wait', reason: 'the package pays the target already' };
  }
  let least =
    p.previous === undefined ? 1n : p.previous + ceilDiv(p.incremental * BigInt(p.childVsize), 1000n);
  if (p.minFee !== undefined && p.minFee > least) least = p.minFee;
  if (want < least) want = least;
  const limits: [bigint, string][] = [
    [(p.cap * vsize) / 1000n - p.parent.fee, `the package's rate would pass the cap (${p.cap} sat/kvB)`],
    [p.parent.change - GAME_CONNECTOR_VALUE, `C_w's change holds ${p.parent.change} sats`],
    [p.maxFee, `one transaction may pay at most ${p.maxFee} sats`],
    // Core's sendrawtransaction (and so every Esplora) refuses a transaction whose own rate passes its
    // default maxfeerate, and a child's own rate is far above the package's.
    [
      CORE_MAX_FEE_RATE * BigInt(p.childVsize),
      `the child's own rate would pass Core's maxfeerate (${CORE_MAX_FEE_RATE} sat/vB)`,
    ],
  ];
  let fee = want;
  let limited: string | undefined;
  for (const [most, why] of limits) {
    if (fee > most) {
      fee = most;
      limited = why;
    }
  }
  if (fee < least) return { kind: 'capped', reason: limited ?? 'no room' };
  const rate = packageRate(p.parent, p.childVsize, fee);
  return limited === undefined ? { kind: 'child', fee, rate } : { kind: 'child', fee, rate, limited };
}

// ---- the game's purse, and children of w's moves --------------------------------------------------

/**
 * A coin of w's the children spend (at w's key): C_w's change at first, then each child's output 0. A
 * move's anchor holds 330 sats, too little to pay for a move, so a child of a move spends the anchor and
 * the purse and returns the rest to w's key: the purse passes from child to child through the game.
 */
export type PurseCoin = { readonly txid: Uint8Array; readonly vout: number; readonly value: bigint };

/** The purse before any child: C_w's change. */
export function firstPurse(graph: ClaimGraph, w: number): PurseCoin {
  const gtx = gameTx(graph, challengeId(w));
  return { txid: txid(gtx.tx), vout: CHALLENGE_CHANGE_VOUT, value: challengeChangePrevout(graph, w).value };
}

/** Whether `tx` spends `coin`. */
export const spendsCoin = (tx: Tx, coin: PurseCoin): boolean =>
  tx.inputs.some((i) => i.vout === coin.vout && equalBytes(i.prevTxid, coin.txid));

/**
 * The purse now, from the children written (pure): from C_w's change, follow the child that spends each
 * purse (the one paying most among those that spend it: each replaced the one before) to its output 0.
 */
export function currentPurse(
  graph: ClaimGraph,
  w: number,
  children: readonly { tx: Tx; fee: bigint }[],
): PurseCoin {
  let purse = firstPurse(graph, w);
  for (let guard = 0; guard <= children.length; guard++) {
    let live: { tx: Tx; fee: bigint } | undefined;
    for (const c of children)
      if (spendsCoin(c.tx, purse) && (live === undefined || c.fee > live.fee)) live = c;
    if (live === undefined) return purse;
    purse = { txid: txid(live.tx), vout: 0, value: (live.tx.outputs[0] as { value: bigint }).value };
  }
  throw new Error('The children written form a loop');
}

/** The purse a child spends (its input 1 for a move's child, 0 for the challenge's). */
export function pursePrevout(graph: ClaimGraph, w: number, value: bigint): Prevout {
  return { value, script: challengeChangePrevout(graph, w).script };
}

/** A move of w's as its child needs it: the transaction and its anchor (the last output). */
export function anchorOf(move: Tx): { vout: number; value: bigint; script: Uint8Array } {
  const vout = move.outputs.length - 1;
  const out = move.outputs[vout];
  if (out === undefined || out.value !== GAME_CONNECTOR_VALUE) throw new Error('The move has no anchor');
  return { vout, value: out.value, script: out.script };
}

/**
 * The child of w's move `move` paying `fee`: its anchor and the purse, both w's, back to w's key as the
 * next purse; signed by w (SIGHASH_DEFAULT).
 */
export function moveChildTx(
  graph: ClaimGraph,
  w: number,
  move: Tx,
  purse: PurseCoin,
  fee: bigint,
  secret: Uint8Array,
): Tx {
  const tx = unsignedMoveChild(graph, w, move, purse, fee);
  const prevouts = moveChildPrevouts(graph, w, move, purse);
  signKeyPathInput({ tx, prevouts }, 0, secret, SIGHASH_DEFAULT);
  signKeyPathInput({ tx, prevouts }, 1, secret, SIGHASH_DEFAULT);
  return tx;
}

export function moveChildPrevouts(graph: ClaimGraph, w: number, move: Tx, purse: PurseCoin): Prevout[] {
  const a = anchorOf(move);
  return [{ value: a.value, script: a.script }, pursePrevout(graph, w, purse.value)];
}

/** A move's child's size: two key-path inputs, one P2TR output. */
export function moveChildVsize(graph: ClaimGraph, w: number, move: Tx, purse: PurseCoin): number {
  const tx = unsignedMoveChild(graph, w, move, purse, 0n);
  for (const i of tx.inputs) i.witness = [new Uint8Array(64)];
  return txVsize(tx);
}

function unsignedMoveChild(graph: ClaimGraph, w: number, move: Tx, purse: PurseCoin, fee: bigint): Tx {
  const a = anchorOf(move);
  const holds = a.value + purse.value;
  if (holds - fee < GAME_CONNECTOR_VALUE) {
    throw new Error(
      `A child paying ${fee} sats leaves less than 330 of the ${holds} its anchor and purse hold`,
    );
  }
  const input = (prevTxid: Uint8Array, vout: number) => ({
    prevTxid,
    vout,
    scriptSig: new Uint8Array(),
    sequence: GAME_SEQUENCE_NO_LOCK,
    witness: [] as Uint8Array[],
  });
  return {
    version: GAME_TX_VERSION,
    inputs: [input(txid(move), a.vout), input(purse.txid, purse.vout)],
    outputs: [{ value: holds - fee, script: challengeChangePrevout(graph, w).script }],
    locktime: 0,
  };
}
