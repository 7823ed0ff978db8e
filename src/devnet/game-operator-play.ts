/**
 * The devnet operator's side of its claims, once per block, from the chain alone (docs/protocol.md §24.6):
 * the take when nobody challenged by T_c, the assert when someone did, then in each challenger's game the
 * move it owes (answered from its own run), the refusal a leaf allows it, or the sweep of a pot the
 * challenger left for t, and D's payout at T_pay when no game slashed it. A strategy can keep it from
 * asserting or from sending one move (its opponent's timeout to take), have it show one move in two
 * versions (an equivocation for its opponent to prove), or keep one move unconfirmed behind a large
 * low-fee child (a stall, game-stall.ts).
 */
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import { verifiedOutspend } from '../bitcoin/backends/verified-outspend.ts';
import { verifiedTx } from '../bitcoin/backends/verify.ts';
import { serializeTx, txidHex, txVsize } from '../bitcoin/tx/serialize.ts';
import type { Tx } from '../bitcoin/tx/types.ts';
import { readGameProgress } from '../challenger/game-chain.ts';
import { challengeId } from '../dispute/game/claim-graph.ts';
import { completeAssert, completeCovenantTx, readKickoff } from '../dispute/game/claim-spend.ts';
import { gameTx } from '../dispute/game/game-graph.ts';
import { nextTurn, SILENT_CHALLENGER } from '../dispute/game/game-turn.ts';
import type { PublishedSignatures } from '../dispute/game/leaf-witness.ts';
import { leafSpendTx, moveTx } from '../dispute/game/move-tx.ts';
import { assertValues, type MoveValues } from '../dispute/game/move-values.ts';
import type { WotsSignature } from '../dispute/winternitz/sign.ts';
import { anotherValue } from './game-equivocate.ts';
import type { GameOperatorBehaviour, OperatorGameClaim } from './game-operator.ts';

export type PlayContext = {
  readonly backend: BitcoinBackend;
  readonly secret: Uint8Array;
  /** Where the operator's sweeps pay. */
  readonly script: Uint8Array;
  readonly behaviour: GameOperatorBehaviour;
  /** Takes the version of a move the next block must mine in place of the mempool's (`equivocateAt`). */
  readonly mineInstead?: (tx: Tx) => void;
  /** `stallAt`'s side: whether a move was stalled already, and the stall of one just sent (game-stall.ts). */
  readonly stall?: {
    readonly stalled: (moveTxid: string) => boolean;
    readonly pad: (move: Tx, epoch: bigint) => Promise<string>;
  };
};

/** Sat/vB the operator's own sweeps and refusals pay (they are not presigned). */
const SWEEP_RATE = 2n;

const blockOf = async (b: BitcoinBackend, txid: string): Promise<number | undefined> => {
  const found = await b.getTransaction(txid);
  return found?.status.confirmed ? found.status.blockHeight : undefined;
};

/** Broadcasts `tx` unless the backend already has it; returns `what` when it went out. */
async function sendOnce(b: BitcoinBackend, tx: Tx, what: string): Promise<string | undefined> {
  if ((await b.getTransaction(txidHex(tx))) !== undefined) return undefined;
  try {
    await b.broadcast(serializeTx(tx));
    return what;
  } catch (err) {
    return `${what} refused: ${err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err)}`;
  }
}

/**
 * Sends move `id` as `tx`; at the strategy's `equivocateAt`, broadcasts `decoy()` (one txid, another
 * value) and hands `tx` to the next block instead.
 */
async function sendTwice(
  ctx: PlayContext,
  id: string,
  tx: Tx,
  decoy: () => Tx,
  what: string,
): Promise<string | undefined> {
  if (ctx.behaviour.equivocateAt !== id || ctx.mineInstead === undefined)
    return sendOnce(ctx.backend, tx, what);
  const shown = decoy();
  if (txidHex(shown) !== txidHex(tx)) throw new Error(`Two versions of ${id} with two txids`);
  const sent = await sendOnce(ctx.backend, shown, `${what}, shown with another value`);
  if (sent === undefined) return undefined;
  if (!sent.includes(' refused: ')) {
    ctx.mineInstead(tx);
    return sent;
  }
  // The decoy was refused (a value a script range-checks): the move goes out as played, and says so.
  const plain = await sendOnce(ctx.backend, tx, what);
  return `${sent}; ${plain ?? what}`;
}

