/**
 * The devnet's operator in the narrowing game (docs/protocol.md §24): for each epoch it funds a claim
 * output, opens the claim on the L2's challenger registry, waits for the listed challengers' bundles,
 * builds and presigns the claim graph on them, commits the document's hash on the L2, publishes
 * `claim-<epoch>.json` and broadcasts the kick-off of the root its program reached; then, once per block,
 * it plays its side from the chain alone (game-operator-play.ts). Its program is the governance
 * program's honest build, or a catalogue fault's build: a faulty operator lies consistently, from the
 * agreed pre-state, to keep the root its build halts on.
 *
 * Regtest only: its keys come from public labels (operator-keys.ts).
 */
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Abi, Address, PublicClient, WalletClient } from 'viem';
import { addressForScript } from '../bitcoin/codec/address.ts';
import type { DevnetBitcoin } from '../bitcoin/simnet/devnet-bitcoin.ts';
import { taprootOutput } from '../bitcoin/taproot/output.ts';
import { hashToDisplayHex, serializeTx, txid, txidHex } from '../bitcoin/tx/serialize.ts';
import { bytesToHex } from '../core/bytes.ts';
import { VigilError } from '../core/errors.ts';
import { claimDocumentHash, claimGraphToDocument } from '../dispute/game/claim-document.ts';
import { buildClaimGraph, type ClaimGraph, claimNeedsFor, claimOutput } from '../dispute/game/claim-graph.ts';
import { completeKickoff } from '../dispute/game/claim-spend.ts';
import { collectGamePresignatures, type GamePresignatures, presignGame } from '../dispute/game/game-spend.ts';
import type { PublishedSignatures } from '../dispute/game/leaf-witness.ts';
import {
  type ClaimRegistration,
  listedChallengers,
  readClaimRegistration,
} from '../l2/challenger-registry.ts';
import { challengerRegistryAbi } from '../l2/contracts/artifacts/abis.ts';
import { DEVNET_OPERATOR } from '../l2/devnet.ts';
import type { ProgramFault } from '../machine/programs/faults.ts';
import { claimFileName } from '../watcher/claim-documents.ts';
import { type DevnetClaim, devnetClaim } from './game-claim.ts';
import { type EpochGame, epochGame, type GameEpoch } from './game-epochs.ts';
import { type OperatorCoin, spendCoin, type WalletSigner } from './operator-coins.ts';
import type { DevnetOperatorSecrets } from './operator-keys.ts';

export class GameOperatorError extends VigilError {
  override name = 'GameOperatorError';
}

/** L2 blocks after a claim opens during which its listed challengers may post (the devnet registry's). */
export const BUNDLE_WINDOW = 50n;

/**
 * L2 blocks after the bundle window within which the operator must commit a claim (the devnet registry's):
 * every registry call is a block of its own on the devnet, and the operator commits a few calls later.
 */
export const COMMIT_WINDOW = 200n;

/** Fee of a claim's funding transaction (one key-path input, two outputs). */
const FUNDING_FEE = 1_000n;

/** What the operator does besides answering from its trace (a lying side that stops). */
export type GameOperatorBehaviour = {
  /** Never asserts: challenged claims lose S to the assert-timeout. */
  readonly neverAssert?: boolean;
  /** Never sends this move of any game (its timeout is the challenger's to take). */
  readonly silentAt?: string;
  /**
   * Sends this move of every game (or the assert) in two versions, one txid: the mempool gets one that
   * signs another value, and the next block mines the move as played (an equivocation for Vigil to prove).
   */
  readonly equivocateAt?: string;
  /**
   * From each false claim's kick-off until a challenge of it confirms (or T_c), blocks take only packages
   * paying `FEE_SPIKE_SAT_VB` and every estimate says so: above the devnet's challenge rate, so a
   * challenge confirms only once its challenger pays for it (§24.11 item 30).
   */
  readonly feeSpike?: boolean;
  /**
   * Uses all its time: the assert, and every move it owes, mined in the last block before its opponent's
   * timeout is valid (T_a − 1 after the kick-off; t − 1 after the challenger's last move).
   */
  readonly late?: boolean;
  /**
   * Sends this move of every game (or the assert) in the last block before its opponent's timeout, hangs
   * a large child paying the relay minimum on its anchor, and lets fees rise past the presigned rate: the
   * move stays unconfirmed, and its opponent's timeout must outbid both (game-stall.ts).
   */
  readonly stallAt?: string;
  /**
   * With `stallAt`: the child is the strongest the operator can hang below the market (a pin: more
   * absolute fee than any rung of the opponent's timeout), and the market holds for `PIN_HOLD_BLOCKS`.
   */
  readonly pin?: boolean;
  /**
   * Vigil reads Bitcoin through a hostile Esplora front the operator controls: it hides every spend of an
   * output other than vout 0 (the assert's spend of S, every connector), or answers every third request
   * with garbage. Vigil may be blinded, never silently: each false claim ends slashed or an alert says why.
   */
  readonly lyingBackend?: 'hide-spends' | 'garbage';
  /**
   * What the operator does with a false claim's document after committing its hash on the L2: never
   * publishes it (`withheld`), publishes half of it (`malformed`), or publishes it only
   * `LATE_DOCUMENT_BLOCKS` after the kick-off confirmed (`late`). True claims are published as they should.
   */
  readonly document?: 'withheld' | 'malformed' | 'late';
};

