/**
 * The Merkle-step disprove leaf, run in Vigil's interpreter under tapscript rules and the consensus
 * limits with real Winternitz keys and signatures: it can be spent exactly when BLAKE3(left ‖ right) ≠
 * parent, and with no witness built from the committed values when the step is correct.
 */
import { describe, expect, it } from 'vitest';
import { blake3Node } from '../../circuits/blake3-reference.ts';
import {
  isFaulty,
  type MerkleStepKeys,
  type MerkleStepSignatures,
  merkleStepLeaf,
  merkleStepWitness,
  tapscriptWitnessWeight,
} from '../../circuits/merkle-step.ts';
import { NoSignatureChecker } from '../../src/bitcoin/script/checker.ts';
import { CONSENSUS_FLAGS } from '../../src/bitcoin/script/flags.ts';
import { runScript, ScriptExecution } from '../../src/bitcoin/script/interpreter.ts';
import { castToBool } from '../../src/bitcoin/script/num.ts';
import { concatBytes } from '../../src/core/bytes.ts';
import { type WotsSecretKey, wotsPublicKey } from '../../src/dispute/winternitz/keys.ts';
import { wotsSign } from '../../src/dispute/winternitz/sign.ts';
import { randomBytes, rng, spends, threeValueSecrets, withDigitChanged, withDigitRaised } from './helpers.ts';

type KeySet = {
  secrets: { left: WotsSecretKey; right: WotsSecretKey; parent: WotsSecretKey };
  leaf: Uint8Array;
};

/** Real keys as a graph derives them: one per committed value, bound to network, operator, epoch. */
function keySet(instance: number): KeySet {
  const [left, right, parent] = threeValueSecrets('5e', instance);
  const secrets = { left, right, parent };
  const keys: MerkleStepKeys = {
    left: wotsPublicKey(secrets.left),
    right: wotsPublicKey(secrets.right),
    parent: wotsPublicKey(secrets.parent),
  };
  return { secrets, leaf: merkleStepLeaf(keys).script };
}

const sign = (k: KeySet, left: Uint8Array, right: Uint8Array, parent: Uint8Array): MerkleStepSignatures => ({
  left: wotsSign(k.secrets.left, left),
  right: wotsSign(k.secrets.right, right),
  parent: wotsSign(k.secrets.parent, parent),
});

/** Witnesses an adversary can build from the committed (published) signatures of one step. */
function forgeries(sigs: MerkleStepSignatures, next: () => number): Uint8Array[][] {
  const honest = merkleStepWitness(sigs);
  const out: Uint8Array[][] = [];
  // Children swapped (each signature under the other key).
  out.push(merkleStepWitness({ left: sigs.right, right: sigs.left, parent: sigs.parent }));
  // Parent and a child swapped.
  out.push(merkleStepWitness({ left: sigs.parent, right: sigs.right, parent: sigs.left }));
  // One digit changed in one value (its hash kept).
  out.push(withDigitChanged(honest, next));
  // One digit raised consistently (hash moved one step along its chain): the checksum must catch it.
  out.push(withDigitRaised(honest, next));
  return out;
}

/** 250 each way in `npm test`; the long suite (VIGIL_LONG=1, merkle-step.long.test.ts) runs 1,000. */
const CASES = process.env.VIGIL_LONG === '1' ? 1_000 : 250;

describe('Merkle-step disprove leaf (BLAKE3, three Winternitz-committed 32-byte nodes)', () => {
  const sets = [keySet(0), keySet(1), keySet(2), keySet(3)];

  it('is a standard-size leaf with a bounded stack', () => {
    const next = rng(5);
    const k = sets[0] as KeySet;
    const l = randomBytes(next, 32);
    const r = randomBytes(next, 32);
    const items = merkleStepWitness(sign(k, l, r, randomBytes(next, 32)));
    const e = new ScriptExecution({
      script: k.leaf,
      stack: items,
      flags: CONSENSUS_FLAGS,
      checker: NoSignatureChecker,
      sigVersion: 'tapscript',
    });
    let max = items.length;
    while (e.step() === 'running') max = Math.max(max, e.stack.length + e.altstack.length);
    expect(e.error).toBe('OK');
    expect(items.length).toBe(3 * 134);
    expect(max).toBeLessThanOrEqual(1_000);
    const weight = tapscriptWitnessWeight(items, k.leaf, 8);
    expect(weight).toBeLessThan(400_000);
  });

  it(`a correct step (parent = BLAKE3(l ‖ r)) cannot be disproved: ${CASES} cases, honest witness and forgeries`, () => {
    const next = rng(2024);
    let runs = 0;
    for (let c = 0; c < CASES; c++) {
      const k = sets[c % sets.length] as KeySet;
      const l = randomBytes(next, 32);
      const r = c % 10 === 0 ? l.slice() : randomBytes(next, 32);
      const p = blake3Node(concatBytes(l, r));
      expect(isFaulty(l, r, p)).toBe(false);
      const sigs = sign(k, l, r, p);
      // The honest witness runs to the end and leaves false (it fails on the circuit, not before).
      const honest = runScript(k.leaf, { stack: merkleStepWitness(sigs), flags: CONSENSUS_FLAGS });
      if (honest.error !== 'OK' || honest.stack.length !== 1 || castToBool(honest.stack[0] as Uint8Array)) {
        expect.fail(`case ${c}: honest run ${honest.error}, ${honest.stack.length} items`);
      }
      const witnesses = forgeries(sigs, next);
      for (const w of witnesses) {
        runs++;
        if (spends(k.leaf, w)) expect.fail(`case ${c}: a correct step was disproved`);
      }
    }
    expect(runs).toBe(CASES * 4);
  }, 150_000);

  it(`a wrong parent is disproved: ${CASES} cases (random, one bit flipped, children swapped)`, () => {
    const next = rng(4048);
    for (let c = 0; c < CASES; c++) {
      const k = sets[c % sets.length] as KeySet;
      const l = randomBytes(next, 32);
      let r = randomBytes(next, 32);
      const good = blake3Node(concatBytes(l, r));
      let p: Uint8Array;
      const kind = c % 3;
      if (kind === 0) p = randomBytes(next, 32);
      else if (kind === 1) {
        p = good.slice();
        const bit = next() % 256;
        p[bit >> 3] = (p[bit >> 3] as number) ^ (1 << (bit & 7));
      } else {
        // The parent of the other order: the operator committed the children swapped.
        if (c % 30 === 2) r = l.slice();
        p = blake3Node(concatBytes(r, l));
      }
      const faulty = isFaulty(l, r, p);
      // Children swapped with r = l is a correct step; every other case is wrong.
      expect(faulty).toBe(!(kind === 2 && c % 30 === 2));
      const ok = spends(k.leaf, merkleStepWitness(sign(k, l, r, p)));
      if (ok !== faulty) expect.fail(`case ${c}: leaf ${ok} but isFaulty ${faulty}`);
    }
  }, 150_000);

  it('refuses values of another size', () => {
    expect(() => isFaulty(new Uint8Array(31), new Uint8Array(32), new Uint8Array(32))).toThrow(RangeError);
  });
});
