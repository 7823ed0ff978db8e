/**
 * The watcher's side of the narrowing game (docs/protocol.md §24.9): for each claim the L2's challenger
 * registry shows committed, it imports the operator's claim document against what the registry and the
 * chain say (the bundles, the committed hash, the claim output) and against Vigil's own pre-state, judges
 * the claim's kick-off at depth against the root Vigil's model reached, and opens a game record for Vigil
 * as challenger w when the root is wrong. The game job (src/challenger/game-play.ts) plays it from there,
 * with the material `materialOf` gives it: the imported claim, Vigil's run of the epoch on the governance
 * program, and Vigil's keys.
 *
 * Vigil only opens a game it can play: its key posted a bundle, and that bundle's keys are the ones its
 * seed derives for the claim (anything else would make it sign with keys the graph does not check). A
 * false claim it cannot challenge is logged as `VigilFalseClaimUnchallengeable` and counted, at once;
 * so is a kick-off at depth while Vigil holds no graph it can play.
 */
import type { Logger } from 'pino';
import type { BitcoinBackend, TxStatus } from '../bitcoin/backends/types.ts';
import { verifiedOutspend } from '../bitcoin/backends/verified-outspend.ts';
import { verifiedTx } from '../bitcoin/backends/verify.ts';
import type { BitcoinNetwork } from '../bitcoin/network.ts';
import { hashToDisplayHex, txidHex } from '../bitcoin/tx/serialize.ts';
import type { Tx } from '../bitcoin/tx/types.ts';
import { type GameMaterial, GameMaterialNotReadyError } from '../challenger/game-context.ts';
import { bytesToHex, equalBytes, hexToBytes, utf8 } from '../core/bytes.ts';
import { VigilError } from '../core/errors.ts';
import { sha256 } from '../core/hashes.ts';
import {
  bundleKeysOf,
  type ChallengerIdentity,
  type ClaimSite,
  challengerScope,
  challengerSignerOf,
} from '../dispute/game/challenger-identity.ts';
import type { ClaimParameters } from '../dispute/game/claim-document.ts';
import type { ClaimGraph } from '../dispute/game/claim-graph.ts';
import { type ImportedClaim, importClaimGraphYielding } from '../dispute/game/claim-import.ts';
import { readKickoff } from '../dispute/game/claim-spend.ts';
import { gameTx } from '../dispute/game/game-graph.ts';
import { gameViewOptions, type HonestView, runHonest, viewOfHonestRun } from '../dispute/game/honest-view.ts';
import type { GameClaim } from '../dispute/game/key-plan.ts';
import type { SignerKeys } from '../dispute/game/signer-keys.ts';
import { type GraphDefect, GraphImportError } from '../dispute/graph/errors.ts';
import type { GameStore } from '../dispute/records/game-store.ts';
import type { GameRecord } from '../dispute/records/game-types.ts';
import { asTxid } from '../dispute/records/types.ts';
import { type ClaimRegistration, listedChallengers } from '../l2/challenger-registry.ts';
import type { ClaimFollower } from '../l2/claim-follower.ts';
import { tapeOfRecipe } from '../l2/tape-recipe.ts';
import { wordOf } from '../machine/isa.ts';
import type { HonestRunner, TapeSource } from './honest-run-thread.ts';

/** One ended epoch, final on the L2, as a claim on it is judged (the L2 epoch source's `endedEpoch`). */
export type EndedEpoch = {
  readonly epoch: bigint;
  /** The model's root before the epoch's first input (the previous epoch's root): the agreed pre-state. */
  readonly preRoot: Uint8Array;
  /** The model's root at the epoch's end: the program's run must halt on it. */
  readonly root: Uint8Array;
  /**
   * Where a game's honest run takes the epoch's tape from, asked for only once Vigil plays a game of the
   * epoch: the tape is a re-execution of the history since the L2 journal's base, made on the run's thread.
   */
  readonly tapeSource: () => TapeSource;
};

/** Claims from the registry carry no instance: every game key of a registry claim is derived at 0. */
export const REGISTRY_CLAIM_INSTANCE = 0;

/**
 * The claims judged for good with no game of Vigil's to follow (valid, unchallengeable, refused, or their
 * game resolved), kept in Redis so that a restart, which reads the registry from its start again, does
 * not judge, alert or hold a bond coin for them twice.
 */
export type ClaimLedger = {
  has(epoch: bigint): Promise<boolean>;
  add(epoch: bigint, outcome: ClaimJudgement['outcome']): Promise<void>;
};

/**
 * The claim outputs of lapsed claims that were on chain, unspent, when Vigil let go of the claim (by
 * epoch): a spend of one at depth is a kick-off nobody can dispute, alerted once.
 */
