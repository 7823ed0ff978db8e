/**
 * GVM-1's memory leaves (read after write, unwritten read, two values differ, equivocation, a value
 * differs from a constant, pc in range), run in
 * Vigil's interpreter under tapscript rules with real Winternitz keys: correct claims are never
 * spendable (honest witness, forgeries), and with a committed value perturbed (one bit, random, edges)
 * a leaf is spendable exactly when its twin says so. Reads after writes and unwritten reads come from
 * real traces (the governance program on seeded workloads, test/machine/trace-samples.ts) and, as
 * before, from random values. Wrong cases are counted by the twin: perturbations are drawn until exactly
 * the count were wrong (`untilWrong`), one that leaves the claim correct judged but not counted. Counts:
 * small here; VIGIL_LONG=1 (memory-leaves.long.test.ts) runs 10,000 each way per leaf kind (traced ones
 * for the two read leaves; VIGIL_GVM_CASES overrides) and 10,000 random reads each way
 * (VIGIL_GVM_RANDOM). The traced reads are not de-duplicated (test/machine/trace-samples.ts samples them
 * evenly, repeats included): over the long suite's 96 workloads its 10,000 reads after writes hold 4,681
 * distinct claims and its 10,000 unwritten reads 1,485 (an unwritten read's claim is its address alone,
 * the value being 0); the wrong cases perturb them afresh each draw.
 */
import { describe, expect, it } from 'vitest';
import {
  differLeaf,
  differsFromLeaf,
  differsFromWitness,
  differWitness,
  equivocationLeaf,
  equivocationWitness,
  isEquivocation,
  isFaultyDiffer,
  isFaultyDiffersFrom,
  isFaultyPc,
  isFaultyReadAfterWrite,
  isFaultyUnwrittenRead,
  pcRangeLeaf,
  pcRangeWitness,
  readAfterWriteLeaf,
  readAfterWriteWitness,
  unwrittenReadLeaf,
  unwrittenReadWitness,
} from '../../../circuits/gvm/memory-leaves.ts';
import { wotsPublicKey } from '../../../src/dispute/winternitz/keys.ts';
import { NONE, smallBytes, smallOf, WORD_MAX, wordBytes, wordOf } from '../../../src/machine/isa.ts';
import type { TraceReadAfterWrite, TraceUnwrittenRead } from '../../machine/trace-samples.ts';
import {
  digitForgeries,
  expectStandardSpend,
  gvmCases,
  gvmRandomCases,
  gvmTraces,
  LONG,
  randomBytes,
  refusesHonest,
  rng,
  spends,
  untilWrong,
  valueSecret,
  withBitFlipped,
  wotsSign,
} from './helpers.ts';

/** Cases per test (differ, pc range): long 10,000 (VIGIL_GVM_CASES). */
const CASES = gvmCases(60);
/**
 * Read-after-write and unwritten-read cases: from real traces (the governance program's reads with the
 * last write before them, or with none; long 10,000 each way, VIGIL_GVM_CASES) and random ones (long
 * 10,000, VIGIL_GVM_RANDOM).
 */
const TRACED = gvmCases(30);
const RANDOM = gvmRandomCases(30);
const TIMEOUT = LONG ? 4 * 3_600_000 : 600_000;
const TRACES = gvmTraces(TRACED);

const secret = (valueIndex: number, messageBytes: number) => valueSecret('9d', 7, valueIndex, messageBytes);
const pub = wotsPublicKey;

const S = { raddr: secret(0, 4), rvalue: secret(1, 32), waddr: secret(2, 4), wvalue: secret(3, 32) };
const RAW = readAfterWriteLeaf({
  raddr: pub(S.raddr),
  rvalue: pub(S.rvalue),
  waddr: pub(S.waddr),
  wvalue: pub(S.wvalue),
}).script;
const UNWRITTEN = unwrittenReadLeaf({ raddr: pub(S.raddr), rvalue: pub(S.rvalue) }).script;

const DIFFER_SIZES = [4, 20, 32];
const DIFFER = new Map(
  DIFFER_SIZES.map((n) => {
    const a = secret(10 + n, n);
    const b = secret(50 + n, n);
    return [n, { a, b, leaf: differLeaf(n, { a: pub(a), b: pub(b) }).script }];
  }),
);

const PC_SECRET = secret(100, 4);
const PROGRAM_LENGTHS = [0, 1, 16, 255, 256, 4097, 0x1234567, NONE, 0xffffffff];
const PC_LEAVES = new Map(PROGRAM_LENGTHS.map((n) => [n, pcRangeLeaf(n, pub(PC_SECRET)).script]));

