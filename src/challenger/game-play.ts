/**
 * The game job (repeating, one per game record): Vigil plays challenger w's game of a false claim to its
 * end (docs/protocol.md §24.9). Each run reads the chain and takes at most one step:
 * - detected: send w's challenge (w signs its bond coin now, and only now);
 * - challenged: follow it to depth, rebroadcasting the recorded bytes;
 * - confirmed: wait for the assert; past T_a without one, send the assert-timeout (its fee ladder);
 * - timed-out: follow the assert-timeout to depth (or back to the game if the assert won the race);
 * - playing: read every move at depth, ask the turn-taker (game-turn.ts) what w owes, and send it: a
 *   move, a disprove through the named leaf, or the timeout slash of a silent operator, t after its last
 *   move; before that, keep every version seen of each operator move and slash through an
 *   equivocation leaf when a version at depth signs other values than one seen (game-equivocation.ts);
 *   resolve when the game's end is at depth;
 * - refunding: the game is over (its outcome set) but w's bond is still in C_w: send w's refund once it
 *   matures, and resolve when it is at depth.
 * Every transaction goes through `sendGameTx`: written ahead under its graph id, then the recorded bytes
 * sent. Nothing the job decides is kept between runs except what it wrote ahead. Every state change is
 * keyed by the record's version it was decided on, so a change undone by a reorg can be made again.
 */
import { UnrecoverableError } from 'bullmq';
import type { TxStatus } from '../bitcoin/backends/types.ts';
import { verifiedOutspend } from '../bitcoin/backends/verified-outspend.ts';
import { verifiedTx } from '../bitcoin/backends/verify.ts';
import { taprootOutput } from '../bitcoin/taproot/output.ts';
import { hashToDisplayHex, txidHex } from '../bitcoin/tx/serialize.ts';
import type { Tx } from '../bitcoin/tx/types.ts';
import { CHALLENGE_CHANGE_VOUT, stakeVoutOf } from '../dispute/game/challenge-cpfp.ts';
import { assertTimeoutId, type ClaimGraph, challengeId } from '../dispute/game/claim-graph.ts';
import { completeChallenge, completeCovenantTx } from '../dispute/game/claim-spend.ts';
import { type GameGraph, gameTx, gameTxPrevouts, leafSpender, slashId } from '../dispute/game/game-graph.ts';
import { gameOutputOf } from '../dispute/game/game-spend.ts';
import { type GameTurn, nextTurn, SILENT_OPERATOR } from '../dispute/game/game-turn.ts';
import type { PublishedSignatures } from '../dispute/game/leaf-witness.ts';
import { bondRefundTx, leafSpendTx, moveTx, slashTx, timeoutSlashTx } from '../dispute/game/move-tx.ts';
import type { GameContext } from '../dispute/game/moves.ts';
import { ruleChallenger, UnchallengeableClaimError } from '../dispute/game/rule.ts';
import type {
  GameEndFacts,
  GameProgressFacts,
  GameRecord,
  GameState,
  GameTxRole,
} from '../dispute/records/game-types.ts';
import type { DisputeOutcome } from '../dispute/records/state-machine.ts';
import { IllegalTransitionError } from '../dispute/records/store.ts';
import { asTxid } from '../dispute/records/types.ts';
import { wordOf } from '../machine/isa.ts';
import { type CheckedTx, feeRateNow, SendRefusedError } from '../sender/send.ts';
import { type GameProgress, readGameProgress, readKickoffVersion } from './game-chain.ts';
import { bumpChallengeIfLagging } from './game-challenge-cpfp.ts';
import { type GameJobContext, type GameMaterial, GameMaterialNotReadyError } from './game-context.ts';
import { keepAssertVersion, watchEquivocation } from './game-equivocation.ts';
import { bumpMoveIfLagging } from './game-move-cpfp.ts';
import { checkedTx, type GameSendResult, sendContextOf, sendGameTx } from './game-send.ts';
import type { DisputeJobData } from './payloads.ts';

const depth = (status: TxStatus, tip: number): number =>
  status.confirmed ? tip - status.blockHeight + 1 : 0;

const graphTxid = (graph: { readonly txs: ClaimGraph['txs'] }, id: string): string =>
  txidHex(gameTx(graph, id).tx);

