/**
 * The JSON form of a dispute bundle, format version 2 (docs/replay.md, "Bundle format (version 2)"):
 * the only code that turns a `DisputeBundleV2` into text or back.
 *
 * Writing is canonical: a fixed key order, 2-space indent, a final newline, bigints as decimal strings,
 * bytes as lowercase hex, L2 hashes as 0x-hex, Bitcoin txids and block hashes as 64 hex digits in
 * display order, and the keys of the free-form JSON values (the graph document, the history events)
 * sorted. The same bundle always gives the same bytes.
 *
 * Reading is strict and bounded: a researcher's file may be truncated, edited by hand or hostile. Every
 * field is type-checked, unknown fields are errors, every list and string has a bound, and what is
 * cheap and certain to check is checked (each raw transaction hashes to its txid, one prevout per
 * input, one kick-off and it is the one named). Every problem is a BundleError naming the field by its
 * JSON path and saying what was expected there. The governance section is an inputs file
 * (docs/inputs-format.md) read by that format's own parser, so its rules apply unchanged.
 */
import { STEP_CIRCUIT_IDS } from '../../circuits/index.ts';
import { type BitcoinNetwork, bitcoinNetworks } from '../bitcoin/network.ts';
import { parseTx, TxDecodeError, txidHex } from '../bitcoin/tx/serialize.ts';
import type { Tx } from '../bitcoin/tx/types.ts';
import { bytesToHex, hexToBytes } from '../core/bytes.ts';
import { VigilError, type VigilErrorOptions } from '../core/errors.ts';
import {
  GRAPH_DOCUMENT_MAX_BYTES,
  GRAPH_MAX_COVENANT_KEYS,
  GRAPH_MAX_TRACE_STEPS,
} from '../dispute/graph/document.ts';
import {
  createGenesisState,
  type GenesisOptions,
  type GovernanceInput,
  INPUTS_FORMAT,
  InputsFileError,
  PARAM_KEYS,
  PARAM_SPECS,
  paramInBounds,
  parseInputsFile,
  serializeInputsFile,
} from '../governance/index.ts';
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  type BundleConfirmation,
  type BundleGraphExpectations,
  type BundleL2Commitment,
  type BundlePrevout,
  type BundleTx,
  type BundleTxRole,
  type BundleWatcherRecord,
  type DisputeBundleV2,
} from './bundle.ts';
import { BundleError, BundleVersionError } from './bundle-errors.ts';

/** Bounds of a bundle a reader accepts; each has its own error naming the field. */
export const BUNDLE_LIMITS = {
  /** The whole text (UTF-16 code units, what JSON.parse is handed): 256 MiB. */
  textChars: 256 * 1024 * 1024,
  /** Bitcoin transactions of one dispute: a graph has a handful, challengers add a few each. */
  transactions: 10_000,
  /** One raw transaction: a transaction's size never exceeds its weight, and a block's weight is 4,000,000. */
  txBytes: 4_000_000,
  /** Prevouts of one transaction: an input takes at least 41 bytes, so 4,000,000 bytes hold fewer. */
  txInputs: 100_000,
  /** A prevout's scriptPubKey: Bitcoin's MAX_SCRIPT_SIZE; nothing longer can be spent. */
  prevoutScriptBytes: 10_000,
  /** Governance inputs since genesis. */
  governanceInputs: 1_000_000,
  /** Actions of one `propose` input (the rules accept 16; the inputs format itself does not bound them). */
  proposalActions: 256,
  /** Modules registered at genesis (the inputs format does not bound them). */
  genesisModules: 1_024,
  /** Committee keys: the graph's covenant holds the operator and at most this many others. */
  committeeKeys: GRAPH_MAX_COVENANT_KEYS - 1,
  /** Trace roots r_0 … r_k: one more than the most trace steps a graph has. */
  traceRoots: GRAPH_MAX_TRACE_STEPS + 1,
  /** The graph document, as canonical JSON: the bound import itself applies. */
  documentChars: GRAPH_DOCUMENT_MAX_BYTES,
  /** Events of one dispute's history. */
  historyEvents: 10_000,
  /** One history event, as canonical JSON. */
  historyEventChars: 1024 * 1024,
  /** Nesting of the free-form JSON values (graph document, history events); a valid graph nests 4 deep. */
  jsonDepth: 32,
  /** Reasons of a recorded verdict. */
  verdictReasons: 256,
  /** Identifiers, states, outcomes, rule and fault names. */
  nameChars: 256,
  /** Human sentences (a reason's message, why no fault was located). */
  sentenceChars: 4096,
} as const;

