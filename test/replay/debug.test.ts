/**
 * The replay step debugger on a real dispute: a presigned graph, a kick-off, a challenge, an assert with
 * a wrong trace, two disproves and an assert-timeout, put in a bundle as `vigil disputes export` would.
 * Every label the debugger shows over whole runs is checked against the signed values themselves.
 */
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decodeScriptNumOrNaN } from '../../src/bitcoin/script/num.ts';
import { taprootOutput } from '../../src/bitcoin/taproot/output.ts';
import { cloneTx, serializeTx, txidHex } from '../../src/bitcoin/tx/serialize.ts';
import { bytesToHex, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hashes.ts';
import { buildChallenge, signKeyPathInput } from '../../src/dispute/graph/challenge.ts';
import { graphDocumentHash, graphToDocument } from '../../src/dispute/graph/document.ts';
import {
  completeAssert,
  completeAssertTimeout,
  completeDisprove,
  completeKickoff,
  encodeEpoch,
  type SpendableTx,
} from '../../src/dispute/graph/spend.ts';
import { signedDigits } from '../../src/dispute/winternitz/digits.ts';
import { digitSecret, hashChain, type WotsSecretKey } from '../../src/dispute/winternitz/keys.ts';
import { WOTS_MAX_DIGIT, wotsParameters } from '../../src/dispute/winternitz/parameters.ts';
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  type BundleTx,
  type BundleTxRole,
  type DisputeBundleV2,
} from '../../src/replay/bundle.ts';
import {
  BundleDebugSelectorError,
  openBundleDebugSession,
  runBundleDebug,
  selectBundleTx,
} from '../../src/replay/debug.ts';
import { makeGraph, secretOf, xOnly } from '../../testkit/dispute/graph-fixture.ts';

const fx = makeGraph();
const { graph, sigs } = fx;
const root = (label: string) => sha256(utf8(label));
const claimedRoot = root('claimed state root');
const l2BlockHash = root('l2 block');
const trace = [root('r0'), root('r1'), root('r1')];
const reward = { script: taprootOutput(xOnly(secretOf('challenger 1'))).scriptPubKey, fee: 20_000n };

const kickoff = completeKickoff(graph, fx.operatorSecret, fx.kickoffSecrets, {
  stateRoot: claimedRoot,
  l2BlockHash,
});
const challenge = (() => {
  const coin = taprootOutput(xOnly(secretOf('challenger 1')));
  const c = buildChallenge(
    graph,
    sigs,
    [{ txid: sha256(utf8('coin')), vout: 1, prevout: { value: 1_100_000n, script: coin.scriptPubKey } }],
    [{ value: 95_000n, script: coin.scriptPubKey }],
  );
  signKeyPathInput(c, 1, secretOf('challenger 1'));
  return c;
})();
const assert = completeAssert(graph, sigs, fx.traceSecrets, trace);
// Steps r0→r1 and r1→claimed are wrong under the identity circuit: two disproves.
const disprove0 = completeDisprove(graph, sigs, 0, kickoff.tx, assert.tx, reward);
const disprove2 = completeDisprove(graph, sigs, 2, kickoff.tx, assert.tx, reward);
const timeout = completeAssertTimeout(graph, sigs, { script: reward.script, fee: 10_000n });
const document = graphToDocument(graph, sigs);

function entry(role: BundleTxRole, s: SpendableTx): BundleTx {
  return {
    role,
    txid: txidHex(s.tx),
    raw: serializeTx(s.tx),
    confirmation: { height: 101, blockHash: '00'.repeat(32) },
    prevouts: s.prevouts.map((p) => ({ value: p.value, script: p.script })),
  };
}