/** Runs one step of game `data.disputeId`; returns what it did, for the job's log. */
export async function processGame(ctx: GameJobContext, data: DisputeJobData): Promise<string> {
  const rec = await ctx.store.get(data.disputeId);
  if (rec === undefined) {
    ctx.metrics?.disputeRecordMissing.set({ dispute: data.disputeId }, 1);
    ctx.logger?.error({ game: data.disputeId }, 'a game job has no record in Redis: its job stops');
    await ctx.untrack(data.disputeId);
    return 'record missing';
  }
  if (rec.state === 'resolved') {
    clearGauges(ctx, rec.id);
    await ctx.store.dropVersions(rec.id);
    await ctx.untrack(rec.id);
    return `resolved (${rec.outcome})`;
  }
  let m: GameMaterial;
  try {
    m = await ctx.materialOf(rec);
  } catch (err) {
    if (!(err instanceof GameMaterialNotReadyError)) throw err;
    return `waiting: ${err.message}`;
  }
  if (m.claim.games[rec.w] === undefined)
    throw new UnrecoverableError(`Game ${rec.id}: the claim has no challenger ${rec.w}`);
  if (graphTxid(m.claim, 'kickoff') !== rec.kickoffTxid)
    throw new UnrecoverableError(`Game ${rec.id}: the claim graph's kick-off is not ${rec.kickoffTxid}`);
  const tip = await ctx.backend.getTipHeight();
  const kickoff = await kickoffOf(ctx, m);
  if (kickoff === undefined) return 'the kick-off is not on chain: waiting';
  // Only a kick-off at depth is read: a txid does not cover its witness, so a version with other values
  // could still replace a shallow one.
  if (depth(kickoff.status, tip) < ctx.confirmations) return 'the kick-off is not deep enough: waiting';
  try {
    switch (rec.state) {
      case 'detected':
        return await challenge(ctx, rec, m, kickoff, tip);
      case 'challenged':
        return await followChallenge(ctx, rec, m, kickoff, tip);
      case 'confirmed':
        return await awaitAssert(ctx, rec, m, kickoff, tip);
      case 'timed-out':
        return await followAssertTimeout(ctx, rec, m, tip);
      case 'playing':
        return await play(ctx, rec, m, kickoff, tip);
      case 'refunding':
        return await refundBond(ctx, rec, m, tip);
    }
  } catch (err) {
    // Refused for good (recorded as an event, counted, alerted by the sender): the next run decides
    // again from the chain, which may call for another transaction. Not a failed job every few seconds.
    if (!(err instanceof SendRefusedError)) throw err;
    return `not sent: ${err.message}`;
  }
}

/** The record moved to `to`, keyed by the version it was decided on (a reorg may undo a change and redo it). */
async function move(
  ctx: GameJobContext,
  rec: GameRecord,
  to: GameState,
  reason: string,
  extra: { txid?: string; height?: number } = {},
): Promise<void> {
  await transitionUnlessStale(ctx, rec, to, {
    key: `${to}-v${rec.version}`,
    reason,
    ...(extra.txid === undefined ? {} : { txid: asTxid(extra.txid) }),
    ...(extra.height === undefined ? {} : { height: extra.height }),
  });
}

/**
 * A state move decided on `rec`, from the state `rec` was read in only (a compare-and-set), unless another
 * run (a repetition in another process, a redrive) moved the record to another state since: that run
 * decided on fresher facts; this one changes nothing and the next decides again. `stale` then, never an
 * error. A move refused from the very state it was decided in is a bug, and throws.
 */
async function transitionUnlessStale(
  ctx: GameJobContext,
  rec: GameRecord,
  to: GameState,
  change: Parameters<GameJobContext['store']['transition']>[2],
): Promise<'applied' | 'duplicate' | 'stale'> {
  try {
    return (await ctx.store.transition(rec.id, to, { ...change, from: rec.state })).status;
  } catch (err) {
    if (!(err instanceof IllegalTransitionError)) throw err;
    const now = await ctx.store.get(rec.id);
    if (now === undefined || now.state === rec.state) throw err;
    return 'stale';
  }
}

/** What the kick-off committed, read off the chain and verified, as the game's context and signatures. */
type Kickoff = {
  readonly game: GameContext;
  readonly sigs: PublishedSignatures['kickoff'];
  readonly status: TxStatus;
};

async function kickoffOf(ctx: GameJobContext, m: GameMaterial): Promise<Kickoff | undefined> {
  const txid = graphTxid(m.claim, 'kickoff');
  const found = await ctx.backend.getTransaction(txid);
  if (found === undefined) return undefined;
  const values = new Map(
    readKickoffVersion(m.claim, verifiedTx(ctx.backend.kind, txid, found.raw)).map((v) => [v.label, v]),
  );
  const value = (label: string) => {
    const v = values.get(label);
    if (v === undefined) throw new UnrecoverableError(`The kick-off carries no ${label}`);
    return v;
  };
  return {
    status: found.status,
    game: {
      program: m.claim.spec.program,
      imageRoot: value('imageRoot').value,
      inputsRoot: value('inputsRoot').value,
      agreedImageRoot: m.claim.spec.agreedImageRoot,
      claimedRoot: wordOf(value('root').value),
    },
    sigs: {
      root: value('root').signature,
      imageRoot: value('imageRoot').signature,
      inputsRoot: value('inputsRoot').signature,
    },
  };
}

async function resolve(
  ctx: GameJobContext,
  rec: GameRecord,
  outcome: DisputeOutcome,
  reason: string,
  end?: GameEndFacts,
): Promise<string> {
  const changed = await transitionUnlessStale(ctx, rec, 'resolved', {
    key: `resolved-v${rec.version}`,
    reason,
    outcome,
    ...(end === undefined ? {} : { txid: end.txid, height: end.height, patch: { end } }),
  });
  if (changed === 'stale') return 'the record moved on since this run read it: the next run decides';
  // A false claim Vigil could not challenge after all (its bond coin gone, the take first): alerted once.
  if (outcome === 'missed' && changed === 'applied') ctx.metrics?.falseClaimsUnchallengeable.inc();
  clearGauges(ctx, rec.id);
  await ctx.store.dropVersions(rec.id);
  await ctx.untrack(rec.id);
  if (changed === 'applied') ctx.logger?.info({ game: rec.id, outcome, reason }, 'game resolved');
  return `resolved: ${outcome} (${reason})`;
}

