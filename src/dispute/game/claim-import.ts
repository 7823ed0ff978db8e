/**
 * Import of a published claim graph (claim-document.ts). Vigil trusts nothing in the document: it holds
 * the document to its own parameters for the network, the operator and committee the L2 registers, the
 * previous epoch's root the L2 committed (the pre-state every game fixes, §24.11 item 5), and the
 * challengers and bundles the L2 lists for the claim (§24.1); it checks that no Winternitz key is used twice;
 * it rebuilds every transaction of the claim and of each game; and it checks every presignature against the
 * sighash of the transaction it rebuilt. The first defect is refused with its name and place.
 *
 * The operator writes the document, so before JSON.parse the text is scanned against the bounds a valid
 * claim under Vigil's parameters has (bytes, nesting, entries, values, string lengths).
 */
import * as ecc from 'tiny-secp256k1';
import type { BitcoinNetwork } from '../../bitcoin/network.ts';
import { bytesToHex, equalBytes, hexToBytes } from '../../core/bytes.ts';
import { programHash } from '../../machine/program.ts';
import { type GraphDefect, GraphImportError } from '../graph/errors.ts';
import {
  checkWotsKeys,
  type GraphDocumentLimits,
  type NamedWotsKey,
  scanGraphJson,
} from '../graph/import.ts';
import { echo, runSteps, runStepsYielding, versionedDocument } from '../graph/import-steps.ts';
import type { WotsPublicKey } from '../winternitz/keys.ts';
import { wotsParameters } from '../winternitz/parameters.ts';
import {
  CLAIM_DOCUMENT_VERSION,
  CLAIM_DOCUMENT_VERSIONS_READ,
  CLAIM_MAX_KEY_HEX,
  CLAIM_MAX_LABEL_CHARS,
  type ClaimDocument,
  type ClaimParameters,
  claimDocumentHash,
  claimDocumentSchema,
  outpointTxidFromJson,
  wotsKeyFromHex,
} from './claim-document.ts';
import {
  assertLabels,
  buildClaimGraph,
  type ClaimChallenger,
  type ClaimGraph,
  ClaimGraphError,
  type ClaimGraphSpec,
} from './claim-graph.ts';
import { GameGraphError } from './game-graph.ts';
import { type GamePresignatures, gameSighash, type PresignedTxs, presignedKey } from './game-spend.ts';
import { gameKeyPlan } from './key-plan.ts';
import { gameMoveShapes } from './move-inputs.ts';
import type { SignerKeys } from './signer-keys.ts';

/** A challenger as the L2 lists it for the claim: its registered key and the bundle it posted. */
export type ListedChallenger = Pick<ClaimChallenger, 'key' | 'bondCoin' | 'keys'>;

export type ClaimExpectations = {
  readonly network: BitcoinNetwork;
  /** Vigil's own parameters for this network (never the document's). */
  readonly params: ClaimParameters;
  /** The operator and committee keys the L2's registry holds. */
  readonly operator: Uint8Array;
  readonly committee: readonly Uint8Array[];
  /** The epoch the claim must be about, when known. */
  readonly epoch?: bigint;
  /** The previous epoch's root as the L2 committed it: the pre-state the graph must fix. */
  readonly agreedImageRoot: Uint8Array;
  /** The challengers the L2 lists for this claim, in its order, each with its bundle. */
  readonly challengers: readonly ListedChallenger[];
  /** The document hash the operator committed on the L2. */
  readonly commitment?: Uint8Array;
  /**
   * The claim output as the chain has it: it must be the graph's script and value. Required: a txid does
   * not cover the script of the output it spends, so without it a kick-off with the graph's txid could
   * commit nothing under the document's keys.
   */
  readonly claimPrevout: { readonly value: bigint; readonly script: Uint8Array };
  /**
   * The claim outpoint the L2 registry opened the claim on, when known: the document's must be it, or the
   * operator could open one output and kick off from another of the same script and value.
   */
  readonly claimOutpoint?: { readonly txid: Uint8Array; readonly vout: number };
  /**
   * The challenge window governance has in force at the claim's epoch, when known: the document's T_c must
   * be it (and stay below T_a), and it replaces the network's in the rebuild.
   */
  readonly governedChallengeWindow?: number;
  /** Winternitz chain ends (hex) of claims imported before: none may appear again. */
  readonly knownWotsHashes?: { has(id: string): boolean };
};