/** Bitcoin's MAX_MONEY in satoshis: no output holds more. */
const MAX_MONEY = 2_100_000_000_000_000n;
/** Heights and blocks counts as JSON integers: Bitcoin Core's heights are signed 32-bit. */
const MAX_HEIGHT = 0x7fffffff;
/** Blocks of a relative timelock (BIP 68 counts at most 0xffff). */
const MAX_TIMELOCK_BLOCKS = 0xffff;
const U64 = 1n << 64n;

const TX_ROLE_SET: Readonly<Record<BundleTxRole, true>> = {
  claim: true,
  kickoff: true,
  challenge: true,
  take: true,
  assert: true,
  'assert-timeout': true,
  disprove: true,
  payout: true,
  funding: true,
  other: true,
};
const TX_ROLES = Object.keys(TX_ROLE_SET) as BundleTxRole[];
const SOURCES = ['records', 'chains'] as const;

const ROOT_FIELDS = [
  'format',
  'version',
  'source',
  'epoch',
  'governance',
  'l2',
  'graph',
  'kickoffTxid',
  'transactions',
  'watcher',
] as const;

// Canonical key order of the governance section's JSON (the inputs file writer follows the objects' own).
const INPUT_KEY_ORDER = [
  'block',
  'txIndex',
  'logIndex',
  'kind',
  'sender',
  'commissionBps',
  'validator',
  'amount',
  'proposalId',
  'support',
  'actions',
];
const ACTION_KEY_ORDER = ['kind', 'key', 'value', 'moduleId', 'version', 'codeHash'];
const MODULE_KEY_ORDER = ['id', 'version', 'codeHash'];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

// ---------------------------------------------------------------------------------------------------
// Writing

/** The bundle as canonical JSON text (see the module comment); parseBundle reads it back equal. */
export function serializeBundle(b: DisputeBundleV2): string {
  const fail = (path: string, problem: string): never => {
    throw new BundleError('bundle being written', path, problem);
  };
  const json = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    source: b.source,
    epoch: b.epoch.toString(),
    governance: governanceToJson(b.governance),
    l2: {
      chainId: b.l2.chainId,
      epochEndBlock: b.l2.epochEndBlock.toString(),
      epochEndBlockHash: b.l2.epochEndBlockHash,
      commitment: b.l2.commitment && {
        stateRoot: bytesToHex(b.l2.commitment.stateRoot),
        block: b.l2.commitment.block.toString(),
        txHash: b.l2.commitment.txHash,
        kickoffTxid: b.l2.commitment.kickoffTxid,
      },
    },
    graph: {
      document: canonicalJson(b.graph.document, 'graph.document', 0, fail),
      expectations: {
        network: b.graph.expectations.network,
        circuit: b.graph.expectations.circuit,
        operator: bytesToHex(b.graph.expectations.operator),
        committee: b.graph.expectations.committee.map(bytesToHex),
        governedChallengeWindow: b.graph.expectations.governedChallengeWindow,
        commitment: b.graph.expectations.commitment && bytesToHex(b.graph.expectations.commitment),
      },
    },
    kickoffTxid: b.kickoffTxid,
    transactions: b.transactions.map((t) => ({
      role: t.role,
      txid: t.txid,
      raw: bytesToHex(t.raw),
      confirmation: t.confirmation && { height: t.confirmation.height, blockHash: t.confirmation.blockHash },
      prevouts: t.prevouts.map((p) => ({ value: p.value.toString(), script: bytesToHex(p.script) })),
    })),
    watcher: b.watcher && watcherToJson(b.watcher, fail),
  };
  // Fields left undefined are optional and absent from the text (JSON.stringify leaves them out).
  return `${JSON.stringify(json, null, 2)}\n`;
}

function governanceToJson(g: DisputeBundleV2['governance']): JsonObject {
  // The inputs file's own writer, so the section is exactly an inputs file plus `epochStart`.
  const file = JSON.parse(serializeInputsFile({ genesis: g.genesis, inputs: g.inputs })) as JsonObject;
  const genesis = file.genesis as JsonObject;
  const canonicalGenesis: JsonObject = {};
  if (genesis.params !== undefined)
    canonicalGenesis.params = ordered(genesis.params as JsonObject, PARAM_KEYS);
  if (genesis.modules !== undefined) {
    canonicalGenesis.modules = (genesis.modules as JsonObject[]).map((m) => ordered(m, MODULE_KEY_ORDER));
  }
  return {
    format: file.format ?? INPUTS_FORMAT,
    genesis: canonicalGenesis,
    inputs: (file.inputs as JsonObject[]).map((i) => {
      const out = ordered(i, INPUT_KEY_ORDER);
      if (Array.isArray(out.actions))
        out.actions = out.actions.map((a) => ordered(a as JsonObject, ACTION_KEY_ORDER));
      return out;
    }),
    epochStart: g.epochStart,
  };
}

