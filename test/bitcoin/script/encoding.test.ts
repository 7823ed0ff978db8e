import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AsmParseError, asmToScript, scriptToAsm } from '../../../src/bitcoin/script/asm.ts';
import { ScriptBuilder } from '../../../src/bitcoin/script/builder.ts';
import { ScriptFlag } from '../../../src/bitcoin/script/flags.ts';
import {
  castToBool,
  decodeScriptNum,
  decodeScriptNumOrNaN,
  encodeScriptNum,
  ScriptNumError,
} from '../../../src/bitcoin/script/num.ts';
import { isOpSuccess, Op, opcodeByName, opcodeName } from '../../../src/bitcoin/script/opcodes.ts';
import {
  decodeScript,
  findAndDelete,
  isPushOnly,
  parseScript,
  serializeScript,
  witnessProgram,
} from '../../../src/bitcoin/script/script.ts';
import {
  checkSignatureEncoding,
  isLowS,
  isValidSignatureEncoding,
} from '../../../src/bitcoin/script/sigencoding.ts';
import {
  computeTaprootMerkleRoot,
  tapbranchHash,
  tapleafHash,
  tweakXOnlyKey,
  verifyTaprootCommitment,
} from '../../../src/bitcoin/script/taproot.ts';
import { bytesToHex, hexToBytes } from '../../../src/core/bytes.ts';