export type ImportedClaim = {
  readonly graph: ClaimGraph;
  readonly sigs: { readonly claim: GamePresignatures; readonly games: readonly GamePresignatures[] };
  readonly hash: Uint8Array;
  readonly document: ClaimDocument;
};

function refuse(defect: GraphDefect, where: string, message: string): never {
  throw new GraphImportError(defect, where, message);
}

/** The most presigned inputs one game can have at a shape and ladders: every move input and every slash rung. */
function gamePresignedBound(p: ClaimParameters): number {
  const moves = gameMoveShapes(p.shape).length;
  const rungs = (p.slashFeeRates?.length ?? 1) + (p.timeoutFeeRates?.length ?? 1);
  return 5 * moves + 2 + (moves + 1) * 2 * rungs + 2;
}

/** What a valid claim document under these expectations can hold, at most. */
export function claimDocumentLimits(
  expect: Pick<ClaimExpectations, 'params' | 'committee'>,
): GraphDocumentLimits & {
  maxBytes: number;
} {
  const p = expect.params;
  const plan = gameKeyPlan(p.shape);
  const W = p.maxChallengers;
  const members = expect.committee.length + 1;
  const keyChars = (signer: 'operator' | 'challenger') =>
    plan
      .filter((e) => e.signer === signer)
      .reduce((n, e) => n + 40 * wotsParameters(e.bytes).totalDigits + e.label.length + 8, 0);
  const labels = plan.length;
  const gameSigs = gamePresignedBound(p);
  const claimSigs = 6 * W + 16 + 2 * W * (p.timeoutFeeRates?.length ?? 1);
  const sigChars = (gameSigs * W + claimSigs) * members * 131;
  const canonical = W * (keyChars('operator') + keyChars('challenger') + 512) + sigChars + 64 * 1024;
  const values = W * (labels + 8) + (gameSigs * W + claimSigs + 2 * W + 4) * members + 256;
  return {
    traceSteps: 0,
    covenantKeys: members,
    presignedInputs: gameSigs,
    maxEntries: 2 * Math.max(labels, gameSigs, claimSigs, W, members, 64),
    maxValues: 2 * values,
    // document → signatures → games → a game → a member's list
    maxDepth: 5,
    maxStringChars: CLAIM_MAX_KEY_HEX,
    maxKeyChars: CLAIM_MAX_LABEL_CHARS,
    // Pretty-printing can double a document of short strings; more is never a valid claim.
    maxBytes: 2 * canonical,
    describe: `a claim of ${W} challengers and ${members} covenant keys`,
  };
}

/** The document's JSON, read within the bounds of a valid claim: refuses before any costly work. */
export function parseClaimJson(
  text: string,
  expect: Pick<ClaimExpectations, 'params' | 'committee'>,
): unknown {
  const limits = claimDocumentLimits(expect);
  if (text.length > limits.maxBytes) {
    refuse(
      'DOCUMENT_TOO_LARGE',
      'document',
      `at least ${text.length} bytes; a claim document is at most ${limits.maxBytes} here`,
    );
  }
  scanGraphJson(text, limits);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new GraphImportError('MALFORMED', 'document', 'not JSON', { cause: err });
  }
}

