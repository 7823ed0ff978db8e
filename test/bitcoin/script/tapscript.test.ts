/**
 * Tapscript and taproot rules that script_tests.json covers thinly (issue 5, acceptance 2), on real
 * spends: P2TR outputs, spending transactions, BIP-341 sighashes and Schnorr signatures.
 */

import { script as bscript } from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import { describe, expect, it } from 'vitest';
import { ScriptBuilder } from '../../../src/bitcoin/script/builder.ts';
import { CONSENSUS_FLAGS, ScriptFlag } from '../../../src/bitcoin/script/flags.ts';
import { Op } from '../../../src/bitcoin/script/opcodes.ts';
import { verifyScript } from '../../../src/bitcoin/script/verify.ts';
import { TransactionSignatureChecker } from '../../../src/bitcoin/tx/checker.ts';
import { PrecomputedTxData } from '../../../src/bitcoin/tx/precomputed.ts';
import { legacySighash } from '../../../src/bitcoin/tx/sighash.ts';
import { concatBytes } from '../../../src/core/bytes.ts';
import { hash160, sha256 } from '../../../src/core/hashes.ts';
import { keySpend, leafSpend, privateKey, type Signer, xOnly } from './taproot-spend.ts';
import { buildCreditingTransaction, buildSpendingTransaction } from './vectors.ts';

const F = CONSENSUS_FLAGS;
const d1 = privateKey('1');
const d2 = privateKey('2');
const d3 = privateKey('3');
const pk1 = xOnly(d1);
const pk2 = xOnly(d2);
const pk3 = xOnly(d3);
const EMPTY = new Uint8Array(0);
const b = () => new ScriptBuilder();
const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

type LeafCase = {
  name: string;
  script: Uint8Array;
  stack?: (sign: Signer) => Uint8Array[];
  annex?: Uint8Array;
  leafVersion?: number;
  control?: (cb: Uint8Array) => Uint8Array;
  outputs?: { value: bigint; script: Uint8Array }[];
  flags?: number;
  expected: string;
};

function runLeaf(c: LeafCase): string {
  const spend = leafSpend({
    script: c.script,
    stack: c.stack ?? (() => []),
    ...(c.annex === undefined ? {} : { annex: c.annex }),
    ...(c.leafVersion === undefined ? {} : { leafVersion: c.leafVersion }),
    ...(c.control === undefined ? {} : { control: c.control }),
    ...(c.outputs === undefined ? {} : { outputs: c.outputs }),
  });
  const r = spend.verify(c.flags ?? F);
  return r.ok ? 'OK' : r.error;
}

/** A P2WSH spend of `script` with `stack` below it (no signatures involved). */
function runP2wsh(script: Uint8Array, stack: Uint8Array[], flags = F): string {
  const spk = concatBytes(Uint8Array.of(0x00, 0x20), sha256(script));
  const credit = buildCreditingTransaction(spk, 1000n);
  const witness = [...stack, script];
  const spend = buildSpendingTransaction(EMPTY, witness, credit);
  const checker = new TransactionSignatureChecker(spend, 0, 1000n);
  const r = verifyScript(EMPTY, spk, witness, flags, checker);
  return r.ok ? 'OK' : r.error;
}

const table = (cases: LeafCase[]) => cases.map((c) => [c.name, c] as const);

// BIP-342's OP_SUCCESSx list, written out independently of src/.
const SUCCESS = new Set<number>([
  80, 98, 126, 127, 128, 129, 131, 132, 133, 134, 137, 138, 141, 142, 149, 150, 151, 152, 153,
]);
for (let x = 187; x <= 254; x++) SUCCESS.add(x);

