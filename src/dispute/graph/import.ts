/**
 * Import of a published graph. Vigil trusts nothing in the document: it rebuilds the graph from its own
 * protocol parameters and the document's keys, compares every transaction field by field, checks every
 * presigned signature against its sighash, and refuses the first defect with its name and place.
 *
 * The operator writes the document, so its size is the operator's choice too. Before anything costly
 * (JSON.parse of adversarial nesting or millions of keys costs seconds, the schema and the canonical
 * hash cost more) the text is scanned once against the bounds a valid graph under Vigil's own
 * parameters has: bytes, nesting, entries per object or array, values in all, string lengths.
 */

import type { BitcoinNetwork } from '../../bitcoin/network.ts';
import type { Tx } from '../../bitcoin/tx/types.ts';
import { bytesToHex, equalBytes, hexToBytes } from '../../core/bytes.ts';
import type { WotsPublicKey } from '../winternitz/keys.ts';
import { wotsParameters } from '../winternitz/parameters.ts';
import { buildGraph, type Graph, type GraphSpec } from './build.ts';
import {
  claimTxidFromJson,
  decodeTxHex,
  GRAPH_DOCUMENT_MAX_BYTES,
  GRAPH_DOCUMENT_VERSION,
  GRAPH_EPOCH_KEY_HASHES,
  GRAPH_MAX_COVENANT_KEYS,
  GRAPH_MAX_SIGNATURE_KEY_CHARS,
  GRAPH_MAX_TRACE_STEPS,
  GRAPH_MAX_TX_BYTES,
  GRAPH_ROOT_KEY_HASHES,
  type GraphDocument,
  graphDocumentHash,
  graphDocumentSchema,
  parametersFromJson,
} from './document.ts';
import { type GraphDefect, GraphImportError, GraphParameterError } from './errors.ts';
import { isRecord, runSteps, runStepsYielding, versionedDocument } from './import-steps.ts';
import { EPOCH_VALUE_BYTES, type GraphParameters, ROOT_VALUE_BYTES } from './parameters.ts';
import type { StepCircuit } from './scripts.ts';
import { checkPresigned, type PresignedSignatures, presignedKey } from './sign.ts';

export type GraphExpectations = {
  network: BitcoinNetwork;
  /** Vigil's own protocol parameters for this network (never the document's). */
  params: GraphParameters;
  circuit: StepCircuit;
  /** The operator and committee keys Vigil knows from the L2's registry. */
  operator: Uint8Array;
  committee: readonly Uint8Array[];
  /** The epoch the claim must be about, when known. */
  epoch?: bigint;
  /**
   * The challenge window governance has in force during the graph's epoch (the model's `challengeWindow`
   * after the endEpoch that started it, docs/protocol.md §20): the graph's `timelocks.challengeWindow`
   * must equal it, and it replaces `params.timelocks.challengeWindow` in the rebuild. Without it (no
   * governance model at hand) the graph is held to `params` alone.
   */
  governedChallengeWindow?: number;
  /** The document hash the operator committed on the L2. */
  commitment?: Uint8Array;
  /**
   * The claim output as the chain has it (from the backend). The kick-off's own Winternitz keys live
   * only in the claim output's script, so without it those keys are checked against the document alone.
   */
  claimPrevout?: { value: bigint; script: Uint8Array };
  /** Winternitz public-key hashes of graphs imported before (hex): none may appear again. */
  knownWotsHashes?: { has(id: string): boolean };
};

export type ImportedGraph = {
  graph: Graph;
  sigs: PresignedSignatures;
  hash: Uint8Array;
  document: GraphDocument;
};

function refuse(defect: GraphDefect, where: string, message: string): never {
  throw new GraphImportError(defect, where, message);
}

/**
 * Presigned inputs of a graph of `traceSteps` steps: challenge 1, take 3, assert 2, assert-timeout 1,
 * payout 1, and one disprove per step (the order `buildGraph` lists them in).
 */
export const presignedInputCount = (traceSteps: number): number => 8 + traceSteps;