function makeBundle(transactions: BundleTx[] = baseTransactions()): DisputeBundleV2 {
  return {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    source: 'records',
    epoch: graph.spec.epoch,
    governance: { genesis: {}, inputs: [], epochStart: 0 },
    l2: {
      chainId: undefined,
      epochEndBlock: 1000n,
      epochEndBlockHash: `0x${'11'.repeat(32)}`,
      commitment: undefined,
    },
    graph: {
      document,
      expectations: {
        network: graph.spec.network,
        circuit: graph.spec.circuit.id,
        operator: graph.spec.operator,
        committee: graph.spec.committee,
        governedChallengeWindow: undefined,
        commitment: graphDocumentHash(document),
      },
    },
    kickoffTxid: txidHex(kickoff.tx),
    transactions,
    watcher: undefined,
  };
}

function baseTransactions(): BundleTx[] {
  return [
    entry('kickoff', kickoff),
    entry('challenge', challenge),
    entry('assert', assert),
    entry('disprove', disprove0),
    entry('disprove', disprove2),
    entry('assert-timeout', timeout),
  ];
}

const bundle = makeBundle();

/** What each labelled value is: its secret key and the message it signs. */
const signed: Record<string, { key: WotsSecretKey; message: Uint8Array }> = {
  epoch: { key: fx.kickoffSecrets.epoch, message: encodeEpoch(graph.spec.epoch) },
  stateRoot: { key: fx.kickoffSecrets.stateRoot, message: claimedRoot },
  l2BlockHash: { key: fx.kickoffSecrets.l2BlockHash, message: l2BlockHash },
  ...Object.fromEntries(
    trace.map((r, i) => [`trace[${i}]`, { key: fx.traceSecrets[i] as WotsSecretKey, message: r }]),
  ),
};

const LABELLED = /^ {2}\d+: (\S+) {2}\((.+)\)$/;

/**
 * Checks one label against the signature itself: a digit label must sit on an item holding that digit of
 * the signed value, a chain label on that chain's value hashed the stated number of extra times.
 */
function labelIsTrue(hex: string, label: string): boolean {
  const digit = /^(\S+) (digit|checksum) (\d+)$/.exec(label);
  const chain = /^(\S+) (checksum )?chain (\d+)(?: \(\+(\d+)\))?( = public key)?$/.exec(label);
  const m = digit ?? chain;
  const value = m === null ? undefined : signed[m[1] as string];
  if (m === null || value === undefined) return false;
  const params = wotsParameters(value.message.length);
  const digits = signedDigits(value.message);
  const checksum = digit === null ? chain?.[2] !== undefined : digit[2] === 'checksum';
  const i = Number(m[3]) + (checksum ? params.messageDigits : 0);
  const d = digits[i];
  if (d === undefined) return false;
  const bytes = hex === '[]' ? new Uint8Array() : Uint8Array.from(Buffer.from(hex, 'hex'));
  if (digit !== null) return decodeScriptNumOrNaN(bytes, false, 4) === d;
  const k = Number(chain?.[4] ?? 0);
  if (chain?.[5] !== undefined && d + k !== WOTS_MAX_DIGIT) return false;
  return bytesToHex(hashChain(digitSecret(value.key, i), d + k)) === hex;
}

/** Runs a session to its end, looking at the stacks every `every` instructions; returns what it saw. */
function runAndWatch(selector: string, b: DisputeBundleV2 = bundle, every = 37) {
  const { session, banner } = openBundleDebugSession(b, selector);
  const labels: { where: string; hex: string; label: string }[] = [];
  let guard = 0;
  while (!session.finished && guard++ < 100_000) {
    let where = '';
    for (const line of session.execute('stack')) {
      if (line.startsWith('stack')) where = 'stack';
      else if (line.startsWith('altstack')) where = 'altstack';
      const m = LABELLED.exec(line);
      if (m !== null) labels.push({ where, hex: m[1] as string, label: m[2] as string });
    }
    session.execute(`step ${every}`);
  }
  return { session, banner: banner(), labels };
}