describe('OP_SUCCESSx', () => {
  it.each(
    table([
      { name: 'after OP_RETURN', script: Uint8Array.of(Op.OP_RETURN, 0x50), expected: 'OK' },
      {
        name: 'in an unexecuted branch',
        script: Uint8Array.of(Op.OP_0, Op.OP_IF, 0xbb, Op.OP_ENDIF),
        expected: 'OK',
      },
      { name: 'before a truncated push', script: Uint8Array.of(0x50, Op.OP_PUSHDATA1), expected: 'OK' },
      {
        name: 'before a PUSHDATA4 overrun',
        script: Uint8Array.of(Op.OP_VER, Op.OP_PUSHDATA4, 0xff, 0xff, 0xff, 0xff),
        expected: 'OK',
      },
      {
        name: 'swallowed by an earlier truncated push',
        script: Uint8Array.of(Op.OP_PUSHDATA1, 5, 0x50),
        expected: 'BAD_OPCODE',
      },
      {
        name: 'as push data is only data',
        script: Uint8Array.of(0x01, 0x50, Op.OP_RETURN),
        expected: 'OP_RETURN',
      },
      {
        name: 'overrides the 1000-element initial stack limit',
        script: Uint8Array.of(0x50),
        stack: () => Array.from({ length: 1001 }, () => EMPTY),
        expected: 'OK',
      },
      {
        name: 'overrides the 520-byte witness element limit',
        script: Uint8Array.of(0x50),
        stack: () => [bytes(521)],
        expected: 'OK',
      },
      {
        name: 'overrides MINIMALIF and CLEANSTACK',
        script: Uint8Array.of(Op.OP_IF, 0xfe),
        stack: () => [bytes(3, 2), EMPTY],
        expected: 'OK',
      },
      {
        name: 'with DISCOURAGE_OP_SUCCESS',
        script: Uint8Array.of(Op.OP_1, 0x50),
        flags: F | ScriptFlag.DISCOURAGE_OP_SUCCESS,
        expected: 'DISCOURAGE_OP_SUCCESS',
      },
    ]),
  )('%s', (_n, c) => {
    expect(runLeaf(c)).toBe(c.expected);
  });

  it('every opcode after OP_RETURN: only OP_SUCCESSx succeed', () => {
    const results: string[] = [];
    const expected: string[] = [];
    for (let x = 0; x < 256; x++) {
      results.push(runLeaf({ name: '', script: Uint8Array.of(Op.OP_RETURN, x), expected: '' }));
      // 0x01..0x4e after OP_RETURN are pushes running past the end: a parse failure in the pre-scan.
      expected.push(SUCCESS.has(x) ? 'OK' : x >= 0x01 && x <= 0x4e ? 'BAD_OPCODE' : 'OP_RETURN');
    }
    expect(results).toEqual(expected);
  });

  it('OP_RESERVED is no success opcode in witness v0', () => {
    expect(runP2wsh(Uint8Array.of(Op.OP_1, 0x50), [])).toBe('BAD_OPCODE');
  });
});

const multi = b()
  .pushData(pk1)
  .op(Op.OP_CHECKSIG)
  .pushData(pk2)
  .op(Op.OP_CHECKSIGADD)
  .pushData(pk3)
  .op(Op.OP_CHECKSIGADD);
