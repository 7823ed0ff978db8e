/**
 * The bundle codec (src/replay/bundle-codec.ts) on a realistic bundle: a real governance history from
 * the workload generator, a real signed dispute graph with its kick-off, challenge, assert and disprove
 * transactions (so every txid is the hash of its raw bytes) and their real prevouts, 32-byte x-only keys.
 *
 * Issue #16, acceptance 4: every field of the serialized bundle is removed, changed and made oversize in
 * turn, and each time the reader must throw a BundleError whose message names that field's JSON path
 * (an optional field may be removed, and then the bundle must still read).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashToDisplayHex, serializeTx, txidHex } from '../../src/bitcoin/tx/serialize.ts';
import type { Tx, TxOutput } from '../../src/bitcoin/tx/types.ts';
import { exitCodeFor } from '../../src/cli/exit-codes.ts';
import { bytesToHex, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hashes.ts';
import { graphToDocument } from '../../src/dispute/graph/document.ts';
import type { DisputeBundle } from '../../src/dispute/records/bundle.ts';
import { generateWorkload } from '../../src/governance/workload.ts';
import type { BundleTx, BundleTxRole, DisputeBundleV2 } from '../../src/replay/bundle.ts';
import { BUNDLE_LIMITS, parseBundle, serializeBundle } from '../../src/replay/bundle-codec.ts';
import { BundleError, BundleVersionError } from '../../src/replay/bundle-errors.ts';
import { makeGraph, secretOf, xOnly } from '../../testkit/dispute/graph-fixture.ts';

const bytes32 = (label: string): Uint8Array => sha256(utf8(label));
const displayHash = (label: string): string => hashToDisplayHex(bytes32(label));

// --- A realistic bundle ------------------------------------------------------------------------------

const fx = makeGraph({ epoch: 3n });
const document = JSON.parse(JSON.stringify(graphToDocument(fx.graph, fx.sigs))) as Record<string, unknown>;

/** The graph's transactions with the outputs they spend, looked up among themselves and the claim. */
function bundleTxs(): BundleTx[] {
  const { txs, outputs, spec } = fx.graph;
  const chosen: [BundleTxRole, Tx, BundleTx['confirmation']][] = [
    ['kickoff', txs.kickoff, { height: 201, blockHash: displayHash('block 201') }],
    ['challenge', txs.challenge, { height: 203, blockHash: displayHash('block 203') }],
    ['assert', txs.assert, { height: 210, blockHash: displayHash('block 210') }],
    ['disprove', txs.disprove[1]!, undefined],
  ];
  const known = new Map<string, Tx>(chosen.map(([, tx]) => [txidHex(tx), tx]));
  const claimTxid = hashToDisplayHex(spec.claim.txid);
  const prevout = (prevTxid: Uint8Array, vout: number): TxOutput => {
    const id = hashToDisplayHex(prevTxid);
    if (id === claimTxid) return { value: spec.claim.value, script: outputs.claim.scriptPubKey };
    const out = known.get(id)?.outputs[vout];
    if (!out) throw new Error(`the test graph spends ${id}:${vout}, which it does not hold`);
    return out;
  };
  return chosen.map(([role, tx, confirmation]) => ({
    role,
    txid: txidHex(tx),
    raw: serializeTx(tx),
    confirmation,
    prevouts: tx.inputs.map((i) => {
      const o = prevout(i.prevTxid, i.vout);
      return { value: o.value, script: o.script };
    }),
  }));
}