export type LapsedOutputs = {
  all(): Promise<Map<bigint, ClaimRegistration['claim']>>;
  add(epoch: bigint, claim: ClaimRegistration['claim']): Promise<void>;
  remove(epoch: bigint): Promise<void>;
};

/** A claim outpoint as logs and alerts show it: `<txid in display order>:<vout>`. */
export const outpointText = (claim: ClaimRegistration['claim']): string =>
  `${hashToDisplayHex(claim.txid)}:${claim.vout}`;

/**
 * The claim documents of Vigil's games, kept with their records (content-addressed by epoch and the
 * document's hash): after a restart a game rebuilds its graph from here, whatever became of the file.
 */
export type ClaimDocumentStore = {
  get(epoch: bigint, hashHex: string): Promise<string | undefined>;
  put(epoch: bigint, hashHex: string, text: string): Promise<void>;
};

/** The lowest epoch whose tape a followed claim or an open game needs; `unknown` before the first `retain`. */
export type HeldEpoch = bigint | undefined | 'unknown';

export type ClaimGamesOptions = {
  readonly follower: Pick<ClaimFollower, 'claims' | 'claim' | 'forget'>;
  /** The challenger registry's address (0x hex): Vigil's game keys are bound to it. */
  readonly registry: string;
  /** The claim document the operator published for `epoch` (its text), or undefined while there is none. */
  readonly documentOf: (epoch: bigint) => Promise<string | undefined>;
  /** The epoch's roots and tape, once ended and final on the L2 (cheap: no re-execution). */
  readonly endedEpoch: (epoch: bigint) => EndedEpoch | undefined;
  /**
   * Where the program's honest run of an epoch is made, once per epoch and document (default: on the
   * caller's thread; the watcher gives its pool of threads, since a mainnet epoch is a minute of CPU).
   */
  readonly honestRunner?: HonestRunner;
  readonly backend: BitcoinBackend;
  readonly network: BitcoinNetwork;
  /** Vigil's claim parameters for the network (never the document's). */
  readonly params: ClaimParameters;
  readonly operator: Uint8Array;
  readonly committee: readonly Uint8Array[];
  /** Vigil as a registered challenger; undefined (mode watch: no key), it judges claims and plays none. */
  readonly identity: ChallengerIdentity | undefined;
  readonly store: GameStore;
  /** Starts a game's repeating job (DisputeQueue.trackGame). */
  readonly track: (id: string) => Promise<void>;
  /** Depth at which the kick-off is read. */
  readonly confirmations: number;
  /** Claims judged for good (default: in memory only). */
  readonly ledger?: ClaimLedger;
  /** The documents of opened games (default: in memory only). */
  readonly documents?: ClaimDocumentStore;
  /** The claim outputs of lapsed claims still watched (default: in memory only). */
  readonly lapsedOutputs?: LapsedOutputs;
  readonly logger?: Logger;
  /** Counts a false claim Vigil cannot challenge (vigil_false_claims_unchallengeable_total). */
  readonly onUnchallengeable?: (epoch: bigint, reason: string) => void;
};

/** What one poll concluded about one claim. */
export type ClaimJudgement = {
  readonly epoch: bigint;
  /** `error`: the claim could not be judged this poll for a failure (it is judged again on the next). */
  /** `lapsed`: the registry can never take the claim's commitment, so nobody can play its game. */
  readonly outcome: 'waiting' | 'valid' | 'fraud' | 'refused' | 'lapsed' | 'error';
  readonly reason: string;
  /** The game opened, when Vigil challenges. */
  readonly game?: string;
};

export type ClaimGames = {
  /** Judges every claim not judged yet, at tip `tip`; one that fails does not stop the others. */
  poll(tip: number): Promise<ClaimJudgement[]>;
  /** The material the game job plays a record with (cached; rebuilt after a restart). */
  materialOf(rec: GameRecord): Promise<GameMaterial>;
  /** Lets go of what is held for games not in `open` (the unresolved records) and claims not followed. */
  retain(open: readonly Pick<GameRecord, 'id' | 'epoch'>[]): void;
  /**
   * The lowest epoch a followed claim or an unresolved game (as of the last `retain`) still needs the
   * tape of: the L2 journal must not be pruned past the end of the epoch before it.
   */
  heldEpoch(): HeldEpoch;
  /**
   * Forgets the open games of the last `retain`: `heldEpoch` is unknown (nothing is pruned) until the next.
   * For a process that takes the lease over again, whose last list may lack games opened meanwhile.
   */
  forgetOpen(): void;
};