/** What a valid graph document under given parameters and committee can hold, at most. */
export type GraphDocumentLimits = {
  traceSteps: number;
  /** Operator + committee. */
  covenantKeys: number;
  presignedInputs: number;
  /** Entries of any one object or array (twice the widest of a valid graph). */
  maxEntries: number;
  /** JSON values in the whole document (each string, number, literal, object and array). */
  maxValues: number;
  /** Objects and arrays nested in one another: document → wots → trace → one key's hashes. */
  maxDepth: number;
  /** The longest string (a transaction's hex). */
  maxStringChars: number;
  /** The longest object key (`disprove[63].input0`). */
  maxKeyChars: number;
  /** What a valid document is, for a refusal that counts values (default: a graph of this many steps and keys). */
  describe?: string;
};

export function graphDocumentLimits(
  expect: Pick<GraphExpectations, 'params' | 'committee'>,
): GraphDocumentLimits {
  const traceSteps = Math.min(Math.max(expect.params.traceSteps, 1), GRAPH_MAX_TRACE_STEPS);
  const covenantKeys = Math.min(expect.committee.length + 1, GRAPH_MAX_COVENANT_KEYS);
  const presignedInputs = presignedInputCount(traceSteps);
  const values =
    1 + // the document
    13 + // its fields
    18 + // parameters: 9 fields, 3 timelocks, 6 fees
    (covenantKeys - 1) +
    4 + // claim
    4 + // wots: its 4 fields
    GRAPH_EPOCH_KEY_HASHES +
    2 * GRAPH_ROOT_KEY_HASHES +
    traceSteps * (1 + GRAPH_ROOT_KEY_HASHES) +
    7 + // transactions: 7 fields
    traceSteps + // disprove transactions
    presignedInputs * (1 + covenantKeys);
  return {
    traceSteps,
    covenantKeys,
    presignedInputs,
    // Twice the widest list or record, so a near miss reaches the exact bound below, which names it.
    maxEntries: 2 * Math.max(16, GRAPH_ROOT_KEY_HASHES, presignedInputs, covenantKeys),
    // Twice a valid document's count (and room for a few unknown fields): a near miss reaches the exact
    // bounds and the schema, which name it; millions of values never reach JSON.parse.
    maxValues: 2 * values + 64,
    maxDepth: 4,
    maxStringChars: 2 * GRAPH_MAX_TX_BYTES,
    maxKeyChars: GRAPH_MAX_SIGNATURE_KEY_CHARS,
  };
}

type Frame = { array: boolean; entries: number; path: string; key: string };

const childPath = (f: Frame | undefined): string => {
  if (!f) return '';
  if (f.array) return `${f.path}[${f.entries - 1}]`;
  return f.path ? `${f.path}.${f.key}` : f.key;
};

/** Index of the quote closing the string opened at `start`, or -1. Linear: each backslash is read once. */
function stringEnd(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) return -1;
    let b = q - 1;
    while (b > start && text.charCodeAt(b) === 92) b--;
    if ((q - 1 - b) % 2 === 0) return q;
    from = q + 1;
  }
}

/**
 * One pass over the text, before JSON.parse: refuses (SHAPE) the first container, string or total that
 * exceeds what a valid graph document can have. It does not validate JSON; where the text stops being
 * JSON it stops too, and JSON.parse refuses the document at the same place.
 */