const rawWitness = (raddr: number, rvalue: bigint, waddr: number, wvalue: bigint) =>
  readAfterWriteWitness({
    raddr: wotsSign(S.raddr, smallBytes(raddr)),
    rvalue: wotsSign(S.rvalue, wordBytes(rvalue)),
    waddr: wotsSign(S.waddr, smallBytes(waddr)),
    wvalue: wotsSign(S.wvalue, wordBytes(wvalue)),
  });
const unwrittenWitness = (raddr: number, rvalue: bigint) =>
  unwrittenReadWitness({
    raddr: wotsSign(S.raddr, smallBytes(raddr)),
    rvalue: wotsSign(S.rvalue, wordBytes(rvalue)),
  });

const randomAddr = (next: () => number) => next() % NONE;
const randomWord = (next: () => number) =>
  wordOf(randomBytes(next, 32)) >> BigInt(next() % 3 === 0 ? 200 : 0);
const u32Edges = [0, 1, NONE - 1, NONE, NONE + 1, 0x7fffffff, 0x80000000, 0xffffffff];
const wordEdges = [0n, 1n, WORD_MAX, 1n << 255n];

/** One bit flipped, a random value, or an edge. */
function otherU32(next: () => number, x: number): number {
  const k = next() % 3;
  if (k === 0) return (x ^ (2 ** (next() % 32))) >>> 0;
  if (k === 1) return next() >>> 0;
  return u32Edges[next() % u32Edges.length] as number;
}
function otherWord(next: () => number, x: bigint): bigint {
  const k = next() % 3;
  if (k === 0) return x ^ (1n << BigInt(next() % 256));
  if (k === 1) return randomWord(next);
  return wordEdges[next() % wordEdges.length] as bigint;
}

const forged = (script: Uint8Array, w: Uint8Array[], next: () => number) =>
  digitForgeries(w, next).some((f) => spends(script, f));

describe('GVM-1 read-after-write leaf', () => {
  it(
    `real traces: a read of the governance program returning the last write cannot be disproved; ${TRACED} cases each way`,
    () => {
      const next = rng(11);
      const samples = TRACES.readsAfterWrite;
      expect(samples.length).toBe(TRACED);
      for (let c = 0; c < TRACED; c++) {
        const { raddr, rvalue, waddr, wvalue } = samples[c] as TraceReadAfterWrite;
        expect(isFaultyReadAfterWrite(raddr, rvalue, waddr, wvalue)).toBe(false);
        const w = rawWitness(raddr, rvalue, waddr, wvalue);
        if (!refusesHonest(RAW, w)) expect.fail(`case ${c}: honest run`);
        if (forged(RAW, w, next)) expect.fail(`case ${c}: forgery spent`);
      }
      // Wrong: the read value perturbed (wrong when it differs); one draw in four the write address
      // instead (another address's claim: never this leaf's to disprove, judged but not counted).
      untilWrong(TRACED, (c) => {
        const { raddr, rvalue, waddr, wvalue } = samples[c % samples.length] as TraceReadAfterWrite;
        const bad = c % 4 === 3 ? rvalue : otherWord(next, rvalue);
        const badAddr = c % 4 === 3 ? otherU32(next, waddr) : waddr;
        const faulty = isFaultyReadAfterWrite(raddr, bad, badAddr, wvalue);
        expect(faulty).toBe(c % 4 !== 3 && bad !== rvalue);
        if (spends(RAW, rawWitness(raddr, bad, badAddr, wvalue)) !== faulty)
          expect.fail(`case ${c}: leaf ≠ twin`);
        return faulty;
      });
    },
    TIMEOUT,
  );

  it(`a read that returns the written word cannot be disproved; others are, exactly as the twin: ${RANDOM} random cases each way`, () => {
    const next = rng(1);
    const written = (c: number): [number, bigint] => [
      c % 5 === 0 ? (u32Edges[c % u32Edges.length] as number) : randomAddr(next),
      c % 7 === 0 ? (wordEdges[c % 4] as bigint) : randomWord(next),
    ];
    for (let c = 0; c < RANDOM; c++) {
      const [addr, value] = written(c);
      // Correct: same address and word.
      expect(isFaultyReadAfterWrite(addr, value, addr, value)).toBe(false);
      const w = rawWitness(addr, value, addr, value);
      if (!refusesHonest(RAW, w)) expect.fail(`case ${c}: honest run`);
      if (forged(RAW, w, next)) expect.fail(`case ${c}: forgery spent`);
      // Read and write values swapped under each other's keys: the signatures fail.
      const swapped = readAfterWriteWitness({
        raddr: wotsSign(S.waddr, smallBytes(addr)),
        rvalue: wotsSign(S.wvalue, wordBytes(value)),
        waddr: wotsSign(S.raddr, smallBytes(addr)),
        wvalue: wotsSign(S.rvalue, wordBytes(value)),
      });
      expect(spends(RAW, swapped)).toBe(false);
      // Every other case, a read of another address with any word: not this leaf's claim, as the twin.
      if (c % 2 === 1) {
        const other = otherU32(next, addr);
        const rvalue = randomWord(next);
        const faulty = isFaultyReadAfterWrite(other, rvalue, addr, value);
        expect(faulty).toBe(other === addr && rvalue !== value);
        if (spends(RAW, rawWitness(other, rvalue, addr, value)) !== faulty) expect.fail(`case ${c}: ≠ twin`);
      }
    }
    // Wrong: the same address read back another word (one equal to the written one is not counted).
    untilWrong(RANDOM, (c) => {
      const [addr, value] = written(c);
      const bad = otherWord(next, value);
      const faulty = isFaultyReadAfterWrite(addr, bad, addr, value);
      expect(faulty).toBe(bad !== value);
      if (spends(RAW, rawWitness(addr, bad, addr, value)) !== faulty) expect.fail(`case ${c}: leaf ≠ twin`);
      return faulty;
    });
  }, 600_000);

  it('is a standard-size leaf with a bounded stack', () => {
    const items = rawWitness(5, 1n, 5, 2n);
    expectStandardSpend(RAW, items);
  });
});