describe('OP_CHECKSIGADD', () => {
  const m = multi.build();
  it.each(
    table([
      {
        name: '2-of-3 with one empty signature',
        script: concatBytes(m, Uint8Array.of(Op.OP_2, Op.OP_NUMEQUAL)),
        stack: (s) => [s(d3), EMPTY, s(d1)],
        expected: 'OK',
      },
      {
        name: 'empty signatures add nothing',
        script: concatBytes(m, Uint8Array.of(Op.OP_0, Op.OP_NUMEQUAL)),
        stack: () => [EMPTY, EMPTY, EMPTY],
        expected: 'OK',
      },
      {
        name: 'one valid signature is not two',
        script: concatBytes(m, Uint8Array.of(Op.OP_2, Op.OP_NUMEQUAL)),
        stack: (s) => [EMPTY, EMPTY, s(d1)],
        expected: 'EVAL_FALSE',
      },
      {
        name: 'an invalid non-empty signature aborts',
        script: concatBytes(m, Uint8Array.of(Op.OP_2, Op.OP_NUMEQUAL)),
        stack: (s) => [s(d3), s(d1), s(d1)],
        expected: 'SCHNORR_SIG',
      },
      {
        name: 'empty pubkey fails even with an empty signature',
        script: Uint8Array.of(Op.OP_0, Op.OP_CHECKSIGADD),
        stack: () => [EMPTY, EMPTY],
        expected: 'PUBKEYTYPE',
      },
      {
        name: 'unknown pubkey type counts as success',
        script: b().pushData(bytes(33)).op(Op.OP_CHECKSIGADD, Op.OP_1, Op.OP_NUMEQUAL).build(),
        stack: () => [bytes(64), EMPTY],
        expected: 'OK',
      },
      {
        name: 'unknown pubkey type, discouraged',
        script: b().pushData(bytes(33)).op(Op.OP_CHECKSIGADD).build(),
        stack: () => [bytes(64), EMPTY],
        flags: F | ScriptFlag.DISCOURAGE_UPGRADABLE_PUBKEYTYPE,
        expected: 'DISCOURAGE_UPGRADABLE_PUBKEYTYPE',
      },
      {
        name: 'a 5-byte counter is no number',
        script: b().pushData(pk1).op(Op.OP_CHECKSIGADD).build(),
        stack: () => [EMPTY, Uint8Array.of(0, 0, 0, 0, 1)],
        expected: 'UNKNOWN_ERROR',
      },
      {
        name: 'needs three stack items',
        script: b().pushData(pk1).op(Op.OP_CHECKSIGADD).build(),
        stack: () => [],
        expected: 'INVALID_STACK_OPERATION',
      },
      {
        name: 'CHECKMULTISIG is gone',
        script: Uint8Array.of(Op.OP_0, Op.OP_0, Op.OP_0, Op.OP_CHECKMULTISIG),
        expected: 'TAPSCRIPT_CHECKMULTISIG',
      },
    ]),
  )('%s', (_n, c) => {
    expect(runLeaf(c)).toBe(c.expected);
  });

  it('is BAD_OPCODE in witness v0', () => {
    expect(runP2wsh(Uint8Array.of(Op.OP_0, Op.OP_0, Op.OP_0, Op.OP_CHECKSIGADD), [])).toBe('BAD_OPCODE');
  });
});

/** Serialized witness size, computed here independently of src/. */
function witnessSize(items: Uint8Array[]): number {
  const varint = (n: number) => (n < 253 ? 1 : n <= 0xffff ? 3 : 5);
  return varint(items.length) + items.reduce((a, i) => a + varint(i.length) + i.length, 0);
}

describe('validation weight budget', () => {
  const loop = (k: number) => {
    const s = b();
    for (let i = 0; i < k; i++) s.op(Op.OP_DUP).pushData(pk1).op(Op.OP_CHECKSIGVERIFY);
    return s.build();
  };

  it('each signature check costs 50 of (witness size + 50)', () => {
    const seen = new Set<string>();
    for (let k = 1; k <= 16; k++) {
      const spend = leafSpend({ script: loop(k), stack: (s) => [s(d1)] });
      const budget = witnessSize(spend.witness) + 50;
      const expected = 50 * k <= budget ? 'OK' : 'TAPSCRIPT_VALIDATION_WEIGHT';
      const r = spend.verify(F);
      expect(r.ok ? 'OK' : r.error, `k=${k}`).toBe(expected);
      seen.add(expected);
    }
    expect([...seen].sort()).toEqual(['OK', 'TAPSCRIPT_VALIDATION_WEIGHT']);
  });

  it('the annex counts towards the budget', () => {
    let k = 1;
    while (leafSpend({ script: loop(k), stack: (s) => [s(d1)] }).verify(F).ok) k++;
    const annex = concatBytes(Uint8Array.of(0x50), bytes(120, 0));
    expect(runLeaf({ name: '', script: loop(k), stack: (s) => [s(d1)], annex, expected: '' })).toBe('OK');
  });

  it('empty signatures cost nothing', () => {
    const s = b();
    for (let i = 0; i < 40; i++) s.op(Op.OP_0).pushData(pk1).op(Op.OP_CHECKSIG, Op.OP_DROP);
    expect(runLeaf({ name: '', script: s.op(Op.OP_1).build(), expected: '' })).toBe('OK');
  });
});