export function scanGraphJson(text: string, limits: GraphDocumentLimits): void {
  const stack: Frame[] = [];
  let values = 0;
  let expectKey = false;
  const where = (p: string) => p || 'document';
  const onValue = (): void => {
    values++;
    if (values > limits.maxValues) {
      refuse(
        'SHAPE',
        'document',
        `more than ${limits.maxValues} JSON values; ${
          limits.describe ??
          `a graph of ${limits.traceSteps} trace steps and ${limits.covenantKeys} covenant keys`
        } has fewer`,
      );
    }
    const top = stack[stack.length - 1];
    if (top?.array) {
      top.entries++;
      if (top.entries > limits.maxEntries)
        refuse(
          'SHAPE',
          where(top.path),
          `more than ${limits.maxEntries} entries; no list of a graph has more`,
        );
    }
  };
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c <= 32 || c === 44 /* , */ || c === 58 /* : */) {
      if (c === 44) expectKey = stack[stack.length - 1]?.array === false;
      i++;
      continue;
    }
    if (c === 123 /* { */ || c === 91 /* [ */) {
      onValue();
      const path = childPath(stack[stack.length - 1]);
      if (stack.length + 1 > limits.maxDepth)
        refuse('SHAPE', where(path), `nested deeper than ${limits.maxDepth} levels; a graph document is not`);
      stack.push({ array: c === 91, entries: 0, path, key: '' });
      expectKey = c === 123;
      i++;
      continue;
    }
    if (c === 125 /* } */ || c === 93 /* ] */) {
      if (stack.pop() === undefined) return;
      expectKey = false;
      i++;
      continue;
    }
    const top = stack[stack.length - 1];
    if (c === 34 /* " */) {
      const end = stringEnd(text, i);
      if (end < 0) return;
      const length = end - i - 1;
      if (top && !top.array && expectKey) {
        top.entries++;
        if (top.entries > limits.maxEntries)
          refuse(
            'SHAPE',
            where(top.path),
            `more than ${limits.maxEntries} entries; no object of a graph has more`,
          );
        if (length > limits.maxKeyChars)
          refuse(
            'SHAPE',
            where(top.path),
            `a key of ${length} characters; no key of a graph is longer than ${limits.maxKeyChars}`,
          );
        top.key = text.slice(i + 1, end);
        expectKey = false;
      } else {
        onValue();
        if (length > limits.maxStringChars)
          refuse(
            'SHAPE',
            where(childPath(top)),
            `a string of ${length} characters; no string of a graph is longer than ${limits.maxStringChars}`,
          );
      }
      i = end + 1;
      continue;
    }
    // A number or a literal: one value up to the next delimiter.
    onValue();
    let j = i + 1;
    while (j < n) {
      const d = text.charCodeAt(j);
      if (d <= 32 || d === 44 || d === 58 || d === 93 || d === 125 || d === 34 || d === 91 || d === 123)
        break;
      j++;
    }
    if (j - i > limits.maxStringChars)
      refuse('SHAPE', where(childPath(top)), `a number or literal of ${j - i} characters`);
    i = j;
  }
}

/**
 * The exact bounds of the parsed document's lists and records, before the schema reads them: more
 * entries than a valid graph under these parameters and this committee has are refused as SHAPE.
 * Fewer are left to the checks that name what is missing.
 */
function checkBounds(raw: unknown, l: GraphDocumentLimits): void {
  if (!isRecord(raw)) return;
  const list = (where: string, v: unknown, max: number, what: string): void => {
    if (Array.isArray(v) && v.length > max) refuse('SHAPE', where, `${v.length} entries; ${what}`);
  };
  list(
    'committee',
    raw.committee,
    l.covenantKeys - 1,
    `the registered committee has ${l.covenantKeys - 1} keys`,
  );
  if (isRecord(raw.wots)) {
    const w = raw.wots;
    const eight = `a ${EPOCH_VALUE_BYTES}-byte value has ${GRAPH_EPOCH_KEY_HASHES} Winternitz hashes`;
    const root = `a ${ROOT_VALUE_BYTES}-byte value has ${GRAPH_ROOT_KEY_HASHES} Winternitz hashes`;
    list('wots.epoch', w.epoch, GRAPH_EPOCH_KEY_HASHES, eight);
    list('wots.stateRoot', w.stateRoot, GRAPH_ROOT_KEY_HASHES, root);
    list('wots.l2BlockHash', w.l2BlockHash, GRAPH_ROOT_KEY_HASHES, root);
    list('wots.trace', w.trace, l.traceSteps, `the protocol has ${l.traceSteps} trace steps`);
    if (Array.isArray(w.trace))
      w.trace.forEach((k, i) => {
        list(`wots.trace[${i}]`, k, GRAPH_ROOT_KEY_HASHES, root);
      });
  }
  if (isRecord(raw.transactions)) {
    list(
      'transactions.disprove',
      raw.transactions.disprove,
      l.traceSteps,
      `the protocol has ${l.traceSteps} trace steps, one disprove each`,
    );
  }
  if (isRecord(raw.signatures)) {
    const keys = Object.keys(raw.signatures);
    if (keys.length > l.presignedInputs) {
      refuse(
        'SHAPE',
        'signatures',
        `${keys.length} entries; a graph of ${l.traceSteps} trace steps has ${l.presignedInputs} presigned inputs`,
      );
    }
    for (const k of keys) {
      if (k.length > l.maxKeyChars)
        refuse('SHAPE', 'signatures', `a key of ${k.length} characters; no presigned input has such a name`);
      list(
        `signatures.${k}`,
        raw.signatures[k],
        l.covenantKeys,
        `the covenant has ${l.covenantKeys} keys, one signature each`,
      );
    }
  }
}

