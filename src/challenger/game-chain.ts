/**
 * What the chain shows of one challenger's game (docs/protocol.md §24.9), read through a Bitcoin backend:
 * the assert and every move confirmed at depth, each fetched by its txid (fixed by the claim graph),
 * hashed against it, and its Winternitz signatures verified under the game's keys (move-reader.ts); the
 * last of them and its height, from which the next move's clock t runs; a move seen but not yet deep
 * enough; and what ended the game when the last move's output was spent by anything but a move (a slash,
 * a timeout, a refusal, the forfeit), named by the graph's transaction or the leaf its witness used.
 *
 * What stays the backend's word: that a move is absent (absence cannot be shown), each status, and the
 * witness of a spender that is not one of the graph's transactions (the leaf an end is named by is read
 * from it). A backend that hides a confirmed move makes Vigil wait, never move wrongly. A backend that
 * invents a deep sweep of the last output could make Vigil take the game as ended: checking a spender's
 * witness against its block is not built yet.
 */
import type { BitcoinBackend, TxStatus, TxWithStatus } from '../bitcoin/backends/types.ts';
import { verifiedOutspend } from '../bitcoin/backends/verified-outspend.ts';
import { verifiedTx } from '../bitcoin/backends/verify.ts';
import { hashToDisplayHex, txid as txidOf, wtxidHex } from '../bitcoin/tx/serialize.ts';
import type { Tx } from '../bitcoin/tx/types.ts';
import { equalBytes } from '../core/bytes.ts';
import type { ClaimGraph } from '../dispute/game/claim-graph.ts';
import { readAssert, readKickoff } from '../dispute/game/claim-spend.ts';
import type { GameGraph } from '../dispute/game/game-graph.ts';
import type { GameOnChain } from '../dispute/game/game-turn.ts';
import { type PublishedValue, readMoveWitness } from '../dispute/game/move-reader.ts';
import type { Published } from '../dispute/game/move-tx.ts';
import type { MoveValues } from '../dispute/game/move-values.ts';
import type { WotsSignature } from '../dispute/winternitz/sign.ts';

/** How the game's last output at depth was spent, when not by a move. */
export type GameEnd = {
  readonly txid: string;
  readonly status: TxStatus;
  /** The output that was spent: `reserve` (Q_w) or a move id (its pot). */
  readonly site: string;
  /** The graph's transaction it is (`slash:…`, `timeout:…@rate`, `forfeit`), else the leaf it spent (`timeout`, `past-end`, …). */
  readonly by: string;
};

export type GameProgress = {
  readonly onChain: GameOnChain;
  /** Every Winternitz signature the confirmed moves published, by signer and label (for echoes and disproves). */
  readonly published: Published;
  /** The last move at depth (`assert` included) and the height it confirmed at. */
  readonly last: { readonly id: string; readonly height: number } | undefined;
  /** Moves, and a spender of the last output, seen but not yet at depth (in the mempool, or too recent). */
  readonly shallow: readonly string[];
  readonly end?: GameEnd;
  /** D's spender, if D is spent (by this game's slash, another game's, or the payout). */
  readonly stakeSpent?: { readonly txid: string; readonly status: TxStatus };
  /**
   * Every version of the operator's moves (the assert included) this walk fetched, deep or not, as the
   * backend returned it: the equivocation watch keeps each and compares the one at depth with the others.
   */
  readonly versions: readonly OperatorMoveVersion[];
};

/** One version of an operator's move as fetched: its bytes (witness included) and whether it is at depth. */
export type OperatorMoveVersion = { readonly id: string; readonly tx: Tx; readonly deep: boolean };

const txidHex = (tx: Tx): string => hashToDisplayHex(txidOf(tx));

/**
 * Verified readings of confirmed moves, by move id and wtxid: a reading depends only on the bytes (the
 * wtxid commits to the witness, the txid to the graph's keys), and a game job reads every move again at
 * each run, so each move's Winternitz signatures are verified once per process. Bounded: oldest out.
 */
const readings = new Map<string, PublishedValue[]>();
const READINGS_KEPT = 4_096;

function cachedReading(key: string, read: () => PublishedValue[]): PublishedValue[] {
  const hit = readings.get(key);
  if (hit !== undefined) return hit;
  const value = read();
  readings.set(key, value);
  if (readings.size > READINGS_KEPT) readings.delete(readings.keys().next().value as string);
  return value;
}

/**
 * The values and signatures one version of a move publishes (`assert`, or a move id of game `w`, either
 * side's), each signature verified under its key; throws MoveReadError for a transaction that is not the
 * move or does not verify. Cached by wtxid: a reading depends only on the bytes.
 */
export function readMoveVersion(claim: ClaimGraph, w: number, id: string, tx: Tx): PublishedValue[] {
  const game = claim.games[w];
  if (game === undefined) throw new RangeError(`The claim has no game ${w}`);
  return id === 'assert'
    ? cachedReading(`assert:${wtxidHex(tx)}`, () => readAssert(claim, tx))
    : cachedReading(`${id}:${wtxidHex(tx)}`, () => readMoveWitness(game, id, tx));
}

/** The kick-off's values (the three roots), each signature verified; cached by wtxid as the moves are. */
export function readKickoffVersion(claim: ClaimGraph, tx: Tx): PublishedValue[] {
  return cachedReading(`kickoff:${wtxidHex(tx)}`, () => readKickoff(claim, tx));
}

/** A transaction by its txid, checked to hash to it; undefined when the backend does not have it. */
async function fetchTx(backend: BitcoinBackend, txid: string): Promise<TxWithStatus | undefined> {
  const found = await backend.getTransaction(txid);
  if (found === undefined) return undefined;
  return { ...found, tx: verifiedTx(backend.kind, txid, found.raw) };
}

