/**
 * One epoch's claim on Bitcoin: the devnet operator funds the claim output, builds and presigns the
 * graph on it, publishes the graph document, and broadcasts the kick-off revealing the claimed values.
 * A strategy may publish the document its own way, build its own kick-off, and act right after it.
 */
import { serializeTx, txid, txidHex } from '../bitcoin/tx/serialize.ts';
import { bytesToHex } from '../core/bytes.ts';
import { completeKickoff, readKickoff } from '../dispute/graph/spend.ts';
import {
  DevnetOperatorError,
  type EpochClaim,
  fraudOf,
  type TrackedClaim,
  viewOf,
} from './operator-claims.ts';
import type { OperatorCoin } from './operator-coins.ts';
import type { OperatorContext } from './operator-context.ts';
import {
  claimScript,
  type EpochKeys,
  epochKeys,
  graphDocumentText,
  graphFileOf,
  presignedGraph,
  publishGraph,
  writeGraphText,
} from './operator-graph.ts';
import { short } from './operator-reactions.ts';
import { strategyApi } from './operator-strategy.ts';
import type { KickoffPlan } from './strategies/types.ts';

type PublishedGraph = ReturnType<typeof presignedGraph> & {
  graphFile: string;
  fundingTxid: string;
  fundingRaw: Uint8Array;
};

/** What a claim broadcast: ids, and the raw transactions (a restart may have to broadcast them again). */
export type ClaimResult = {
  kickoffTxid: string;
  graphFile: string;
  fundingTxid: string;
  fundingRaw: Uint8Array;
  kickoffRaw: Uint8Array;
};

/**
 * Claims epoch `e`, already checked and not claimed yet. Lines a strategy says while claiming go to
 * `later`, told with the next round's.
 */
export async function kickOffEpoch(
  ctx: OperatorContext,
  e: EpochClaim,
  later: string[],
): Promise<ClaimResult> {
  const { secrets, hooks, backend, market, logger } = ctx;
  const ek = epochKeys(secrets, e.epoch, e.challengeWindow);
  const { graph, sigs, graphFile, fundingTxid, fundingRaw } = await fundAndPublish(ctx, e, ek);
  const claim = ctx.claims.sign(e);
  const values = { stateRoot: e.stateRoot, l2BlockHash: e.l2BlockHash };
  const kplan: KickoffPlan = hooks.kickoff
    ? hooks.kickoff({
        graph,
        operatorSecret: secrets.operator,
        secrets: ek.kickoff,
        values,
        referenceRoot: e.referenceRoot,
      })
    : { broadcast: completeKickoff(graph, secrets.operator, ek.kickoff, values).tx };
  const kickoff = kplan.broadcast;
  try {
    await backend.broadcast(serializeTx(kickoff));
  } catch (err) {
    throw new DevnetOperatorError(`Epoch ${e.epoch}: the kick-off was refused`, { cause: err });
  }
  if (kplan.mineInstead) {
    market.mineInstead(kplan.mineInstead);
    const shown = readKickoff(graph, kickoff).stateRoot;
    const mined = readKickoff(graph, kplan.mineInstead).stateRoot;
    later.push(
      `epoch ${e.epoch}: equivocates — the mempool's kick-off reveals root ${short(bytesToHex(shown))}, the block mines the same txid revealing ${short(bytesToHex(mined))}`,
    );
  }
  const kickoffTxid = txidHex(kickoff);
  const c = trackedClaim(e, claim, { graph, sigs }, ek, graphFile, kickoffTxid, false);
  ctx.claims.track(c);
  logger?.info(
    { epoch: e.epoch.toString(), kickoffTxid, fundingTxid, stateRoot: bytesToHex(e.stateRoot), graphFile },
    'devnet operator claimed an epoch',
  );
  if (hooks.afterKickoff) {
    const lines: string[] = [];
    await hooks.afterKickoff(viewOf(c), strategyApi(ctx, lines));
    later.push(...lines);
  }
  return { kickoffTxid, graphFile, fundingTxid, fundingRaw, kickoffRaw: serializeTx(kickoff) };
}