/** Blocks after a false claim's kick-off confirmed that `document: 'late'` publishes it: T_c is 6 on regtest. */
export const LATE_DOCUMENT_BLOCKS = 3;

/** How a claim ended for the operator on Bitcoin, once it has. */
export type GameClaimEnd = 'taken' | 'paid-out' | 'slashed' | 'timed-out';

/** One claim the operator made, and how it stands. */
export type OperatorGameClaim = {
  readonly epoch: bigint;
  readonly game: EpochGame;
  readonly claim: DevnetClaim;
  readonly graph: ClaimGraph;
  readonly sigs: GamePresignatures;
  readonly gameSigs: readonly GamePresignatures[];
  readonly kickoffTxid: string;
  /** The claim's end, once at depth; undefined while it is open. */
  end: GameClaimEnd | undefined;
  /** The kick-off's published signatures, read off the chain once it confirmed. */
  kickoffSigs: PublishedSignatures['kickoff'] | undefined;
  /** A document held back (`document: 'late'`): where it goes and its text, until it is published. */
  unpublished?: { readonly path: string; readonly text: string };
};

export type GameOperatorOptions = {
  readonly bitcoin: DevnetBitcoin;
  readonly l2: {
    readonly pub: PublicClient;
    readonly wallet: WalletClient;
    readonly registry: Address;
    readonly startBlock: bigint;
  };
  readonly graphDir: string;
  /** The operator's build of the governance program: a catalogue fault's, or undefined (honest). */
  readonly fault: ProgramFault;
  readonly secrets: DevnetOperatorSecrets;
  readonly operator: Uint8Array;
  readonly committee: readonly Uint8Array[];
  /** How long to wait for the listed challengers' bundles (default 60 s). */
  readonly bundleTimeoutMs?: number;
  /** What it does with a false claim's document (default: publishes it). */
  readonly document?: GameOperatorBehaviour['document'];
};

/** The operator's wallet: a key-path P2TR output of its key. */
export function operatorWallet(secrets: DevnetOperatorSecrets, operator: Uint8Array): WalletSigner {
  return { secret: secrets.operator, script: taprootOutput(operator).scriptPubKey };
}

export const operatorAddress = (operator: Uint8Array): string =>
  addressForScript(taprootOutput(operator).scriptPubKey, 'regtest') as string;

/**
 * Claims `e` on Bitcoin and the registry, up to its kick-off (broadcast, not mined), funded from `purse`.
 * Returns the claim and the purse's change, which funds the next claim.
 */