describe('vigil replay --debug: the tx debugger on a bundle transaction', () => {
  it('kick-off input 0: runs to OK, and the stack names the state root digits it verifies', () => {
    const { session, banner, labels } = runAndWatch('kickoff');
    expect(session.result).toEqual({ ok: true });
    expect(banner[0]).toBe(`bundle: kickoff ${txidHex(kickoff.tx)}, input 0 of 1`);
    expect(banner[1]).toBe('labels: kick-off leaf, Winternitz-signed epoch, stateRoot, l2BlockHash');
    const names = new Set(labels.map((l) => l.label));
    expect([...names].some((n) => /^stateRoot digit \d+$/.test(n))).toBe(true);
    expect([...names].some((n) => /^stateRoot chain \d+ \(\+\d+\)$/.test(n))).toBe(true);
    expect([...names].some((n) => /^epoch checksum \d+$/.test(n))).toBe(true);
    expect([...names].some((n) => /= public key$/.test(n))).toBe(true);
    // Digits wait on the altstack while their chains are checked: the label follows them there.
    expect(labels.some((l) => l.where === 'altstack' && /^l2BlockHash digit/.test(l.label))).toBe(true);
    expect(labels.filter((l) => !labelIsTrue(l.hex, l.label))).toEqual([]);
    // The check itself tells a wrong label: the same labels on other items' values fail it.
    const digitLabel = labels.find((l) => /^stateRoot digit/.test(l.label)) as (typeof labels)[number];
    const chainLabel = labels.find((l) =>
      /^stateRoot chain \d+ \(\+1\)/.test(l.label),
    ) as (typeof labels)[number];
    expect(labelIsTrue(digitLabel.hex === '10' ? '0f' : '10', digitLabel.label)).toBe(false);
    expect(labelIsTrue(chainLabel.hex, chainLabel.label.replace('(+1)', '(+2)'))).toBe(false);
  });

  it.each([
    ['assert', 'assert leaf', ['trace[0]', 'trace[1]', 'trace[2]']],
    ['disprove', 'disprove leaf of step 0', ['trace[0]', 'trace[1]']],
    ['disprove#2', 'disprove leaf of step 2', ['trace[2]', 'stateRoot']],
  ])('%s: runs to OK with every label true (%s)', (selector, leaf, values) => {
    const { session, banner, labels } = runAndWatch(selector);
    expect(session.result).toEqual({ ok: true });
    expect(banner[1]).toBe(`labels: ${leaf}, Winternitz-signed ${values.join(', ')}`);
    for (const v of values) expect(labels.some((l) => l.label.startsWith(`${v} digit`))).toBe(true);
    expect(labels.filter((l) => !labelIsTrue(l.hex, l.label))).toEqual([]);
  });

  it('a disprove leaf parks the post root on the altstack: its digits keep their labels there and back', () => {
    const { labels } = runAndWatch('disprove:0', bundle, 13);
    expect(labels.some((l) => l.where === 'altstack' && /^trace\[1\] digit \d+$/.test(l.label))).toBe(true);
    // After FROMALTSTACK the circuit compares pre and post digits on the main stack.
    expect(labels.some((l) => l.where === 'stack' && /^trace\[1\] digit \d+$/.test(l.label))).toBe(true);
    expect(labels.some((l) => l.where === 'stack' && /^trace\[0\] digit \d+$/.test(l.label))).toBe(true);
  });

  it('covenant leaves and key-path inputs debug without labels', () => {
    const c0 = openBundleDebugSession(bundle, 'challenge:0');
    expect(c0.banner()[1]).toBe('labels: covenant leaf, no Winternitz-signed values');
    c0.session.execute('continue');
    expect(c0.session.result).toEqual({ ok: true });
    const c1 = openBundleDebugSession(bundle, 'challenge:1');
    expect(c1.banner()[1]).toBe('labels: none (not a taproot script-path spend)');
    c1.session.execute('continue');
    expect(c1.session.result).toEqual({ ok: true });
    const t = openBundleDebugSession(bundle, 'timeout');
    t.session.execute('continue');
    expect(t.session.result).toEqual({ ok: true });
  });

  it('a forged digit gets no Winternitz label, and the script fails on it', () => {
    const forged = cloneTx(kickoff.tx);
    const w = forged.inputs[0]?.witness as Uint8Array[];
    // Item 37 is stateRoot digit 0 (after the epoch's 18 digits × 2 items): change its value.
    const was = decodeScriptNumOrNaN(w[37] as Uint8Array, false, 4);
    const other = was === 0 ? 1 : was - 1;
    w[37] = other === 0 ? new Uint8Array() : Uint8Array.of(other);
    const b = makeBundle([
      { ...entry('kickoff', { tx: forged, prevouts: kickoff.prevouts }) },
      ...baseTransactions().slice(1),
    ]);
    const { session, banner, labels } = runAndWatch('kickoff', b, 11);
    expect(banner).toContain(
      "  stateRoot: 1 of 67 digits do not verify against the graph's key; those items stay unlabelled",
    );
    expect(session.result).toMatchObject({ ok: false, error: 'EQUALVERIFY' });
    expect(
      labels.some((l) => l.label === 'stateRoot digit 0' || l.label.startsWith('stateRoot chain 0')),
    ).toBe(false);
    expect(labels.some((l) => /^stateRoot digit \d+$/.test(l.label))).toBe(true);
    expect(labels.filter((l) => !labelIsTrue(l.hex, l.label))).toEqual([]);
  });

  it('a graph document that does not import: the session opens without labels and says why', () => {
    const b = makeBundle();
    b.graph.expectations = { ...b.graph.expectations, operator: xOnly(secretOf('someone else')) };
    const { session, banner, labels } = runAndWatch('kickoff', b, 400);
    expect(banner[1]).toMatch(/^labels: none \(the bundle's graph document does not import: .+\)$/);
    expect(session.result).toEqual({ ok: true });
    expect(labels).toEqual([]);
  });

  it('a bundle naming a step circuit this Vigil does not know: no labels, the reason shown', () => {
    const b = makeBundle();
    b.graph.expectations = { ...b.graph.expectations, circuit: 'no-such-circuit' };
    const { banner } = openBundleDebugSession(b, 'disprove');
    expect(banner()[1]).toBe(
      "labels: none (the bundle's graph document does not import: step circuit no-such-circuit is not one this Vigil knows)",
    );
  });

  it('selects by role, role#n, full txid and txid prefix, with an input', () => {
    const ids = bundle.transactions.map((t) => t.txid);
    expect(selectBundleTx(bundle, 'kickoff')).toMatchObject({ index: 0, input: 0, name: 'kickoff' });
    expect(selectBundleTx(bundle, 'kick-off')).toMatchObject({ index: 0 });
    expect(selectBundleTx(bundle, 'disprove')).toMatchObject({ index: 3, name: 'disprove#1' });
    expect(selectBundleTx(bundle, 'disprove#2:0')).toMatchObject({ index: 4, name: 'disprove#2' });
    expect(selectBundleTx(bundle, 'timeout')).toMatchObject({ index: 5, name: 'assert-timeout' });
    expect(selectBundleTx(bundle, 'assertTimeout')).toMatchObject({ index: 5 });
    expect(selectBundleTx(bundle, 'Assert')).toMatchObject({ index: 2 });
    expect(selectBundleTx(bundle, `${ids[1]}:1`)).toMatchObject({ index: 1, input: 1 });
    expect(selectBundleTx(bundle, (ids[2] as string).slice(0, 8).toUpperCase())).toMatchObject({ index: 2 });
  });

  describe('selector errors are usage errors that say what exists', () => {
    const cases: [string, DisputeBundleV2, string, RegExp][] = [
      ['unknown role', bundle, 'frobnicate', /^No transaction "frobnicate" in the bundle$/],
      ['too short a prefix', bundle, 'abc', /^No transaction "abc" in the bundle$/],
      ['missing role', bundle, 'payout', /^No transaction of role payout in the bundle$/],
      [
        'role#n past the last',
        bundle,
        'disprove#3',
        /^No transaction disprove#3 \(it has 2 of role disprove\)/,
      ],
      ['unknown txid', bundle, 'ab'.repeat(32), /^No transaction with txid (ab){32} in the bundle$/],
      ['unmatched prefix', bundle, 'deadbeef00', /^No transaction whose txid starts with deadbeef00/],
      ['empty', bundle, ':1', /^No transaction ":1"/],
      ['input not a number', bundle, 'kickoff:x', /^The input in "kickoff:x" is not an input number: "x"$/],
      [
        'input out of range',
        bundle,
        'kickoff:1',
        /^kickoff [0-9a-f]{64} has no input 1 \(it has 1 input, 0 to 0\)$/,
      ],
      [
        'prevouts missing',
        makeBundle(baseTransactions().map((t) => (t.role === 'challenge' ? { ...t, prevouts: [] } : t))),
        'challenge',
        /^The bundle lacks the prevouts of challenge [0-9a-f]{64}: 0 recorded for 2 inputs$/,
      ],
      [
        'ambiguous prefix',
        makeBundle([
          ...baseTransactions(),
          { ...entry('other', kickoff), txid: `${txidHex(kickoff.tx).slice(0, 10)}${'0'.repeat(54)}` },
        ]),
        txidHex(kickoff.tx).slice(0, 9),
        /^The txid prefix [0-9a-f]{9} matches 2 transactions of the bundle$/,
      ],
      [
        'raw bytes of another transaction',
        makeBundle([{ ...entry('kickoff', kickoff), raw: serializeTx(assert.tx) }]),
        'kickoff',
        /^The bundle's kickoff is recorded as [0-9a-f]{64} but its bytes are transaction [0-9a-f]{64}$/,
      ],
      [
        'raw bytes that do not decode',
        makeBundle([{ ...entry('kickoff', kickoff), raw: Uint8Array.of(1, 2, 3) }]),
        'kickoff',
        /^The bundle's kickoff [0-9a-f]{64} does not decode$/,
      ],
    ];
    it.each(cases)('%s', (_name, b, selector, message) => {
      let err: unknown;
      try {
        openBundleDebugSession(b, selector);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BundleDebugSelectorError);
      const e = err as BundleDebugSelectorError;
      expect(e.category).toBe('usage');
      expect(e.shortMessage).toMatch(message);
    });

    it('a selector naming nothing lists every transaction with its role and txid', () => {
      let err: unknown;
      try {
        selectBundleTx(bundle, 'frobnicate');
      } catch (e) {
        err = e;
      }
      const meta = (err as BundleDebugSelectorError).metaMessages;
      expect(meta).toContain(`  kickoff  ${txidHex(kickoff.tx)}`);
      expect(meta).toContain(`  disprove#2  ${txidHex(disprove2.tx)}`);
      expect(meta).toContain(`  assert-timeout  ${txidHex(timeout.tx)}`);
    });
  });

  it('runBundleDebug reads commands like vigil tx debug and returns the verdict', async () => {
    let out = '';
    const output = new Writable({
      write(chunk, _enc, done) {
        out += String(chunk);
        done();
      },
    });
    const result = await runBundleDebug(bundle, 'disprove#2', {
      input: Readable.from(['step 2\n', 'stack\n', 'continue\n', 'quit\n', 'step\n']),
      output,
    });
    expect(result).toEqual({ ok: true });
    const lines = out.split('\n');
    expect(lines[0]).toBe(`bundle: disprove#2 ${txidHex(disprove2.tx)}, input 0 of 1`);
    expect(lines).toContain('(vigil-debug) step 2');
    expect(lines).toContain('(vigil-debug) continue');
    expect(lines).toContain('verification finished: OK');
    // quit ends the session: the step after it never runs.
    expect(lines).not.toContain('(vigil-debug) step');
  });

  it('a session that ends early returns no verdict', async () => {
    const output = new Writable({ write: (_c, _e, done) => done() });
    const result = await runBundleDebug(bundle, 'kickoff', { input: Readable.from(['step\n']), output });
    expect(result).toBeUndefined();
  });
});