describe('GVM-1 unwritten-read leaf', () => {
  it(
    `real traces: a first read of an address (zero) cannot be disproved; a non-zero one is: ${TRACED} cases each way`,
    () => {
      const next = rng(12);
      const samples = TRACES.unwrittenReads;
      expect(samples.length).toBe(TRACED);
      for (let c = 0; c < TRACED; c++) {
        const { raddr, rvalue } = samples[c] as TraceUnwrittenRead;
        expect(rvalue).toBe(0n);
        expect(isFaultyUnwrittenRead(raddr, rvalue)).toBe(false);
        const w = unwrittenWitness(raddr, rvalue);
        if (!refusesHonest(UNWRITTEN, w)) expect.fail(`case ${c}: honest run`);
        if (forged(UNWRITTEN, w, next)) expect.fail(`case ${c}: forgery spent`);
      }
      // Wrong: the read word perturbed (a zero drawn again is not counted).
      untilWrong(TRACED, (c) => {
        const { raddr, rvalue } = samples[c % samples.length] as TraceUnwrittenRead;
        const bad = otherWord(next, rvalue);
        const faulty = isFaultyUnwrittenRead(raddr, bad);
        expect(faulty).toBe(bad !== 0n);
        if (spends(UNWRITTEN, unwrittenWitness(raddr, bad)) !== faulty) expect.fail(`case ${c}: leaf ≠ twin`);
        return faulty;
      });
    },
    TIMEOUT,
  );

  it(`a zero read (or no read) cannot be disproved; a non-zero read is, exactly as the twin: ${RANDOM} random cases each way`, () => {
    const next = rng(2);
    for (let c = 0; c < RANDOM; c++) {
      const good: [number, bigint] =
        c % 3 === 0
          ? [NONE, randomWord(next)]
          : [c % 5 === 0 ? (u32Edges[c % 8] as number) : randomAddr(next), 0n];
      if (good[0] !== NONE && good[1] !== 0n) expect.fail(`case ${c}: not a correct claim`);
      expect(isFaultyUnwrittenRead(...good)).toBe(false);
      const w = unwrittenWitness(...good);
      if (!refusesHonest(UNWRITTEN, w)) expect.fail(`case ${c}: honest run`);
      if (forged(UNWRITTEN, w, next)) expect.fail(`case ${c}: forgery spent`);
    }
    // Wrong: a read of an address (an edge, a random one, or NONE changed as `otherU32` does) returning
    // another word than 0; NONE or a zero word drawn is judged all the same, not counted.
    untilWrong(RANDOM, (c) => {
      const addr =
        c % 2 === 1 ? otherU32(next, NONE) : c % 5 === 0 ? (u32Edges[c % 8] as number) : randomAddr(next);
      const bad: [number, bigint] = [addr, otherWord(next, 0n)];
      const faulty = isFaultyUnwrittenRead(...bad);
      if (spends(UNWRITTEN, unwrittenWitness(...bad)) !== faulty) expect.fail(`case ${c}: leaf ≠ twin`);
      return faulty;
    });
  }, 600_000);

  it('is a standard-size leaf with a bounded stack', () => {
    const items = unwrittenWitness(3, 9n);
    expectStandardSpend(UNWRITTEN, items);
  });
});