/** Vigil's parameters for this claim: the network's, with the governed challenge window when known. */
function governedParameters(doc: ClaimDocument, expect: ClaimExpectations): ClaimParameters {
  const governed = expect.governedChallengeWindow;
  if (governed === undefined) return expect.params;
  if (doc.timelocks.challenge !== governed) {
    refuse(
      'TIMELOCK_MISMATCH',
      'timelocks.challenge',
      `${doc.timelocks.challenge} blocks; the governed challengeWindow in force at epoch ${doc.epoch} is ${governed}`,
    );
  }
  if (governed >= expect.params.timelocks.assertWindow) {
    refuse(
      'PARAMETER_MISMATCH',
      'timelocks.challenge',
      `the governed challengeWindow ${governed} is not shorter than the protocol's assertWindow ${expect.params.timelocks.assertWindow}: no claim of this network can have it`,
    );
  }
  return { ...expect.params, timelocks: { ...expect.params.timelocks, challenge: governed } };
}

function compareParameters(doc: ClaimDocument, p: ClaimParameters): void {
  if (doc.shape.pointsPerRound !== p.shape.pointsPerRound || doc.shape.depth !== p.shape.depth) {
    refuse(
      'PARAMETER_MISMATCH',
      'shape',
      `n = ${doc.shape.pointsPerRound}, K = ${doc.shape.depth}; the protocol says n = ${p.shape.pointsPerRound}, K = ${p.shape.depth}`,
    );
  }
  if (doc.program !== bytesToHex(programHash(p.program)))
    refuse('PARAMETER_MISMATCH', 'program', "not the hash of Vigil's governance program");
  for (const [name, want] of Object.entries(p.timelocks)) {
    const got = doc.timelocks[name as keyof ClaimDocument['timelocks']];
    if (got !== want)
      refuse('TIMELOCK_MISMATCH', `timelocks.${name}`, `${got} blocks, the protocol says ${want}`);
  }
  const rates: [string, readonly string[], readonly bigint[]][] = [
    ['feeRate', [doc.feeRate], [p.feeRate]],
    ['challengeFeeRate', [doc.challengeFeeRate], [p.challengeFeeRate ?? p.feeRate]],
    ['slashFeeRates', doc.slashFeeRates, p.slashFeeRates ?? [p.feeRate]],
    ['timeoutFeeRates', doc.timeoutFeeRates, p.timeoutFeeRates ?? [p.feeRate]],
  ];
  for (const [name, got, want] of rates) {
    if (got.length !== want.length || got.some((r, i) => BigInt(r) !== want[i]))
      refuse('PARAMETER_MISMATCH', name, `${got.join(', ')} sat/vB, the protocol says ${want.join(', ')}`);
  }
  for (const [name, want] of Object.entries(p.values)) {
    const got = BigInt(doc.values[name as keyof ClaimDocument['values']]);
    if (got !== want) refuse('AMOUNT_MISMATCH', `values.${name}`, `${got} sats, the protocol says ${want}`);
  }
  const others: [string, number, number][] = [
    ['burnBps', doc.burnBps, p.burnBps],
    ['assertTimeoutBurnBps', doc.assertTimeoutBurnBps, p.assertTimeoutBurnBps],
    ['maxChallengers', doc.maxChallengers, p.maxChallengers],
  ];
  for (const [name, got, want] of others)
    if (got !== want) refuse('PARAMETER_MISMATCH', name, `${got}, the protocol says ${want}`);
}

/** One signer's keys of one game from the document: exactly the planned labels, each its value's size. */
function signerKeys(
  where: string,
  record: Record<string, string>,
  plan: readonly { label: string; bytes: number }[],
): SignerKeys {
  const keys = new Map<string, WotsPublicKey>();
  for (const e of plan) {
    const h = record[e.label];
    if (h === undefined) refuse('WOTS_KEY_SHAPE', `${where}.${e.label}`, 'missing: the key plan has it');
    const key = wotsKeyFromHex(h, e.bytes);
    if (key === undefined) {
      refuse(
        'WOTS_KEY_SHAPE',
        `${where}.${e.label}`,
        `${h.length / 2} bytes; a ${e.bytes}-byte value's key has ${20 * wotsParameters(e.bytes).totalDigits}`,
      );
    }
    keys.set(e.label, key);
  }
  for (const label of Object.keys(record))
    if (!keys.has(label)) refuse('MALFORMED', `${where}.${echo(label)}`, 'a key the key plan does not have');
  return keys;
}