describe('MINIMALIF', () => {
  const ifScript = Uint8Array.of(Op.OP_IF, Op.OP_1, Op.OP_ELSE, Op.OP_1, Op.OP_ENDIF);
  const notifScript = Uint8Array.of(Op.OP_NOTIF, Op.OP_1, Op.OP_ELSE, Op.OP_1, Op.OP_ENDIF);
  const args: [string, Uint8Array, string][] = [
    ['0x01', Uint8Array.of(1), 'OK'],
    ['empty', EMPTY, 'OK'],
    ['0x02', Uint8Array.of(2), 'MINIMALIF'],
    ['0x00', Uint8Array.of(0), 'MINIMALIF'],
    ['0x0100', Uint8Array.of(1, 0), 'MINIMALIF'],
    ['0x81', Uint8Array.of(0x81), 'MINIMALIF'],
  ];
  it.each(args)('tapscript IF/NOTIF with %s (consensus)', (_n, arg, expected) => {
    const want = expected === 'OK' ? 'OK' : 'TAPSCRIPT_MINIMALIF';
    expect(runLeaf({ name: '', script: ifScript, stack: () => [arg], flags: F, expected: '' })).toBe(want);
    expect(runLeaf({ name: '', script: notifScript, stack: () => [arg], flags: F, expected: '' })).toBe(want);
  });
  it.each(args)('witness v0 with %s: policy flag only', (_n, arg, expected) => {
    expect(runP2wsh(ifScript, [arg], F)).toBe('OK');
    expect(runP2wsh(ifScript, [arg], F | ScriptFlag.MINIMALIF)).toBe(expected);
  });
});

describe('OP_CODESEPARATOR position in the signature hash', () => {
  const cs = Op.OP_CODESEPARATOR;
  it.each(
    table([
      {
        name: 'separator first, signed at position 0',
        script: b().op(cs).pushData(pk1).op(Op.OP_CHECKSIG).build(),
        stack: (s) => [s(d1, { codesepPos: 0 })],
        expected: 'OK',
      },
      {
        name: 'separator first, signed without it',
        script: b().op(cs).pushData(pk1).op(Op.OP_CHECKSIG).build(),
        stack: (s) => [s(d1)],
        expected: 'SCHNORR_SIG',
      },
      {
        name: 'the last executed separator counts',
        script: b().op(cs, cs).pushData(pk1).op(Op.OP_CHECKSIG).build(),
        stack: (s) => [s(d1, { codesepPos: 1 })],
        expected: 'OK',
      },
      {
        name: 'an earlier separator does not',
        script: b().op(cs, cs).pushData(pk1).op(Op.OP_CHECKSIG).build(),
        stack: (s) => [s(d1, { codesepPos: 0 })],
        expected: 'SCHNORR_SIG',
      },
      {
        name: 'unexecuted separators are ignored',
        script: b().op(Op.OP_0, Op.OP_IF, cs, Op.OP_ENDIF).pushData(pk1).op(Op.OP_CHECKSIG).build(),
        stack: (s) => [s(d1)],
        expected: 'OK',
      },
      {
        name: 'pushes count as positions',
        script: b().pushData(bytes(3)).op(Op.OP_DROP, cs).pushData(pk1).op(Op.OP_CHECKSIG).build(),
        stack: (s) => [s(d1, { codesepPos: 2 })],
        expected: 'OK',
      },
      {
        name: 'each signature sees the separators before it',
        script: b().pushData(pk1).op(Op.OP_CHECKSIGVERIFY, cs).pushData(pk2).op(Op.OP_CHECKSIG).build(),
        stack: (s) => [s(d2, { codesepPos: 2 }), s(d1)],
        expected: 'OK',
      },
    ]),
  )('%s', (_n, c) => {
    expect(runLeaf(c)).toBe(c.expected);
  });
});

