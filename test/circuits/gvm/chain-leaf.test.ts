/**
 * The trace-chain link leaf of GVM-1, run in Vigil's interpreter under tapscript rules with real
 * Winternitz keys: a link computed with `chainNext` over steps produced by `execute` can never be spent
 * (honest witness, forgeries), and with any committed value perturbed it is spendable exactly when its
 * twin says `chainNext(h, step) ≠ hNext`. The links come from real traces (the governance program's trace
 * chain on seeded workloads, test/machine/trace-samples.ts) and, as before, from random steps and
 * hashes. Wrong cases are counted by the twin: perturbations are drawn until exactly the count were
 * wrong (`untilWrong`), a value drawn equal to the old one judged but not counted. Counts: small here;
 * VIGIL_LONG=1 (chain-leaf.long.test.ts) runs 10,000 traced links each way (VIGIL_GVM_CASES overrides)
 * and 10,000 random ones each way (VIGIL_GVM_RANDOM).
 */
import { describe, expect, it } from 'vitest';
import {
  CHAIN_LINK_FIELDS,
  type ChainLinkField,
  type ChainLinkKeys,
  type ChainLinkSignatures,
  chainFieldBytes,
  chainLinkLeaf,
  chainLinkValues,
  chainLinkWitness,
  isFaultyChainLink,
} from '../../../circuits/gvm/chain-leaf.ts';
import { concatBytes, equalBytes } from '../../../src/core/bytes.ts';
import { chainMessage, chainNext } from '../../../src/machine/chain.ts';
import { type Instruction, NONE, type StepRecord, smallOf, wordOf } from '../../../src/machine/isa.ts';
import { execute } from '../../../src/machine/semantics.ts';
import type { TraceLink } from '../../machine/trace-samples.ts';
import {
  digitForgeries,
  expectStandardSpend,
  fieldSecrets,
  gvmCases,
  gvmRandomCases,
  gvmTraces,
  honestRunFault,
  LONG,
  publicKeysOf,
  randomBytes,
  rng,
  signFields,
  spends,
  untilWrong,
  withBitFlipped,
} from './helpers.ts';

/** Links from real traces (long: 10,000, VIGIL_GVM_CASES) and random ones (long: 10,000, VIGIL_GVM_RANDOM). */
const CASES = gvmCases(40);
const RANDOM = gvmRandomCases(40);
const TIMEOUT = LONG ? 4 * 3_600_000 : 600_000;
const LINKS = gvmTraces(CASES).links;

const SECRETS = fieldSecrets(CHAIN_LINK_FIELDS, 'c4', 3, chainFieldBytes);
const KEYS: ChainLinkKeys = publicKeysOf(CHAIN_LINK_FIELDS, SECRETS);
const LEAF = chainLinkLeaf(KEYS).script;

const signValues = (v: Record<ChainLinkField, Uint8Array>): ChainLinkSignatures =>
  signFields(CHAIN_LINK_FIELDS, SECRETS, (f) => v[f]);

/** A step of a random instruction, run by `execute` on random memory (faults and halts included). */
function randomStep(next: () => number): StepRecord {
  const addr = () => next() % NONE;
  const mem = {
    read: (_: number) => (next() % 3 === 0 ? BigInt(next() % 64) : wordOf(randomBytes(next, 32))),
  };
  const tape = { word: () => wordOf(randomBytes(next, 32)) };
  const pc = next() % 4 === 0 ? NONE - 1 : next() % 5000;
  const choices: Instruction[] = [
    { op: 'add', dst: addr(), x: { mem: addr() }, y: { imm: BigInt(next()) } },
    { op: 'hash', dst: addr(), x: { mem: addr() }, y: { mem: addr() } },
    { op: 'mov', dst: addr(), x: { imm: 5n } },
    { op: 'load', dst: addr(), ptr: addr(), offset: next() % 100 },
    { op: 'store', ptr: addr(), offset: next() % 100, x: { mem: addr() } },
    { op: 'tape', dst: addr(), pos: addr() },
    { op: 'jmp', target: next() % 5000 },
    { op: 'jz', x: addr(), target: next() % 5000 },
    { op: 'halt', result: addr() },
  ];
  return execute(pc, choices[next() % choices.length] as Instruction, mem, tape);
}

function perturbed(next: () => number, bytes: Uint8Array, kind: number): Uint8Array {
  if (kind === 0) return withBitFlipped(next, bytes);
  if (kind === 1) return randomBytes(next, bytes.length);
  return next() % 2 === 0 ? new Uint8Array(bytes.length) : new Uint8Array(bytes.length).fill(0xff);
}

/** The link's values read back as (h, step, hNext), for the twin. */
function linkOf(v: Record<ChainLinkField, Uint8Array>): [Uint8Array, StepRecord, Uint8Array] {
  const step: StepRecord = {
    pc: smallOf(v.pc),
    r1: { addr: NONE, value: 0n },
    r2: { addr: NONE, value: 0n },
    w: { addr: smallOf(v.waddr), value: wordOf(v.wvalue) },
    nextPc: smallOf(v.nextPc),
  };
  return [v.h, step, v.hNext];
}