const sameKey = (a: WotsPublicKey, b: WotsPublicKey) =>
  a.messageBytes === b.messageBytes &&
  a.hashes.length === b.hashes.length &&
  a.hashes.every((h, i) => equalBytes(h, b.hashes[i] as Uint8Array));

function compareChallengers(spec: ClaimGraphSpec, listed: readonly ListedChallenger[]): void {
  if (spec.challengers.length !== listed.length) {
    refuse(
      'CHALLENGER_MISMATCH',
      'challengers',
      `${spec.challengers.length} challengers; the L2 lists ${listed.length} with bundles for this claim`,
    );
  }
  spec.challengers.forEach((c, w) => {
    const l = listed[w] as ListedChallenger;
    const where = `challengers[${w}]`;
    if (!equalBytes(c.key, l.key))
      refuse('CHALLENGER_MISMATCH', `${where}.key`, 'not the key the L2 lists there');
    const coin = c.bondCoin;
    if (
      !equalBytes(coin.txid, l.bondCoin.txid) ||
      coin.vout !== l.bondCoin.vout ||
      coin.value !== l.bondCoin.value
    ) {
      refuse('CHALLENGER_MISMATCH', `${where}.bondCoin`, "not the coin the challenger's bundle names");
    }
    if (l.keys.size !== c.keys.size) {
      refuse(
        'CHALLENGER_MISMATCH',
        `${where}.keys`,
        `the L2's bundle lists ${l.keys.size} keys; the key plan has ${c.keys.size}: the operator would choose the others`,
      );
    }
    for (const [label, key] of l.keys) {
      const mine = c.keys.get(label);
      if (mine === undefined || !sameKey(mine, key))
        refuse('CHALLENGER_MISMATCH', `${where}.keys.${label}`, "not the key the challenger's bundle posted");
    }
  });
}

/** The operator's keys in the order import checks them: the kick-off's, the assert's once, each game's own. */
function operatorKeyList(spec: ClaimGraphSpec): NamedWotsKey[] {
  const shared = new Set(assertLabels(spec.shape));
  const out: NamedWotsKey[] = Object.entries(spec.kickoff).map(([name, key]) => ({
    name: `kickoff.${name}`,
    key,
  }));
  const first = spec.challengers[0] as ClaimChallenger;
  for (const label of shared)
    out.push({ name: `assert.${label}`, key: first.operatorKeys.get(label) as WotsPublicKey });
  spec.challengers.forEach((c, w) => {
    for (const [label, key] of c.operatorKeys) {
      if (!shared.has(label)) {
        out.push({ name: `challengers[${w}].operatorKeys.${label}`, key });
      } else if (!sameKey(key, first.operatorKeys.get(label) as WotsPublicKey)) {
        refuse(
          'KEY_MISMATCH',
          `challengers[${w}].operatorKeys.${label}`,
          "the assert's key differs from game 0's: the assert is signed once for every game",
        );
      }
    }
  });
  return out;
}

/** Each member's signature of each presigned input, verified against the rebuilt transaction's sighash. */
function* checkSignatures(
  where: string,
  set: PresignedTxs,
  lists: readonly (readonly string[])[],
): Generator<void, GamePresignatures, void> {
  const covenant = set.spec.covenant;
  if (lists.length !== covenant.length) {
    refuse(
      'MISSING_SIGNATURE',
      where,
      `${lists.length} signature lists; the covenant has ${covenant.length} members`,
    );
  }
  lists.forEach((l, m) => {
    if (l.length !== set.presigned.length) {
      refuse(
        'MISSING_SIGNATURE',
        `${where}[${m}]`,
        `${l.length} signatures; the rebuilt graph has ${set.presigned.length} presigned inputs`,
      );
    }
  });
  const out = new Map<string, Uint8Array[]>();
  for (const [k, p] of set.presigned.entries()) {
    const sighash = gameSighash(set, p.tx, p.input);
    const sigs = covenant.map((key, m) => {
      const sig = hexToBytes(lists[m]?.[k] as string);
      if (!ecc.verifySchnorr(sighash, key, sig)) {
        refuse(
          'BAD_SIGNATURE',
          `${where}[${m}] ${p.tx} input ${p.input}`,
          'does not verify for the rebuilt transaction',
        );
      }
      return sig;
    });
    out.set(presignedKey(p.tx, p.input), sigs);
    if (k % 16 === 15) yield;
  }
  return out;
}

