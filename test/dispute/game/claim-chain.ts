/**
 * A claim graph on a simnet chain, for the claim's tests: the operator's claim output and each
 * challenger's bond coin funded, the graph built and presigned by the operator and imported from its
 * published document, as a watcher would, and the claim's transactions as each party completes them.
 */

import { SimChain } from '../../../src/bitcoin/simnet/chain.ts';
import { taprootOutput } from '../../../src/bitcoin/taproot/output.ts';
import { txid, txidHex } from '../../../src/bitcoin/tx/serialize.ts';
import type { Tx } from '../../../src/bitcoin/tx/types.ts';
import { bytesToHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/hashes.ts';
import { claimDocumentHash, claimGraphToDocument } from '../../../src/dispute/game/claim-document.ts';
import { buildClaimGraph, type ClaimGraph, claimOutput } from '../../../src/dispute/game/claim-graph.ts';
import { type ImportedClaim, importClaimGraph } from '../../../src/dispute/game/claim-import.ts';
import { completeAssert, completeKickoff } from '../../../src/dispute/game/claim-spend.ts';
import {
  collectGamePresignatures,
  completeGameTx,
  completeSweep,
  covenantItems,
  type GamePresignatures,
  gameOutputOf,
  presignGame,
  signGameInput,
  signSweep,
  sweepOutput,
} from '../../../src/dispute/game/game-spend.ts';
import { REGTEST_SEARCH } from '../../../src/dispute/game/grid.ts';
import type { AssertMove } from '../../../src/dispute/game/moves.ts';
import { mineCoins, out, spend } from '../../../testkit/bitcoin/simnet/fixture.ts';
import {
  bondCoinValue,
  type ClaimFixture,
  claimExpectationsOf,
  fundedSpec,
  kickoffSignaturesOf,
  makeClaimFixture,
} from '../../../testkit/dispute/claim-fixture.ts';
import { assertValues, type ChainGame, MINER } from './chain-play.ts';
import type { Epoch } from './setup.ts';

const shape = REGTEST_SEARCH;

function newChain(): SimChain {
  let now = 1_700_000_000;
  return new SimChain({ clock: () => (now += 600) });
}

export const L2_BLOCK = sha256(utf8('l2 block of epoch 7'));
export const OPERATOR_COIN = 100_000_000n;

export type ClaimChain = {
  readonly epoch: Epoch;
  readonly fx: ClaimFixture;
  readonly chain: SimChain;
  readonly graph: ClaimGraph;
  readonly sigs: GamePresignatures;
  readonly gameSigs: readonly GamePresignatures[];
  readonly operatorCoin: { readonly txid: Uint8Array; readonly vout: number; readonly value: bigint };
  /** The published document the graph was imported from (the claim output is vout 0 of the operator coin's transaction, bond w vout 1 + w). */
  readonly document: string;
};

const importedClaims = new Map<string, ImportedClaim>();

/** A chain on which the operator's claim output and each challenger's bond coin are confirmed, and the graph on them, presigned. */
export function claimChain(epoch: Epoch, challengers = 2, chain: SimChain = newChain()): ClaimChain {
  const fx = makeClaimFixture({ shape, challengers, agreedImageRoot: epoch.tape.imageRoot });
  const [coin] = mineCoins(chain, 1);
  if (coin === undefined) throw new Error('no coin');
  for (let i = 0; i < 100; i++) chain.mine(MINER);
  const claim = claimOutput(fx.spec);
  const bonds = fx.spec.challengers.map((c) =>
    out(bondCoinValue(fx.spec.values), taprootOutput(c.key).scriptPubKey),
  );
  const spent = claim.value + bondCoinValue(fx.spec.values) * BigInt(challengers) + OPERATOR_COIN + 10_000n;
  const funding = spend({
    coins: [coin],
    outputs: [
      out(claim.value, claim.output.scriptPubKey),
      ...bonds,
      out(OPERATOR_COIN, taprootOutput(fx.spec.operator).scriptPubKey),
      out(coin.value - spent),
    ],
  });
  chain.acceptTx(funding.tx);
  chain.mine(MINER);
  const id = txid(funding.tx);
  const spec = fundedSpec(
    fx,
    { txid: id, vout: 0 },
    bonds.map((_, w) => ({ txid: id, vout: 1 + w })),
  );
  // The operator builds and presigns; the watcher plays what it imported from the published document.
  // Every fresh chain funds the same outpoints, so one import serves every test on them.
  const key = `${bytesToHex(id)}:${challengers}:${bytesToHex(epoch.tape.imageRoot)}`;
  let imported = importedClaims.get(key);
  if (imported === undefined) {
    const built = buildClaimGraph(spec);
    const presign = (g: Parameters<typeof presignGame>[0]) =>
      collectGamePresignatures(
        g,
        fx.secrets.covenant.map((s) => presignGame(g, s)),
      );
    const document = claimGraphToDocument(built, { claim: presign(built), games: built.games.map(presign) });
    imported = importClaimGraph(JSON.stringify(document), {
      ...claimExpectationsOf(spec, { value: claim.value, script: claim.output.scriptPubKey }),
      commitment: claimDocumentHash(document),
    });
    importedClaims.set(key, imported);
  }
  return {
    epoch,
    fx,
    chain,
    graph: imported.graph,
    sigs: imported.sigs.claim,
    gameSigs: imported.sigs.games,
    operatorCoin: { txid: id, vout: 1 + challengers, value: OPERATOR_COIN },
    document: JSON.stringify(imported.document),
  };
}

export function kickoffOf(c: ClaimChain, root: bigint): Tx {
  const sigs = kickoffSignaturesOf(c.fx, {
    root,
    l2BlockHash: L2_BLOCK,
    imageRoot: c.epoch.tape.imageRoot,
    inputsRoot: c.epoch.tape.inputRoot,
  });
  return completeKickoff(c.graph, c.fx.secrets.operator, sigs);
}

export function assertOf(c: ClaimChain, move: AssertMove): Tx {
  const sign = c.fx.sign.operator[0];
  if (sign === undefined) throw new Error('no signer');
  const sigs = new Map([...assertValues(move)].map(([label, bytes]) => [label, sign(label, bytes)]));
  return completeAssert(c.graph, c.sigs, sigs);
}

/** w's game as the game tests' helpers play it, on the claim's chain. */
export function chainGame(c: ClaimChain, w: number): ChainGame {
  return {
    chain: c.chain,
    graph: c.graph.games[w] as ChainGame['graph'],
    sigs: c.gameSigs[w] as GamePresignatures,
    operatorCoin: c.operatorCoin,
  };
}

export const minedTx = (chain: SimChain, tx: Tx): Tx => {
  const m = chain.findTx(txidHex(tx));
  if (m?.block === undefined) throw new Error(`${txidHex(tx)} is not mined`);
  return m.tx;
};

/**
 * The operator's sweep through the timeout leaf of `site`'s output: an unused Q_w (`reserve`, t after the
 * assert), or the pot of a move w did not answer within t.
 */
export function operatorSweep(c: ClaimChain, w: number, site = 'reserve'): Tx {
  const game = c.graph.games[w];
  if (game === undefined) throw new Error(`no game ${w}`);
  const output = gameOutputOf(game, site);
  const sweep = sweepOutput(
    output,
    output.leaves.get('timeout') as number,
    taprootOutput(c.fx.spec.operator).scriptPubKey,
    1_000n,
    c.fx.spec.timelocks.move,
  );
  return completeSweep(sweep, [signSweep(sweep, c.fx.secrets.operator)]);
}

/** The operator's forfeit of w's game: w's bond and Q_w, t after both. */
export function forfeitOf(c: ClaimChain, w: number): Tx {
  const game = c.graph.games[w];
  if (game === undefined) throw new Error(`no game ${w}`);
  return completeGameTx(game, 'forfeit', [
    { items: covenantItems(c.gameSigs[w] as GamePresignatures, 'forfeit', 0) },
    { items: [signGameInput(game, 'forfeit', 1, c.fx.secrets.operator)] },
  ]);
}