type Imported = {
  readonly epoch: bigint;
  /** The document's text as published (kept with the game when one opens). */
  readonly text: string;
  /** Vigil's bundle was derived without the claim's site (posted by a Vigil before keys were bound to it). */
  readonly legacyKeys: boolean;
  readonly claim: ImportedClaim;
  readonly ended: EndedEpoch;
  readonly w: number | undefined;
};

const NO_CLAIM_OUTPUT = 'the claim output is not on the chain the backend sees';

/** How long a failed honest run is not started again (it is a minute or more of a core on mainnet). */
const HONEST_RETRY_MS = 10 * 60_000;

/** Refusals that come before the document's hash is checked against the commitment. */
const BEFORE_HASH: ReadonlySet<GraphDefect> = new Set([
  'DOCUMENT_TOO_LARGE',
  'UNSUPPORTED_VERSION',
  'HASH_MISMATCH',
]);

const errText = (err: unknown): string =>
  err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);

function memoryDocuments(): ClaimDocumentStore {
  const texts = new Map<string, string>();
  return {
    get: async (epoch, hashHex) => texts.get(`${epoch}:${hashHex}`),
    put: async (epoch, hashHex, text) => {
      texts.set(`${epoch}:${hashHex}`, text);
    },
  };
}

function memoryLapsedOutputs(): LapsedOutputs {
  const outputs = new Map<bigint, ClaimRegistration['claim']>();
  return {
    all: async () => new Map(outputs),
    add: async (epoch, claim) => {
      outputs.set(epoch, claim);
    },
    remove: async (epoch) => {
      outputs.delete(epoch);
    },
  };
}

function memoryLedger(): ClaimLedger {
  const judged = new Set<bigint>();
  return {
    has: async (epoch) => judged.has(epoch),
    add: async (epoch) => {
      judged.add(epoch);
    },
  };
}