/**
 * Ends the game with `outcome`. While w's bond still sits in C_w (no move of the game spent it: another
 * challenger's assert-timeout took S, or the operator swept Q_w before w's first move), nothing but w's
 * refund leaf can spend it, `bondRefund` blocks after C_w confirmed: the record waits in `refunding`, its
 * outcome set, until the refund is at depth. Otherwise it resolves.
 */
async function endGame(
  ctx: GameJobContext,
  rec: GameRecord,
  m: GameMaterial,
  outcome: DisputeOutcome,
  reason: string,
  end?: GameEndFacts,
): Promise<string> {
  const bond = gameOutputOf(m.claim.games[rec.w] as GameGraph, 'bond');
  const s = await verifiedOutspend(ctx.backend, hashToDisplayHex(bond.txid), bond.vout);
  // Resolved only when C_w's spender is at depth: a spend in the mempool (or one a lagging backend still
  // shows) may never confirm, and `refunding` watches C_w until one does.
  const tip = await ctx.backend.getTipHeight();
  if (s.spent && s.txid !== undefined && depth(s.spender.status, tip) >= ctx.confirmations)
    return resolve(ctx, rec, outcome, reason, end);
  const changed = await transitionUnlessStale(ctx, rec, 'refunding', {
    key: `refunding-v${rec.version}`,
    reason: `${reason}; w's bond is still in C_w: its refund follows`,
    outcome,
    ...(end === undefined ? {} : { txid: end.txid, height: end.height, patch: { end } }),
  });
  if (changed === 'stale') return 'the record moved on since this run read it: the next run decides';
  clearGauges(ctx, rec.id);
  if (changed === 'applied')
    ctx.logger?.info({ game: rec.id, outcome, reason }, "game over: Vigil's bond is refunded next");
  return `${reason}: refunding w's bond`;
}

/**
 * The game is over and w's bond is still in C_w: w's refund through C_w's `refund` leaf once it matures
 * (nobody else can spend C_w now: the forfeit needs Q_w and the assert-timeout S), back to Vigil's bond
 * address; resolved once the refund, or any other spend of C_w, is at depth.
 */
async function refundBond(
  ctx: GameJobContext,
  rec: GameRecord,
  m: GameMaterial,
  tip: number,
): Promise<string> {
  const outcome = rec.outcome;
  if (outcome === undefined) throw new UnrecoverableError(`Game ${rec.id} is refunding with no outcome`);
  // What ended the game must still be on chain at depth: after a reorg took it away, the game is back on.
  if (rec.end !== undefined) {
    const ended = await ctx.backend.getTransaction(rec.end.txid);
    if (ended === undefined || depth(ended.status, tip) < ctx.confirmations) {
      await move(ctx, rec, 'confirmed', `${rec.end.txid}, which ended the game, left the chain`);
      return 'the end of the game left the chain: back to confirmed';
    }
  }
  const game = m.claim.games[rec.w] as GameGraph;
  const bond = gameOutputOf(game, 'bond');
  const s = await verifiedOutspend(ctx.backend, hashToDisplayHex(bond.txid), bond.vout);
  const ours = new Set(ownTxids(rec, 'game-refund'));
  if (s.spent && s.txid !== undefined) {
    if (depth(s.spender.status, tip) >= ctx.confirmations) {
      if (!ours.has(s.txid))
        ctx.logger?.error({ game: rec.id, spender: s.txid }, "Vigil's bond in C_w was spent by another");
      return resolve(ctx, rec, outcome, `w's bond left C_w in ${s.txid}`);
    }
    if (ours.has(s.txid)) {
      if (s.spender.status.confirmed) return 'the bond refund is not deep enough yet';
      // Waiting in the mempool: w signs the refund itself, so after `bumpAfterBlocks` blocks it is sent
      // again at the estimate when that rose past the rate written (a replacement), else the same bytes.
      // Nobody else can spend C_w now, but a bond held up is one fewer claim Vigil can challenge.
      const written = [...rec.sent.values()].filter((t) => t.role === 'game-refund');
      const since = Math.max(...written.map((t) => t.height));
      if (tip - since < (ctx.fees.bumpAfterBlocks ?? 2)) return 'the bond refund is in the mempool';
      const again = await sweepPot(ctx, rec, game, 'bond', 'game-refund', (fee) =>
        bondRefundTx(game, m.keys.secret, refundTo(m, rec), fee),
      );
      return `the bond refund is in the mempool: ${describeSend('bond refund', again)}`;
    }
  }
  const challenge = await ctx.backend.getTransaction(graphTxid(m.claim, challengeId(rec.w)));
  if (challenge === undefined || !challenge.status.confirmed) return 'C_w is not in a block: waiting';
  const matures = challenge.status.blockHeight + game.spec.timelocks.bondRefund;
  if (tip + 1 < matures) return `waiting for the bond refund (it matures at ${matures})`;
  const sent = await sweepPot(ctx, rec, game, 'bond', 'game-refund', (fee) =>
    bondRefundTx(game, m.keys.secret, refundTo(m, rec), fee),
  );
  return describeSend('bond refund', sent);
}

/** Where w's refund pays: w's own key, as the claim lists it. */
function refundTo(m: GameMaterial, rec: GameRecord): Uint8Array {
  return taprootOutput(m.claim.spec.challengers[rec.w]?.key as Uint8Array).scriptPubKey;
}

function clearGauges(ctx: GameJobContext, id: string): void {
  ctx.metrics?.gamePosition.remove({ dispute: id });
  ctx.metrics?.gameMoveBlocks.remove({ dispute: id });
  for (const owes of ['vigil', 'operator']) ctx.metrics?.gameDeadlineBlocks.remove({ dispute: id, owes });
  for (const tx of LADDER_ROLES) ctx.metrics?.gameOutbid.remove({ dispute: id, tx });
}