describe('GVM-1 differ leaf (4, 20 and 32-byte values)', () => {
  it(`equal values cannot be disproved; different ones are: ${CASES} cases each way`, () => {
    const next = rng(3);
    const leafOf = (c: number) => {
      const n = DIFFER_SIZES[c % DIFFER_SIZES.length] as number;
      return { n, d: DIFFER.get(n) as NonNullable<ReturnType<typeof DIFFER.get>> };
    };
    const valueA = (c: number, n: number) =>
      c % 11 === 0 ? new Uint8Array(n).fill(c % 2 === 0 ? 0 : 0xff) : randomBytes(next, n);
    for (let c = 0; c < CASES; c++) {
      const { n, d } = leafOf(c);
      const a = valueA(c, n);
      const w = differWitness({ a: wotsSign(d.a, a), b: wotsSign(d.b, a) });
      expect(isFaultyDiffer(a, a.slice())).toBe(false);
      if (!refusesHonest(d.leaf, w)) expect.fail(`case ${c}: honest run`);
      if (forged(d.leaf, w, next)) expect.fail(`case ${c}: forgery spent`);
      // The two signatures swapped (each under the other's key).
      if (spends(d.leaf, differWitness({ a: wotsSign(d.b, a), b: wotsSign(d.a, a) }))) {
        expect.fail(`case ${c}: swapped signatures spent`);
      }
    }
    // Wrong: b perturbed (one bit, random, all 0 or all 1; one drawn equal to a is not counted), on
    // either side.
    untilWrong(CASES, (c) => {
      const { n, d } = leafOf(c);
      const a = valueA(c, n);
      const b = a.slice();
      const k = next() % 3;
      if (k === 0) b.set(withBitFlipped(next, b));
      else if (k === 1) b.set(randomBytes(next, n));
      else b.fill(next() % 2 === 0 ? 0 : 0xff);
      const faulty = isFaultyDiffer(a, b);
      const bw =
        c % 2 === 0
          ? { a: wotsSign(d.a, a), b: wotsSign(d.b, b) }
          : { a: wotsSign(d.a, b), b: wotsSign(d.b, a) };
      if (spends(d.leaf, differWitness(bw)) !== faulty) expect.fail(`case ${c}: leaf ≠ twin`);
      return faulty;
    });
  }, 600_000);

  it('are standard-size leaves with a bounded stack', () => {
    for (const [n, d] of DIFFER) {
      const items = differWitness({
        a: wotsSign(d.a, new Uint8Array(n)),
        b: wotsSign(d.b, new Uint8Array(n).fill(1)),
      });
      expectStandardSpend(d.leaf, items);
    }
    expect(() => isFaultyDiffer(new Uint8Array(4), new Uint8Array(5))).toThrow(RangeError);
  });
});