/**
 * Sends move `id` (`tx`) as `sendTwice` does; at the strategy's `stallAt`, a move that went out is
 * stalled at once behind its pad. Returns the lines to tell.
 */
async function sendMove(
  ctx: PlayContext,
  epoch: bigint,
  id: string,
  tx: Tx,
  decoy: () => Tx,
  what: string,
): Promise<string[]> {
  const sent = await sendTwice(ctx, id, tx, decoy, what);
  if (sent === undefined) return [];
  if (ctx.behaviour.stallAt !== id || ctx.stall === undefined || sent.includes(' refused: ')) return [sent];
  return [sent, await ctx.stall.pad(tx, epoch)];
}

/** Whether the strategy holds move `id` back to the last block before `lastBlock` (late, or stalled there). */
const holdsBack = (b: GameOperatorBehaviour, id: string): boolean => b.late === true || b.stallAt === id;

/** What the operator does for claim `c` at tip `tip`: one line per transaction it sent. */
export async function reactToClaim(ctx: PlayContext, c: OperatorGameClaim, tip: number): Promise<string[]> {
  if (c.end !== undefined) return [];
  const { backend } = ctx;
  const graph = c.graph;
  const T = graph.spec.timelocks;
  const kickoffHeight = await blockOf(backend, c.kickoffTxid);
  if (kickoffHeight === undefined) return [];
  const out: string[] = [];
  const note = (line: string | undefined) => {
    if (line !== undefined) out.push(`epoch ${c.epoch}: ${line}`);
  };
  const stakeVout = graph.spec.challengers.length + graph.assertConnectors.length;
  const s = await verifiedOutspend(backend, c.kickoffTxid, stakeVout);
  const assertTx = gameTx(graph, 'assert').tx;
  const assertTxid = txidHex(assertTx);
  if (!s.spent || s.txid === undefined) {
    if (tip + 1 < kickoffHeight + T.challenge) return out;
    const challenged: number[] = [];
    for (let w = 0; w < graph.games.length; w++) {
      if ((await blockOf(backend, txidHex(gameTx(graph, challengeId(w)).tx))) !== undefined)
        challenged.push(w);
    }
    if (challenged.length === 0) {
      note(await sendOnce(backend, completeCovenantTx(graph, c.sigs, 'take'), 'take (nobody challenged)'));
      return out;
    }
    if (ctx.behaviour.neverAssert) return out;
    // Vigil's assert-timeout is valid from T_a blocks after the kick-off: the last block before it.
    const lastBlock = kickoffHeight + T.assertWindow - 1;
    if (holdsBack(ctx.behaviour, 'assert') && tip + 1 < lastBlock) return out;
    const move = c.game.player.assert();
    if (move === undefined) return out;
    const sign = c.claim.signerOf(0);
    const signed = (values: MoveValues) =>
      completeAssert(
        graph,
        c.sigs,
        new Map<string, WotsSignature>([...values].map(([label, bytes]) => [label, sign(label, bytes)])),
      );
    const tx = signed(assertValues(move));
    if (ctx.stall?.stalled(txidHex(tx))) return out;
    for (const line of await sendMove(
      ctx,
      c.epoch,
      'assert',
      tx,
      () => signed(anotherValue(assertValues(move))),
      `assert (challenged by ${challenged.join(', ')})${holdsBack(ctx.behaviour, 'assert') ? `, at block ${tip + 1}, the last before T_a` : ''}`,
    ))
      note(line);
    return out;
  }
  const spender = s.spender.status;
  if (!spender.confirmed) return out;
  if (s.txid === txidHex(gameTx(graph, 'take').tx)) {
    c.end = 'taken';
    return out;
  }
  if (s.txid !== assertTxid) {
    c.end = 'timed-out';
    return out;
  }
  if (c.kickoffSigs === undefined) {
    const found = await backend.getTransaction(c.kickoffTxid);
    if (found === undefined) return out;
    const read = new Map(
      readKickoff(graph, verifiedTx(backend.kind, c.kickoffTxid, found.raw)).map((v) => [
        v.label,
        v.signature,
      ]),
    );
    c.kickoffSigs = {
      root: read.get('root') as WotsSignature,
      imageRoot: read.get('imageRoot') as WotsSignature,
      inputsRoot: read.get('inputsRoot') as WotsSignature,
    };
  }
  const kickoffSigs = c.kickoffSigs;
  for (let w = 0; w < graph.games.length; w++) {
    const game = graph.games[w];
    const gameSigs = c.gameSigs[w];
    if (game === undefined || gameSigs === undefined) continue;
    const progress = await readGameProgress(backend, graph, w, 1);
    if (progress.end !== undefined || progress.shallow.length > 0 || progress.onChain.assert === undefined)
      continue;
    const turn = nextTurn(c.game.context, graph.spec.shape, progress.onChain, {
      operator: c.game.player,
      challenger: SILENT_CHALLENGER,
    });
    const published: PublishedSignatures = { ...progress.published, kickoff: kickoffSigs };
    const sweep = (site: string, leaf: string) => {
      const fee = (built: Tx) => BigInt(txVsize(built)) * SWEEP_RATE;
      const draft = leafSpendTx(game, site, leaf, published, ctx.secret, ctx.script, 0n);
      return leafSpendTx(game, site, leaf, published, ctx.secret, ctx.script, fee(draft) + 200n);
    };
    if (turn.kind === 'move' && turn.side === 'operator') {
      if (turn.id === ctx.behaviour.silentAt) continue;
      // The challenger's timeout on its last move is valid from t blocks after it: the last block before.
      const lastBlock = progress.last === undefined ? undefined : progress.last.height + T.move - 1;
      const held = holdsBack(ctx.behaviour, turn.id);
      if (held && lastBlock !== undefined && tip + 1 < lastBlock) continue;
      const signed = (values: MoveValues) =>
        moveTx(game, gameSigs, turn.id, values, progress.published, c.claim.signerOf(w));
      const tx = signed(turn.values);
      // A stalled move stays in the mempool (not at depth), so the turn is still the operator's.
      if (ctx.stall?.stalled(txidHex(tx))) continue;
      for (const line of await sendMove(
        ctx,
        c.epoch,
        turn.id,
        tx,
        () => signed(anotherValue(turn.values)),
        `game ${w}: ${turn.id}${held && lastBlock !== undefined ? `, at block ${tip + 1}, the last before the challenger's timeout` : ''}`,
      ))
        note(line);
    } else if (turn.kind === 'refuse') {
      note(await sendOnce(backend, sweep(turn.site, turn.leaf), `game ${w}: ${turn.leaf} on ${turn.site}`));
    } else if (turn.kind === 'silent' && turn.side === 'challenger' && progress.last !== undefined) {
      if (tip + 1 < progress.last.height + T.move) continue;
      const site = progress.last.id === 'assert' ? 'reserve' : progress.last.id;
      note(
        await sendOnce(
          backend,
          sweep(site, 'timeout'),
          `game ${w}: sweep of ${site} (the challenger is silent)`,
        ),
      );
    }
  }
  // D: paid out at T_pay unless a game slashed it.
  const d = await verifiedOutspend(backend, assertTxid, 0);
  if (d.spent && d.txid !== undefined) {
    if (d.spender.status.confirmed)
      c.end = d.txid === txidHex(gameTx(graph, 'payout').tx) ? 'paid-out' : 'slashed';
    return out;
  }
  const assertHeight = spender.blockHeight;
  if (tip + 1 >= assertHeight + T.payout)
    note(await sendOnce(backend, completeCovenantTx(graph, c.sigs, 'payout'), 'payout (T_pay)'));
  return out;
}