function describeSend(what: string, r: GameSendResult): string {
  switch (r.kind) {
    case 'sent':
      return `${what} sent (${r.txid})`;
    case 'known':
      return `${what} already out (${r.txid})`;
    case 'withheld':
      return `${what} withheld (mode watch)`;
    case 'dry-run':
      return `${what} built and checked, not sent (mode dry-run)`;
    case 'refused':
      return `${what} not taken (${r.outcome.kind}: ${r.outcome.reason}); the next run reads the chain again`;
  }
}

/** Moves the record to `to` once `txid` is confirmed at depth; undefined while it is not. */
async function advanceWhenDeep(
  ctx: GameJobContext,
  rec: GameRecord,
  txid: string,
  status: TxStatus | undefined,
  tip: number,
  to: 'confirmed' | 'playing',
  reason: string,
): Promise<string | undefined> {
  if (status === undefined || !status.confirmed || depth(status, tip) < ctx.confirmations) return undefined;
  await move(ctx, rec, to, reason, { txid, height: status.blockHeight });
  return `${reason} (${status.blockHeight}): ${to}`;
}

// ---- the challenge ---------------------------------------------------------------------------------

async function challenge(
  ctx: GameJobContext,
  rec: GameRecord,
  m: GameMaterial,
  kickoff: Kickoff,
  tip: number,
): Promise<string> {
  const id = challengeId(rec.w);
  const txid = graphTxid(m.claim, id);
  // Never challenge what Vigil cannot win: a true root, or a claim the game cannot dispute (its bond is lost).
  if (kickoff.game.claimedRoot === m.root) {
    return resolve(
      ctx,
      rec,
      'withdrawn',
      'the kick-off claims the root Vigil computed: nothing to challenge',
    );
  }
  try {
    ruleChallenger(kickoff.game, m.claim.spec.shape, m.honest);
  } catch (err) {
    if (!(err instanceof UnchallengeableClaimError)) throw err;
    ctx.logger?.error({ game: rec.id, reason: err.message }, 'VigilFalseClaimUnchallengeable');
    return resolve(ctx, rec, 'missed', err.message);
  }
  const a = await verifiedOutspend(ctx.backend, rec.kickoffTxid, rec.w);
  if (a.spent && a.txid !== undefined && a.txid !== txid) {
    if (depth(a.spender.status, tip) >= ctx.confirmations)
      return resolve(ctx, rec, 'missed', `A_w was spent by ${a.txid} (the take) before Vigil's challenge`);
    return `A_w is spent by ${a.txid}, not yet at depth: waiting`;
  }
  const bond = m.claim.spec.challengers[rec.w]?.bondCoin;
  if (bond !== undefined) {
    const f = await verifiedOutspend(ctx.backend, hashToDisplayHex(bond.txid), bond.vout);
    if (
      f.spent &&
      f.txid !== undefined &&
      f.txid !== txid &&
      depth(f.spender.status, tip) >= ctx.confirmations
    ) {
      ctx.logger?.error(
        { game: rec.id, spender: f.txid },
        "Vigil's bond coin was spent elsewhere: it cannot challenge",
      );
      return resolve(ctx, rec, 'missed', `the bond coin was spent by ${f.txid}`);
    }
  }
  const sent = await sendChallenge(ctx, rec, m);
  if (sent.kind === 'sent' || sent.kind === 'known' || (a.spent && a.txid === txid)) {
    // C_w's change pays for the game's children: the bundle poster must never name it.
    await ctx.holdCoin?.(`${txid}:${CHALLENGE_CHANGE_VOUT}`, rec.epoch);
    await move(ctx, rec, 'challenged', 'the challenge is out', { txid });
  }
  return describeSend('challenge', sent);
}

async function followChallenge(
  ctx: GameJobContext,
  rec: GameRecord,
  m: GameMaterial,
  kickoff: Kickoff,
  tip: number,
): Promise<string> {
  const id = challengeId(rec.w);
  const txid = graphTxid(m.claim, id);
  await ctx.holdCoin?.(`${txid}:${CHALLENGE_CHANGE_VOUT}`, rec.epoch);
  const found = await ctx.backend.getTransaction(txid);
  const moved = await advanceWhenDeep(
    ctx,
    rec,
    txid,
    found?.status,
    tip,
    'confirmed',
    'the challenge is at depth',
  );
  if (moved !== undefined) {
    // A bump held at the cap (game-challenge-cpfp.ts) no longer matters.
    ctx.metrics?.feeCapped.remove({ dispute: rec.id });
    return moved;
  }
  // An assert may come at T_c before the challenge is deep: its version shown now is evidence later.
  // Before T_c none can be in a block or the mempool (S's window leaf), so nothing is fetched.
  const kickoffHeight = kickoff.status.confirmed ? kickoff.status.blockHeight : rec.kickoffHeight;
  if (tip + 1 >= kickoffHeight + m.claim.spec.timelocks.challenge) await keepAssertVersion(ctx, rec, m);
  if (found?.status.confirmed) return 'the challenge is not deep enough yet';
  if (found !== undefined) {
    return (
      (await bumpChallengeIfLagging(ctx, rec, m, tip, kickoffHeight)) ?? 'the challenge is in the mempool'
    );
  }
  const a = await verifiedOutspend(ctx.backend, rec.kickoffTxid, rec.w);
  if (a.spent && a.txid !== undefined && a.txid !== txid && depth(a.spender.status, tip) >= ctx.confirmations)
    return resolve(ctx, rec, 'missed', `A_w was spent by ${a.txid} (the take): the challenge lost`);
  return describeSend('challenge (rebroadcast)', await sendChallenge(ctx, rec, m));
}

