/**
 * BLAKE3: the TypeScript reference against the official vectors, and the tapscript gadget against the
 * reference, executed in Vigil's interpreter under tapscript rules and the consensus limits.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { blake3Gadget } from '../../circuits/blake3.ts';
import { blake3, blake3Node } from '../../circuits/blake3-reference.ts';
import { NoSignatureChecker } from '../../src/bitcoin/script/checker.ts';
import { runScript, ScriptExecution } from '../../src/bitcoin/script/interpreter.ts';
import { encodeScriptNum } from '../../src/bitcoin/script/num.ts';
import { bytesToHex } from '../../src/core/bytes.ts';
import { messageToDigits } from '../../src/dispute/winternitz/digits.ts';
import { randomBytes, rng } from './helpers.ts';

type Vectors = { cases: { input_len: number; hash: string }[] };
const vectors = JSON.parse(
  readFileSync(new URL('../fixtures/blake3_official_test_vectors.json', import.meta.url), 'utf8'),
) as Vectors;
const vectorInput = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 251);

const digitsStack = (bytes: Uint8Array) => messageToDigits(bytes).map((d) => encodeScriptNum(d));
const stackNumbers = (stack: readonly Uint8Array[]) =>
  stack.map((x) => (x.length === 0 ? 0 : (x[0] as number)));

/** Runs a script step by step and returns the largest stack + altstack size it reached. */
function measuredMaxStack(script: Uint8Array, stack: Uint8Array[]): { error: string; max: number } {
  const e = new ScriptExecution({
    script,
    stack,
    flags: 0,
    checker: NoSignatureChecker,
    sigVersion: 'tapscript',
  });
  let max = stack.length;
  while (e.step() === 'running') max = Math.max(max, e.stack.length + e.altstack.length);
  max = Math.max(max, e.stack.length + e.altstack.length);
  return { error: e.error as string, max };
}

describe('BLAKE3 reference', () => {
  it('matches every official vector (hash mode, 32-byte output, all lengths)', () => {
    expect(vectors.cases.length).toBeGreaterThan(30);
    for (const c of vectors.cases) {
      expect(bytesToHex(blake3(vectorInput(c.input_len))), `input_len ${c.input_len}`).toBe(
        c.hash.slice(0, 64),
      );
    }
  });

  it('blake3Node is the hash of exactly 64 bytes', () => {
    const c = vectors.cases.find((v) => v.input_len === 64);
    expect(c).toBeDefined();
    expect(bytesToHex(blake3Node(vectorInput(64)))).toBe(c?.hash.slice(0, 64));
    const next = rng(7);
    for (let i = 0; i < 50; i++) {
      const m = randomBytes(next, 64);
      expect(blake3Node(m)).toEqual(blake3(m));
    }
    expect(() => blake3Node(new Uint8Array(63))).toThrow(RangeError);
  });
});

describe('BLAKE3 gadget (one 64-byte block)', () => {
  const digest = blake3Gadget('digest');
  const notEqual = blake3Gadget('notEqual');
  const equal = blake3Gadget('equal');

  it('is no larger than BitVM (68.7 KB, stack 657) and within the tapscript stack limit', () => {
    expect(digest.script.length).toBeLessThanOrEqual(68_700);
    expect(notEqual.script.length).toBeLessThanOrEqual(68_700);
    expect(digest.maxStack).toBeLessThanOrEqual(657);
    expect(notEqual.maxStack).toBeLessThanOrEqual(1000);
    expect(digest.inputItems).toBe(128);
    expect(notEqual.inputItems).toBe(192);
  });

  it('computes the official 64-byte vector, leaving exactly the digest digits', () => {
    const input = vectorInput(64);
    const r = runScript(digest.script, { stack: digitsStack(input) });
    expect(r.error).toBe('OK');
    expect(r.altstack).toHaveLength(0);
    const want = vectors.cases.find((v) => v.input_len === 64)?.hash.slice(0, 64) ?? '';
    expect(stackNumbers(r.stack)).toEqual(messageToDigits(Uint8Array.from(Buffer.from(want, 'hex'))));
  });

  it('equals the reference on random messages (and on all-zero and all-0xff ones)', () => {
    const next = rng(2026);
    const messages = [new Uint8Array(64), new Uint8Array(64).fill(0xff)];
    for (let i = 0; i < 24; i++) messages.push(randomBytes(next, 64));
    for (const m of messages) {
      const r = runScript(digest.script, { stack: digitsStack(m) });
      expect(r.error).toBe('OK');
      expect(stackNumbers(r.stack)).toEqual(messageToDigits(blake3Node(m)));
    }
  });

  it('H(left ‖ right): the digits of right, then those of left', () => {
    const next = rng(99);
    const left = randomBytes(next, 32);
    const right = randomBytes(next, 32);
    const node = new Uint8Array(64);
    node.set(left);
    node.set(right, 32);
    const stack = [...digitsStack(right), ...digitsStack(left)];
    const r = runScript(digest.script, { stack });
    expect(stackNumbers(r.stack)).toEqual(messageToDigits(blake3Node(node)));
  });

  it('the compare variants end true exactly when they should, for any wrong nibble of the digest', () => {
    const next = rng(5);
    for (let i = 0; i < 8; i++) {
      const m = randomBytes(next, 64);
      const good = blake3Node(m);
      const bad = good.slice();
      const byte = next() % 32;
      bad[byte] = (bad[byte] as number) ^ (1 << (next() % 8));
      for (const [expected, same] of [
        [good, true],
        [bad, false],
      ] as const) {
        const stack = [...digitsStack(expected), ...digitsStack(m)];
        const ne = runScript(notEqual.script, { stack });
        expect(ne.error).toBe('OK');
        expect(ne.altstack).toHaveLength(0);
        expect(stackNumbers(ne.stack)).toEqual([same ? 0 : 1]);
        const eq = runScript(equal.script, { stack });
        expect(stackNumbers(eq.stack)).toEqual([same ? 1 : 0]);
      }
    }
  });

  it("the generator's max stack is what the interpreter reaches", () => {
    const m = randomBytes(rng(11), 64);
    const d = measuredMaxStack(digest.script, digitsStack(m));
    expect(d.error).toBe('OK');
    expect(d.max).toBe(digest.maxStack);
    const n = measuredMaxStack(notEqual.script, [...digitsStack(blake3Node(m)), ...digitsStack(m)]);
    expect(n.error).toBe('OK');
    expect(n.max).toBe(notEqual.maxStack);
  });
});