describe('GVM-1 differs-from leaf (a committed value against a constant of the graph: the pre-state image root)', () => {
  const SIZES = [32, 20, 4];
  const secretOf = (n: number) => secret(120 + n, n);
  const constantOf = (c: number, n: number, next: () => number) =>
    c % 7 === 0 ? new Uint8Array(n).fill(c % 2 === 0 ? 0 : 0xff) : randomBytes(next, n);

  it(`the constant itself cannot be disproved; any other value is: ${CASES} cases each way`, () => {
    const next = rng(21);
    for (let c = 0; c < CASES; c++) {
      const n = SIZES[c % SIZES.length] as number;
      const constant = constantOf(c, n, next);
      const leaf = differsFromLeaf(constant, pub(secretOf(n))).script;
      const w = differsFromWitness(wotsSign(secretOf(n), constant));
      expect(isFaultyDiffersFrom(constant.slice(), constant)).toBe(false);
      if (!refusesHonest(leaf, w)) expect.fail(`case ${c}: honest run`);
      if (forged(leaf, w, next)) expect.fail(`case ${c}: forgery spent`);
      // A value signed under another key of the same size (a stranger's) never spends.
      const stranger = valueSecret('9d', 8, 120 + n, n);
      if (spends(leaf, differsFromWitness(wotsSign(stranger, new Uint8Array(n).fill(1))))) {
        expect.fail(`case ${c}: a signature under another key spent`);
      }
    }
    untilWrong(CASES, (c) => {
      const n = SIZES[c % SIZES.length] as number;
      const constant = constantOf(c, n, next);
      const leaf = differsFromLeaf(constant, pub(secretOf(n))).script;
      const k = next() % 3;
      const value =
        k === 0
          ? withBitFlipped(next, constant)
          : k === 1
            ? randomBytes(next, n)
            : new Uint8Array(n).fill(next() % 2 === 0 ? 0 : 0xff);
      const faulty = isFaultyDiffersFrom(value, constant);
      if (spends(leaf, differsFromWitness(wotsSign(secretOf(n), value))) !== faulty) {
        expect.fail(`case ${c}: leaf ≠ twin`);
      }
      return faulty;
    });
  }, 600_000);

  it('is a standard-size leaf with a bounded stack; sizes must match', () => {
    const constant = new Uint8Array(32).fill(7);
    const leaf = differsFromLeaf(constant, pub(secretOf(32))).script;
    expectStandardSpend(leaf, differsFromWitness(wotsSign(secretOf(32), new Uint8Array(32).fill(8))));
    expect(() => differsFromLeaf(constant, pub(secretOf(20)))).toThrow(RangeError);
    expect(() => isFaultyDiffersFrom(new Uint8Array(4), constant)).toThrow(RangeError);
  });
});

describe('GVM-1 equivocation leaf (two values under one key, §24.7)', () => {
  const SIZES = [20, 32, 4, 1];
  const keyOf = (n: number) => secret(200 + n, n);
  const leaves = new Map(SIZES.map((n) => [n, equivocationLeaf(pub(keyOf(n))).script]));
  /** The witness items of one signature, with every zero digit pushed as `00` (non-minimal). */
  const nonMinimal = (items: Uint8Array[]) =>
    items.map((it, i) => (i % 2 === 1 && it.length === 0 ? Uint8Array.of(0) : it));

  it(`one value signed twice is no equivocation; two values are: ${CASES} cases each way`, () => {
    const next = rng(33);
    for (let c = 0; c < CASES; c++) {
      const n = SIZES[c % SIZES.length] as number;
      const leaf = leaves.get(n) as Uint8Array;
      const v = c % 5 === 0 ? new Uint8Array(n) : randomBytes(next, n);
      const sig = wotsSign(keyOf(n), v);
      expect(isEquivocation(v, v.slice())).toBe(false);
      // The same signature twice, and the same value with its zero digits encoded non-minimally.
      for (const w of [
        equivocationWitness(sig, sig),
        [
          ...nonMinimal(equivocationWitness(sig, sig).slice(0, sig.hashes.length * 2)),
          ...equivocationWitness(sig, sig).slice(sig.hashes.length * 2),
        ],
      ]) {
        if (!refusesHonest(leaf, w)) expect.fail(`case ${c}: one value signed twice`);
      }
      // A third party holding the one signature raises a digit of a copy (the only forgery it can
      // make): the checksum refuses it, on either side.
      const items = equivocationWitness(sig, sig);
      const half = items.length / 2;
      for (const forged of digitForgeries(items.slice(half), next)) {
        if (spends(leaf, [...items.slice(0, half), ...forged]))
          expect.fail(`case ${c}: a forged second signature spent`);
        if (spends(leaf, [...forged, ...items.slice(half)]))
          expect.fail(`case ${c}: a forged first signature spent`);
      }
      // Two values, but the second signed under another key of the same size.
      const w = randomBytes(next, n);
      if (!isEquivocation(v, w)) continue;
      const stranger = valueSecret('9d', 9, 200 + n, n);
      if (spends(leaf, equivocationWitness(sig, wotsSign(stranger, w)))) {
        expect.fail(`case ${c}: a value under another key spent`);
      }
    }
    untilWrong(CASES, (c) => {
      const n = SIZES[c % SIZES.length] as number;
      const leaf = leaves.get(n) as Uint8Array;
      const a = randomBytes(next, n);
      const b = next() % 2 === 0 ? withBitFlipped(next, a) : randomBytes(next, n);
      const twice = isEquivocation(a, b);
      const w =
        c % 2 === 0
          ? equivocationWitness(wotsSign(keyOf(n), a), wotsSign(keyOf(n), b))
          : equivocationWitness(wotsSign(keyOf(n), b), wotsSign(keyOf(n), a));
      if (spends(leaf, w) !== twice) expect.fail(`case ${c}: leaf ≠ twin`);
      return twice;
    });
  }, 600_000);

  it('is a standard-size leaf with a bounded stack: 6.6 kB of script for a 20-byte chain value', () => {
    const leaf = leaves.get(20) as Uint8Array;
    expect(leaf.length).toBeLessThan(7_000);
    expectStandardSpend(
      leaf,
      equivocationWitness(
        wotsSign(keyOf(20), new Uint8Array(20)),
        wotsSign(keyOf(20), new Uint8Array(20).fill(9)),
      ),
    );
  });
});