function makeBundle(): DisputeBundleV2 {
  const workload = generateWorkload({ seed: 16, inputs: 48, epochLength: 12 });
  const ends = workload.inputs.flatMap((input, i) => (input.kind === 'endEpoch' ? [i] : []));
  if (ends.length < 3) throw new Error('the workload should hold at least three epochs');
  const last = ends[2]!;
  const inputs = workload.inputs.slice(0, last + 1);
  const transactions = bundleTxs();
  const kickoffTxid = transactions[0]!.txid;
  return {
    format: 'vigil-dispute-bundle',
    version: 2,
    source: 'records',
    epoch: 3n,
    governance: {
      genesis: {
        ...workload.genesis,
        modules: [{ id: 'privacy', version: 1n, codeHash: `0x${bytesToHex(bytes32('privacy v1'))}` }],
      },
      inputs,
      epochStart: ends[1]! + 1,
    },
    l2: {
      chainId: 901,
      epochEndBlock: inputs[last]!.position.block,
      epochEndBlockHash: `0x${bytesToHex(bytes32('l2 block'))}`,
      commitment: {
        stateRoot: bytes32('claimed root'),
        block: inputs[last]!.position.block + 2n,
        txHash: `0x${bytesToHex(bytes32('commit tx'))}`,
        kickoffTxid,
      },
    },
    graph: {
      document,
      expectations: {
        network: 'regtest',
        circuit: 'test-identity-v1',
        operator: xOnly(secretOf('operator')),
        committee: [xOnly(secretOf('committee 1'))],
        governedChallengeWindow: 6,
        commitment: bytes32('graph document hash'),
      },
    },
    kickoffTxid,
    transactions,
    watcher: {
      disputeId: `3:${kickoffTxid}`,
      state: 'disproved',
      outcome: 'disproved',
      kickoffHeight: 201,
      verdict: {
        outcome: 'invalid',
        equivocation: false,
        reasons: [
          { code: 'STATE_ROOT_MISMATCH', message: 'the committed state root is not the reference root' },
        ],
      },
      diagnosis: {
        fault: 'quorum-not-checked',
        rule: 'queue.quorum',
        step: 5,
        globalStep: 29,
        inputKind: 'queue',
      },
      expectedTrace: [0, 1, 2, 3, 4].map((i) => bytes32(`trace root ${i}`)),
      disprovedStep: 1,
      history: [
        { seq: 0, at: 1_700_000_000_000, type: 'opened', to: 'challengeable', key: 'opened' },
        {
          seq: 1,
          at: 1_700_000_060_000,
          type: 'challenged',
          from: 'challengeable',
          to: 'challenged',
          key: 'c',
        },
        {
          seq: 2,
          at: 1_700_000_600_000,
          type: 'disproved',
          detail: { step: 1, txid: transactions[3]!.txid },
        },
      ],
    },
  };
}

const bundle = makeBundle();
const text = serializeBundle(bundle);

/** The error parseBundle throws for `t`, failing the test when it throws none or a foreign one. */
function errorOf(t: string): BundleError {
  try {
    parseBundle(t, 'b.json');
  } catch (err) {
    if (err instanceof BundleError) return err;
    throw new Error(`parseBundle threw a ${(err as Error)?.name}, not a BundleError: ${String(err)}`);
  }
  throw new Error('parseBundle accepted the bundle');
}

const edited = (edit: (j: Record<string, unknown>) => void): string => {
  const j = JSON.parse(text) as Record<string, unknown>;
  edit(j);
  return JSON.stringify(j);
};
type Obj = Record<string, unknown>;
const txAt = (j: Obj, i: number): Obj => (j.transactions as Obj[])[i]!;