describe('annex', () => {
  const annex = Uint8Array.of(0x50, 1, 2, 3);
  const checksig = b().pushData(pk1).op(Op.OP_CHECKSIG).build();
  it.each(
    table([
      { name: 'script path, annex signed', script: checksig, annex, stack: (s) => [s(d1)], expected: 'OK' },
      {
        name: 'script path, annex not signed',
        script: checksig,
        annex,
        stack: (s) => [s(d1, { annex: null })],
        expected: 'SCHNORR_SIG',
      },
      {
        name: 'script path, a different annex signed',
        script: checksig,
        annex,
        stack: (s) => [s(d1, { annex: Uint8Array.of(0x50) })],
        expected: 'SCHNORR_SIG',
      },
      {
        name: 'annex is not on the stack',
        script: Uint8Array.of(Op.OP_DEPTH, Op.OP_0, Op.OP_NUMEQUAL),
        annex,
        expected: 'OK',
      },
    ]),
  )('%s', (_n, c) => {
    expect(runLeaf(c)).toBe(c.expected);
  });

  it.each([
    ['key path, annex signed', { annex, signAnnex: annex }, 'OK'],
    ['key path, annex not signed', { annex, signAnnex: null }, 'SCHNORR_SIG'],
    ['key path, no annex', {}, 'OK'],
  ] as const)('%s', (_n, opts, expected) => {
    const r = keySpend(opts).verify(F);
    expect(r.ok ? 'OK' : r.error).toBe(expected);
  });

  it('a lone 0x50-prefixed element is the signature, not an annex', () => {
    const s = keySpend({});
    const check = (w: Uint8Array[]) => {
      const r = verifyScript(EMPTY, s.scriptPubKey, w, F, s.checker);
      return r.ok ? 'OK' : r.error;
    };
    expect(check([Uint8Array.of(0x50, 0)])).toBe('SCHNORR_SIG_SIZE');
    expect(check([concatBytes(Uint8Array.of(0x50), bytes(63))])).toBe('SCHNORR_SIG');
    expect(check([])).toBe('WITNESS_PROGRAM_WITNESS_EMPTY');
  });
});

describe('control block', () => {
  const script = Uint8Array.of(Op.OP_1);
  it.each(
    table([
      { name: 'valid', script, expected: 'OK' },
      {
        name: '32 bytes',
        script,
        control: (cb) => cb.subarray(0, 32),
        expected: 'TAPROOT_WRONG_CONTROL_SIZE',
      },
      {
        name: '33 + 32 + 1 bytes',
        script,
        control: (cb) => concatBytes(cb, Uint8Array.of(0)),
        expected: 'TAPROOT_WRONG_CONTROL_SIZE',
      },
      {
        name: '33 + 32·129 bytes',
        script,
        control: (cb) => concatBytes(cb.subarray(0, 33), bytes(32 * 129)),
        expected: 'TAPROOT_WRONG_CONTROL_SIZE',
      },
      {
        name: '33 + 32·128 bytes, wrong path',
        script,
        control: (cb) => concatBytes(cb.subarray(0, 33), bytes(32 * 128)),
        expected: 'WITNESS_PROGRAM_MISMATCH',
      },
      {
        name: 'an extra path node',
        script,
        control: (cb) => concatBytes(cb, bytes(32)),
        expected: 'WITNESS_PROGRAM_MISMATCH',
      },
      {
        name: 'parity flipped',
        script,
        control: (cb) => Uint8Array.from(cb, (x, i) => (i === 0 ? x ^ 1 : x)),
        expected: 'WITNESS_PROGRAM_MISMATCH',
      },
      {
        name: 'another internal key',
        script,
        control: (cb) => concatBytes(cb.subarray(0, 1), pk2, cb.subarray(33)),
        expected: 'WITNESS_PROGRAM_MISMATCH',
      },
      {
        name: 'internal key not on the curve',
        script,
        control: (cb) => concatBytes(cb.subarray(0, 1), bytes(32, 0xff), cb.subarray(33)),
        expected: 'WITNESS_PROGRAM_MISMATCH',
      },
      { name: 'unknown leaf version', script, leafVersion: 0xc2, expected: 'OK' },
      {
        name: 'unknown leaf version, discouraged',
        script,
        leafVersion: 0xc2,
        flags: F | ScriptFlag.DISCOURAGE_UPGRADABLE_TAPROOT_VERSION,
        expected: 'DISCOURAGE_UPGRADABLE_TAPROOT_VERSION',
      },
      {
        name: 'unknown leaf version runs no script',
        script: Uint8Array.of(Op.OP_RETURN),
        leafVersion: 0xfe,
        expected: 'OK',
      },
    ]),
  )('%s', (_n, c) => {
    expect(runLeaf(c)).toBe(c.expected);
  });
});