/**
 * w's challenge: its recorded bytes if written, else built now (w signs its bond coin). It is paid from
 * Vigil's bond coin, so the wallet's caps apply. Its txid is the graph's whatever the signature.
 */
function sendChallenge(ctx: GameJobContext, rec: GameRecord, m: GameMaterial): Promise<GameSendResult> {
  const id = challengeId(rec.w);
  return sendGameTx(
    ctx,
    rec,
    id,
    'game-challenge',
    () =>
      checkedTx(
        completeChallenge(m.claim, rec.w, m.sigs.claim, m.keys.secret),
        gameTxPrevouts(gameTx(m.claim, id)),
      ),
    'wallet',
  );
}

// ---- before the game: the assert or the assert-timeout ----------------------------------------------

type Rung = { readonly rate: bigint; readonly id: string };

/** The rungs of a fee ladder: each rate with the graph id of its presigned version (rung 0 has no suffix). */
function rungs(ladder: readonly bigint[], idOf: (rate?: bigint) => string): Rung[] {
  return ladder.map((rate, k) => ({ rate, id: idOf(k === 0 ? undefined : rate) }));
}

/** The rate argument the slash builders take for a rung: none for rung 0. */
function rungRate(ladder: readonly Rung[], rung: Rung): bigint | undefined {
  return ladder[0]?.id === rung.id ? undefined : rung.rate;
}

/**
 * Sends the rung of a presigned fee ladder the estimate asks for, judged by each built version's real
 * rate (its fee on its own vsize: a slash through a small leaf pays far more per vbyte than its rung's
 * nominal rate), never below a rung already written, and climbs a rung at each fee refusal.
 */
async function sendLadder(
  ctx: GameJobContext,
  rec: GameRecord,
  role: GameTxRole,
  ladder: readonly Rung[],
  build: (rung: Rung) => CheckedTx,
): Promise<GameSendResult> {
  const estimate = (await feeRateNow(sendContextOf(ctx))).satPerKvb;
  const built = new Map<string, CheckedTx>();
  const builtOf = (r: Rung): CheckedTx => {
    let b = built.get(r.id);
    if (b === undefined) {
      b = build(r);
      built.set(r.id, b);
    }
    return b;
  };
  const meets = (r: Rung): boolean => {
    const b = builtOf(r);
    return b.fee * 1000n >= estimate * BigInt(b.vsize);
  };
  const written = ladder.findLastIndex((r) => rec.sent.has(r.id));
  let i = written;
  if (i < 0) {
    i = ladder.findIndex(meets);
    if (i < 0) i = ladder.length - 1;
  } else {
    // Above the rung written, while the one below falls short of the estimate.
    while (i + 1 < ladder.length && !meets(ladder[i] as Rung)) i++;
  }
  for (;;) {
    const rung = ladder[i] as Rung;
    const r = await sendGameTx(ctx, rec, rung.id, role, () => builtOf(rung));
    const outbid = r.kind === 'refused' && r.outcome.kind === 'fee-too-low';
    if (!outbid || i + 1 >= ladder.length) {
      // The top rung refused for its fee: what it conflicts with pays more in all (a pinned move), and
      // no rung is left to climb; only falling fees, or a miner paid out of band, get it mined.
      if (outbid) ctx.metrics?.gameOutbid.set({ dispute: rec.id, tx: role }, 1);
      else ctx.metrics?.gameOutbid.remove({ dispute: rec.id, tx: role });
      return r;
    }
    i++;
  }
}

/** The roles of the ladders `vigil_game_outbid` reports on. */
const LADDER_ROLES: readonly GameTxRole[] = ['game-slash', 'game-timeout', 'game-assert-timeout'];