/** Honest witness run to the end (false left), then four forgeries from its signatures, per link. */
function checkCorrect(next: () => number, cases: number, source: (c: number) => TraceLink): void {
  let runs = 0;
  for (let c = 0; c < cases; c++) {
    const { h, step, hNext } = source(c);
    expect(equalBytes(hNext, chainNext(h, step))).toBe(true);
    expect(isFaultyChainLink(h, step, hNext)).toBe(false);
    const sigs = signValues(chainLinkValues(h, step, hNext));
    const fault = honestRunFault(LEAF, chainLinkWitness(sigs));
    if (fault !== undefined) expect.fail(`case ${c}: honest run ${fault}`);
    const witnesses = [
      ...digitForgeries(chainLinkWitness(sigs), next),
      chainLinkWitness({ ...sigs, h: sigs.hNext, hNext: sigs.h }),
      chainLinkWitness({ ...sigs, pc: sigs.nextPc, nextPc: sigs.pc }),
      chainLinkWitness({ ...sigs, pc: sigs.waddr, waddr: sigs.pc }),
    ];
    for (const w of witnesses) {
      runs++;
      if (spends(LEAF, w)) expect.fail(`case ${c}: a correct link was disproved`);
    }
  }
  expect(runs).toBe(cases * 5);
}

/**
 * One committed value perturbed per draw, each field in turn, until `cases` draws were wrong (a value
 * drawn equal to the old one is judged all the same, not counted): the leaf spends exactly when the
 * twin says.
 */
function checkWrong(next: () => number, cases: number, source: (c: number) => TraceLink): void {
  untilWrong(cases, (c) => {
    const { h, step, hNext } = source(c);
    const v = chainLinkValues(h, step, hNext);
    const f = CHAIN_LINK_FIELDS[c % CHAIN_LINK_FIELDS.length] as ChainLinkField;
    const changed = { ...v, [f]: perturbed(next, v[f], next() % 3) };
    const faulty = isFaultyChainLink(...linkOf(changed));
    expect(faulty).toBe(!equalBytes(changed[f], v[f]));
    const ok = spends(LEAF, chainLinkWitness(signValues(changed)));
    if (ok !== faulty) expect.fail(`case ${c} (${f}): leaf ${ok} but twin ${faulty}`);
    return faulty;
  });
}

describe('GVM-1 trace-chain link leaf (BLAKE3 of h ‖ pc ‖ nextPc ‖ waddr ‖ wvalue, first 20 bytes)', () => {
  it('commits the chain block field by field and is a standard-size leaf with a bounded stack', () => {
    const next = rng(9);
    const h = randomBytes(next, 20);
    const step = randomStep(next);
    const v = chainLinkValues(h, step, randomBytes(next, 20));
    expect(equalBytes(concatBytes(v.h, v.pc, v.nextPc, v.waddr, v.wvalue), chainMessage(h, step))).toBe(true);
    const items = chainLinkWitness(signValues(v));
    expectStandardSpend(LEAF, items);
  });

  it(
    `real traces: a link of the governance program's trace chain cannot be disproved: ${CASES} cases, honest witness and forgeries`,
    () => {
      expect(LINKS.length).toBe(CASES);
      checkCorrect(rng(32), CASES, (c) => LINKS[c] as TraceLink);
    },
    TIMEOUT,
  );

  it(
    `real traces: a link with a committed value perturbed is disproved exactly when its twin says so: ${CASES} wrong cases`,
    () => {
      checkWrong(rng(63), CASES, (c) => LINKS[c % LINKS.length] as TraceLink);
    },
    TIMEOUT,
  );

  it(
    `a random link computed by chainNext cannot be disproved: ${RANDOM} cases, honest witness and forgeries`,
    () => {
      const next = rng(31);
      checkCorrect(next, RANDOM, () => {
        const h = randomBytes(next, 20);
        const step = randomStep(next);
        return { h, step, hNext: chainNext(h, step) };
      });
    },
    TIMEOUT,
  );

  it(
    `a random link with a committed value perturbed is disproved exactly when its twin says so: ${RANDOM} wrong cases`,
    () => {
      const next = rng(62);
      checkWrong(next, RANDOM, () => {
        const h = randomBytes(next, 20);
        const step = randomStep(next);
        return { h, step, hNext: chainNext(h, step) };
      });
    },
    TIMEOUT,
  );

  it('a wrong hNext that agrees with the digest beyond its 20 bytes is still disproved', () => {
    const next = rng(5);
    const h = randomBytes(next, 20);
    const step = randomStep(next);
    for (const i of [0, 19]) {
      const hNext = chainNext(h, step);
      hNext[i] = (hNext[i] as number) ^ 0x10;
      expect(isFaultyChainLink(h, step, hNext)).toBe(true);
      expect(spends(LEAF, chainLinkWitness(signValues(chainLinkValues(h, step, hNext))))).toBe(true);
    }
  });

  it('refuses keys of the wrong size', () => {
    expect(() => chainLinkLeaf({ ...KEYS, h: KEYS.wvalue })).toThrow(RangeError);
  });
});