describe('GVM-1 leaves: covenant', () => {
  it('checks the covenant keys first, each with OP_CHECKSIGVERIFY, before any Winternitz verification', () => {
    const k1 = new Uint8Array(32).fill(0x11);
    const k2 = new Uint8Array(32).fill(0x22);
    const bare = pcRangeLeaf(7, pub(PC_SECRET)).script;
    const withCovenant = pcRangeLeaf(7, pub(PC_SECRET), [k1, k2]).script;
    const prefix = Uint8Array.of(0x20, ...k1, 0xad, 0x20, ...k2, 0xad);
    expect(withCovenant.slice(0, prefix.length)).toEqual(prefix);
    expect(withCovenant.slice(prefix.length)).toEqual(bare);
  });
});

describe('GVM-1 pc-range leaf', () => {
  it(`a pc inside the program cannot be disproved; one outside (any u32) is: ${CASES} cases each way`, () => {
    const next = rng(4);
    // Correct: a pc inside a program of each non-empty length in turn (its last, its first, or any).
    const nonEmpty = PROGRAM_LENGTHS.filter((n) => n > 0);
    for (let c = 0; c < CASES; c++) {
      const length = nonEmpty[c % nonEmpty.length] as number;
      const leaf = PC_LEAVES.get(length) as Uint8Array;
      const pc = c % 4 === 0 ? length - 1 : c % 4 === 1 ? 0 : next() % length;
      expect(isFaultyPc(pc, length)).toBe(false);
      const w = pcRangeWitness(wotsSign(PC_SECRET, smallBytes(pc)));
      if (!refusesHonest(leaf, w)) expect.fail(`case ${c}: honest run`);
      if (forged(leaf, w, next)) expect.fail(`case ${c}: forgery spent`);
    }
    // Wrong: a pc at or past the end of each length in turn (the empty program included); a u32 drawn
    // inside is judged all the same, not counted.
    untilWrong(CASES, (c) => {
      const length = PROGRAM_LENGTHS[c % PROGRAM_LENGTHS.length] as number;
      const leaf = PC_LEAVES.get(length) as Uint8Array;
      const k = next() % 4;
      const pc =
        k === 0 ? length : k === 1 ? otherU32(next, length) : k === 2 ? length + (next() % 1000) : 0xffffffff;
      const bad = Math.min(pc, 0xffffffff);
      const faulty = isFaultyPc(bad, length);
      const ok = spends(leaf, pcRangeWitness(wotsSign(PC_SECRET, smallBytes(bad))));
      if (ok !== faulty)
        expect.fail(`case ${c} (pc ${bad}, length ${length}): leaf ${ok} but twin ${faulty}`);
      return faulty;
    });
  }, 600_000);

  it('compares every nibble: pcs one below and at the bound, around each digit', () => {
    for (const length of [0x10, 0x100, 0x1000, 0x10000000, NONE, 0x12345678]) {
      const leaf = pcRangeLeaf(length, pub(PC_SECRET)).script;
      for (const raw of [length - 1, length, length + 1, smallOf(smallBytes(length)) ^ 0x80000000]) {
        const pc = raw >>> 0;
        expect(isFaultyPc(pc, length)).toBe(pc >= length);
        expect(spends(leaf, pcRangeWitness(wotsSign(PC_SECRET, smallBytes(pc))))).toBe(pc >= length);
      }
    }
  });

  it('is a standard-size leaf with a bounded stack', () => {
    const leaf = PC_LEAVES.get(16) as Uint8Array;
    const items = pcRangeWitness(wotsSign(PC_SECRET, smallBytes(16)));
    expectStandardSpend(leaf, items);
  });
});