async function awaitAssert(
  ctx: GameJobContext,
  rec: GameRecord,
  m: GameMaterial,
  kickoff: Kickoff,
  tip: number,
): Promise<string> {
  const challengeTxid = graphTxid(m.claim, challengeId(rec.w));
  const ch = await ctx.backend.getTransaction(challengeTxid);
  if (ch === undefined || depth(ch.status, tip) < ctx.confirmations) {
    await move(ctx, rec, 'challenged', 'the confirmed challenge left the chain', { txid: challengeTxid });
    return 'the challenge left the chain: back to challenged';
  }
  const assertTxid = graphTxid(m.claim, 'assert');
  const as = await ctx.backend.getTransaction(assertTxid);
  const moved = await advanceWhenDeep(
    ctx,
    rec,
    assertTxid,
    as?.status,
    tip,
    'playing',
    'the assert is at depth',
  );
  if (moved !== undefined) return moved;
  // The assert's version shown now is kept: one mined later with other values is an equivocation.
  if (as !== undefined) await keepAssertVersion(ctx, rec, m, as);
  const ours = new Set(ownTxids(rec, 'game-assert-timeout'));
  const s = await verifiedOutspend(ctx.backend, rec.kickoffTxid, stakeVoutOf(m.claim));
  if (s.spent && s.txid !== undefined && s.txid !== assertTxid) {
    if (ours.has(s.txid)) {
      // Vigil's own assert-timeout, whose move to `timed-out` was lost: follow it there.
      await move(ctx, rec, 'timed-out', 'the assert-timeout is out', { txid: s.txid });
      return 'the assert-timeout is out: timed-out';
    }
    if (s.spender.status.confirmed && depth(s.spender.status, tip) >= ctx.confirmations) {
      const end: GameEndFacts = {
        txid: asTxid(s.txid),
        by: 'another assert-timeout',
        site: 'S',
        height: s.spender.status.blockHeight,
      };
      return endGame(
        ctx,
        rec,
        m,
        'operator-slashed',
        `another challenger's assert-timeout ${s.txid} took S`,
        end,
      );
    }
    return `S is spent by ${s.txid}, not yet at depth`;
  }
  // T_a counts from the kick-off's block as the chain has it now (a reorg may have moved it).
  const kickoffHeight = kickoff.status.confirmed ? kickoff.status.blockHeight : rec.kickoffHeight;
  const dueBy = kickoffHeight + m.claim.spec.timelocks.assertWindow;
  ctx.metrics?.gameDeadlineBlocks.set({ dispute: rec.id, owes: 'operator' }, dueBy - (tip + 1));
  if (as?.status.confirmed) return 'the assert is in a block, not yet at depth';
  if (tip + 1 < dueBy) return `waiting for the assert (T_a at ${dueBy})`;
  // Past T_a with no assert in a block: a late assert in the mempool is outbid, not waited for.
  const sent = await sendAssertTimeout(ctx, rec, m);
  if (sent.kind === 'sent' || sent.kind === 'known') {
    await move(ctx, rec, 'timed-out', 'no assert by T_a: the assert-timeout is out', { txid: sent.txid });
  }
  return describeSend('assert-timeout', sent);
}

/** Vigil's transactions of `role` written ahead. */
const ownTxids = (rec: GameRecord, role: GameTxRole): string[] =>
  [...rec.sent.values()].filter((t) => t.role === role).map((t) => t.txid);

function sendAssertTimeout(ctx: GameJobContext, rec: GameRecord, m: GameMaterial): Promise<GameSendResult> {
  const spec = m.claim.spec;
  return sendLadder(
    ctx,
    rec,
    'game-assert-timeout',
    rungs(spec.timeoutFeeRates ?? [spec.feeRate], (rate) => assertTimeoutId(rec.w, rate)),
    (rung) =>
      checkedTx(completeCovenantTx(m.claim, m.sigs.claim, rung.id), gameTxPrevouts(gameTx(m.claim, rung.id))),
  );
}

async function followAssertTimeout(
  ctx: GameJobContext,
  rec: GameRecord,
  m: GameMaterial,
  tip: number,
): Promise<string> {
  const s = await verifiedOutspend(ctx.backend, rec.kickoffTxid, stakeVoutOf(m.claim));
  const ours = new Set(ownTxids(rec, 'game-assert-timeout'));
  if (s.spent && s.txid !== undefined) {
    const deep = depth(s.spender.status, tip) >= ctx.confirmations;
    if (s.txid === graphTxid(m.claim, 'assert')) await keepAssertVersion(ctx, rec, m);
    if (s.txid === graphTxid(m.claim, 'assert')) {
      // Only an assert in a block wins the race; one in the mempool is outbid by the ladder.
      if (s.spender.status.confirmed) {
        await move(ctx, rec, 'confirmed', "the operator's assert spent S before the assert-timeout", {
          txid: s.txid,
        });
        return 'the assert won the race: back to confirmed';
      }
    } else if (deep) {
      const status = s.spender.status as { blockHeight: number };
      const end: GameEndFacts = {
        txid: asTxid(s.txid),
        by: ours.has(s.txid) ? 'assertTimeout' : 'another assert-timeout',
        site: 'S',
        height: status.blockHeight,
      };
      return endGame(ctx, rec, m, 'operator-slashed', 'the assert-timeout is at depth', end);
    } else if (ours.has(s.txid)) {
      return 'the assert-timeout is not deep enough yet';
    }
  }
  return describeSend('assert-timeout (again)', await sendAssertTimeout(ctx, rec, m));
}

// ---- the game --------------------------------------------------------------------------------------

/**
 * Who won, from what ended the game: the graph's slashes are w's, the forfeit the operator's, and a leaf
 * is whoever spends it (a pot's `timeout` is w's where the operator moves next; an `equivocation:` leaf
 * on w's move is the operator's proof that w signed twice).
 */
function winnerOfEnd(game: GameGraph, end: { site: string; by: string }): 'vigil' | 'operator' {
  if (end.by.startsWith('slash:') || end.by.startsWith('timeout:')) return 'vigil';
  if (end.by === 'forfeit' || end.by === 'unknown') return 'operator';
  return leafSpender(game, end.site, end.by) === 'challenger' ? 'vigil' : 'operator';
}