/**
 * The document's JSON, read within the bounds of a valid graph under these expectations: refuses
 * (DOCUMENT_TOO_LARGE, SHAPE, MALFORMED) before any costly work. What it returns still needs import.
 */
export function parseGraphJson(
  text: string,
  expect: Pick<GraphExpectations, 'params' | 'committee'>,
): unknown {
  if (text.length > GRAPH_DOCUMENT_MAX_BYTES) {
    refuse(
      'DOCUMENT_TOO_LARGE',
      'document',
      `at least ${text.length} bytes; a graph document is at most ${GRAPH_DOCUMENT_MAX_BYTES}`,
    );
  }
  const limits = graphDocumentLimits(expect);
  scanGraphJson(text, limits);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new GraphImportError('MALFORMED', 'document', 'not JSON', { cause: err });
  }
  checkBounds(raw, limits);
  return raw;
}

/**
 * Vigil's parameters for this graph: the network's, with the challenge window governance has in force at
 * the graph's epoch when it is known. A graph with another challenge window is refused here, naming the
 * governed value and the graph's.
 */
function protocolParameters(
  doc: GraphParameters,
  expect: GraphExpectations,
  docEpoch: number | string,
): GraphParameters {
  const governed = expect.governedChallengeWindow;
  if (governed === undefined) return expect.params;
  const epoch = expect.epoch ?? BigInt(docEpoch);
  const where = 'parameters.timelocks.challengeWindow';
  if (doc.timelocks.challengeWindow !== governed) {
    refuse(
      'PARAMETER_MISMATCH',
      where,
      `${doc.timelocks.challengeWindow} blocks, the governed challengeWindow in force at epoch ${epoch} is ${governed}`,
    );
  }
  if (governed >= expect.params.timelocks.assertWindow) {
    refuse(
      'PARAMETER_MISMATCH',
      where,
      `the governed challengeWindow ${governed} at epoch ${epoch} is not shorter than the protocol's assertWindow ` +
        `${expect.params.timelocks.assertWindow}: no graph of this network can have it`,
    );
  }
  return { ...expect.params, timelocks: { ...expect.params.timelocks, challengeWindow: governed } };
}

function compareParameters(doc: GraphParameters, own: GraphParameters): void {
  const t = own.timelocks;
  for (const name of Object.keys(t) as (keyof typeof t)[]) {
    if (doc.timelocks[name] !== t[name]) {
      const shorter = doc.timelocks[name] < t[name] ? 'shorter than' : 'different from';
      refuse(
        'TIMELOCK_MISMATCH',
        `parameters.timelocks.${name}`,
        `${doc.timelocks[name]} blocks, ${shorter} the protocol's ${t[name]}`,
      );
    }
  }
  const amounts: [string, bigint, bigint][] = [
    ['stake', doc.stake, own.stake],
    ['connectorValue', doc.connectorValue, own.connectorValue],
    ['challengeAmount', doc.challengeAmount, own.challengeAmount],
    ...(Object.keys(own.fees) as (keyof GraphParameters['fees'])[]).map((k): [string, bigint, bigint] => [
      `fees.${k}`,
      doc.fees[k],
      own.fees[k],
    ]),
  ];
  for (const [name, got, want] of amounts) {
    if (got !== want)
      refuse('AMOUNT_MISMATCH', `parameters.${name}`, `${got} sats, the protocol says ${want}`);
  }
  const others: [string, number, number][] = [
    ['timeoutBurnBps', doc.timeoutBurnBps, own.timeoutBurnBps],
    ['disproveBurnBps', doc.disproveBurnBps, own.disproveBurnBps],
    ['traceSteps', doc.traceSteps, own.traceSteps],
  ];
  for (const [name, got, want] of others) {
    if (got !== want) refuse('PARAMETER_MISMATCH', `parameters.${name}`, `${got}, the protocol says ${want}`);
  }
}