describe('bundle codec: writing and reading back', () => {
  it('round-trips a realistic bundle, and writes the same bytes every time', () => {
    expect(parseBundle(text)).toEqual(bundle);
    expect(serializeBundle(bundle)).toBe(text);
    expect(serializeBundle(makeBundle())).toBe(text);
    // Canonical: what is read back writes the very same text.
    expect(serializeBundle(parseBundle(text))).toBe(text);
  });

  it('writes the documented forms: 2-space JSON, decimal bigints, hex bytes, 0x L2 hashes, display txids', () => {
    expect(text.endsWith('}\n')).toBe(true);
    expect(
      text.startsWith('{\n  "format": "vigil-dispute-bundle",\n  "version": 2,\n  "source": "records",'),
    ).toBe(true);
    const j = JSON.parse(text) as Obj;
    expect(Object.keys(j)).toEqual([
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
    ]);
    expect(j.epoch).toBe('3');
    const g = j.governance as Obj;
    expect(Object.keys(g)).toEqual(['format', 'genesis', 'inputs', 'epochStart']);
    expect(g.format).toBe('vigil-governance-inputs/1');
    const l2 = j.l2 as Obj;
    expect(l2.epochEndBlockHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect((l2.commitment as Obj).stateRoot).toBe(bytesToHex(bytes32('claimed root')));
    const kickoff = txAt(j, 0);
    expect(kickoff.txid).toBe(txidHex(fx.graph.txs.kickoff));
    expect(kickoff.raw).toBe(bytesToHex(serializeTx(fx.graph.txs.kickoff)));
    expect((kickoff.prevouts as Obj[])[0]).toEqual({
      value: fx.graph.spec.claim.value.toString(),
      script: bytesToHex(fx.graph.outputs.claim.scriptPubKey),
    });
    expect(txAt(j, 3)).not.toHaveProperty('confirmation');
    expect((j.watcher as Obj).diagnosis).toEqual({
      located: true,
      fault: 'quorum-not-checked',
      rule: 'queue.quorum',
      step: 5,
      globalStep: 29,
      inputKind: 'queue',
    });
  });

  it('leaves optional fields out, and reads a bundle fetched from the chains (no watcher record)', () => {
    const b: DisputeBundleV2 = {
      ...bundle,
      source: 'chains',
      l2: { ...bundle.l2, chainId: undefined, commitment: undefined },
      graph: {
        ...bundle.graph,
        expectations: {
          ...bundle.graph.expectations,
          governedChallengeWindow: undefined,
          commitment: undefined,
        },
      },
      transactions: bundle.transactions.map((t) => ({ ...t, confirmation: undefined })),
      watcher: undefined,
    };
    const t = serializeBundle(b);
    for (const field of [
      'chainId',
      'commitment',
      'governedChallengeWindow',
      'confirmation',
      'watcher',
      'null',
    ]) {
      expect(t).not.toContain(`"${field}"`);
    }
    expect(parseBundle(t)).toEqual(b);
    expect(serializeBundle(parseBundle(t))).toBe(t);
  });

  it('writes a diagnosis that located no fault as its reason', () => {
    const b: DisputeBundleV2 = {
      ...bundle,
      watcher: {
        ...bundle.watcher!,
        diagnosis: { fault: undefined, reason: 'no catalogue fault reproduces the claim' },
      },
    };
    const t = serializeBundle(b);
    expect((JSON.parse(t) as { watcher: Obj }).watcher.diagnosis).toEqual({
      located: false,
      reason: 'no catalogue fault reproduces the claim',
    });
    expect(parseBundle(t)).toEqual(b);
  });

  it('sorts the keys of the free-form values, so their order in memory does not matter', () => {
    const reordered = Object.fromEntries(Object.entries(document).reverse());
    const b: DisputeBundleV2 = { ...bundle, graph: { ...bundle.graph, document: reordered } };
    expect(serializeBundle(b)).toBe(text);
  });

  it('keeps a "__proto__" key of a free-form value as data', () => {
    const t = text.replace('"document": {', '"document": {\n      "__proto__": { "polluted": true },');
    const read = parseBundle(t);
    const doc = read.graph.document as Record<string, unknown>;
    expect(Object.keys(doc)).toContain('__proto__');
    expect(Object.getPrototypeOf(doc)).toBe(Object.prototype);
    expect(serializeBundle(read)).toContain('"__proto__": {');
    expect(parseBundle(serializeBundle(read))).toEqual(read);
  });

  it('refuses to write what JSON cannot hold, naming where', () => {
    const b: DisputeBundleV2 = {
      ...bundle,
      graph: { ...bundle.graph, document: { ...document, epoch: 3n } },
    };
    expect(() => serializeBundle(b)).toThrow(BundleError);
    expect(() => serializeBundle(b)).toThrow(/graph\.document\.epoch: a bigint is not a JSON value/);
  });
});

// --- Every field, removed, changed, oversize ----------------------------------------------------------

type Seg = string | number;
const pathOf = (segs: readonly Seg[]): string =>
  segs.reduce<string>((p, s) => (typeof s === 'number' ? `${p}[${s}]` : p === '' ? s : `${p}.${s}`), '');

/** The free-form values: what is inside them is the operator's or the record's, not the bundle's format. */
const OPAQUE = [/^graph\.document$/, /^watcher\.history\[\d+\]$/];
/** Fields the format lets a writer leave out. */
const OPTIONAL = [
  /^l2\.chainId$/,
  /^l2\.commitment$/,
  /^l2\.commitment\.(txHash|kickoffTxid)$/,
  /^graph\.expectations\.(governedChallengeWindow|commitment)$/,
  /^transactions\[\d+\]\.confirmation$/,
  /^watcher\.(outcome|diagnosis|disprovedStep)$/,
  /^governance\.genesis$/,
  /^governance\.genesis\.(params|modules)$/,
  /^governance\.genesis\.params\.\w+$/,
];
/** Strings any text is valid for (their type and size are still checked). */
const FREE_TEXT = [
  /^watcher\.(disputeId|state|outcome)$/,
  /^watcher\.verdict\.outcome$/,
  /^watcher\.verdict\.reasons\[\d+\]\.(code|message)$/,
  /^watcher\.diagnosis\.(fault|rule|inputKind|reason)$/,
];
const matches = (path: string, patterns: readonly RegExp[]) => patterns.some((re) => re.test(path));

function allPaths(v: unknown, segs: Seg[] = [], out: Seg[][] = []): Seg[][] {
  if (segs.length > 0) out.push(segs);
  if (matches(pathOf(segs), OPAQUE)) return out;
  if (Array.isArray(v)) {
    for (const [i, e] of v.entries()) allPaths(e, [...segs, i], out);
  } else if (typeof v === 'object' && v !== null) {
    for (const [k, e] of Object.entries(v)) allPaths(e, [...segs, k], out);
  }
  return out;
}

const base = JSON.parse(text) as Obj;
const paths = allPaths(base);

/** The bundle's JSON with `edit` applied to the value at `segs` (its parent and key). */
function withEdit(segs: readonly Seg[], edit: (parent: Obj | unknown[], key: Seg) => void): string {
  const j = JSON.parse(text) as Obj;
  let parent: Obj | unknown[] = j;
  for (const s of segs.slice(0, -1)) parent = (parent as Obj)[s as string] as Obj | unknown[];
  edit(parent, segs[segs.length - 1]!);
  return JSON.stringify(j);
}
const valueAt = (segs: readonly Seg[]): unknown =>
  segs.reduce<unknown>((v, s) => (v as Obj)[s as string], base);
const replaced = (segs: readonly Seg[], value: unknown): string =>
  withEdit(segs, (parent, key) => {
    (parent as Obj)[key as string] = value;
  });

function expectNamed(t: string, path: string, why: string): void {
  let err: BundleError;
  try {
    err = errorOf(t);
  } catch (e) {
    throw new Error(`${why} ${path}: ${(e as Error).message}`);
  }
  if (!err.shortMessage.includes(path)) {
    throw new Error(`${why} ${path}: the error does not name it: ${err.shortMessage}`);
  }
  expect(err.category).toBe('usage');
}

/** Values of another JSON type than `v`'s. */
function otherTypes(v: unknown): unknown[] {
  if (typeof v === 'string') return [12345, null];
  if (typeof v === 'number') return ['12345', 1.5, true];
  if (typeof v === 'boolean') return ['true', 1];
  if (Array.isArray(v)) return [{}, 'x'];
  return [[], 'x'];
}

describe('bundle codec: every field removed, changed or oversize gets an error naming it', () => {
  it('walks a bundle with every part present', () => {
    const all = paths.map(pathOf);
    for (const p of [
      'governance.inputs[0].block',
      'governance.genesis.modules[0].codeHash',
      'l2.commitment.kickoffTxid',
      'graph.expectations.committee[0]',
      'transactions[2].prevouts[0].script',
      'transactions[0].confirmation.blockHash',
      'watcher.diagnosis.globalStep',
      'watcher.verdict.reasons[0].message',
      'watcher.history[2]',
    ]) {
      expect(all).toContain(p);
    }
    expect(all.length).toBeGreaterThan(300);
  });

  it('removed: an error naming the field, or, for an optional field, a bundle that still reads', () => {
    let optional = 0;
    for (const segs of paths) {
      if (typeof segs[segs.length - 1] === 'number') continue; // an entry of a list, not a field
      const path = pathOf(segs);
      const t = withEdit(segs, (parent, key) => {
        delete (parent as Obj)[key as string];
      });
      if (matches(path, OPTIONAL)) {
        expect(() => parseBundle(t), `removing optional ${path}`).not.toThrow();
        optional++;
      } else expectNamed(t, path, 'removing');
    }
    expect(optional).toBeGreaterThan(10);
  });

  it('changed to another type, or to a malformed value: an error naming the field', () => {
    for (const segs of paths) {
      const path = pathOf(segs);
      const v = valueAt(segs);
      for (const other of otherTypes(v))
        expectNamed(replaced(segs, other), path, `changing to ${String(other)}`);
      if (typeof v === 'string' && !matches(path, FREE_TEXT)) {
        expectNamed(replaced(segs, 'Z!'), path, 'malforming');
      }
    }
  });

  it('oversize: an error naming the field', () => {
    for (const segs of paths) {
      const path = pathOf(segs);
      const v = valueAt(segs);
      let big: unknown;
      if (typeof v === 'string') {
        const pad = /\.raw$/.test(path) ? 2 * BUNDLE_LIMITS.txBytes + 2 : 200_002;
        big = v + (/^(0x)?[0-9a-f]*$/.test(v) ? '0' : 'a').repeat(pad);
      } else if (Array.isArray(v)) {
        big = new Array(path === 'governance.inputs' ? BUNDLE_LIMITS.governanceInputs + 1 : 100_001).fill(0);
      } else if (matches(path, OPAQUE)) {
        big = { ...(v as Obj), padding: 'a'.repeat(BUNDLE_LIMITS.documentChars) };
      } else continue; // numbers, booleans and fixed objects have no size
      expectNamed(replaced(segs, big), path, 'oversizing');
    }
  });

  it('an unknown field in any object of the format: an error naming where', () => {
    for (const segs of [[], ...paths]) {
      const path = pathOf(segs);
      const v = segs.length === 0 ? base : valueAt(segs);
      if (typeof v !== 'object' || v === null || Array.isArray(v) || matches(path, OPAQUE)) continue;
      const t =
        segs.length === 0
          ? edited((j) => {
              j.extra = 1;
            })
          : replaced(segs, { ...(v as Obj), extra: 1 });
      expectNamed(t, path === '' ? 'extra' : path, 'adding a field to');
    }
  });
});

// --- Versions, damaged text, inconsistencies -----------------------------------------------------------

describe('bundle codec: versions and damaged text', () => {
  it('a version-1 bundle gets a BundleVersionError that says why it cannot be replayed and what to do', () => {
    const v1: DisputeBundle = {
      format: 'vigil-dispute-bundle',
      version: 1,
      exportedAt: '2026-12-01T00:00:00.000Z',
      dispute: {
        id: bundle.watcher!.disputeId,
        epoch: '3',
        state: 'disproved',
        outcome: 'disproved',
        kickoffTxid: bundle.kickoffTxid,
        kickoffHeight: 201,
        deadlines: { challengeBy: 207, assertTimeoutFrom: 215, disproveBy: 222 },
      },
      verdict: bundle.watcher!.verdict,
      diagnosis: undefined,
      expectedTrace: bundle.watcher!.expectedTrace.map(bytesToHex),
      graph: document,
      transactions: {
        challenge: { txid: bundle.transactions[1]!.txid, hex: bytesToHex(bundle.transactions[1]!.raw) },
      },
      history: [],
    };
    const err = errorOf(JSON.stringify(v1, null, 2));
    expect(err).toBeInstanceOf(BundleVersionError);
    expect((err as BundleVersionError).version).toBe(1);
    expect(err.path).toBe('version');
    expect(err.shortMessage).toContain('governance inputs');
    expect(err.shortMessage).toContain('confirmations');
    expect(err.shortMessage).toContain('vigil disputes export');
    expect(err.shortMessage).toContain('vigil replay fetch --epoch N');
    expect(exitCodeFor(err)).toBe(2);
  });

  it('a newer version gets a BundleVersionError; a version that is no version, a BundleError', () => {
    const newer = errorOf(
      edited((j) => {
        j.version = 3;
      }),
    );
    expect(newer).toBeInstanceOf(BundleVersionError);
    expect(newer.shortMessage).toContain('version 3 is newer than this Vigil reads (version 2)');
    for (const v of ['2', 2.5, -1, null]) {
      const err = errorOf(
        edited((j) => {
          j.version = v;
        }),
      );
      expect(err).not.toBeInstanceOf(BundleVersionError);
      expect(err.shortMessage).toMatch(/^b\.json: version: expected the number 2, got /);
    }
  });

  it('another format, or a governance inputs file, is named for what it is', () => {
    expect(
      errorOf(
        edited((j) => {
          j.format = 'something-else';
        }),
      ).shortMessage,
    ).toBe('b.json: format: expected "vigil-dispute-bundle", got "something-else"');
    const inputsFile = JSON.stringify({ format: 'vigil-governance-inputs/1', inputs: [] });
    expect(errorOf(inputsFile).shortMessage).toContain('vigil replay --inputs');
  });

  it('text that is not JSON, truncated, empty or not an object', () => {
    for (const t of ['', 'not json', text.slice(0, text.length / 2), text.slice(0, -3), '{"format":']) {
      const err = errorOf(t);
      expect(err.path).toBe('(root)');
      expect(err.shortMessage).toBe(
        'b.json: (root): not valid JSON (a truncated or damaged file, or not a bundle)',
      );
    }
    for (const t of ['[]', '"bundle"', '42', 'null']) {
      expect(errorOf(t).shortMessage).toMatch(
        /^b\.json: \(root\): expected a JSON object \(a dispute bundle\)/,
      );
    }
  });

  it('text over the size bound is refused before it is parsed', () => {
    const err = errorOf(' '.repeat(BUNDLE_LIMITS.textChars + 1));
    expect(err.shortMessage).toBe(
      `b.json: (root): ${BUNDLE_LIMITS.textChars + 1} characters; a bundle is at most 268435456 (256 MiB)`,
    );
  });

  it('random damage to the text never gets anything but a BundleError', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: text.length - 1 }),
        fc.nat({ max: 40 }),
        fc.constantFrom('', '0', '"', '}', ']', ',', 'x', '-', '9', '{', 'null'),
        (at, removed, inserted) => {
          const t = text.slice(0, at) + inserted + text.slice(at + removed);
          try {
            parseBundle(t);
          } catch (err) {
            if (!(err instanceof BundleError)) throw err;
          }
        },
      ),
      { numRuns: 300, seed: 16 },
    );
  });
});

