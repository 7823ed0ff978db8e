/**
 * The trace-chain link leaf of GVM-1, run in Vigil's interpreter under tapscript rules with real
 * Winternitz keys: a link computed with `chainNext` over steps produced by `execute` can never be spent
 * (honest witness, forgeries), and with any committed value perturbed it is spendable exactly when its
 * twin says `chainNext(h, step) ≠ hNext`. Counts: small here; VIGIL_LONG=1 (chain-leaf.long.test.ts)
 * runs 10,000 each way (VIGIL_GVM_CASES overrides).
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
import { tapscriptWitnessWeight } from '../../../circuits/wots-values.ts';
import { NoSignatureChecker } from '../../../src/bitcoin/script/checker.ts';
import { CONSENSUS_FLAGS } from '../../../src/bitcoin/script/flags.ts';
import { runScript, ScriptExecution } from '../../../src/bitcoin/script/interpreter.ts';
import { castToBool } from '../../../src/bitcoin/script/num.ts';
import { concatBytes, equalBytes, hexToBytes } from '../../../src/core/bytes.ts';
import {
  deriveWotsSecretKey,
  type WotsSecretKey,
  wotsPublicKey,
} from '../../../src/dispute/winternitz/keys.ts';
import { wotsSign } from '../../../src/dispute/winternitz/sign.ts';
import { chainMessage, chainNext } from '../../../src/machine/chain.ts';
import { type Instruction, NONE, type StepRecord, smallOf, wordOf } from '../../../src/machine/isa.ts';
import { execute } from '../../../src/machine/semantics.ts';
import { randomBytes, rng, spends, withDigitChanged, withDigitRaised } from '../helpers.ts';

const LONG = process.env.VIGIL_LONG === '1';
const CASES = LONG ? Number(process.env.VIGIL_GVM_CASES ?? 10_000) : 80;

const SEED = hexToBytes('c4'.repeat(32));
const SECRETS = Object.fromEntries(
  CHAIN_LINK_FIELDS.map((f, valueIndex) => [
    f,
    deriveWotsSecretKey(SEED, {
      network: 'regtest',
      operator: hexToBytes('66'.repeat(32)),
      epoch: 14n,
      instance: 3,
      valueIndex,
      messageBytes: chainFieldBytes(f),
    }),
  ]),
) as Record<ChainLinkField, WotsSecretKey>;
const KEYS = Object.fromEntries(
  CHAIN_LINK_FIELDS.map((f) => [f, wotsPublicKey(SECRETS[f])]),
) as ChainLinkKeys;
const LEAF = chainLinkLeaf(KEYS).script;

const signValues = (v: Record<ChainLinkField, Uint8Array>): ChainLinkSignatures =>
  Object.fromEntries(CHAIN_LINK_FIELDS.map((f) => [f, wotsSign(SECRETS[f], v[f])])) as ChainLinkSignatures;

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
  const out = bytes.slice();
  if (kind === 0) {
    const bit = next() % (8 * out.length);
    out[bit >> 3] = (out[bit >> 3] as number) ^ (1 << (bit & 7));
    return out;
  }
  if (kind === 1) return randomBytes(next, out.length);
  return next() % 2 === 0 ? new Uint8Array(out.length) : new Uint8Array(out.length).fill(0xff);
}

function measure(
  script: Uint8Array,
  items: Uint8Array[],
): { error: string | undefined; max: number; top: boolean } {
  const e = new ScriptExecution({
    script,
    stack: items,
    flags: CONSENSUS_FLAGS,
    checker: NoSignatureChecker,
    sigVersion: 'tapscript',
  });
  let max = items.length;
  while (e.step() === 'running') max = Math.max(max, e.stack.length + e.altstack.length);
  return { error: e.error, max, top: e.stack.length === 1 && castToBool(e.stack[0] as Uint8Array) };
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

describe('GVM-1 trace-chain link leaf (BLAKE3 of h ‖ pc ‖ nextPc ‖ waddr ‖ wvalue, first 20 bytes)', () => {
  it('commits the chain block field by field and is a standard-size leaf with a bounded stack', () => {
    const next = rng(9);
    const h = randomBytes(next, 20);
    const step = randomStep(next);
    const v = chainLinkValues(h, step, randomBytes(next, 20));
    expect(equalBytes(concatBytes(v.h, v.pc, v.nextPc, v.waddr, v.wvalue), chainMessage(h, step))).toBe(true);
    const items = chainLinkWitness(signValues(v));
    const r = measure(LEAF, items);
    expect(r.error).toBe('OK');
    expect(r.top).toBe(true);
    expect(r.max).toBeLessThanOrEqual(1_000);
    expect(tapscriptWitnessWeight(items, LEAF, 8)).toBeLessThanOrEqual(400_000);
  });

  it(`a link computed by chainNext cannot be disproved: ${CASES} cases, honest witness and forgeries`, () => {
    const next = rng(31);
    let runs = 0;
    for (let c = 0; c < CASES; c++) {
      const h = randomBytes(next, 20);
      const step = randomStep(next);
      const hNext = chainNext(h, step);
      expect(isFaultyChainLink(h, step, hNext)).toBe(false);
      const sigs = signValues(chainLinkValues(h, step, hNext));
      const honest = runScript(LEAF, { stack: chainLinkWitness(sigs), flags: CONSENSUS_FLAGS });
      if (honest.error !== 'OK' || honest.stack.length !== 1 || castToBool(honest.stack[0] as Uint8Array)) {
        expect.fail(`case ${c}: honest run ${honest.error}, ${honest.stack.length} items`);
      }
      const witnesses = [
        withDigitChanged(chainLinkWitness(sigs), next),
        withDigitRaised(chainLinkWitness(sigs), next),
        chainLinkWitness({ ...sigs, h: sigs.hNext, hNext: sigs.h }),
        chainLinkWitness({ ...sigs, pc: sigs.nextPc, nextPc: sigs.pc }),
        chainLinkWitness({ ...sigs, pc: sigs.waddr, waddr: sigs.pc }),
      ];
      for (const w of witnesses) {
        runs++;
        if (spends(LEAF, w)) expect.fail(`case ${c}: a correct link was disproved`);
      }
    }
    expect(runs).toBe(CASES * 5);
  }, 600_000);

  it(`a link with a committed value perturbed is disproved exactly when its twin says so: ${CASES} cases`, () => {
    const next = rng(62);
    let wrongs = 0;
    for (let c = 0; c < CASES; c++) {
      const h = randomBytes(next, 20);
      const step = randomStep(next);
      const v = chainLinkValues(h, step, chainNext(h, step));
      const f = CHAIN_LINK_FIELDS[c % CHAIN_LINK_FIELDS.length] as ChainLinkField;
      const changed = { ...v, [f]: perturbed(next, v[f], next() % 3) };
      const faulty = isFaultyChainLink(...linkOf(changed));
      expect(faulty).toBe(!equalBytes(changed[f], v[f]));
      if (faulty) wrongs++;
      const ok = spends(LEAF, chainLinkWitness(signValues(changed)));
      if (ok !== faulty) expect.fail(`case ${c} (${f}): leaf ${ok} but twin ${faulty}`);
    }
    expect(wrongs).toBeGreaterThan(CASES * 0.9);
  }, 600_000);

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