/** A graph's Winternitz public keys with the document place each comes from (`wots.trace[2]`). */
export type NamedWotsKey = { name: string; key: WotsPublicKey };

function wotsKeys(doc: GraphDocument): NamedWotsKey[] {
  const k = (name: string, bytes: number, hashes: string[]) => ({
    name,
    key: { messageBytes: bytes, hashes: hashes.map((h) => hexToBytes(h)) },
  });
  return [
    k('wots.epoch', EPOCH_VALUE_BYTES, doc.wots.epoch),
    k('wots.stateRoot', ROOT_VALUE_BYTES, doc.wots.stateRoot),
    k('wots.l2BlockHash', ROOT_VALUE_BYTES, doc.wots.l2BlockHash),
    ...doc.wots.trace.map((t, i) => k(`wots.trace[${i}]`, ROOT_VALUE_BYTES, t)),
  ];
}

/**
 * Every Winternitz chain of the graph must be fresh: a repeated hash means a reused one-time key. Run by
 * import at its place in the order of checks; exported for an import that ran elsewhere without the
 * earlier graphs' hashes (graph-import-job.ts), which must reach the same first defect.
 */
export function checkWotsKeys(
  keys: readonly NamedWotsKey[],
  known: { has(id: string): boolean } | undefined,
): void {
  const seen = new Map<string, string>();
  for (const { name, key } of keys) {
    const expected = wotsParameters(key.messageBytes).totalDigits;
    if (key.hashes.length !== expected) {
      refuse(
        'WOTS_KEY_SHAPE',
        name,
        `${key.hashes.length} hashes; a ${key.messageBytes}-byte value needs ${expected}`,
      );
    }
    key.hashes.forEach((h, i) => {
      const id = bytesToHex(h);
      const where = `${name}[${i}]`;
      const before = seen.get(id);
      if (before) refuse('WOTS_KEY_REUSE', where, `the same Winternitz chain as ${before}`);
      if (known?.has(id))
        refuse('WOTS_KEY_REUSE', where, 'a Winternitz chain already used by an earlier graph');
      seen.set(id, where);
    });
  }
}

function compareTx(name: string, got: Tx, want: Tx): void {
  if (got.version !== want.version || got.locktime !== want.locktime) {
    refuse(
      'TX_MISMATCH',
      name,
      `version/locktime ${got.version}/${got.locktime}, expected ${want.version}/${want.locktime}`,
    );
  }
  if (got.inputs.length !== want.inputs.length) {
    refuse('TX_MISMATCH', name, `${got.inputs.length} inputs, expected ${want.inputs.length}`);
  }
  want.inputs.forEach((w, i) => {
    const g = got.inputs[i] as Tx['inputs'][number];
    if (!equalBytes(g.prevTxid, w.prevTxid) || g.vout !== w.vout) {
      refuse('TX_MISMATCH', `${name}.input${i}`, 'spends another outpoint than the graph says');
    }
    if (g.sequence !== w.sequence) {
      refuse('TIMELOCK_MISMATCH', `${name}.input${i}`, `nSequence ${g.sequence}, expected ${w.sequence}`);
    }
    if (g.scriptSig.length !== 0 || g.witness.length !== 0) {
      refuse(
        'TX_MISMATCH',
        `${name}.input${i}`,
        'carries a scriptSig or witness; published transactions are unsigned',
      );
    }
  });
  if (got.outputs.length !== want.outputs.length) {
    refuse('TX_MISMATCH', name, `${got.outputs.length} outputs, expected ${want.outputs.length}`);
  }
  want.outputs.forEach((w, i) => {
    const g = got.outputs[i] as Tx['outputs'][number];
    if (!equalBytes(g.script, w.script))
      refuse(
        'SCRIPT_MISMATCH',
        `${name}.output${i}`,
        `script ${bytesToHex(g.script)}, expected ${bytesToHex(w.script)}`,
      );
    if (g.value !== w.value)
      refuse('AMOUNT_MISMATCH', `${name}.output${i}`, `${g.value} sats, expected ${w.value}`);
  });
}