describe('stack and element limits', () => {
  const items = (n: number) => Array.from({ length: n }, () => EMPTY);
  const drops = (n: number) => new Uint8Array(n).fill(Op.OP_DROP);
  it.each(
    table([
      {
        name: '1000 initial items',
        script: concatBytes(drops(999), Uint8Array.of(Op.OP_DROP, Op.OP_1)),
        stack: () => items(1000),
        expected: 'OK',
      },
      {
        name: '1001 initial items',
        script: concatBytes(drops(1000), Uint8Array.of(Op.OP_1)),
        stack: () => items(1001),
        expected: 'STACK_SIZE',
      },
      {
        name: 'growing to 1001',
        script: Uint8Array.of(Op.OP_DUP),
        stack: () => items(1000),
        expected: 'STACK_SIZE',
      },
      {
        name: 'the altstack counts',
        script: Uint8Array.of(Op.OP_TOALTSTACK, Op.OP_DUP, Op.OP_DUP),
        stack: () => items(999),
        expected: 'STACK_SIZE',
      },
      {
        name: 'exactly 1000 with the altstack',
        script: concatBytes(
          Uint8Array.of(Op.OP_TOALTSTACK, Op.OP_DUP),
          drops(998),
          Uint8Array.of(Op.OP_FROMALTSTACK, Op.OP_2DROP, Op.OP_1),
        ),
        stack: () => items(999),
        expected: 'OK',
      },
      {
        name: '520-byte witness element',
        script: Uint8Array.of(Op.OP_SIZE, Op.OP_NIP),
        stack: () => [bytes(520)],
        expected: 'OK',
      },
      {
        name: '521-byte witness element',
        script: Uint8Array.of(Op.OP_DROP, Op.OP_1),
        stack: () => [bytes(521)],
        expected: 'PUSH_SIZE',
      },
      { name: '521-byte push', script: b().pushData(bytes(521)).build(), expected: 'PUSH_SIZE' },
      {
        name: '521-byte push, unexecuted',
        script: concatBytes(
          Uint8Array.of(Op.OP_0, Op.OP_IF),
          b().pushData(bytes(521)).build(),
          Uint8Array.of(Op.OP_ENDIF, Op.OP_1),
        ),
        expected: 'PUSH_SIZE',
      },
      { name: '520-byte push', script: b().pushData(bytes(520)).build(), expected: 'OK' },
      {
        name: 'no 201-opcode limit',
        script: concatBytes(new Uint8Array(300).fill(Op.OP_NOP), Uint8Array.of(Op.OP_1)),
        expected: 'OK',
      },
      {
        name: 'no 10,000-byte limit',
        script: concatBytes(
          ...Array.from({ length: 21 }, () => b().pushData(bytes(500)).op(Op.OP_DROP).build()),
          Uint8Array.of(Op.OP_1),
        ),
        expected: 'OK',
      },
    ]),
  )('tapscript: %s', (_n, c) => {
    expect(runLeaf(c)).toBe(c.expected);
  });

  it.each([
    ['201 opcodes', concatBytes(new Uint8Array(200).fill(Op.OP_NOP), Uint8Array.of(Op.OP_1)), 'OK'],
    ['202 opcodes', concatBytes(new Uint8Array(202).fill(Op.OP_NOP), Uint8Array.of(Op.OP_1)), 'OP_COUNT'],
    [
      '10,081 bytes',
      concatBytes(
        ...Array.from({ length: 20 }, () => b().pushData(bytes(500)).op(Op.OP_DROP).build()),
        Uint8Array.of(Op.OP_1),
      ),
      'SCRIPT_SIZE',
    ],
  ] as const)('witness v0 keeps the limits: %s', (_n, script, expected) => {
    expect(runP2wsh(script, [])).toBe(expected);
  });

  it('witness v0: 521-byte witness element', () => {
    expect(runP2wsh(Uint8Array.of(Op.OP_DROP, Op.OP_1), [bytes(521)])).toBe('PUSH_SIZE');
    expect(runP2wsh(Uint8Array.of(Op.OP_DROP, Op.OP_1), [bytes(520)])).toBe('OK');
  });
});