export async function claimEpoch(
  o: GameOperatorOptions,
  purse: OperatorCoin,
  e: GameEpoch,
): Promise<{ claim: OperatorGameClaim; purse: OperatorCoin }> {
  const game = epochGame(e, o.fault);
  // What the claim output must hold grows with the challengers that post, and it is funded before any
  // bundle: funded for W_max, and the kick-off's anchor returns what the posted ones do not use (protocol
  // §24.11 item 37).
  const draft = devnetClaim({
    ...o,
    epoch: e.epoch,
    claim: { txid: new Uint8Array(32), vout: 0 },
    agreedImageRoot: e.tape.imageRoot,
    challengers: [placeholderChallenger(0)],
  }).spec;
  const out = {
    output: claimOutput(draft).output,
    value: claimNeedsFor(draft, draft.maxChallengers),
  };
  const funding = spendCoin(
    purse,
    [{ value: out.value, script: out.output.scriptPubKey }],
    FUNDING_FEE,
    operatorWallet(o.secrets, o.operator),
  );
  if (funding.change === undefined) throw new GameOperatorError('The operator purse ran dry');
  await o.bitcoin.backend.broadcast(serializeTx(funding.tx));
  const fundingTxid = txid(funding.tx);
  await send(o, 'openClaim', [e.epoch, `0x${hashToDisplayHex(fundingTxid)}`, 0]);
  const reg = await bundlesOf(o, e.epoch);
  const challengers = listedChallengers(reg, draft.shape);
  const claim = devnetClaim({
    ...o,
    epoch: e.epoch,
    claim: { txid: fundingTxid, vout: 0 },
    claimValue: out.value,
    agreedImageRoot: e.tape.imageRoot,
    challengers,
  });
  const graph = buildClaimGraph(claim.spec);
  const covenant = [o.secrets.operator, ...o.secrets.committee];
  const presign = (g: Parameters<typeof presignGame>[0]) =>
    collectGamePresignatures(
      g,
      covenant.map((s) => presignGame(g, s)),
    );
  const sigs = presign(graph);
  const gameSigs = graph.games.map(presign);
  const document = claimGraphToDocument(graph, { claim: sigs, games: gameSigs });
  await send(o, 'commitClaimGraph', [e.epoch, `0x${bytesToHex(claimDocumentHash(document))}`]);
  const path = join(o.graphDir, claimFileName(e.epoch));
  const text = JSON.stringify(document);
  const attack = game.fraud ? o.document : undefined;
  if (attack === undefined) await publishDocument(path, text);
  else if (attack === 'malformed') await publishDocument(path, text.slice(0, Math.floor(text.length / 2)));
  const kickoff = completeKickoff(
    graph,
    o.secrets.operator,
    claim.kickoff({
      root: game.claimedRoot,
      l2BlockHash: e.l2BlockHash,
      imageRoot: e.tape.imageRoot,
      inputsRoot: e.tape.inputRoot,
    }),
  );
  await o.bitcoin.backend.broadcast(serializeTx(kickoff));
  return {
    claim: {
      epoch: e.epoch,
      game,
      claim,
      graph,
      sigs,
      gameSigs,
      kickoffTxid: txidHex(kickoff),
      end: undefined,
      kickoffSigs: undefined,
      ...(attack === 'late' ? { unpublished: { path, text } } : {}),
    },
    purse: funding.change,
  };
}

/** Writes a claim document where the watcher reads it, whole or not at all (a rename). */
export async function publishDocument(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}

/** A challenger slot's shape before the bundles come: only the count matters to the claim output. */
function placeholderChallenger(w: number) {
  const key = new Uint8Array(32).fill(w + 1);
  return { key, keys: new Map(), bondCoin: { txid: new Uint8Array(32), vout: w, value: 0n } };
}

/**
 * Waits until every listed challenger posted its bundle, or the bundle window closed with at least one
 * posted (the registry read at the L2 head): the claim is then built for those that posted.
 */
async function bundlesOf(o: GameOperatorOptions, epoch: bigint): Promise<ClaimRegistration> {
  const timeout = o.bundleTimeoutMs ?? 60_000;
  const started = Date.now();
  for (;;) {
    const head = await o.l2.pub.getBlockNumber({ cacheTime: 0 });
    const reg = await readClaimRegistration(o.l2.pub, o.l2.registry, epoch, {
      fromBlock: o.l2.startBlock,
      toBlock: head,
    });
    const closed = reg !== undefined && head > reg.openedAt + BUNDLE_WINDOW;
    if (reg !== undefined && reg.bundles.length > 0 && (reg.bundles.length === reg.listed.length || closed))
      return reg;
    if (Date.now() - started > timeout) {
      throw new GameOperatorError(
        `Epoch ${epoch}: ${reg?.bundles.length ?? 0} of ${reg?.listed.length ?? 0} listed challengers posted a bundle within ${timeout} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends a registry call from the devnet operator's (unlocked) account and waits for it. */
async function send(o: GameOperatorOptions, functionName: string, args: readonly unknown[]): Promise<void> {
  const hash = await o.l2.wallet.writeContract({
    address: o.l2.registry,
    abi: challengerRegistryAbi as Abi,
    functionName,
    args,
    account: DEVNET_OPERATOR,
    chain: null,
  });
  const r = await o.l2.pub.waitForTransactionReceipt({ hash, pollingInterval: 20 });
  if (r.status !== 'success') throw new GameOperatorError(`The registry refused ${functionName}`);
}