describe('bundle codec: consistency that is cheap and certain', () => {
  it('a txid that is not the hash of its raw transaction', () => {
    const other = bundle.transactions[2]!.txid;
    const err = errorOf(
      edited((j) => {
        txAt(j, 1).txid = displayHash('not this transaction');
      }),
    );
    expect(err.shortMessage).toContain(
      `transactions[1].txid: ${displayHash('not this transaction')} is not the txid`,
    );
    expect(err.shortMessage).toContain(bundle.transactions[1]!.txid);
    // Another transaction's real txid is no better.
    expect(
      errorOf(
        edited((j) => {
          txAt(j, 1).txid = other;
        }),
      ).path,
    ).toBe('transactions[1].txid');
  });

  it('a raw transaction that does not decode', () => {
    const err = errorOf(
      edited((j) => {
        txAt(j, 2).raw = (txAt(j, 2).raw as string).slice(0, -8);
      }),
    );
    expect(err.shortMessage).toMatch(/^b\.json: transactions\[2\]\.raw: not a Bitcoin transaction: /);
  });

  it('two kick-offs, none, or a kickoffTxid that names another transaction', () => {
    const two = errorOf(
      edited((j) => {
        txAt(j, 1).role = 'kickoff';
      }),
    );
    expect(two.shortMessage).toBe(
      'b.json: transactions[1].role: a second "kickoff" (transactions[0] is one); a dispute has one kick-off',
    );
    const none = errorOf(
      edited((j) => {
        txAt(j, 0).role = 'claim';
      }),
    );
    expect(none.path).toBe('transactions');
    const elsewhere = errorOf(
      edited((j) => {
        j.kickoffTxid = bundle.transactions[2]!.txid;
      }),
    );
    expect(elsewhere.path).toBe('kickoffTxid');
    expect(elsewhere.shortMessage).toContain(`transactions[0].txid is ${bundle.kickoffTxid}`);
  });

  it('the same transaction twice', () => {
    const err = errorOf(
      edited((j) => {
        (j.transactions as Obj[]).push({ ...txAt(j, 3) });
      }),
    );
    expect(err.shortMessage).toContain('transactions[4].txid');
    expect(err.shortMessage).toContain('is also transactions[3]');
  });

  it('prevouts that are not one per input', () => {
    const err = errorOf(
      edited((j) => {
        (txAt(j, 1).prevouts as Obj[]).push({ value: '1000', script: '51' });
      }),
    );
    expect(err.shortMessage).toBe(
      `b.json: transactions[1].prevouts: 2 entries, but the transaction has 1 inputs (one prevout per input, in order)`,
    );
  });

  it('a prevout value above 21 million BTC, a negative or fractional height', () => {
    expect(
      errorOf(
        edited((j) => {
          (txAt(j, 0).prevouts as Obj[])[0]!.value = '2100000000000001';
        }),
      ).path,
    ).toBe('transactions[0].prevouts[0].value');
    for (const h of [-1, 0.5, 2 ** 31]) {
      expect(
        errorOf(
          edited((j) => {
            (txAt(j, 0).confirmation as Obj).height = h;
          }),
        ).shortMessage,
      ).toContain('transactions[0].confirmation.height: expected a block height');
    }
  });

  it('uppercase hex, a key of the wrong length, an unknown network or circuit', () => {
    expect(
      errorOf(
        edited((j) => {
          (txAt(j, 2).prevouts as Obj[])[0]!.script = 'AB';
        }),
      ).shortMessage,
    ).toBe(
      'b.json: transactions[2].prevouts[0].script: expected lowercase hex (an even number of digits 0-9a-f)',
    );
    expect(
      errorOf(
        edited((j) => {
          ((j.graph as Obj).expectations as Obj).operator = 'ab'.repeat(33);
        }),
      ).shortMessage,
    ).toContain('graph.expectations.operator: expected 64 lowercase hex digits (32 bytes)');
    expect(
      errorOf(
        edited((j) => {
          ((j.graph as Obj).expectations as Obj).network = 'liquid';
        }),
      ).shortMessage,
    ).toContain(
      'graph.expectations.network: expected one of "mainnet", "testnet", "testnet4", "signet", "regtest"',
    );
    expect(
      errorOf(
        edited((j) => {
          ((j.graph as Obj).expectations as Obj).circuit = 'blake3-v9';
        }),
      ).path,
    ).toBe('graph.expectations.circuit');
  });

  it('the governance section is read by the inputs-file parser, its errors under governance.*', () => {
    const err = errorOf(
      edited((j) => {
        const inputs = (j.governance as Obj).inputs as Obj[];
        const staking = inputs.findIndex((i) => i.kind === 'stake');
        inputs[staking]!.amount = 12;
      }),
    );
    expect(err.shortMessage).toMatch(/^b\.json: governance\.inputs\[\d+\]\.amount: /);
    // The whole message (what the CLI prints) speaks of the bundle only.
    expect(err.message).not.toContain('\u0000');
    expect(err.message).toContain('docs/inputs-format.md');
    const devnetOnly = errorOf(
      edited((j) => {
        (j.governance as Obj).funding = {};
      }),
    );
    expect(devnetOnly.path).toBe('governance.funding');
    const past = errorOf(
      edited((j) => {
        const g = j.governance as Obj;
        g.epochStart = (g.inputs as unknown[]).length + 1;
      }),
    );
    expect(past.shortMessage).toContain('governance.epochStart: expected an integer from 0 to');
    const outOfBounds = errorOf(
      edited((j) => {
        (((j.governance as Obj).genesis as Obj).params as Obj).votingPeriod = '0';
      }),
    );
    expect(outOfBounds.shortMessage).toMatch(
      /governance\.genesis\.params\.votingPeriod: 0 is outside the protocol's bounds/,
    );
  });

  it('a records bundle carries the watcher record; a chains bundle does not', () => {
    expect(
      errorOf(
        edited((j) => {
          delete j.watcher;
        }),
      ).path,
    ).toBe('watcher');
    expect(
      errorOf(
        edited((j) => {
          j.source = 'chains';
        }),
      ).path,
    ).toBe('watcher');
  });
});