describe('signature hash types', () => {
  const checksig = b().pushData(pk1).op(Op.OP_CHECKSIG).build();
  const out = [{ value: 1000n, script: Uint8Array.of(Op.OP_1) }];
  it.each(
    table([
      {
        name: 'SIGHASH_SINGLE with a matching output',
        script: checksig,
        outputs: out,
        stack: (s) => [s(d1, { hashType: 3 })],
        expected: 'OK',
      },
      {
        name: 'SIGHASH_SINGLE without a matching output',
        script: checksig,
        outputs: [],
        stack: (s) => [s(d1, { hashType: 3 })],
        expected: 'SCHNORR_SIG_HASHTYPE',
      },
      {
        name: 'SIGHASH_ALL|ANYONECANPAY',
        script: checksig,
        stack: (s) => [s(d1, { hashType: 0x81 })],
        expected: 'OK',
      },
      {
        name: 'hash type 0x04',
        script: checksig,
        stack: (s) => [s(d1, { hashType: 4 })],
        expected: 'SCHNORR_SIG_HASHTYPE',
      },
      {
        name: 'explicit SIGHASH_DEFAULT byte',
        script: checksig,
        stack: (s) => [concatBytes(s(d1), Uint8Array.of(0))],
        expected: 'SCHNORR_SIG_HASHTYPE',
      },
      {
        name: '63-byte signature',
        script: checksig,
        stack: (s) => [s(d1).subarray(0, 63)],
        expected: 'SCHNORR_SIG_SIZE',
      },
    ]),
  )('tapscript: %s', (_n, c) => {
    expect(runLeaf(c)).toBe(c.expected);
  });

  it.each([
    ['with a matching output', out, 'OK'],
    ['without a matching output', [], 'SCHNORR_SIG_HASHTYPE'],
  ] as const)('key path SIGHASH_SINGLE %s', (_n, outputs, expected) => {
    const r = keySpend({ hashType: 3, outputs: [...outputs] }).verify(F);
    expect(r.ok ? 'OK' : r.error).toBe(expected);
  });

  it('legacy SIGHASH_SINGLE without a matching output signs the hash "1" (Core quirk)', () => {
    const d = privateKey('legacy');
    const pub = ecc.pointFromScalar(d, true) as Uint8Array;
    const spk = b()
      .op(Op.OP_DUP, Op.OP_HASH160)
      .pushData(hash160(pub))
      .op(Op.OP_EQUALVERIFY, Op.OP_CHECKSIG)
      .build();
    const credit = buildCreditingTransaction(spk, 1000n);
    const spend = buildSpendingTransaction(EMPTY, [], credit);
    spend.outputs = [];
    const h = legacySighash(spend, 0, spk, 3);
    const one = new Uint8Array(32);
    one[0] = 1;
    expect(h).toEqual(one);
    const sig = bscript.signature.encode(ecc.sign(h, d), 3);
    const scriptSig = b().pushData(sig).pushData(pub).build();
    spend.inputs[0] = { ...(spend.inputs[0] as (typeof spend.inputs)[0]), scriptSig };
    const checker = new TransactionSignatureChecker(spend, 0, 1000n, {
      precomputed: new PrecomputedTxData(spend),
    });
    expect(verifyScript(scriptSig, spk, [], F, checker)).toEqual({ ok: true });
  });
});