describe('script numbers (CScriptNum)', () => {
  const table: [string, number][] = [
    ['', 0],
    ['01', 1],
    ['81', -1],
    ['7f', 127],
    ['8000', 128],
    ['8080', -128],
    ['ff7f', 32767],
    ['ffffff7f', 2147483647],
    ['ffffffff', -2147483647],
    ['0000008000', 2147483648],
    ['ffffffff00', 4294967295],
  ];
  it.each(table)('%s ↔ %d', (hex, value) => {
    expect(decodeScriptNum(hexToBytes(hex), true, 5)).toBe(value);
    expect(bytesToHex(encodeScriptNum(value))).toBe(hex);
  });

  it.each([
    ['00', 'non-minimal'],
    ['0100', 'non-minimal'],
    ['80', 'non-minimal'],
    ['0080', 'non-minimal'],
    ['0000000001', 'overflow'],
  ])('rejects %s (%s)', (hex, kind) => {
    const err = (() => {
      try {
        decodeScriptNum(hexToBytes(hex), true, 4);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ScriptNumError);
    expect((err as ScriptNumError).kind).toBe(kind);
  });

  it('accepts non-minimal encodings without MINIMALDATA', () => {
    expect(decodeScriptNumOrNaN(hexToBytes('0100'), false, 4)).toBe(1);
    // Negative zero is 0, as Core's int64 holds it (never JavaScript's -0, which toEqual tells from 0).
    expect(decodeScriptNumOrNaN(hexToBytes('80'), false, 4)).toBe(0);
    expect(decodeScriptNumOrNaN(hexToBytes('000080'), false, 4)).toBe(0);
  });

  it.each([
    ['', false],
    ['00', false],
    ['80', false],
    ['0080', false],
    ['8000', true],
    ['01', true],
    ['000001', true],
  ])('castToBool(%s) = %s', (hex, value) => {
    expect(castToBool(hexToBytes(hex))).toBe(value);
  });
});

describe('opcodes', () => {
  it('names follow Core GetOpName', () => {
    expect(opcodeName(0)).toBe('0');
    expect(opcodeName(0x4f)).toBe('-1');
    expect(opcodeName(0x60)).toBe('16');
    expect(opcodeName(Op.OP_CHECKSIGADD)).toBe('OP_CHECKSIGADD');
    expect(opcodeName(0xb1)).toBe('OP_CHECKLOCKTIMEVERIFY');
    expect(opcodeName(0xbb)).toBe('OP_UNKNOWN');
    expect(opcodeByName('ADD')).toBe(Op.OP_ADD);
    expect(opcodeByName('OP_NOP2')).toBe(0xb1);
    expect(opcodeByName('16')).toBeUndefined();
  });

  it('OP_SUCCESSx set matches BIP-342', () => {
    const successes: number[] = [];
    for (let i = 0; i < 256; i++) if (isOpSuccess(i)) successes.push(i);
    expect(successes.length).toBe(1 + 1 + 4 + 4 + 2 + 2 + 5 + 68);
    expect(isOpSuccess(Op.OP_CHECKSIGADD)).toBe(false);
    expect(isOpSuccess(Op.OP_RESERVED)).toBe(true);
    expect(isOpSuccess(Op.OP_INVALIDOPCODE)).toBe(false);
  });
});

describe('parsing', () => {
  it('tolerates a truncated tail like GetOp', () => {
    const p = parseScript(hexToBytes('76a94c05aabb'));
    expect(p.count).toBe(2);
    expect(p.truncated).toBe(true);
    expect(p.offsets[2]).toBe(2);
    expect(decodeScript(hexToBytes('4d0100')).truncated).toBe(true);
    expect(decodeScript(hexToBytes('4e00000000')).ops).toHaveLength(1);
  });

  it('round-trips pushes of every size class', () => {
    for (const size of [0, 1, 75, 76, 255, 256, 520, 70000]) {
      const data = new Uint8Array(size).fill(7);
      const script = new ScriptBuilder().pushData(data).op(Op.OP_DROP).build();
      const { ops, truncated } = decodeScript(script);
      expect(truncated).toBe(false);
      expect(ops[0]?.data?.length).toBe(size);
      expect(bytesToHex(serializeScript(ops))).toBe(bytesToHex(script));
    }
  });

  it('push-only and witness programs', () => {
    expect(isPushOnly(asmToScript('0 1 16 -1 0x50'))).toBe(true);
    expect(isPushOnly(asmToScript('NOP'))).toBe(false);
    expect(isPushOnly(hexToBytes('4c'))).toBe(false);
    expect(witnessProgram(hexToBytes(`0014${'00'.repeat(20)}`))?.version).toBe(0);
    expect(witnessProgram(hexToBytes(`6002${'00'.repeat(2)}`))?.version).toBe(16);
    expect(witnessProgram(hexToBytes(`0001${'00'}`))).toBeUndefined();
    expect(witnessProgram(hexToBytes(`0029${'00'.repeat(41)}`))).toBeUndefined();
  });

  it('FindAndDelete removes only instruction-aligned matches (Core script_tests cases)', () => {
    const cases: [string, string, string, number][] = [
      ['0302ff030302ff03', '0302ff03', '', 2],
      ['0302ff030302ff03', '02', '0302ff030302ff03', 0],
      ['0302ff030302ff03', 'ff', '0302ff030302ff03', 0],
      ['0302ff030302ff03', '03', '02ff0302ff03', 2],
      ['02feed5169', 'feed51', '02feed5169', 0],
      ['02feed5169', '02feed51', '69', 1],
      ['516902feed5169', 'feed51', '516902feed5169', 0],
      ['516902feed5169', '02feed51', '516969', 1],
      ['00000000000000', '00', '', 7],
      ['0003feed', '03feed', '00', 1],
      ['0003feed', '00', '03feed', 1],
      ['ab', 'ab', '', 1],
      ['abcdabcd', 'ab', 'cdcd', 2],
    ];
    for (const [script, pattern, expected, n] of cases) {
      const r = findAndDelete(hexToBytes(script), hexToBytes(pattern));
      expect([bytesToHex(r.script), r.found]).toEqual([expected, n]);
    }
  });
});

describe('assembler', () => {
  it('follows Core ParseScript', () => {
    expect(bytesToHex(asmToScript('0 -1 1 16 17 -2 1000'))).toBe('004f51600111018202e803');
    expect(bytesToHex(asmToScript("0x4c01ff 'ab' DUP OP_HASH160"))).toBe('4c01ff02616276a9');
    expect(() => asmToScript('FOO')).toThrow(AsmParseError);
    expect(() => asmToScript('0x4')).toThrow(AsmParseError);
  });

  it('disassembles like ScriptToAsmStr', () => {
    expect(scriptToAsm(hexToBytes(`0051604f01ff05${'aa'.repeat(5)}76a94c`))).toBe(
      `0 1 16 -1 -127 ${'aa'.repeat(5)} OP_DUP OP_HASH160 [error]`,
    );
  });

  it('assembles every script of script_tests.json', () => {
    const rows = JSON.parse(readFileSync('test/fixtures/script_tests.json', 'utf8')) as unknown[][];
    let count = 0;
    for (const row of rows) {
      if (row.length === 1) continue;
      const off = Array.isArray(row[0]) ? 1 : 0;
      asmToScript(row[off] as string);
      asmToScript(row[off + 1] as string);
      count += 2;
    }
    expect(count).toBeGreaterThan(2000);
  });
});

type Tree = { id: number; script: string; leafVersion: number } | Tree[];
type SpkVector = {
  given: { internalPubkey: string; scriptTree: Tree | null };
  intermediary: { leafHashes?: string[]; merkleRoot: string | null; tweakedPubkey: string };
  expected: { scriptPubKey: string; scriptPathControlBlocks?: string[] };
};

describe('taproot commitments (bip341_wallet_vectors.json)', () => {
  const vectors = (
    JSON.parse(readFileSync('test/fixtures/bip341_wallet_vectors.json', 'utf8')) as {
      scriptPubKey: SpkVector[];
    }
  ).scriptPubKey;

  function leaves(tree: Tree): { id: number; script: string; leafVersion: number }[] {
    return Array.isArray(tree) ? tree.flatMap(leaves) : [tree];
  }
  function root(tree: Tree): Uint8Array {
    if (!Array.isArray(tree)) return tapleafHash(tree.leafVersion, hexToBytes(tree.script));
    return tapbranchHash(root(tree[0] as Tree), root(tree[1] as Tree));
  }

  it.each(vectors.map((v, i) => [i, v] as const))('vector %d', (_i, v) => {
    const internal = hexToBytes(v.given.internalPubkey);
    const tree = v.given.scriptTree;
    const merkle = tree === null ? new Uint8Array(0) : root(tree);
    if (v.intermediary.merkleRoot !== null) expect(bytesToHex(merkle)).toBe(v.intermediary.merkleRoot);
    const tweaked = tweakXOnlyKey(internal, merkle);
    expect(bytesToHex(tweaked?.outputKey ?? new Uint8Array(0))).toBe(v.intermediary.tweakedPubkey);
    if (tree === null) return;
    const program = hexToBytes(v.intermediary.tweakedPubkey);
    const ls = leaves(tree);
    (v.expected.scriptPathControlBlocks ?? []).forEach((cbHex, i) => {
      const leaf = ls[i];
      if (leaf === undefined) throw new Error('leaf missing');
      const cb = hexToBytes(cbHex);
      const lh = tapleafHash(leaf.leafVersion, hexToBytes(leaf.script));
      expect(bytesToHex(lh)).toBe(v.intermediary.leafHashes?.[i]);
      expect(bytesToHex(computeTaprootMerkleRoot(cb, lh))).toBe(v.intermediary.merkleRoot);
      expect(verifyTaprootCommitment(cb, program, lh)).toBe(true);
      const flipped = Uint8Array.from(cb);
      flipped[0] = (flipped[0] as number) ^ 1;
      expect(verifyTaprootCommitment(flipped, program, lh)).toBe(false);
    });
  });
});

describe('signature encoding (Core CheckSignatureEncoding)', () => {
  const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  const int = (v: bigint) => {
    let h = v.toString(16);
    if (h.length % 2) h = `0${h}`;
    if (Number.parseInt(h.slice(0, 2), 16) & 0x80) h = `00${h}`;
    return hexToBytes(h);
  };
  const der = (r: bigint, s: bigint, hashType = 1) => {
    const R = int(r);
    const S = int(s);
    return Uint8Array.from([0x30, 4 + R.length + S.length, 2, R.length, ...R, 2, S.length, ...S, hashType]);
  };
  it.each([
    ['S = n/2', 1n, N >> 1n, true],
    ['S = n/2 + 1', 1n, (N >> 1n) + 1n, false],
    ['S = n - 1', 1n, N - 1n, false],
    ['S = n (overflow reads as zero)', 1n, N, true],
    ['R = n (overflow reads as zero)', N, N - 1n, true],
    ['small S', 5n, 7n, true],
  ] as const)('isLowS: %s', (_n, r, s, low) => {
    const sig = der(r, s);
    expect(isValidSignatureEncoding(sig)).toBe(true);
    expect(isLowS(sig)).toBe(low);
    expect(checkSignatureEncoding(sig, ScriptFlag.LOW_S)).toBe(low ? undefined : 'SIG_HIGH_S');
  });

  it.each([
    ['empty is always acceptable', new Uint8Array(0), ScriptFlag.DERSIG | ScriptFlag.STRICTENC, undefined],
    ['bad DER under DERSIG', Uint8Array.of(0x30, 1, 2, 3), ScriptFlag.DERSIG, 'SIG_DER'],
    ['bad DER without DERSIG/LOW_S/STRICTENC', Uint8Array.of(0x30, 1, 2, 3), ScriptFlag.NULLDUMMY, undefined],
    ['undefined hash type under STRICTENC', der(1n, 1n, 0x84), ScriptFlag.STRICTENC, 'SIG_HASHTYPE'],
    ['ANYONECANPAY|SINGLE under STRICTENC', der(1n, 1n, 0x83), ScriptFlag.STRICTENC, undefined],
  ] as const)('%s', (_n, sig, flags, expected) => {
    expect(checkSignatureEncoding(sig, flags)).toBe(expected);
  });
});

describe('properties', () => {
  it('decode then serialize gives back the parsable prefix of any byte string', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const d = decodeScript(bytes);
        const end = d.truncated ? (d.truncatedAt as number) : bytes.length;
        expect(bytesToHex(serializeScript(d.ops))).toBe(bytesToHex(bytes.subarray(0, end)));
        expect(isPushOnly(bytes)).toBe(!d.truncated && d.ops.every((o) => o.opcode <= Op.OP_16));
      }),
      { numRuns: 3000, seed: 11 },
    );
  });

  it('script numbers round-trip and encode minimally', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 39) + 1, max: 2 ** 39 - 1 }), (v) => {
        const enc = encodeScriptNum(v);
        expect(decodeScriptNum(enc, true, 5)).toBe(v);
        expect(enc.length).toBeLessThanOrEqual(5);
      }),
      { numRuns: 3000, seed: 12 },
    );
  });

  it('a minimal encoding decodes to a value that re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4 }), (bytes) => {
        const v = decodeScriptNumOrNaN(bytes, true, 4);
        if (Number.isNaN(v)) return;
        expect(bytesToHex(encodeScriptNum(v))).toBe(bytesToHex(bytes));
      }),
      { numRuns: 3000, seed: 13 },
    );
  });
});