/** Records the position (events only when it moved) and sets the game's gauges. */
async function noteProgress(
  ctx: GameJobContext,
  rec: GameRecord,
  game: GameGraph,
  progress: GameProgress,
  turn: GameTurn,
  tip: number,
): Promise<GameProgressFacts> {
  const last = progress.last;
  const moves = progress.onChain.moves.size;
  const owes: GameProgressFacts['owes'] =
    turn.kind === 'over'
      ? 'none'
      : (turn.kind === 'move' && turn.side === 'challenger') ||
          turn.kind === 'disprove' ||
          (turn.kind === 'silent' && turn.side === 'challenger')
        ? 'vigil'
        : 'operator';
  const at =
    turn.kind === 'move'
      ? turn.id
      : turn.kind === 'silent'
        ? turn.at
        : turn.kind === 'disprove'
          ? `slash:${turn.site}`
          : undefined;
  const dueBy = last === undefined ? undefined : last.height + game.spec.timelocks.move;
  const facts: GameProgressFacts = {
    moves,
    owes,
    ...(last === undefined ? {} : { last }),
    ...(at === undefined ? {} : { at }),
    ...(dueBy === undefined ? {} : { dueBy }),
  };
  ctx.metrics?.gamePosition.set({ dispute: rec.id }, moves);
  ctx.metrics?.gameMoveBlocks.set({ dispute: rec.id }, game.spec.timelocks.move);
  if (dueBy !== undefined && owes !== 'none') {
    ctx.metrics?.gameDeadlineBlocks.set({ dispute: rec.id, owes }, dueBy - (tip + 1));
    ctx.metrics?.gameDeadlineBlocks.remove({
      dispute: rec.id,
      owes: owes === 'vigil' ? 'operator' : 'vigil',
    });
  }
  const before = rec.progress;
  if (before?.last?.id !== last?.id && last !== undefined) {
    const mover = last.id === 'assert' ? 'operator' : game.nodes.get(last.id)?.move.mover;
    if (mover === 'operator') ctx.metrics?.gameMoves.inc({ side: 'operator', kind: 'game-move' });
    await ctx.store.note(
      rec.id,
      {
        type: 'move-seen',
        detail: { id: last.id, by: mover === 'challenger' ? 'vigil' : 'operator', height: last.height },
      },
      { key: `seen-${last.id}-${last.height}` },
    );
  }
  if (before?.owes !== owes || before?.at !== at || before?.moves !== moves) {
    await ctx.store.note(
      rec.id,
      {
        type: 'turn',
        detail: { owes, ...(at === undefined ? {} : { at }), ...(dueBy === undefined ? {} : { dueBy }) },
      },
      { key: `turn-${moves}-${owes}-${at ?? ''}`, patch: { progress: facts } },
    );
  }
  return facts;
}

