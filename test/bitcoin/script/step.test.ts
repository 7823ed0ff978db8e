/**
 * The step API: one instruction at a time through the same loop as a full run, with the state a
 * debugger shows (stacks, condition stack, position, remaining script, error position).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asmToScript } from '../../../src/bitcoin/script/asm.ts';
import { NoSignatureChecker } from '../../../src/bitcoin/script/checker.ts';
import { parseFlags, ScriptFlag } from '../../../src/bitcoin/script/flags.ts';
import { runScript, ScriptExecution } from '../../../src/bitcoin/script/interpreter.ts';
import { Op } from '../../../src/bitcoin/script/opcodes.ts';
import { verifyScript, verifyScriptStages } from '../../../src/bitcoin/script/verify.ts';
import { bytesToHex, hexToBytes } from '../../../src/core/bytes.ts';
import { hash160 } from '../../../src/core/hashes.ts';
import { buildCreditingTransaction, buildSpendingTransaction, spendChecker } from './vectors.ts';

const hex = (stack: readonly Uint8Array[]) => stack.map(bytesToHex);

function exec(script: Uint8Array, stack: Uint8Array[] = [], sigVersion: 'base' | 'tapscript' = 'base') {
  return new ScriptExecution({
    script,
    stack,
    flags: ScriptFlag.P2SH,
    checker: NoSignatureChecker,
    sigVersion,
    execData: { codeseparatorPos: 0xffffffff, validationWeightLeft: 1000 },
  });
}

describe('step API', () => {
  it('exposes stack, altstack, condition stack, position and remaining script after each step', () => {
    const script = asmToScript('1 2 0 IF TOALTSTACK ELSE TOALTSTACK 0x0103 ENDIF DEPTH');
    const e = exec(script);
    const trace: unknown[] = [];
    while (!e.done) {
      e.step();
      trace.push({
        index: e.opcodeIndex,
        offset: e.byteOffset,
        stack: hex(e.stack),
        alt: hex(e.altstack),
        cond: e.conditionStack,
        remaining: bytesToHex(e.remainingScript),
      });
    }
    expect(e.status).toBe('ok');
    expect(trace).toEqual([
      { index: 1, offset: 1, stack: ['01'], alt: [], cond: [], remaining: '5200636b676b01036874' },
      { index: 2, offset: 2, stack: ['01', '02'], alt: [], cond: [], remaining: '00636b676b01036874' },
      { index: 3, offset: 3, stack: ['01', '02', ''], alt: [], cond: [], remaining: '636b676b01036874' },
      { index: 4, offset: 4, stack: ['01', '02'], alt: [], cond: [false], remaining: '6b676b01036874' },
      { index: 5, offset: 5, stack: ['01', '02'], alt: [], cond: [false], remaining: '676b01036874' },
      { index: 6, offset: 6, stack: ['01', '02'], alt: [], cond: [true], remaining: '6b01036874' },
      { index: 7, offset: 7, stack: ['01'], alt: ['02'], cond: [true], remaining: '01036874' },
      { index: 8, offset: 9, stack: ['01', '03'], alt: ['02'], cond: [true], remaining: '6874' },
      { index: 9, offset: 10, stack: ['01', '03'], alt: ['02'], cond: [], remaining: '74' },
      { index: 10, offset: 11, stack: ['01', '03', '02'], alt: ['02'], cond: [], remaining: '' },
    ]);
  });

  it('reports the failing instruction and stops', () => {
    const e = exec(asmToScript('1 2 EQUALVERIFY 3'));
    expect(e.nextInstruction).toEqual({ opcode: Op.OP_1, offset: 0 });
    expect(e.step()).toBe('running');
    expect(e.step()).toBe('running');
    expect(e.step()).toBe('error');
    expect(e.error).toBe('EQUALVERIFY');
    expect(e.errorOpcodeIndex).toBe(2);
    expect(e.step()).toBe('error');
    expect(e.opcodeIndex).toBe(2);
  });

  it('a truncated tail fails when reached, not before', () => {
    const e = exec(hexToBytes('514c'));
    expect(e.step()).toBe('running');
    expect(e.nextInstruction).toEqual({ opcode: -1, offset: 1 });
    expect(e.step()).toBe('error');
    expect(e.error).toBe('BAD_OPCODE');
    expect(e.errorOpcodeIndex).toBe(1);
  });

  it('an empty script is done at once; an open IF is UNBALANCED_CONDITIONAL at the end', () => {
    expect(exec(new Uint8Array(0)).status).toBe('ok');
    const e = exec(asmToScript('1 IF'));
    e.step();
    expect(e.conditionStack).toEqual([]);
    e.step();
    expect(e.conditionStack).toEqual([true]);
    expect(e.error).toBe('UNBALANCED_CONDITIONAL');
  });

  it('verifyScript failures name the script and instruction', () => {
    const r = verifyScript(
      asmToScript('1'),
      asmToScript('2 EQUALVERIFY 1'),
      [],
      ScriptFlag.P2SH,
      NoSignatureChecker,
    );
    expect(r).toEqual({
      ok: false,
      error: 'EQUALVERIFY',
      script: 'scriptPubKey',
      opcodeIndex: 1,
      byteOffset: 1,
    });
  });
});

describe('failure positions', () => {
  it('an unbalanced IF is reported just past the last instruction', () => {
    const spk = asmToScript('IF 1');
    const r = verifyScript(asmToScript('1'), spk, [], ScriptFlag.P2SH, NoSignatureChecker);
    expect(r).toEqual({
      ok: false,
      error: 'UNBALANCED_CONDITIONAL',
      script: 'scriptPubKey',
      opcodeIndex: 2,
      byteOffset: spk.length,
    });
  });

  it('a failing redeem script is named', () => {
    const redeem = asmToScript('2 EQUAL');
    const spk = new Uint8Array([0xa9, 0x14, ...hash160(redeem), 0x87]);
    const scriptSig = new Uint8Array([0x51, redeem.length, ...redeem]);
    const r = verifyScript(scriptSig, spk, [], ScriptFlag.P2SH, NoSignatureChecker);
    expect(r).toEqual({ ok: false, error: 'EVAL_FALSE', script: 'redeemScript' });
  });
});

describe('off-chain limits', () => {
  const pushes = new Uint8Array(1500).fill(Op.OP_1);
  it('consensus default: 1000 elements', () => {
    const e = exec(pushes, [], 'tapscript');
    expect(e.run()).toBe('STACK_SIZE');
    expect(e.errorOpcodeIndex).toBe(1000);
  });
  it('maxStackSize: Infinity lifts it for circuit work', () => {
    const e = new ScriptExecution({
      script: pushes,
      flags: 0,
      checker: NoSignatureChecker,
      sigVersion: 'tapscript',
      limits: { maxStackSize: Number.POSITIVE_INFINITY },
    });
    expect(e.run()).toBe('OK');
    expect(e.stack.length).toBe(1500);
  });
  it('maxElementSize lifts the 520-byte push limit', () => {
    const script = new Uint8Array([Op.OP_PUSHDATA2, 0x10, 0x02, ...new Uint8Array(0x210)]);
    expect(exec(script).run()).toBe('PUSH_SIZE');
    const e = new ScriptExecution({
      script,
      flags: 0,
      checker: NoSignatureChecker,
      sigVersion: 'base',
      limits: { maxElementSize: 4096 },
    });
    expect(e.run()).toBe('OK');
  });
});

/** Drives verifyScriptStages one instruction at a time: must agree with verifyScript. */
function verifyByStepping(...args: Parameters<typeof verifyScript>) {
  const stages = verifyScriptStages(...args);
  let steps = 0;
  let r = stages.next();
  while (!r.done) {
    const e = r.value.execution;
    while (!e.done) {
      e.step();
      steps++;
    }
    r = stages.next();
  }
  return { result: r.value, steps };
}