/**
 * The import, as steps: it yields between its costly phases (after the bounded parse, the schema, the
 * canonical hash, the Winternitz checks, the rebuild, the transaction comparison, and each presigned
 * input's signatures) so that a caller on the event loop can let other work run in between.
 */
function* importSteps(
  input: unknown,
  expect: GraphExpectations,
  reached?: ImportMilestones,
): Generator<void, ImportedGraph, void> {
  const raw = typeof input === 'string' ? parseGraphJson(input, expect) : input;
  yield;
  // A parsed object handed in directly is bounded too (text was bounded by parseGraphJson).
  const doc = versionedDocument(raw, GRAPH_DOCUMENT_VERSION, graphDocumentSchema, () => {
    if (typeof input !== 'string') checkBounds(raw, graphDocumentLimits(expect));
  });
  yield;
  const hash = graphDocumentHash(doc);
  yield;
  if (expect.commitment && !equalBytes(hash, expect.commitment)) {
    refuse(
      'HASH_MISMATCH',
      'document',
      `hash ${bytesToHex(hash)} is not the committed ${bytesToHex(expect.commitment)}`,
    );
  }
  if (doc.network !== expect.network)
    refuse('PARAMETER_MISMATCH', 'network', `${doc.network}, expected ${expect.network}`);
  if (doc.circuit !== expect.circuit.id)
    refuse('PARAMETER_MISMATCH', 'circuit', `${doc.circuit}, expected ${expect.circuit.id}`);
  const params = parametersFromJson(doc.parameters);
  const own = protocolParameters(params, expect, doc.epoch);
  compareParameters(params, own);
  if (doc.operator !== bytesToHex(expect.operator))
    refuse('KEY_MISMATCH', 'operator', 'not the registered operator key');
  const committee = expect.committee.map(bytesToHex);
  if (doc.committee.length !== committee.length || doc.committee.some((k, i) => k !== committee[i])) {
    refuse('KEY_MISMATCH', 'committee', 'not the registered committee');
  }
  const epoch = BigInt(doc.epoch);
  if (expect.epoch !== undefined && epoch !== expect.epoch)
    refuse('PARAMETER_MISMATCH', 'epoch', `${epoch}, expected ${expect.epoch}`);
  const keys = wotsKeys(doc);
  if (doc.wots.trace.length !== expect.params.traceSteps) {
    refuse(
      'WOTS_KEY_SHAPE',
      'wots.trace',
      `${doc.wots.trace.length} trace keys for ${expect.params.traceSteps} steps`,
    );
  }
  reached?.wotsKeys?.(keys);
  checkWotsKeys(keys, expect.knownWotsHashes);
  yield;

  const [epochKey, stateRoot, l2BlockHash, ...trace] = keys.map((k) => k.key) as WotsPublicKey[];
  const spec: GraphSpec = {
    network: expect.network,
    params: own,
    operator: expect.operator,
    committee: [...expect.committee],
    epoch,
    instance: doc.instance,
    claim: { txid: claimTxidFromJson(doc.claim.txid), vout: doc.claim.vout, value: BigInt(doc.claim.value) },
    wots: {
      epoch: epochKey as WotsPublicKey,
      stateRoot: stateRoot as WotsPublicKey,
      l2BlockHash: l2BlockHash as WotsPublicKey,
      trace,
    },
    circuit: expect.circuit,
  };
  let graph: Graph;
  try {
    graph = buildGraph(spec);
  } catch (err) {
    if (err instanceof GraphParameterError)
      throw new GraphImportError('AMOUNT_MISMATCH', 'claim', err.shortMessage, { cause: err });
    throw err;
  }
  yield;

  const claimScript = graph.outputs.claim.scriptPubKey;
  if (doc.claim.script !== bytesToHex(claimScript)) {
    refuse(
      'SCRIPT_MISMATCH',
      'claim.script',
      "the claim output does not commit to the graph's Winternitz keys",
    );
  }
  if (expect.claimPrevout) {
    if (!equalBytes(expect.claimPrevout.script, claimScript)) {
      refuse(
        'SCRIPT_MISMATCH',
        'claim (on chain)',
        'the claim output on chain does not commit to these Winternitz keys',
      );
    }
    if (expect.claimPrevout.value !== spec.claim.value) {
      refuse(
        'AMOUNT_MISMATCH',
        'claim (on chain)',
        `${expect.claimPrevout.value} sats on chain, ${spec.claim.value} in the graph`,
      );
    }
  }

  const t = doc.transactions;
  const decode = (name: string, h: string): Tx => {
    try {
      return decodeTxHex(h);
    } catch (err) {
      throw new GraphImportError('MALFORMED', `transactions.${name}`, 'not a transaction', { cause: err });
    }
  };
  const pairs: [string, string, Tx][] = [
    ['kickoff', t.kickoff, graph.txs.kickoff],
    ['challenge', t.challenge, graph.txs.challenge],
    ['take', t.take, graph.txs.take],
    ['assert', t.assert, graph.txs.assert],
    ['assertTimeout', t.assertTimeout, graph.txs.assertTimeout],
    ['payout', t.payout, graph.txs.payout],
  ];
  if (t.disprove.length !== graph.txs.disprove.length) {
    refuse(
      'TX_MISMATCH',
      'transactions.disprove',
      `${t.disprove.length} disprove transactions, expected ${graph.txs.disprove.length}`,
    );
  }
  graph.txs.disprove.forEach((d, i) => {
    pairs.push([`disprove[${i}]`, t.disprove[i] as string, d]);
  });
  for (const [name, h, want] of pairs) compareTx(name, decode(name, h), want);
  yield;

  const sigs: PresignedSignatures = [];
  for (const p of graph.presigned) {
    const where = presignedKey(p);
    const list = doc.signatures[where];
    if (!list || list.length !== graph.covenant.length) {
      refuse(
        'MISSING_SIGNATURE',
        where,
        `${list?.length ?? 0} of ${graph.covenant.length} covenant signatures`,
      );
    }
    const bytes = list.map((s) => hexToBytes(s));
    const check = checkPresigned(graph, p, bytes);
    if (!check.ok) refuse('BAD_SIGNATURE', `${where} member ${check.member}`, check.reason);
    sigs.push(bytes);
    yield;
  }
  const expectedKeys = new Set(graph.presigned.map(presignedKey));
  for (const k of Object.keys(doc.signatures)) {
    if (!expectedKeys.has(k)) refuse('MALFORMED', `signatures.${k}`, 'a signature for no presigned input');
  }
  return { graph, sigs, hash, document: doc };
}

/** What an import reports as it passes its checks (for an import run away from the registry). */
export type ImportMilestones = {
  /** Every check before the Winternitz keys' passed; the keys, in the order import checks them. */
  wotsKeys?(keys: readonly NamedWotsKey[]): void;
};

/** Parses, rebuilds and verifies a published graph; throws GraphImportError naming the first defect. */
export function importGraph(
  input: unknown,
  expect: GraphExpectations,
  reached?: ImportMilestones,
): ImportedGraph {
  return runSteps(importSteps(input, expect, reached));
}

/** How long import may hold the event loop before it lets other work run. */
export const IMPORT_SLICE_MS = 10;

/**
 * importGraph for a caller on the event loop (the watcher's poll): the same verdict, but between its
 * costly phases it gives the loop a turn whenever it has held it for `sliceMs`, so verifying a large
 * graph does not stall timers, health checks or the queue.
 */
export async function importGraphYielding(
  input: unknown,
  expect: GraphExpectations,
  sliceMs: number = IMPORT_SLICE_MS,
): Promise<ImportedGraph> {
  return runStepsYielding(importSteps(input, expect), sliceMs);
}