async function play(
  ctx: GameJobContext,
  rec: GameRecord,
  m: GameMaterial,
  kickoff: Kickoff,
  tip: number,
): Promise<string> {
  const game = m.claim.games[rec.w] as GameGraph;
  const sigs = m.sigs.games[rec.w];
  if (sigs === undefined) throw new UnrecoverableError(`Game ${rec.id}: no presignatures for game ${rec.w}`);
  const progress = await readGameProgress(ctx.backend, m.claim, rec.w, ctx.confirmations);
  if (progress.onChain.assert === undefined) {
    if (progress.shallow.includes('assert')) return 'the assert is no longer deep enough: waiting';
    await move(ctx, rec, 'confirmed', 'the assert left the chain');
    return 'the assert left the chain: back to confirmed';
  }
  if (progress.end !== undefined) {
    const status = progress.end.status as { blockHeight: number };
    const end: GameEndFacts = {
      txid: asTxid(progress.end.txid),
      by: progress.end.by,
      site: progress.end.site,
      height: status.blockHeight,
    };
    const winner = winnerOfEnd(game, end);
    if (winner === 'operator') ctx.logger?.error({ game: rec.id, end }, "the operator won Vigil's game");
    const outcome = winner === 'vigil' ? 'operator-slashed' : 'operator-vindicated';
    return endGame(ctx, rec, m, outcome, `the game ended by ${end.by} on ${end.site}`, end);
  }
  const shape = m.claim.spec.shape;
  // An equivocation on the move whose output is open ends the game at once, whatever the rule would play.
  const proof = await watchEquivocation(ctx, rec, m, progress);
  const turn: GameTurn =
    proof === undefined
      ? nextTurn(kickoff.game, shape, progress.onChain, {
          operator: SILENT_OPERATOR,
          challenger: ruleChallenger(kickoff.game, shape, m.honest),
        })
      : {
          kind: 'disprove',
          site: proof.site,
          leaf: proof.leaf,
          extras: { second: proof.equivocation.other },
        };
  const facts = await noteProgress(ctx, rec, game, progress, turn, tip);
  // A ladder this turn does not send is outbid no longer (the pinned move confirmed, the turn moved on).
  const sending =
    turn.kind === 'disprove' ? 'game-slash' : turn.kind === 'silent' ? 'game-timeout' : undefined;
  for (const tx of LADDER_ROLES) if (tx !== sending) ctx.metrics?.gameOutbid.remove({ dispute: rec.id, tx });
  const onChainSigs =
    proof === undefined
      ? progress.published.operator
      : new Map(progress.published.operator).set(proof.equivocation.label, proof.equivocation.onChain);
  const published: PublishedSignatures = {
    ...progress.published,
    operator: onChainSigs,
    kickoff: kickoff.sigs,
  };
  const payTo = taprootOutput(m.claim.spec.challengers[rec.w]?.key as Uint8Array).scriptPubKey;

  switch (turn.kind) {
    case 'move': {
      if (turn.side !== 'challenger') return `waiting for the operator's ${turn.id}`;
      const sent = await sendGameTx(ctx, rec, turn.id, 'game-move', () =>
        checkedTx(
          moveTx(game, sigs, turn.id, turn.values, progress.published, m.keys.sign, m.keys.secret),
          gameTxPrevouts(gameTx(game, turn.id)),
        ),
      );
      if (sent.kind === 'known') {
        // Out already: if it waits in the mempool, a child may have to pay for it (game-move-cpfp.ts).
        const status = (await ctx.backend.getTransaction(sent.txid))?.status;
        if (status !== undefined && !status.confirmed) {
          const bumped = await bumpMoveIfLagging(ctx, rec, m, turn.id, tip, facts.dueBy);
          if (bumped !== undefined) return `${describeSend(turn.id, sent)}; ${bumped}`;
        }
      }
      return describeSend(turn.id, sent);
    }
    case 'disprove': {
      if (progress.stakeSpent !== undefined) {
        // D is gone (another game's slash, or the payout): the presigned slash cannot confirm; w takes its pot alone.
        ctx.metrics?.gameOutbid.remove({ dispute: rec.id, tx: 'game-slash' });
        const sent = await sweepPot(ctx, rec, game, turn.site, 'game-slash', (fee) =>
          leafSpendTx(game, turn.site, turn.leaf, published, m.keys.secret, payTo, fee, turn.extras),
        );
        return describeSend(`${turn.leaf} on ${turn.site} (pot alone)`, sent);
      }
      const ladder = rungs(game.spec.slashFeeRates ?? [game.spec.feeRate], (rate) =>
        slashId('slash', turn.site, rate),
      );
      const sent = await sendLadder(ctx, rec, 'game-slash', ladder, (rung) =>
        checkedTx(
          slashTx(
            game,
            sigs,
            turn.site,
            turn.leaf,
            published,
            m.keys.secret,
            turn.extras,
            rungRate(ladder, rung),
          ),
          gameTxPrevouts(gameTx(game, rung.id)),
        ),
      );
      return describeSend(`${turn.leaf} on ${turn.site}`, sent);
    }
    case 'silent': {
      if (turn.side === 'challenger') {
        await ctx.store.note(
          rec.id,
          { type: 'conceded', detail: { at: turn.at, reason: "Vigil's rule makes no move: the claim held" } },
          { key: `conceded-${turn.at}` },
        );
        return `conceded at ${turn.at}`;
      }
      const site = facts.last?.id;
      if (site === undefined || facts.dueBy === undefined) return 'waiting';
      if (tip + 1 < facts.dueBy)
        return `waiting for the operator's ${turn.at} (its timeout matures at ${facts.dueBy})`;
      if (progress.stakeSpent !== undefined) {
        // D is gone: the presigned timeout slash cannot confirm; w takes the pot through its timeout leaf.
        ctx.metrics?.gameOutbid.remove({ dispute: rec.id, tx: 'game-timeout' });
        const sent = await sweepPot(ctx, rec, game, site, 'game-timeout', (fee) =>
          leafSpendTx(game, site, 'timeout', published, m.keys.secret, payTo, fee),
        );
        return describeSend(`timeout of ${site} (pot alone)`, sent);
      }
      const ladder = rungs(game.spec.timeoutFeeRates ?? [game.spec.feeRate], (rate) =>
        slashId('timeout', site, rate),
      );
      const sent = await sendLadder(ctx, rec, 'game-timeout', ladder, (rung) =>
        checkedTx(
          timeoutSlashTx(game, sigs, site, m.keys.secret, rungRate(ladder, rung)),
          gameTxPrevouts(gameTx(game, rung.id)),
        ),
      );
      return describeSend(`timeout of ${site}`, sent);
    }
    case 'refuse':
      return `the operator may refuse at ${turn.site} (${turn.leaf})`;
    case 'over':
      return `the game is over (${turn.outcome.end} at ${turn.outcome.at}): waiting for its end at depth`;
  }
}

/**
 * w's spend of `site`'s pot alone through a leaf (not presigned: w signs it, so a new version at a higher
 * fee carries no new Winternitz signature and is safe to write). Written under `sweep:<site>@<sat/vB>`;
 * never below a rate written before, and doubled on a fee refusal.
 */
async function sweepPot(
  ctx: GameJobContext,
  rec: GameRecord,
  game: GameGraph,
  site: string,
  role: GameTxRole,
  build: (fee: bigint) => Tx,
): Promise<GameSendResult> {
  const out = gameOutputOf(game, site);
  const prevouts = [{ value: out.value, script: out.output.scriptPubKey }];
  const prefix = `sweep:${site}@`;
  const written = [...rec.sent.keys()]
    .filter((k) => k.startsWith(prefix))
    .map((k) => BigInt(k.slice(prefix.length)));
  const estimate = (await feeRateNow(sendContextOf(ctx))).satPerKvb;
  let satVb = (estimate + 999n) / 1000n;
  for (const w of written) if (w > satVb) satVb = w;
  const vsize = BigInt(checkedTx(build(0n), prevouts).vsize);
  for (let attempt = 0; attempt < 8; attempt++) {
    const rate = satVb;
    const r = await sendGameTx(ctx, rec, `${prefix}${rate}`, role, () =>
      checkedTx(build(rate * vsize), prevouts),
    );
    if (r.kind !== 'refused' || r.outcome.kind !== 'fee-too-low') return r;
    satVb *= 2n;
  }
  throw new Error(`The sweep of ${site} was refused for its fee at every rate up to ${satVb} sat/vB`);
}
