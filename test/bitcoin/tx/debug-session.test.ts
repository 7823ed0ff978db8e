import { describe, expect, it } from 'vitest';
import { STANDARD_FLAGS } from '../../../src/bitcoin/script/flags.ts';
import { TxDebugSession } from '../../../src/bitcoin/tx/debug-session.ts';
import { cloneTx } from '../../../src/bitcoin/tx/serialize.ts';
import { verifyTransaction } from '../../../src/bitcoin/tx/verify.ts';
import { signedFixture } from '../../../testkit/bitcoin/tx/signed-fixtures.ts';

describe('TxDebugSession', () => {
  const f = signedFixture(['p2pkh', 'p2wpkh', 'p2tr-key', 'p2tr-script']);

  it.each([
    [0, ['scriptSig', 'scriptPubKey']],
    [1, ['scriptSig', 'scriptPubKey', 'witnessScript']],
    [2, ['scriptSig', 'scriptPubKey']],
    [3, ['scriptSig', 'scriptPubKey', 'tapscript']],
  ] as const)('input %i runs the stages Core runs, to the verifier’s verdict', (input, stages) => {
    const s = new TxDebugSession(f.tx, f.prevouts, input, STANDARD_FLAGS);
    let guard = 0;
    while (!s.finished && guard++ < 1000) s.execute('step');
    expect(s.result).toEqual({ ok: true });
    // Empty scripts (the scriptSig of a segwit spend) are entered and left without a step.
    expect([...new Set(s.stagesSeen)]).toEqual(stages);
    expect(s.execute('info')).toEqual(['verification finished: OK']);
  });

  it('stops at breakpoints in later scripts and shows the stacks there', () => {
    const s = new TxDebugSession(f.tx, f.prevouts, 3, STANDARD_FLAGS);
    expect(s.execute('break tapscript:1')).toEqual(['breakpoint at tapscript:1']);
    const out = s.execute('continue');
    // scriptPubKey OP_1 <program> (2), then the tapscript key push (1).
    expect(out[0]).toBe('ran 3 instructions (breakpoint)');
    expect(out.at(-1)).toMatch(/^tapscript #1 next: OP_CHECKSIG {3}stack depth 2$/);
    const stacks = s.execute('stack');
    expect(stacks[0]).toBe('stack (top first):');
    // Top: the pushed x-only key; below: the 64-byte signature from the witness.
    expect(stacks[1]).toMatch(/^ {2}0: [0-9a-f]{64}$/);
    expect(stacks[2]).toMatch(/^ {2}1: [0-9a-f]{128}$/);
    expect(s.execute('script')).toEqual([
      'tapscript:',
      `   #0 <0x${stacks[1]!.slice(5)}>`,
      '->*#1 OP_CHECKSIG',
    ]);
    expect(s.execute('continue').at(-1)).toBe('verification finished: OK');
  });

  it('ends a failing input with the verifier’s error and position', () => {
    const bad = cloneTx(f.tx);
    bad.inputs[0]!.scriptSig = bad.inputs[0]!.scriptSig.slice(0, -1);
    const want = verifyTransaction(bad, f.prevouts, STANDARD_FLAGS, { inputs: [0] }).inputs[0]!;
    const s = new TxDebugSession(bad, f.prevouts, 0, STANDARD_FLAGS);
    s.execute('continue');
    if (want.ok) throw new Error('expected a failure');
    expect(s.result).toMatchObject({ ok: false, error: want.error });
  });

  it('answers bad commands without changing state', () => {
    const s = new TxDebugSession(f.tx, f.prevouts, 0, STANDARD_FLAGS);
    const before = s.execute('info');
    expect(s.execute('frobnicate')).toEqual(['unknown command "frobnicate" (try help)']);
    expect(s.execute('step 0')).toEqual(['step takes a positive count, got "0"']);
    expect(s.execute('break x')).toEqual(['break needs an instruction index or <stage>:<index>']);
    expect(s.execute('delete 9')).toEqual(['no breakpoint at scriptSig:9']);
    expect(s.execute('info')).toEqual(before);
  });
});