function watcherToJson(w: BundleWatcherRecord, fail: (path: string, problem: string) => never): JsonObject {
  const d = w.diagnosis;
  const diagnosis: JsonObject | undefined =
    d === undefined
      ? undefined
      : d.fault === undefined
        ? { located: false, reason: d.reason }
        : {
            located: true,
            fault: d.fault,
            rule: d.rule,
            step: d.step,
            globalStep: d.globalStep,
            inputKind: d.inputKind,
          };
  const out = {
    disputeId: w.disputeId,
    state: w.state,
    outcome: w.outcome,
    kickoffHeight: w.kickoffHeight,
    verdict: {
      outcome: w.verdict.outcome,
      equivocation: w.verdict.equivocation,
      reasons: w.verdict.reasons.map((r) => ({ code: r.code, message: r.message })),
    },
    diagnosis,
    expectedTrace: w.expectedTrace.map(bytesToHex),
    disprovedStep: w.disprovedStep,
    history: w.history.map((e, i) => canonicalJson(e, `watcher.history[${i}]`, 0, fail)),
  };
  return out as JsonObject;
}

/** `o`'s entries with the keys of `order` first, in that order, then any others sorted. */
function ordered(o: JsonObject, order: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const k of order) if (Object.hasOwn(o, k)) out[k] = o[k] as Json;
  for (const k of Object.keys(o).sort()) if (!Object.hasOwn(out, k)) out[k] = o[k] as Json;
  return out;
}

/**
 * A free-form value as canonical JSON: keys sorted, undefined members left out, nesting bounded. Anything
 * JSON cannot hold (a bigint, a function, NaN) is refused by `fail` at its path.
 */