function* importSteps(text: string, expect: ClaimExpectations): Generator<void, ImportedClaim, void> {
  const raw = parseClaimJson(text, expect);
  yield;
  const doc = versionedDocument(raw, CLAIM_DOCUMENT_VERSIONS_READ, claimDocumentSchema);
  if ((doc.version === CLAIM_DOCUMENT_VERSION) !== (doc.claim.value !== undefined))
    refuse(
      'MALFORMED',
      'claim.value',
      doc.version === CLAIM_DOCUMENT_VERSION
        ? `version ${doc.version} states the claim output's value`
        : `version ${doc.version} has no claim.value`,
    );
  yield;
  const hash = claimDocumentHash(doc);
  yield;
  if (expect.commitment && !equalBytes(hash, expect.commitment))
    refuse(
      'HASH_MISMATCH',
      'document',
      `hash ${bytesToHex(hash)} is not the committed ${bytesToHex(expect.commitment)}`,
    );
  if (doc.network !== expect.network)
    refuse('PARAMETER_MISMATCH', 'network', `${doc.network}, expected ${expect.network}`);
  const params = governedParameters(doc, expect);
  compareParameters(doc, params);
  if (doc.operator !== bytesToHex(expect.operator))
    refuse('KEY_MISMATCH', 'operator', 'not the registered operator key');
  const covenant = [expect.operator, ...expect.committee].map(bytesToHex);
  if (doc.covenant.length !== covenant.length || doc.covenant.some((k, i) => k !== covenant[i]))
    refuse('KEY_MISMATCH', 'covenant', 'not the registered operator and committee, in order');
  const epoch = BigInt(doc.epoch);
  if (expect.epoch !== undefined && epoch !== expect.epoch)
    refuse('PARAMETER_MISMATCH', 'epoch', `${epoch}, expected ${expect.epoch}`);
  // A wrong pre-state lets anyone, a griefer too, disprove an honest operator at its assert (§24.11 item 5).
  if (doc.agreedImageRoot !== bytesToHex(expect.agreedImageRoot)) {
    refuse(
      'PRESTATE_MISMATCH',
      'agreedImageRoot',
      `${doc.agreedImageRoot} is not the previous epoch's root the L2 committed, ${bytesToHex(expect.agreedImageRoot)}`,
    );
  }
  if (doc.challengers.length > expect.params.maxChallengers) {
    refuse(
      'SHAPE',
      'challengers',
      `${doc.challengers.length} challengers; W_max is ${expect.params.maxChallengers}`,
    );
  }

  const plan = gameKeyPlan(expect.params.shape);
  const operatorPlan = plan.filter((e) => e.signer === 'operator');
  const challengerPlan = plan.filter((e) => e.signer === 'challenger');
  const kickoffKey = (name: keyof ClaimDocument['kickoff'], bytes: number): WotsPublicKey =>
    wotsKeyFromHex(doc.kickoff[name], bytes) ??
    refuse('WOTS_KEY_SHAPE', `kickoff.${name}`, `not the key of a ${bytes}-byte value`);
  const claimAt = { txid: outpointTxidFromJson(doc.claim.txid), vout: doc.claim.vout };
  if (
    expect.claimOutpoint !== undefined &&
    (!equalBytes(claimAt.txid, expect.claimOutpoint.txid) || claimAt.vout !== expect.claimOutpoint.vout)
  ) {
    refuse('CLAIM_MISMATCH', 'claim', 'not the claim outpoint the L2 registry opened the claim on');
  }
  const spec: ClaimGraphSpec = {
    network: expect.network,
    operator: expect.operator,
    covenant: [expect.operator, ...expect.committee],
    epoch,
    instance: doc.instance,
    claim: claimAt,
    ...(doc.claim.value === undefined ? {} : { claimValue: BigInt(doc.claim.value) }),
    ...params,
    agreedImageRoot: expect.agreedImageRoot,
    kickoff: {
      epoch: kickoffKey('epoch', 8),
      root: kickoffKey('root', 32),
      l2BlockHash: kickoffKey('l2BlockHash', 32),
      imageRoot: kickoffKey('imageRoot', 32),
      inputsRoot: kickoffKey('inputsRoot', 32),
    },
    challengers: doc.challengers.map((c, w) => ({
      key: hexToBytes(c.key),
      bondCoin: {
        txid: outpointTxidFromJson(c.bondCoin.txid),
        vout: c.bondCoin.vout,
        value: BigInt(c.bondCoin.value),
      },
      keys: signerKeys(`challengers[${w}].keys`, c.keys, challengerPlan),
      operatorKeys: signerKeys(`challengers[${w}].operatorKeys`, c.operatorKeys, operatorPlan),
    })),
  };
  compareChallengers(spec, expect.challengers);
  yield;
  checkWotsKeys(operatorKeyList(spec), expect.knownWotsHashes);
  spec.challengers.forEach((c, w) => {
    checkWotsKeys(
      [...c.keys].map(([label, key]) => ({ name: `challengers[${w}].keys.${label}`, key })),
      undefined,
    );
  });
  yield;

  let graph: ClaimGraph;
  try {
    graph = buildClaimGraph(spec);
  } catch (err) {
    if (err instanceof ClaimGraphError || err instanceof GameGraphError)
      throw new GraphImportError('AMOUNT_MISMATCH', 'claim', err.shortMessage, { cause: err });
    throw err;
  }
  yield;
  if (!equalBytes(expect.claimPrevout.script, graph.claim.output.scriptPubKey))
    refuse(
      'SCRIPT_MISMATCH',
      'claim (on chain)',
      "the claim output on chain does not commit to the kick-off's keys",
    );
  if (expect.claimPrevout.value !== graph.claim.value) {
    refuse(
      'AMOUNT_MISMATCH',
      'claim (on chain)',
      `${expect.claimPrevout.value} sats on chain; the document says ${graph.claim.value}`,
    );
  }
  const claimSigs = yield* checkSignatures('signatures.claim', graph, doc.signatures.claim);
  if (doc.signatures.games.length !== graph.games.length) {
    refuse(
      'MISSING_SIGNATURE',
      'signatures.games',
      `${doc.signatures.games.length} games signed; the claim has ${graph.games.length}`,
    );
  }
  const gameSigs: GamePresignatures[] = [];
  for (const [w, game] of graph.games.entries()) {
    gameSigs.push(yield* checkSignatures(`signatures.games[${w}]`, game, doc.signatures.games[w] ?? []));
  }
  return { graph, sigs: { claim: claimSigs, games: gameSigs }, hash, document: doc };
}

/** Parses, rebuilds and verifies a published claim graph; throws GraphImportError naming the first defect. */
export function importClaimGraph(text: string, expect: ClaimExpectations): ImportedClaim {
  return runSteps(importSteps(text, expect));
}

/**
 * importClaimGraph for a caller on the event loop: the same verdict, but it gives the loop a turn whenever
 * it has held it for `sliceMs`, so verifying a claim of many games does not stall timers or the queue.
 */
export async function importClaimGraphYielding(
  text: string,
  expect: ClaimExpectations,
  sliceMs = 10,
): Promise<ImportedClaim> {
  return runStepsYielding(importSteps(text, expect), sliceMs);
}