/**
 * Funds the claim output from a coin of the pool, presigns the graph on it, publishes the graph and
 * broadcasts the funding. On any failure the coin goes back to the pool.
 */
async function fundAndPublish(ctx: OperatorContext, e: EpochClaim, ek: EpochKeys): Promise<PublishedGraph> {
  const { secrets, graphDir, hooks, backend, funding } = ctx;
  const script = claimScript(ek);
  const coin: OperatorCoin = funding.pool.take(funding.perClaim);
  let fundingTx: ReturnType<typeof funding.claimFunding>;
  let built: ReturnType<typeof presignedGraph>;
  let graphFile: string;
  try {
    fundingTx = funding.claimFunding(coin, script);
    built = presignedGraph(ek, secrets, { txid: txid(fundingTx.tx), vout: 0, script });
    graphFile = hooks.publish
      ? graphFileOf(graphDir, e.epoch)
      : await publishGraph(graphDir, built.graph, built.sigs);
    if (hooks.publish) {
      await hooks.publish(
        { epoch: e.epoch, text: graphDocumentText(built.graph, built.sigs), fraud: fraudOf(e) },
        { dir: graphDir, write: (epoch, text) => writeGraphText(graphDir, epoch, text) },
      );
    }
    await backend.broadcast(serializeTx(fundingTx.tx));
  } catch (err) {
    funding.pool.add(coin);
    throw new DevnetOperatorError(`Epoch ${e.epoch}: the claim could not be funded`, { cause: err });
  }
  const fundingTxid = txidHex(fundingTx.tx);
  funding.funded(fundingTxid, fundingTx.change);
  return { ...built, graphFile, fundingTxid, fundingRaw: serializeTx(fundingTx.tx) };
}

/** A claim made before a restart, as a served devnet recorded it (hex in display order). */
export type RecordedClaim = EpochClaim & { fundingTxid: string; kickoffTxid: string; neverAssert: boolean };

/**
 * Tracks again a claim this operator made before a restart. The graph and its presigned transactions are
 * rebuilt from the keys and the funding outpoint (the graph is a function of both), so the claim's take,
 * assert and payout have the ids they had; what the chain did to it since is read by the next scan.
 */
export function retrackClaim(ctx: OperatorContext, r: RecordedClaim): void {
  const ek = epochKeys(ctx.secrets, r.epoch, r.challengeWindow);
  const script = claimScript(ek);
  const fundingTxid = Uint8Array.from(Buffer.from(r.fundingTxid, 'hex')).reverse();
  const { graph, sigs } = presignedGraph(ek, ctx.secrets, { txid: fundingTxid, vout: 0, script });
  if (txidHex(graph.txs.kickoff) !== r.kickoffTxid) {
    throw new DevnetOperatorError(
      `Epoch ${r.epoch}: the rebuilt graph's kick-off is ${txidHex(graph.txs.kickoff)}, the record says ${r.kickoffTxid} (another Winternitz seed or funding outpoint)`,
    );
  }
  const claim = ctx.claims.sign(r);
  ctx.claims.track(
    trackedClaim(
      r,
      claim,
      { graph, sigs },
      ek,
      graphFileOf(ctx.graphDir, r.epoch),
      r.kickoffTxid,
      r.neverAssert,
    ),
  );
}

/** A claim as the operator follows it from its kick-off on: nothing seen on the chain yet. */
function trackedClaim(
  e: EpochClaim,
  signed: EpochClaim,
  built: ReturnType<typeof presignedGraph>,
  ek: EpochKeys,
  graphFile: string,
  kickoffTxid: string,
  neverAssert: boolean,
): TrackedClaim {
  const { graph, sigs } = built;
  return {
    epoch: e.epoch,
    fraud: fraudOf(e),
    checkpoints: signed.checkpoints,
    graph,
    sigs,
    traceSecrets: ek.trace,
    graphFile,
    kickoffTxid,
    ids: {
      take: txidHex(graph.txs.take),
      assert: txidHex(graph.txs.assert),
      payout: txidHex(graph.txs.payout),
    },
    kickoffHeight: undefined,
    assertHeight: undefined,
    spent: {},
    sent: new Set(),
    reported: 'kicked-off',
    neverAssert,
  };
}