const depthOf = (status: TxStatus, tip: number): number =>
  status.confirmed ? tip - status.blockHeight + 1 : 0;

/** The name the graph gives a transaction that spends `site`'s output, or the leaf its witness used. */
function spenderName(game: GameGraph, site: string, spender: Tx, vin: number): string {
  const id = txidHex(spender);
  for (const t of game.txs.values()) if (txidHex(t.tx) === id) return t.id;
  const witness = spender.inputs[vin]?.witness ?? [];
  const script = witness[witness.length - 2];
  const out = site === 'reserve' ? game.reserve : game.nodes.get(site)?.pot;
  const leaves = site === 'reserve' ? game.reserveLeaves : game.nodes.get(site)?.leaves;
  if (script !== undefined && out !== undefined && leaves !== undefined) {
    for (const [name, k] of leaves)
      if (equalBytes(out.leaves[k]?.script ?? new Uint8Array(), script)) return name;
  }
  return 'unknown';
}

/** Reads challenger `w`'s game of `claim` as far as the chain shows it at `confirmations` deep. */
export async function readGameProgress(
  backend: BitcoinBackend,
  claim: ClaimGraph,
  w: number,
  confirmations: number,
): Promise<GameProgress> {
  const game = claim.games[w];
  if (game === undefined) throw new RangeError(`The claim has no game ${w}`);
  if (!Number.isInteger(confirmations) || confirmations < 1)
    throw new RangeError(`confirmations must be at least 1, not ${confirmations}`);
  const tip = await backend.getTipHeight();
  const operator = new Map<string, WotsSignature>();
  const challenger = new Map<string, WotsSignature>();
  const signatures = { operator, challenger };
  const published: Published = signatures;
  const moves = new Map<string, MoveValues>();
  const shallow: string[] = [];
  const versions: OperatorMoveVersion[] = [];
  const done = (
    assert: MoveValues | undefined,
    last: GameProgress['last'],
    extra: Partial<GameProgress> = {},
  ): GameProgress => ({
    onChain: { ...(assert === undefined ? {} : { assert }), moves },
    published,
    last,
    shallow,
    versions,
    ...extra,
  });

  const assertTxid = txidHex((claim.txs.get('assert') as { tx: Tx }).tx);
  const assertTx = await fetchTx(backend, assertTxid);
  if (assertTx !== undefined) {
    versions.push({ id: 'assert', tx: assertTx.tx, deep: depthOf(assertTx.status, tip) >= confirmations });
  }
  if (assertTx === undefined || depthOf(assertTx.status, tip) < confirmations) {
    if (assertTx !== undefined) shallow.push('assert');
    return done(undefined, undefined);
  }
  const assertValues = new Map<string, Uint8Array>();
  for (const p of readMoveVersion(claim, w, 'assert', assertTx.tx)) {
    operator.set(p.label, p.signature);
    assertValues.set(p.label, p.value);
  }
  const stake = await verifiedOutspend(backend, assertTxid, 0);
  const stakeSpent =
    stake.spent && stake.txid !== undefined && depthOf(stake.spender.status, tip) >= confirmations
      ? { txid: stake.txid, status: stake.spender.status }
      : undefined;
  const extra = stakeSpent === undefined ? {} : { stakeSpent };

  let last = { id: 'assert', height: (assertTx.status as { blockHeight: number }).blockHeight };
  let site = 'reserve';
  for (;;) {
    const children = [...game.nodes.values()].filter((n) =>
      site === 'reserve' ? n.parent === undefined : n.parent === site,
    );
    // The child that confirmed, else one seen in the mempool (two children spend one pot: at most one
    // confirms, and a stale one beside it must not hide it).
    let next: { id: string; found: TxWithStatus } | undefined;
    for (const c of children) {
      const found = await fetchTx(backend, txidHex(game.txs.get(c.id)?.tx as Tx));
      if (found === undefined) continue;
      if (c.move.mover === 'operator') {
        versions.push({ id: c.id, tx: found.tx, deep: depthOf(found.status, tip) >= confirmations });
      }
      if (next === undefined || (found.status.confirmed && !next.found.status.confirmed)) {
        next = { id: c.id, found };
      }
    }
    if (next === undefined) break;
    if (depthOf(next.found.status, tip) < confirmations) {
      shallow.push(next.id);
      return done(assertValues, last, extra);
    }
    const mover = game.nodes.get(next.id)?.move.mover;
    const own = new Map<string, Uint8Array>();
    const reading = readMoveVersion(claim, w, next.id, next.found.tx);
    for (const p of reading) {
      signatures[p.signer].set(p.label, p.signature);
      if (p.signer === mover) own.set(p.label, p.value);
    }
    moves.set(next.id, own);
    last = { id: next.id, height: (next.found.status as { blockHeight: number }).blockHeight };
    site = next.id;
  }

  // No move spends the last output yet: unspent, or spent by a slash, a timeout, a refusal, the forfeit.
  const out =
    site === 'reserve' ? game.outpoints.reserve : { txid: txidOf(game.txs.get(site)?.tx as Tx), vout: 0 };
  const spend = await verifiedOutspend(backend, hashToDisplayHex(out.txid), out.vout);
  if (spend.spent && spend.txid !== undefined) {
    const by = spenderName(game, site, spend.spender.tx, spend.vin);
    // A move broadcast since the walk above, or an end not yet deep: not the game's end yet.
    if (game.nodes.has(by) || depthOf(spend.spender.status, tip) < confirmations) {
      shallow.push(by);
      return done(assertValues, last, extra);
    }
    return done(assertValues, last, {
      ...extra,
      end: { txid: spend.txid, status: spend.spender.status, site, by },
    });
  }
  return done(assertValues, last, extra);
}