describe('stepping and running agree', () => {
  it('on every row of script_tests.json', () => {
    const rows = JSON.parse(readFileSync('test/fixtures/script_tests.json', 'utf8')) as unknown[][];
    let compared = 0;
    for (const row of rows) {
      if (row.length === 1) continue;
      const off = Array.isArray(row[0]) ? 1 : 0;
      const w = off ? (row[0] as unknown[]) : [0];
      const witness = w.slice(0, -1).map((h) => hexToBytes(h as string));
      const value = BigInt(Math.round((w[w.length - 1] as number) * 1e8));
      const scriptSig = asmToScript(row[off] as string);
      const spk = asmToScript(row[off + 1] as string);
      let flags = parseFlags(row[off + 2] as string);
      if (flags & ScriptFlag.CLEANSTACK) flags |= ScriptFlag.P2SH | ScriptFlag.WITNESS;
      const credit = buildCreditingTransaction(spk, value);
      const spend = buildSpendingTransaction(scriptSig, witness, credit);
      const full = verifyScript(scriptSig, spk, witness, flags, spendChecker(spend, credit));
      const stepped = verifyByStepping(scriptSig, spk, witness, flags, spendChecker(spend, credit));
      expect(stepped.result).toEqual(full);
      compared++;
    }
    expect(compared).toBeGreaterThan(1200);
  });

  // Opcodes a random script is built from: pushes, small numbers, stack, arithmetic, flow, hashes.
  const ALPHABET = [
    0x00, 0x01, 0x02, 0x4c, 0x4f, 0x51, 0x52, 0x53, 0x60, 0x61, 0x63, 0x64, 0x67, 0x68, 0x69, 0x6a, 0x6b,
    0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c,
    0x7d, 0x82, 0x87, 0x88, 0x8b, 0x8c, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e,
    0x9f, 0xa0, 0xa3, 0xa4, 0xa5, 0xa8, 0xa9, 0xab, 0xba, 0x50, 0xff,
  ];
  const arbScript = fc
    .array(fc.constantFrom(...ALPHABET), { maxLength: 40 })
    .map((ops) => Uint8Array.from(ops));
  const arbStack = fc.array(fc.uint8Array({ maxLength: 5 }), { maxLength: 6 });

  it('on random scripts: same verdict, position and final stacks', () => {
    fc.assert(
      fc.property(
        arbScript,
        arbStack,
        fc.constantFrom<'base' | 'tapscript'>('base', 'tapscript'),
        (script, stack, sv) => {
          const a = exec(script, stack, sv);
          a.run();
          const b = exec(script, stack, sv);
          while (!b.done) b.step();
          expect(b.error).toBe(a.error);
          expect(b.errorOpcodeIndex).toBe(a.errorOpcodeIndex);
          expect(hex(b.stack)).toEqual(hex(a.stack));
          expect(hex(b.altstack)).toEqual(hex(a.altstack));
          expect(b.conditionStack).toEqual(a.conditionStack);
        },
      ),
      { numRuns: 2000, seed: 5 },
    );
  });
});

describe('runScript (circuit work)', () => {
  it('runs a tapscript outside any transaction', () => {
    const r = runScript(asmToScript('2 3 ADD 5 EQUAL'));
    expect(r.error).toBe('OK');
    expect(hex(r.stack)).toEqual(['01']);
  });
  it('signature checks fail, so a CHECKSIG with a signature aborts in tapscript', () => {
    const script = new Uint8Array([0x20, ...new Uint8Array(32).fill(2), Op.OP_CHECKSIG]);
    expect(runScript(script, { stack: [new Uint8Array(64)] }).error).toBe('SCHNORR_SIG');
    expect(hex(runScript(script, { stack: [new Uint8Array(0)] }).stack)).toEqual(['']);
  });
  it('lifts the stack limit only when asked', () => {
    const pushes = new Uint8Array(1200).fill(Op.OP_1);
    expect(runScript(pushes).error).toBe('STACK_SIZE');
    expect(runScript(pushes, { limits: { maxStackSize: Number.POSITIVE_INFINITY } }).stack.length).toBe(1200);
  });
});