function canonicalJson(
  v: unknown,
  path: string,
  depth: number,
  fail: (path: string, problem: string) => never,
): Json {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : fail(path, `${v} is not a JSON number`);
  if (typeof v !== 'object') return fail(path, `a ${typeof v} is not a JSON value`);
  if (depth >= BUNDLE_LIMITS.jsonDepth) {
    return fail(path, `nested deeper than ${BUNDLE_LIMITS.jsonDepth} levels`);
  }
  if (Array.isArray(v)) return v.map((e, i) => canonicalJson(e, `${path}[${i}]`, depth + 1, fail));
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return fail(path, 'not a plain JSON object');
  const out: JsonObject = {};
  const record = v as Record<string, unknown>;
  for (const k of Object.keys(record).sort()) {
    if (record[k] === undefined) continue;
    // Defined, not assigned: JSON.parse makes "__proto__" an own key, and assigning it would set the prototype.
    Object.defineProperty(out, k, {
      value: canonicalJson(record[k], memberPath(path, k), depth + 1, fail),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function memberPath(path: string, key: string): string {
  const name = /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key) ? key : JSON.stringify(key);
  return path === '' ? name : /^[A-Za-z_$]/.test(name) ? `${path}.${name}` : `${path}[${name}]`;
}

// ---------------------------------------------------------------------------------------------------
// Reading

const LOWER_HEX = /^(?:[0-9a-f]{2})*$/;
const HASH_HEX = /^[0-9a-f]{64}$/;
const L2_HASH = /^0x[0-9a-f]{64}$/;
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

/** What a JSON value is, for "expected X, got Y" (never the whole of a long string). */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return v.length > 72 ? `a string of ${v.length} characters` : JSON.stringify(v);
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `a list of ${v.length} entries`;
  return 'an object';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads typed fields out of parsed JSON, failing with the JSON path of the first problem. */
class FieldReader {
  constructor(readonly source: string) {}

  fail(path: string, problem: string, options?: VigilErrorOptions): never {
    throw new BundleError(this.source, path === '' ? '(root)' : path, problem, options);
  }

  /** Fails for `v` not being what `expected` describes (`v` undefined: the field is missing). */
  expected(v: unknown, path: string, expected: string): never {
    return this.fail(
      path,
      v === undefined ? `missing; expected ${expected}` : `expected ${expected}, got ${describe(v)}`,
    );
  }

  object(v: unknown, path: string, fields: readonly string[]): Record<string, unknown> {
    if (!isRecord(v)) return this.expected(v, path, `an object with the fields ${fields.join(', ')}`);
    for (const k of Object.keys(v)) {
      if (!fields.includes(k))
        this.fail(memberPath(path, k), `unknown field; expected only ${fields.join(', ')}`);
    }
    return v;
  }

  string(v: unknown, path: string, maxChars: number): string {
    if (typeof v !== 'string') return this.expected(v, path, `a string of at most ${maxChars} characters`);
    if (v.length > maxChars) this.fail(path, `${v.length} characters; at most ${maxChars} are allowed`);
    return v;
  }

  /** A string of at most `maxChars` matching `pattern` (described by `what`). */
  matching(v: unknown, path: string, pattern: RegExp, maxChars: number, what: string): string {
    if (typeof v !== 'string') return this.expected(v, path, what);
    if (v.length > maxChars) this.fail(path, `${v.length} characters; expected ${what}`);
    if (!pattern.test(v)) this.expected(v, path, what);
    return v;
  }

  /** Lowercase hex of exactly `exact` bytes, or of at most `max` bytes (`why` says where the bound comes from). */
  bytes(v: unknown, path: string, size: { exact: number } | { max: number; why: string }): Uint8Array {
    const what =
      'exact' in size
        ? `${2 * size.exact} lowercase hex digits (${size.exact} bytes)`
        : `lowercase hex of at most ${size.max} bytes`;
    if (typeof v !== 'string') return this.expected(v, path, what);
    if ('exact' in size && v.length !== 2 * size.exact) this.expected(v, path, what);
    if ('max' in size && v.length > 2 * size.max) {
      this.fail(path, `${Math.ceil(v.length / 2)} bytes; at most ${size.max} (${size.why})`);
    }
    if (!LOWER_HEX.test(v)) this.fail(path, 'expected lowercase hex (an even number of digits 0-9a-f)');
    return hexToBytes(v);
  }

  txid(v: unknown, path: string): string {
    return this.matching(
      v,
      path,
      HASH_HEX,
      64,
      '64 lowercase hex digits (a txid or block hash, display order)',
    );
  }

  l2Hash(v: unknown, path: string): string {
    return this.matching(v, path, L2_HASH, 66, 'lowercase 0x + 64 hex digits');
  }

  /** A decimal string below `bound` (`boundText` names it). */
  uint(v: unknown, path: string, bound: bigint, boundText: string): bigint {
    const what = `a decimal string (no sign, no leading zeros) below ${boundText}`;
    const s = this.matching(v, path, DECIMAL, bound.toString().length, what);
    const n = BigInt(s);
    if (n >= bound) this.fail(path, `${s} is not below ${boundText}`);
    return n;
  }

  integer(
    v: unknown,
    path: string,
    min: number,
    max: number,
    what = `an integer from ${min} to ${max}`,
  ): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      return this.expected(v, path, what);
    return v;
  }

  boolean(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') return this.expected(v, path, 'true or false');
    return v;
  }

  oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      return this.expected(v, path, `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
    }
    return v as T;
  }

  array(v: unknown, path: string, max: number, why: string): unknown[] {
    if (!Array.isArray(v)) return this.expected(v, path, `a list of at most ${max} entries`);
    if (v.length > max) this.fail(path, `${v.length} entries; at most ${max} (${why})`);
    return v;
  }

  /** A free-form JSON object, its keys sorted, bounded in depth and in canonical size. */
  freeObject(v: unknown, path: string, maxChars: number, what: string): Record<string, unknown> {
    if (!isRecord(v)) return this.expected(v, path, `a JSON object (${what})`);
    const canonical = canonicalJson(v, path, 0, (p, problem) => this.fail(p, problem));
    const size = JSON.stringify(canonical).length;
    if (size > maxChars) this.fail(path, `${size} characters of JSON; ${what} is at most ${maxChars}`);
    return canonical as Record<string, unknown>;
  }
}

/** Reads `key` of `o` with `read` when present; undefined when absent (an optional field). */
function optional<T>(o: Record<string, unknown>, key: string, read: (v: unknown) => T): T | undefined {
  return Object.hasOwn(o, key) ? read(o[key]) : undefined;
}

/**
 * Parses the text of a bundle. Throws BundleVersionError for a version it cannot replay (1, or newer
 * than 2) and BundleError for anything else wrong, naming the field by its JSON path. `source` names the
 * file in messages.
 */
export function parseBundle(text: string, source = 'bundle'): DisputeBundleV2 {
  const r = new FieldReader(source);
  if (text.length > BUNDLE_LIMITS.textChars) {
    r.fail('', `${text.length} characters; a bundle is at most ${BUNDLE_LIMITS.textChars} (256 MiB)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    r.fail('', 'not valid JSON (a truncated or damaged file, or not a bundle)', { cause: err });
  }
  if (!isRecord(json)) return r.expected(json, '', 'a JSON object (a dispute bundle)');
  checkFormatAndVersion(r, json);
  const o = r.object(json, '', ROOT_FIELDS);
  const sourceKind = r.oneOf(o.source, 'source', SOURCES);
  const bundle: DisputeBundleV2 = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    source: sourceKind,
    epoch: r.uint(o.epoch, 'epoch', U64, '2^64'),
    governance: readGovernance(r, o.governance),
    l2: readL2(r, o.l2),
    graph: readGraph(r, o.graph),
    kickoffTxid: r.txid(o.kickoffTxid, 'kickoffTxid'),
    transactions: r
      .array(o.transactions, 'transactions', BUNDLE_LIMITS.transactions, 'the transactions of one dispute')
      .map((t, i) => readTx(r, t, `transactions[${i}]`)),
    watcher: optional(o, 'watcher', (v) => readWatcher(r, v)),
  };
  checkTransactions(r, bundle);
  if (sourceKind === 'records' && bundle.watcher === undefined) {
    r.fail(
      'watcher',
      'missing; a bundle written from Vigil\'s records (source "records") carries the watcher\'s record',
    );
  }
  if (sourceKind === 'chains' && bundle.watcher !== undefined) {
    r.fail(
      'watcher',
      'a bundle fetched from the chains (source "chains") has no watcher record; remove it or set source',
    );
  }
  return bundle;
}

function checkFormatAndVersion(r: FieldReader, o: Record<string, unknown>): void {
  if (o.format === INPUTS_FORMAT) {
    r.fail(
      'format',
      `"${INPUTS_FORMAT}" is a governance inputs file, not a dispute bundle; replay it with \`vigil replay --inputs <file>\``,
    );
  }
  if (o.format !== BUNDLE_FORMAT) r.expected(o.format, 'format', `"${BUNDLE_FORMAT}"`);
  const v = o.version;
  if (v === 1) {
    throw new BundleVersionError(
      r.source,
      1,
      "a version-1 bundle cannot be replayed: it holds the dispute record, the graph and Vigil's own " +
        "transactions, but not the epoch's L2 governance inputs to re-execute nor the chains' " +
        'confirmations (block heights and hashes) and spent outputs to re-verify the transactions. ' +
        'Write a version-2 bundle: `vigil disputes export <id>` with this Vigil (from its records), or ' +
        '`vigil replay fetch --epoch N` (from an L2 RPC and a Bitcoin backend, no Vigil state needed)',
    );
  }
  if (typeof v === 'number' && Number.isInteger(v) && v > BUNDLE_VERSION) {
    throw new BundleVersionError(
      r.source,
      v,
      `version ${v} is newer than this Vigil reads (version ${BUNDLE_VERSION}); replay it with the Vigil that wrote it or a newer one`,
    );
  }
  if (v !== BUNDLE_VERSION) r.expected(v, 'version', `the number ${BUNDLE_VERSION}`);
}

/** The marker the inputs-file parser is handed as its source, so its messages can be re-rooted here. */
const GOVERNANCE_MARKER = '\u0000governance';

function readGovernance(r: FieldReader, v: unknown): DisputeBundleV2['governance'] {
  const g = r.object(v, 'governance', ['format', 'genesis', 'inputs', 'epochStart']);
  const inputs = r.array(
    g.inputs,
    'governance.inputs',
    BUNDLE_LIMITS.governanceInputs,
    'governance inputs since genesis',
  );
  // Bounds the inputs format leaves open, checked before its parser walks the lists.
  inputs.forEach((input, i) => {
    if (
      isRecord(input) &&
      Array.isArray(input.actions) &&
      input.actions.length > BUNDLE_LIMITS.proposalActions
    ) {
      r.fail(
        `governance.inputs[${i}].actions`,
        `${input.actions.length} entries; at most ${BUNDLE_LIMITS.proposalActions} (a proposal has at most 16 valid actions)`,
      );
    }
  });
  if (isRecord(g.genesis) && Array.isArray(g.genesis.modules)) {
    if (g.genesis.modules.length > BUNDLE_LIMITS.genesisModules) {
      r.fail(
        'governance.genesis.modules',
        `${g.genesis.modules.length} entries; at most ${BUNDLE_LIMITS.genesisModules} modules at genesis`,
      );
    }
  }
  const epochStart = r.integer(
    g.epochStart,
    'governance.epochStart',
    0,
    inputs.length,
    `an integer from 0 to ${inputs.length} (an index into governance.inputs)`,
  );
  let file: { genesis: GenesisOptions; inputs: GovernanceInput[] };
  try {
    file = parseInputsFile(
      JSON.stringify({ format: g.format, genesis: g.genesis, inputs }),
      GOVERNANCE_MARKER,
    );
  } catch (err) {
    if (!(err instanceof InputsFileError)) throw err;
    throw governanceError(r, err);
  }
  checkGenesis(r, file.genesis);
  return { genesis: file.genesis, inputs: file.inputs, epochStart };
}

/** The inputs-file parser's error, its path re-rooted under `governance`. */
function governanceError(r: FieldReader, err: InputsFileError): BundleError {
  const prefix = `${GOVERNANCE_MARKER}: `;
  const message = err.shortMessage.startsWith(prefix)
    ? err.shortMessage.slice(prefix.length)
    : err.shortMessage;
  const sep = message.indexOf(': ');
  const where = sep < 0 ? '(root)' : message.slice(0, sep);
  const problem = sep < 0 ? message : message.slice(sep + 2);
  const reroot = (p: string) => (p === '(root)' ? 'governance' : `governance.${p}`);
  // Not chained as the cause: its text names the section by the marker, and all it says is said here.
  return new BundleError(r.source, reroot(where), problem, {
    metaMessages: [
      ...err.metaMessages.map((m) => m.replace(/^also (\S+):/, (_, p: string) => `also ${reroot(p)}:`)),
      'The governance section is a governance inputs file (docs/inputs-format.md) plus `epochStart`.',
    ],
  });
}

function checkGenesis(r: FieldReader, genesis: GenesisOptions): void {
  for (const key of PARAM_KEYS) {
    const value = genesis.params?.[key];
    if (value !== undefined && !paramInBounds(key, value)) {
      const spec = PARAM_SPECS[key];
      r.fail(
        `governance.genesis.params.${key}`,
        `${value} is outside the protocol's bounds [${spec.min}, ${spec.max}]`,
      );
    }
  }
  try {
    createGenesisState(genesis);
  } catch (err) {
    r.fail(
      'governance.genesis',
      `not a valid genesis: ${err instanceof VigilError ? err.shortMessage : String(err)}`,
      {
        cause: err,
      },
    );
  }
}

function readL2(r: FieldReader, v: unknown): DisputeBundleV2['l2'] {
  const o = r.object(v, 'l2', ['chainId', 'epochEndBlock', 'epochEndBlockHash', 'commitment']);
  return {
    chainId: optional(o, 'chainId', (x) =>
      r.integer(x, 'l2.chainId', 1, Number.MAX_SAFE_INTEGER, 'a positive integer (the L2 chain id)'),
    ),
    epochEndBlock: r.uint(o.epochEndBlock, 'l2.epochEndBlock', U64, '2^64'),
    epochEndBlockHash: r.l2Hash(o.epochEndBlockHash, 'l2.epochEndBlockHash'),
    commitment: optional(o, 'commitment', (x) => readCommitment(r, x)),
  };
}

function readCommitment(r: FieldReader, v: unknown): BundleL2Commitment {
  const p = 'l2.commitment';
  const o = r.object(v, p, ['stateRoot', 'block', 'txHash', 'kickoffTxid']);
  return {
    stateRoot: r.bytes(o.stateRoot, `${p}.stateRoot`, { exact: 32 }),
    block: r.uint(o.block, `${p}.block`, U64, '2^64'),
    txHash: optional(o, 'txHash', (x) => r.l2Hash(x, `${p}.txHash`)),
    kickoffTxid: optional(o, 'kickoffTxid', (x) => r.txid(x, `${p}.kickoffTxid`)),
  };
}

function readGraph(r: FieldReader, v: unknown): DisputeBundleV2['graph'] {
  const o = r.object(v, 'graph', ['document', 'expectations']);
  const document = r.freeObject(
    o.document,
    'graph.document',
    BUNDLE_LIMITS.documentChars,
    "the operator's graph document",
  );
  const p = 'graph.expectations';
  const e = r.object(o.expectations, p, [
    'network',
    'circuit',
    'operator',
    'committee',
    'governedChallengeWindow',
    'commitment',
  ]);
  const expectations: BundleGraphExpectations = {
    network: r.oneOf<BitcoinNetwork>(e.network, `${p}.network`, bitcoinNetworks),
    // A circuit this Vigil does not have cannot be re-imported or stepped through: refused here, by name.
    circuit: r.oneOf(e.circuit, `${p}.circuit`, STEP_CIRCUIT_IDS),
    operator: r.bytes(e.operator, `${p}.operator`, { exact: 32 }),
    committee: r
      .array(e.committee, `${p}.committee`, BUNDLE_LIMITS.committeeKeys, 'a covenant holds at most 1000 keys')
      .map((k, i) => r.bytes(k, `${p}.committee[${i}]`, { exact: 32 })),
    governedChallengeWindow: optional(e, 'governedChallengeWindow', (x) =>
      r.integer(
        x,
        `${p}.governedChallengeWindow`,
        0,
        MAX_TIMELOCK_BLOCKS,
        `an integer from 0 to ${MAX_TIMELOCK_BLOCKS} (blocks)`,
      ),
    ),
    commitment: optional(e, 'commitment', (x) => r.bytes(x, `${p}.commitment`, { exact: 32 })),
  };
  return { document, expectations };
}

function readTx(r: FieldReader, v: unknown, p: string): BundleTx {
  const o = r.object(v, p, ['role', 'txid', 'raw', 'confirmation', 'prevouts']);
  const role = r.oneOf(o.role, `${p}.role`, TX_ROLES);
  const id = r.txid(o.txid, `${p}.txid`);
  const raw = r.bytes(o.raw, `${p}.raw`, {
    max: BUNDLE_LIMITS.txBytes,
    why: 'a transaction is never larger than a block',
  });
  const confirmation = optional(o, 'confirmation', (x) => readConfirmation(r, x, `${p}.confirmation`));
  const prevouts = r
    .array(o.prevouts, `${p}.prevouts`, BUNDLE_LIMITS.txInputs, 'no transaction has more inputs')
    .map((x, i) => readPrevout(r, x, `${p}.prevouts[${i}]`));
  let parsed: Tx;
  try {
    parsed = parseTx(raw);
  } catch (err) {
    if (!(err instanceof TxDecodeError)) throw err;
    return r.fail(
      `${p}.raw`,
      `not a Bitcoin transaction: ${err.shortMessage} (${err.reason} at byte ${err.offset})`,
      {
        cause: err,
      },
    );
  }
  const actual = txidHex(parsed);
  if (actual !== id) r.fail(`${p}.txid`, `${id} is not the txid of ${p}.raw, which is ${actual}`);
  if (prevouts.length !== parsed.inputs.length) {
    r.fail(
      `${p}.prevouts`,
      `${prevouts.length} entries, but the transaction has ${parsed.inputs.length} inputs (one prevout per input, in order)`,
    );
  }
  return { role, txid: id, raw, confirmation, prevouts };
}

function readConfirmation(r: FieldReader, v: unknown, p: string): BundleConfirmation {
  const o = r.object(v, p, ['height', 'blockHash']);
  return {
    height: r.integer(
      o.height,
      `${p}.height`,
      0,
      MAX_HEIGHT,
      `a block height (an integer from 0 to ${MAX_HEIGHT})`,
    ),
    blockHash: r.txid(o.blockHash, `${p}.blockHash`),
  };
}

function readPrevout(r: FieldReader, v: unknown, p: string): BundlePrevout {
  const o = r.object(v, p, ['value', 'script']);
  return {
    value: r.uint(
      o.value,
      `${p}.value`,
      MAX_MONEY + 1n,
      '2100000000000001 (21 million BTC is 2100000000000000 satoshis)',
    ),
    script: r.bytes(o.script, `${p}.script`, {
      max: BUNDLE_LIMITS.prevoutScriptBytes,
      why: "Bitcoin's MAX_SCRIPT_SIZE: no longer script can be spent",
    }),
  };
}

/** One kick-off, the one `kickoffTxid` names, and no transaction twice. */
function checkTransactions(r: FieldReader, b: DisputeBundleV2): void {
  const seen = new Map<string, number>();
  let kickoff: number | undefined;
  b.transactions.forEach((t, i) => {
    const first = seen.get(t.txid);
    if (first !== undefined) {
      r.fail(
        `transactions[${i}].txid`,
        `${t.txid} is also transactions[${first}]; each transaction appears once`,
      );
    }
    seen.set(t.txid, i);
    if (t.role !== 'kickoff') return;
    if (kickoff !== undefined) {
      r.fail(
        `transactions[${i}].role`,
        `a second "kickoff" (transactions[${kickoff}] is one); a dispute has one kick-off`,
      );
    }
    kickoff = i;
  });
  if (kickoff === undefined) {
    r.fail(
      'transactions',
      `no transaction has role "kickoff"; the kick-off ${b.kickoffTxid} must be among them`,
    );
  }
  const k = b.transactions[kickoff]!;
  if (k.txid !== b.kickoffTxid) {
    r.fail(
      'kickoffTxid',
      `${b.kickoffTxid} is not the kick-off's txid (transactions[${kickoff}].txid is ${k.txid})`,
    );
  }
}

function readWatcher(r: FieldReader, v: unknown): BundleWatcherRecord {
  const p = 'watcher';
  const o = r.object(v, p, [
    'disputeId',
    'state',
    'outcome',
    'kickoffHeight',
    'verdict',
    'diagnosis',
    'expectedTrace',
    'disprovedStep',
    'history',
  ]);
  const name = (x: unknown, path: string) => r.string(x, path, BUNDLE_LIMITS.nameChars);
  const vd = r.object(o.verdict, `${p}.verdict`, ['outcome', 'equivocation', 'reasons']);
  const reasons = r
    .array(vd.reasons, `${p}.verdict.reasons`, BUNDLE_LIMITS.verdictReasons, 'the reasons of one verdict')
    .map((x, i) => {
      const q = `${p}.verdict.reasons[${i}]`;
      const reason = r.object(x, q, ['code', 'message']);
      return {
        code: name(reason.code, `${q}.code`),
        message: r.string(reason.message, `${q}.message`, BUNDLE_LIMITS.sentenceChars),
      };
    });
  return {
    disputeId: name(o.disputeId, `${p}.disputeId`),
    state: name(o.state, `${p}.state`),
    outcome: optional(o, 'outcome', (x) => name(x, `${p}.outcome`)),
    kickoffHeight: r.integer(
      o.kickoffHeight,
      `${p}.kickoffHeight`,
      0,
      MAX_HEIGHT,
      `a block height (an integer from 0 to ${MAX_HEIGHT})`,
    ),
    verdict: {
      outcome: name(vd.outcome, `${p}.verdict.outcome`),
      equivocation: r.boolean(vd.equivocation, `${p}.verdict.equivocation`),
      reasons,
    },
    diagnosis: optional(o, 'diagnosis', (x) => readDiagnosis(r, x, `${p}.diagnosis`)),
    expectedTrace: r
      .array(
        o.expectedTrace,
        `${p}.expectedTrace`,
        BUNDLE_LIMITS.traceRoots,
        `a graph has at most ${GRAPH_MAX_TRACE_STEPS} trace steps`,
      )
      .map((x, i) => r.bytes(x, `${p}.expectedTrace[${i}]`, { exact: 32 })),
    disprovedStep: optional(o, 'disprovedStep', (x) =>
      r.integer(
        x,
        `${p}.disprovedStep`,
        0,
        GRAPH_MAX_TRACE_STEPS,
        `a trace step (an integer from 0 to ${GRAPH_MAX_TRACE_STEPS})`,
      ),
    ),
    history: r
      .array(o.history, `${p}.history`, BUNDLE_LIMITS.historyEvents, 'the events of one dispute')
      .map((x, i) =>
        r.freeObject(x, `${p}.history[${i}]`, BUNDLE_LIMITS.historyEventChars, 'one history event'),
      ),
  };
}

function readDiagnosis(r: FieldReader, v: unknown, p: string): BundleWatcherRecord['diagnosis'] {
  if (!isRecord(v))
    return r.expected(v, p, 'an object with `located` and the fault it located or the reason why none');
  const located = r.boolean(v.located, `${p}.located`);
  if (!located) {
    const o = r.object(v, p, ['located', 'reason']);
    return { fault: undefined, reason: r.string(o.reason, `${p}.reason`, BUNDLE_LIMITS.sentenceChars) };
  }
  const o = r.object(v, p, ['located', 'fault', 'rule', 'step', 'globalStep', 'inputKind']);
  const name = (x: unknown, path: string) => r.string(x, path, BUNDLE_LIMITS.nameChars);
  const step = (x: unknown, path: string) =>
    r.integer(
      x,
      path,
      0,
      BUNDLE_LIMITS.governanceInputs,
      `an input index (an integer from 0 to ${BUNDLE_LIMITS.governanceInputs})`,
    );
  return {
    fault: name(o.fault, `${p}.fault`),
    rule: name(o.rule, `${p}.rule`),
    step: step(o.step, `${p}.step`),
    globalStep: step(o.globalStep, `${p}.globalStep`),
    inputKind: name(o.inputKind, `${p}.inputKind`),
  };
}