export function createClaimGames(o: ClaimGamesOptions): ClaimGames {
  const shape = o.params.shape;
  const honestRunner: HonestRunner =
    o.honestRunner ??
    (async (p, source, opts) => {
      const tape = 'tape' in source ? source.tape : tapeOfRecipe(source.recipe);
      return { run: runHonest(p, tape, opts), tape };
    });
  const ledger = o.ledger ?? memoryLedger();
  const documents = o.documents ?? memoryDocuments();
  const lapsedOutputs = o.lapsedOutputs ?? memoryLapsedOutputs();
  /** The Bitcoin tip at which the lapsed claims' outputs were last looked at (once per block). */
  let lapsedCheckedAt: number | undefined;
  /** The epochs of the unresolved games at the last `retain` (undefined before the first). */
  let openEpochs: readonly bigint[] | undefined;
  /** Imports by epoch and document hash: one per claim. */
  const imports = new Map<string, Imported>();
  const importKey = (epoch: bigint, hashHex: string) => `${epoch}:${hashHex}`;
  /** Document texts refused, by epoch and the text's hash: a text is imported once, not on every poll. */
  const refusedTexts = new Map<string, { reason: string; final: boolean }>();
  /** Each claimed epoch's roots, asked for once per claim. */
  const endedEpochs = new Map<bigint, EndedEpoch>();
  const materials = new Map<string, GameMaterial>();
  /**
   * Honest views by epoch and document, from the moment one is asked for: a run is a minute or more on
   * mainnet, and a game's next run (after its deadline, or another game of the epoch) waits for this one
   * instead of starting another. A run that failed is not tried again for `HONEST_RETRY_MS`.
   */
  const views = new Map<string, Promise<HonestView>>();
  const viewFailures = new Map<string, { at: number; message: string }>();
  const logged = new Set<string>();

  const gameClaimOf = (epoch: bigint): GameClaim => ({
    network: o.network,
    operator: o.operator,
    epoch,
    instance: REGISTRY_CLAIM_INSTANCE,
  });

  const registry = hexToBytes(o.registry);
  const siteOf = (claim: ClaimSite['claim']): ClaimSite => ({ registry, claim });

  const once = (key: string, log: () => void) => {
    if (logged.has(key)) return;
    logged.add(key);
    log();
  };

  /** Judged for good: not read, judged or alerted on again, here or after a restart. */
  async function settle(epoch: bigint, outcome: ClaimJudgement['outcome']): Promise<void> {
    await ledger.add(epoch, outcome);
    o.follower.forget(epoch);
    endedEpochs.delete(epoch);
    for (const k of [...logged]) if (k.endsWith(`:${epoch}`)) logged.delete(k);
    for (const k of [...refusedTexts.keys()]) if (k.startsWith(`${epoch}:`)) refusedTexts.delete(k);
  }

  /**
   * Vigil's place among the challengers that posted: its index w and the derivation its bundle used (keys
   * bound to the claim's site, or the first one, for a bundle posted before they were), or why it has none.
   */
  function vigilSlot(reg: ClaimRegistration): { w: number; legacy: boolean } | { none: string } {
    const id = o.identity;
    if (id === undefined) return { none: 'Vigil has no challenger key (no wallet key in this mode)' };
    const posted = [...reg.bundles].sort((a, b) => a.slot - b.slot);
    const w = posted.findIndex((b) => equalBytes(b.key, id.key));
    if (w < 0) {
      const listed = reg.listed.some((k) => equalBytes(k, id.key));
      return { none: listed ? 'Vigil is listed but posted no bundle' : 'Vigil is not listed' };
    }
    const theirs = listedChallengers(reg, shape)[w]?.keys;
    const derived = (site: ClaimSite | undefined) =>
      bundleKeysOf(id, challengerScope(id, shape, gameClaimOf(reg.epoch), site));
    if (theirs !== undefined && sameKeys(theirs, derived(siteOf(reg.claim)))) return { w, legacy: false };
    if (theirs !== undefined && sameKeys(theirs, derived(undefined))) return { w, legacy: true };
    return { none: "Vigil's slot holds a bundle its seed did not derive: it cannot sign that game" };
  }

  async function claimPrevout(reg: ClaimRegistration) {
    const txid = hashToDisplayHex(reg.claim.txid);
    const found = await o.backend.getTransaction(txid);
    if (found === undefined) return undefined;
    const out = verifiedTx(o.backend.kind, txid, found.raw).outputs[reg.claim.vout];
    return out === undefined ? undefined : { value: out.value, script: out.script };
  }

  function endedOf(epoch: bigint): EndedEpoch | undefined {
    let ended = endedEpochs.get(epoch);
    if (ended === undefined) {
      ended = o.endedEpoch(epoch);
      if (ended !== undefined) endedEpochs.set(epoch, ended);
    }
    return ended;
  }

  /**
   * The claim imported against the registry, the chain and Vigil's pre-state. The cheap checks come
   * first (the claim output, a commitment, a document, a text not refused before), the epoch's roots last.
   */
  async function imported(
    reg: ClaimRegistration,
  ): Promise<Imported | { waiting: string } | { refused: string; final: boolean }> {
    const hash = reg.documentHash;
    const hit = hash === undefined ? undefined : imports.get(importKey(reg.epoch, bytesToHex(hash)));
    if (hit !== undefined) return hit;
    // The claim output first: without it on the chain there is nothing to judge or to watch.
    const prevout = await claimPrevout(reg);
    if (prevout === undefined) return { waiting: NO_CLAIM_OUTPUT };
    if (hash === undefined) return { waiting: 'the operator has not committed its claim document' };
    // A game's own copy first (the file may have gone since the game opened), then the published file:
    // a copy altered in Redis, or one an older Vigil kept that this one refuses, is no reason to lock
    // Vigil out of a game the published document still lets it play.
    const hashHex = bytesToHex(hash);
    const kept = await documents.get(reg.epoch, hashHex);
    let keptRefusal: { refused: string; final: boolean } | undefined;
    if (kept !== undefined) {
      const got = await importText(reg, prevout, hash, kept);
      if (!('refused' in got)) return got;
      keptRefusal = got;
      once(`kept:${hashHex}:${reg.epoch}`, () =>
        o.logger?.error(
          { epoch: String(reg.epoch), document: hashHex, reason: got.refused },
          "Vigil's own copy of the claim document is refused: the published file is read instead",
        ),
      );
    }
    let text: string | undefined;
    try {
      text = await o.documentOf(reg.epoch);
    } catch (err) {
      if (!(err instanceof GraphImportError)) throw err;
      // The file may yet be replaced by the committed document.
      return { refused: `the claim document cannot be read: ${err.message}`, final: false };
    }
    if (text === undefined) return keptRefusal ?? { waiting: 'the claim document is not published yet' };
    const got = await importText(reg, prevout, hash, text);
    // The file hashed to the commitment where the copy did not: the copy is put right. A failed write
    // costs nothing now (the file was played) and is tried again by the next game that opens on it.
    if (kept !== undefined && !('refused' in got) && !('waiting' in got)) {
      await documents
        .put(reg.epoch, hashHex, text)
        .catch((err: unknown) =>
          o.logger?.error(
            { epoch: String(reg.epoch), document: hashHex, err: errText(err) },
            "Vigil's own copy of the claim document could not be put right",
          ),
        );
    }
    return got;
  }

  /** One text of the claim's document imported against the registry, the chain and Vigil's pre-state. */
  async function importText(
    reg: ClaimRegistration,
    prevout: { value: bigint; script: Uint8Array },
    hash: Uint8Array,
    text: string,
  ): Promise<Imported | { waiting: string } | { refused: string; final: boolean }> {
    const textKey = `${reg.epoch}:${bytesToHex(sha256(utf8(text)))}`;
    const before = refusedTexts.get(textKey);
    if (before !== undefined) return { refused: before.reason, final: before.final };
    const ended = endedOf(reg.epoch);
    if (ended === undefined) {
      return { waiting: `epoch ${reg.epoch} has not ended on the L2 ingested so far, or is not final` };
    }
    const slot = vigilSlot(reg);
    let claim: ImportedClaim;
    try {
      claim = await importClaimGraphYielding(text, {
        network: o.network,
        params: o.params,
        operator: o.operator,
        committee: o.committee,
        epoch: reg.epoch,
        agreedImageRoot: ended.preRoot,
        challengers: listedChallengers(reg, shape),
        commitment: hash,
        claimPrevout: prevout,
        claimOutpoint: reg.claim,
      });
    } catch (err) {
      if (!(err instanceof GraphImportError)) throw err;
      // Before its hash is checked a document may be another than the committed one (the right one may
      // yet be published); once it hashed to the commitment, it is the one, and its refusal is final.
      const final = !BEFORE_HASH.has(err.defect) && !(err.defect === 'MALFORMED' && err.where === 'document');
      const refusal = { reason: `the claim document is refused: ${err.message}`, final };
      refusedTexts.set(textKey, refusal);
      return { refused: refusal.reason, final };
    }
    if (claim.graph.spec.instance !== REGISTRY_CLAIM_INSTANCE) {
      return {
        refused: `the claim is instance ${claim.graph.spec.instance}, not ${REGISTRY_CLAIM_INSTANCE}`,
        final: true,
      };
    }
    const entry: Imported = {
      epoch: reg.epoch,
      text,
      legacyKeys: 'w' in slot && slot.legacy,
      claim,
      ended,
      w: 'w' in slot ? slot.w : undefined,
    };
    if ('none' in slot)
      once(`slot:${reg.epoch}`, () => o.logger?.warn({ epoch: String(reg.epoch) }, slot.none));
    imports.set(importKey(reg.epoch, bytesToHex(hash)), entry);
    return entry;
  }

  /**
   * The claim output's spender once it is at depth: the transaction itself, checked to spend it. Core past
   * its lookback knows the output spent but not by whom: then the graph's kick-off is asked for by txid.
   */
  async function kickoffAtDepth(
    claim: ClaimRegistration['claim'],
    tip: number,
    graphKickoff: string | undefined,
  ): Promise<{ txid: string; tx: Tx; height: number } | 'unspent' | 'shallow'> {
    const spend = await verifiedOutspend(o.backend, hashToDisplayHex(claim.txid), claim.vout);
    if (!spend.spent) return 'unspent';
    let found: { txid: string; tx: Tx; status: TxStatus } | undefined =
      spend.txid === undefined
        ? undefined
        : { txid: spend.txid, tx: spend.spender.tx, status: spend.spender.status };
    if (found === undefined && graphKickoff !== undefined) {
      const got = await o.backend.getTransaction(graphKickoff);
      if (got !== undefined)
        found = {
          txid: graphKickoff,
          tx: verifiedTx(o.backend.kind, graphKickoff, got.raw),
          status: got.status,
        };
    }
    if (found === undefined) return 'shallow';
    const st = found.status;
    if (!st.confirmed || tip - st.blockHeight + 1 < o.confirmations) return 'shallow';
    return { txid: found.txid, tx: found.tx, height: st.blockHeight };
  }

  /** A false claim, or one Vigil cannot read, in which it has no game: alerted once, then let go. */
  async function unchallengeable(reg: ClaimRegistration, reason: string): Promise<ClaimJudgement> {
    once(`no-graph:${reg.epoch}`, () => {
      o.logger?.error({ epoch: String(reg.epoch) }, `VigilFalseClaimUnchallengeable: ${reason}`);
      o.onUnchallengeable?.(reg.epoch, reason);
    });
    await settle(reg.epoch, 'refused');
    return { epoch: reg.epoch, outcome: 'refused', reason };
  }

  /**
   * A claim the registry can never take a commitment for (docs/protocol.md §24.11 item 41): nobody can play
   * its game, so Vigil lets go of what it held for it, its bond coin and the epoch's history. A kick-off of
   * it is a claim nobody can dispute: alerted once at depth, and so is one that comes later, if the claim
   * output was on chain when Vigil let go (`watchLapsedOutputs`). A claim whose output was not on chain
   * then is not watched: an operator could otherwise have Vigil query an output per epoch for ever at the
   * cost of an L2 call each.
   */
  async function lapse(reg: ClaimRegistration, tip: number): Promise<ClaimJudgement> {
    const why = "the operator did not commit the claim's document within the registry's commit window";
    const onChain = (await claimPrevout(reg)) !== undefined;
    const k = onChain ? await kickoffAtDepth(reg.claim, tip, undefined) : 'unspent';
    if (k === 'shallow')
      return {
        epoch: reg.epoch,
        outcome: 'waiting',
        reason: `${why}; a spend of its claim output is not deep enough`,
      };
    if (typeof k === 'object')
      return unchallengeable(reg, `the claim output was spent at depth by ${k.txid}, and ${why}`);
    o.logger?.warn(
      {
        epoch: String(reg.epoch),
        claim: outpointText(reg.claim),
        bundles: reg.bundles.length,
      },
      'a claim lapsed uncommitted on the registry: Vigil lets go of its bond coin and the epoch it held',
    );
    // Watched before the claim is let go of: a crash between the two leaves the watch, never the gap.
    if (onChain) await lapsedOutputs.add(reg.epoch, reg.claim);
    await settle(reg.epoch, 'lapsed');
    return { epoch: reg.epoch, outcome: 'lapsed', reason: why };
  }

  async function judge(reg: ClaimRegistration, tip: number): Promise<ClaimJudgement> {
    const at = (outcome: ClaimJudgement['outcome'], reason: string, game?: string): ClaimJudgement => ({
      epoch: reg.epoch,
      outcome,
      reason,
      ...(game === undefined ? {} : { game }),
    });
    if (reg.lapsed === true) return lapse(reg, tip);
    const got = await imported(reg);
    if (!('claim' in got)) {
      const why = 'waiting' in got ? got.waiting : got.refused;
      if ('refused' in got) {
        once(`refused:${got.refused}:${reg.epoch}`, () =>
          o.logger?.error({ epoch: String(reg.epoch) }, got.refused),
        );
      }
      // No claim output on the chain: nothing can spend it, and nothing to ask the backend.
      if (why === NO_CLAIM_OUTPUT) return at('waiting', why);
      // Whatever holds the graph up, a kick-off at depth without it is a claim Vigil cannot dispute: alerted
      // at once. The graph may still come (a document published late) while the challenge window is open;
      // past it, nothing Vigil could do would count, and the claim is let go.
      const k = await kickoffAtDepth(reg.claim, tip, undefined);
      if (typeof k === 'object') {
        const reason = `the claim output was spent at depth by ${k.txid} while Vigil holds no graph it can play (${why})`;
        if (tip + 1 >= k.height + o.params.timelocks.challenge) return unchallengeable(reg, reason);
        once(`no-graph:${reg.epoch}`, () => {
          o.logger?.error({ epoch: String(reg.epoch) }, `VigilFalseClaimUnchallengeable: ${reason}`);
          o.onUnchallengeable?.(reg.epoch, reason);
        });
      }
      return at('refused' in got && got.final ? 'refused' : 'waiting', why);
    }
    const graph = got.claim.graph;
    const kickoffTxid = txidHex(gameTx(graph, 'kickoff').tx);
    const k = await kickoffAtDepth(reg.claim, tip, kickoffTxid);
    if (k === 'unspent') return at('waiting', 'no kick-off yet');
    if (k === 'shallow') return at('waiting', 'the kick-off is not deep enough');
    if (k.txid !== kickoffTxid) {
      // The covenant allows no other spender: at depth, the claim output was not the graph's.
      return unchallengeable(
        reg,
        `the claim output was spent by ${k.txid}, not the graph's kick-off ${kickoffTxid}`,
      );
    }
    const root = readKickoff(graph, k.tx).find((v) => v.label === 'root');
    if (root === undefined) throw new VigilError(`Epoch ${reg.epoch}'s kick-off carries no root`);
    if (equalBytes(root.value, got.ended.root)) {
      await settle(reg.epoch, 'valid');
      return at('valid', 'the kick-off claims the root Vigil computed');
    }
    const claimed = `the kick-off claims 0x${bytesToHex(root.value)}, Vigil computed 0x${bytesToHex(got.ended.root)}`;
    if (got.w === undefined) return unchallengeable(reg, `${claimed}, and Vigil has no game in this claim`);
    // Kept before the record opens: a game never exists without the document it is played on.
    await documents.put(reg.epoch, bytesToHex(got.claim.hash), got.text);
    const { record, status: opened } = await o.store.open({
      epoch: reg.epoch,
      kickoffTxid: asTxid(kickoffTxid),
      kickoffHeight: k.height,
      w: got.w,
      document: bytesToHex(got.claim.hash),
    });
    if (record.state === 'resolved') {
      // Judged before a restart and played to its end: nothing more to do for this claim.
      await settle(reg.epoch, 'fraud');
      return at('fraud', `${claimed}: its game ended (${record.outcome})`, record.id);
    }
    await o.track(record.id);
    // Held from now, not only from the next `retain`: the follower lets go of the epoch here.
    if (openEpochs !== undefined && !openEpochs.includes(reg.epoch)) openEpochs = [...openEpochs, reg.epoch];
    o.follower.forget(reg.epoch);
    // After a restart the claim is judged again: its game is already open, and goes on.
    o.logger?.[opened === 'applied' ? 'warn' : 'info'](
      { epoch: String(reg.epoch), game: record.id, kickoff: kickoffTxid, w: got.w },
      opened === 'applied'
        ? 'a false claim: Vigil plays its game'
        : 'a false claim whose game is already open',
    );
    return at('fraud', claimed, record.id);
  }

  /**
   * The claim outputs of lapsed claims, looked at once per Bitcoin block: one spent at depth is a kick-off
   * of a claim whose document was never committed, which nobody can dispute. Alerted once, then let go.
   */
  async function watchLapsedOutputs(tip: number): Promise<void> {
    if (lapsedCheckedAt === tip) return;
    for (const [epoch, claim] of await lapsedOutputs.all()) {
      const k = await kickoffAtDepth(claim, tip, undefined);
      if (typeof k !== 'object') continue;
      const reason = `the claim output ${outpointText(claim)} of a lapsed claim was spent at depth by ${k.txid}: its document was never committed, so nobody can dispute it`;
      o.logger?.error({ epoch: String(epoch) }, `VigilFalseClaimUnchallengeable: ${reason}`);
      o.onUnchallengeable?.(epoch, reason);
      await lapsedOutputs.remove(epoch);
    }
    lapsedCheckedAt = tip;
  }

  async function poll(tip: number): Promise<ClaimJudgement[]> {
    const out: ClaimJudgement[] = [];
    try {
      await watchLapsedOutputs(tip);
    } catch (err) {
      // A backend failing here is no reason to leave the followed claims unjudged: tried at the next poll.
      o.logger?.warn(
        { err: errText(err) },
        "the lapsed claims' outputs could not be read: tried again next poll",
      );
    }
    for (const reg of o.follower.claims()) {
      // One claim that fails (a backend lying about it, a kick-off that cannot be read) is no reason to
      // leave the others unjudged: it is reported and judged again on the next poll.
      try {
        if (await ledger.has(reg.epoch)) {
          o.follower.forget(reg.epoch);
          continue;
        }
        out.push(await judge(reg, tip));
      } catch (err) {
        out.push({ epoch: reg.epoch, outcome: 'error', reason: errText(err) });
      }
    }
    return out;
  }

  /**
   * Vigil's run of the epoch on the program, held to the model's root (a mismatch is Vigil's own bug). A
   * run longer than the graph's 2^K steps is cut there: no claim of it can halt within them, so a false
   * one is still disproved (at its last step, or where its chain leaves Vigil's), and a true one is never
   * challenged (the model's root decides that). A cut run is still run on to its halt (to 2 × 2^K
   * steps) to hold the model's root to the program's.
   */
  async function honestOf(claim: ClaimGraph, ended: EndedEpoch): Promise<HonestView> {
    const program = claim.spec.program;
    const { run, tape } = await honestRunner(program, ended.tapeSource(), gameViewOptions(shape));
    if (!equalBytes(tape.imageRoot, ended.preRoot)) {
      throw new VigilError(
        `Epoch ${ended.epoch}'s tape starts on another image root than the state before it: Vigil will not play on it`,
      );
    }
    const view = viewOfHonestRun(program, tape, run);
    if (view.cut) {
      o.logger?.warn(
        { epoch: String(ended.epoch), steps: view.stepCount, rootChecked: view.result !== undefined },
        `epoch ${ended.epoch}'s run does not halt within the graph's ${view.stepCount} steps: no claim of it can be defended in the game, and Vigil plays over its first ${view.stepCount}${view.result === undefined ? " (nor within its run-on: the model's root is not held to the program's)" : ''}`,
      );
    }
    if (view.result !== undefined && view.result !== wordOf(ended.root)) {
      throw new VigilError(
        `The governance program's run of epoch ${ended.epoch} halts on another root than the model's: Vigil will not play on it`,
      );
    }
    return view;
  }

  function honestViewOf(entry: Imported): Promise<HonestView> {
    const key = importKey(entry.epoch, bytesToHex(entry.claim.hash));
    const failed = viewFailures.get(key);
    const now = Date.now();
    if (failed !== undefined && now - failed.at < HONEST_RETRY_MS) {
      const again = new Date(failed.at + HONEST_RETRY_MS).toISOString();
      return Promise.reject(new VigilError(`${failed.message} (not tried again before ${again})`));
    }
    let view = views.get(key);
    if (view === undefined) {
      view = honestOf(entry.claim.graph, entry.ended);
      views.set(key, view);
      view.catch((err: unknown) => {
        views.delete(key);
        // Material not ready (the journal read again) is asked for again at the game's next run.
        if (!(err instanceof GameMaterialNotReadyError))
          viewFailures.set(key, { at: Date.now(), message: errText(err) });
      });
    }
    return view;
  }

  async function materialOf(rec: GameRecord): Promise<GameMaterial> {
    const hit = materials.get(rec.id);
    if (hit !== undefined) return hit;
    let entry = imports.get(importKey(rec.epoch, rec.document));
    if (entry === undefined) {
      const reg = o.follower.claim(rec.epoch);
      if (reg === undefined) {
        throw new GameMaterialNotReadyError(
          `Epoch ${rec.epoch}'s claim is not read from the L2 registry yet`,
        );
      }
      const got = await imported(reg);
      if ('waiting' in got) throw new GameMaterialNotReadyError(`Epoch ${rec.epoch}'s claim: ${got.waiting}`);
      if ('refused' in got) throw new VigilError(`Epoch ${rec.epoch}'s claim: ${got.refused}`);
      entry = got;
    }
    if (entry.epoch !== rec.epoch || bytesToHex(entry.claim.hash) !== rec.document) {
      throw new VigilError(
        `Game ${rec.id} was opened on epoch ${rec.epoch}'s document ${rec.document}, not ${bytesToHex(entry.claim.hash)}`,
      );
    }
    if (entry.w !== rec.w)
      throw new VigilError(`Game ${rec.id} is Vigil's game ${rec.w}, the claim says ${entry.w}`);
    const id = o.identity;
    if (id === undefined) throw new VigilError(`Game ${rec.id}: this process has no challenger key`);
    const claim = entry.claim.graph;
    // The graph's claim output is the registry's (import refused any other: CLAIM_MISMATCH).
    const site = entry.legacyKeys ? undefined : siteOf(claim.spec.claim);
    const scope = challengerScope(id, shape, gameClaimOf(rec.epoch), site);
    const material: GameMaterial = {
      claim,
      sigs: entry.claim.sigs,
      honest: await honestViewOf(entry),
      root: wordOf(entry.ended.root),
      keys: { secret: id.secret, sign: challengerSignerOf(id, scope) },
    };
    if (rec.state !== 'resolved') materials.set(rec.id, material);
    return material;
  }

  function retain(open: readonly Pick<GameRecord, 'id' | 'epoch'>[]): void {
    const ids = new Set(open.map((r) => r.id));
    for (const id of materials.keys()) if (!ids.has(id)) materials.delete(id);
    // An import is kept while its claim is followed or its game is open.
    const needed = new Set([...o.follower.claims()].map((c) => c.epoch));
    for (const r of open) needed.add(r.epoch);
    for (const [key, entry] of imports) if (!needed.has(entry.epoch)) imports.delete(key);
    for (const m of [views, viewFailures]) {
      for (const key of m.keys()) if (!needed.has(BigInt(key.slice(0, key.indexOf(':'))))) m.delete(key);
    }
    openEpochs = open.map((r) => r.epoch);
  }

  function heldEpoch(): HeldEpoch {
    if (openEpochs === undefined) return 'unknown';
    let lowest: bigint | undefined;
    for (const e of [...openEpochs, ...[...o.follower.claims()].map((c) => c.epoch)])
      if (lowest === undefined || e < lowest) lowest = e;
    return lowest;
  }

  return {
    poll,
    materialOf,
    retain,
    heldEpoch,
    forgetOpen: () => {
      openEpochs = undefined;
    },
  };
}

function sameKeys(a: SignerKeys, b: SignerKeys): boolean {
  if (a.size !== b.size) return false;
  for (const [label, k] of a) {
    const other = b.get(label);
    if (other === undefined || other.hashes.length !== k.hashes.length) return false;
    if (k.hashes.some((h, i) => !equalBytes(h, other.hashes[i] as Uint8Array))) return false;
  }
  return true;
}
