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
import type { Tx } from '../bitcoin/tx/types.ts';
import { bytesToHex, equalBytes } from '../core/bytes.ts';
import { VigilError } from '../core/errors.ts';
import { claimDocumentHash, claimGraphToDocument } from '../dispute/game/claim-document.ts';
import { buildClaimGraph, type ClaimGraph, claimNeedsFor, claimOutput } from '../dispute/game/claim-graph.ts';
import { claimParameters } from '../dispute/game/claim-parameters.ts';
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
import { DEVNET_NETWORK } from './operator-graph.ts';
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

/** How long a registry call's receipt is waited for. */
const RECEIPT_TIMEOUT_MS = 30_000;

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
  /** Stops waiting for registry calls when it aborts (a served devnet's stop). */
  readonly signal?: AbortSignal;
  /** The registry's windows, in L2 blocks (default `BUNDLE_WINDOW` and `COMMIT_WINDOW`). */
  readonly bundleWindow?: bigint;
  readonly commitWindow?: bigint;
};

/** The operator's wallet: a key-path P2TR output of its key. */
export function operatorWallet(secrets: DevnetOperatorSecrets, operator: Uint8Array): WalletSigner {
  return { secret: secrets.operator, script: taprootOutput(operator).scriptPubKey };
}

export const operatorAddress = (operator: Uint8Array): string =>
  addressForScript(taprootOutput(operator).scriptPubKey, 'regtest') as string;

/** A claim's funding transaction, built and signed, not sent. */
export type GameClaimFunding = {
  readonly tx: Tx;
  /** What the claim output (vout 0) holds. */
  readonly value: bigint;
  /** The purse's change, which funds the next claim (none when it would be dust). */
  readonly purse: OperatorCoin | undefined;
};

/**
 * What every claim output holds: the graph's need with W_max challengers (the same for every epoch of a
 * network's parameters).
 */
export function gameClaimValue(o: Pick<GameOperatorOptions, 'secrets' | 'operator' | 'committee'>): bigint {
  const draft = devnetClaim({
    ...o,
    epoch: 0n,
    claim: { txid: new Uint8Array(32), vout: 0 },
    agreedImageRoot: new Uint8Array(32),
    challengers: [placeholderChallenger(0)],
  }).spec;
  return claimNeedsFor(draft, draft.maxChallengers);
}

/**
 * Builds the funding of `e`'s claim from `purse`. What the claim output must hold grows with the
 * challengers that post, and it is funded before any bundle: funded for W_max, and the kick-off's anchor
 * returns what the posted ones do not use (protocol §24.11 item 37).
 */
export function fundGameClaim(o: GameOperatorOptions, purse: OperatorCoin, e: GameEpoch): GameClaimFunding {
  const draft = devnetClaim({
    ...o,
    epoch: e.epoch,
    claim: { txid: new Uint8Array(32), vout: 0 },
    agreedImageRoot: e.tape.imageRoot,
    challengers: [placeholderChallenger(0)],
  }).spec;
  const value = claimNeedsFor(draft, draft.maxChallengers);
  const funding = spendCoin(
    purse,
    [{ value, script: claimOutput(draft).output.scriptPubKey }],
    FUNDING_FEE,
    operatorWallet(o.secrets, o.operator),
  );
  return { tx: funding.tx, value, purse: funding.change };
}

/**
 * Sends `funding` (unless the backend has it) and opens `epoch`'s claim on its output in the registry.
 * Returns the L2 block the claim opened at.
 */
export async function openGameClaim(o: GameOperatorOptions, epoch: bigint, funding: Tx): Promise<bigint> {
  if ((await o.bitcoin.backend.getTransaction(txidHex(funding))) === undefined)
    await o.bitcoin.backend.broadcast(serializeTx(funding));
  return send(o, 'openClaim', [epoch, `0x${hashToDisplayHex(txid(funding))}`, 0]);
}

/**
 * Where `epoch`'s claim stands in the registry (read at the L2 head, from the block it opened at): ready
 * once every listed challenger posted its bundle, or the bundle window closed with at least one posted;
 * lapsed once nobody posted in the window, or the commit window closed with no commitment.
 */
export async function gameClaimRegistration(
  o: GameOperatorOptions,
  epoch: bigint,
  openedAt: bigint,
): Promise<{ ready: ClaimRegistration } | { waiting: string; opened: boolean } | { lapsed: string }> {
  const head = await o.l2.pub.getBlockNumber({ cacheTime: 0 });
  const reg = await readClaimRegistration(o.l2.pub, o.l2.registry, epoch, {
    fromBlock: openedAt,
    toBlock: head,
  });
  if (reg === undefined) return { waiting: 'not opened on the registry yet', opened: false };
  const bundleWindow = o.bundleWindow ?? BUNDLE_WINDOW;
  const closed = head > reg.openedAt + bundleWindow;
  if (reg.documentHash !== undefined) return { ready: reg };
  if (head > reg.openedAt + bundleWindow + (o.commitWindow ?? COMMIT_WINDOW))
    return { lapsed: 'its commit window closed with no commitment' };
  if (reg.bundles.length > 0 && (reg.bundles.length === reg.listed.length || closed)) return { ready: reg };
  if (closed) return { lapsed: `none of its ${reg.listed.length} listed challengers posted a bundle` };
  return {
    waiting: `${reg.bundles.length} of ${reg.listed.length} listed challengers posted a bundle`,
    opened: true,
  };
}

/** A claim built on its bundles, its document committed and published; its kick-off signed, not sent. */
export type CompletedGameClaim = {
  readonly claim: OperatorGameClaim;
  readonly kickoff: Tx;
};

/**
 * Builds and presigns `e`'s claim graph on the challengers that posted (`reg`), commits its document's
 * hash (unless the registry holds it: a resumed claim, whose rebuilt document must hash the same, as
 * signing is deterministic), publishes the document as the strategy says, and signs the kick-off of the
 * root `game` claims.
 */
export async function completeGameClaim(
  o: GameOperatorOptions,
  e: GameEpoch,
  game: EpochGame,
  funding: { readonly txid: Uint8Array; readonly value: bigint },
  reg: ClaimRegistration,
): Promise<CompletedGameClaim> {
  const { shape } = claimParameters(DEVNET_NETWORK);
  const claim = devnetClaim({
    ...o,
    epoch: e.epoch,
    claim: { txid: funding.txid, vout: 0 },
    claimValue: funding.value,
    agreedImageRoot: e.tape.imageRoot,
    challengers: listedChallengers(reg, shape),
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
  const hash = claimDocumentHash(document);
  if (reg.documentHash === undefined) await send(o, 'commitClaimGraph', [e.epoch, `0x${bytesToHex(hash)}`]);
  else if (!equalBytes(reg.documentHash, hash))
    throw new GameOperatorError(
      `Epoch ${e.epoch}: the registry holds document hash ${bytesToHex(reg.documentHash)}, and the rebuilt claim graph hashes to ${bytesToHex(hash)}`,
    );
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
    kickoff,
  };
}

/**
 * Claims `e` on Bitcoin and the registry, up to its kick-off (broadcast, not mined), funded from `purse`,
 * waiting for the listed challengers' bundles. Returns the claim and the purse's change, which funds the
 * next claim.
 */
export async function claimEpoch(
  o: GameOperatorOptions,
  purse: OperatorCoin,
  e: GameEpoch,
): Promise<{ claim: OperatorGameClaim; purse: OperatorCoin }> {
  const game = epochGame(e, o.fault);
  const funding = fundGameClaim(o, purse, e);
  if (funding.purse === undefined) throw new GameOperatorError('The operator purse ran dry');
  const openedAt = await openGameClaim(o, e.epoch, funding.tx);
  const reg = await bundlesOf(o, e.epoch, openedAt);
  const done = await completeGameClaim(o, e, game, { txid: txid(funding.tx), value: funding.value }, reg);
  await o.bitcoin.backend.broadcast(serializeTx(done.kickoff));
  return { claim: done.claim, purse: funding.purse };
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

/** Waits until `epoch`'s claim is ready for its graph; lapsed, or not ready in time, is an error. */
async function bundlesOf(
  o: GameOperatorOptions,
  epoch: bigint,
  openedAt: bigint,
): Promise<ClaimRegistration> {
  const timeout = o.bundleTimeoutMs ?? 60_000;
  const started = Date.now();
  for (;;) {
    const r = await gameClaimRegistration(o, epoch, openedAt);
    if ('ready' in r) return r.ready;
    if ('lapsed' in r) throw new GameOperatorError(`Epoch ${epoch}: the claim lapsed: ${r.lapsed}`);
    if (Date.now() - started > timeout)
      throw new GameOperatorError(`Epoch ${epoch}: ${r.waiting} within ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `work`, or a rejection once `signal` aborts; the listener goes when either ends. */
async function untilStopped<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  let fail: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    fail = () => reject(new GameOperatorError('Stopped while waiting for a registry call'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
  try {
    return await Promise.race([work, stopped]);
  } finally {
    if (fail !== undefined) signal.removeEventListener('abort', fail);
  }
}

/** Sends a registry call from the devnet operator's (unlocked) account, waits for it, returns its block. */
async function send(o: GameOperatorOptions, functionName: string, args: readonly unknown[]): Promise<bigint> {
  const hash = await o.l2.wallet.writeContract({
    address: o.l2.registry,
    abi: challengerRegistryAbi as Abi,
    functionName,
    args,
    account: DEVNET_OPERATOR,
    chain: null,
  });
  // Bounded, and given up at once when the run stops: a served L2 mines no more blocks then, and a
  // receipt that never comes must not hold the stop up (a later round reads the registry's state).
  const receipt = o.l2.pub.waitForTransactionReceipt({
    hash,
    pollingInterval: 20,
    timeout: RECEIPT_TIMEOUT_MS,
  });
  const r = o.signal === undefined ? await receipt : await untilStopped(receipt, o.signal);
  if (r.status !== 'success') throw new GameOperatorError(`The registry refused ${functionName}`);
  return r.blockNumber;
}
