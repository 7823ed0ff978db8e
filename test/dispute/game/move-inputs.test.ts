/**
 * The input scripts of the game's moves (src/dispute/game/move-inputs.ts, docs/protocol.md §24.6), run
 * in Vigil's interpreter under tapscript rules with real Winternitz keys and signatures, at regtest's
 * and mainnet's search shapes. Schnorr signatures are checked by a test checker that accepts exactly one
 * signature per key (the real Schnorr and sighash code is tested with real transactions elsewhere):
 * what matters here is that the script asks for the right key in the right place.
 *
 * Every move's inputs spend with the mover's honest witness, within tapscript's 1,000-item stack, and
 * hold every value once, in move order; each move fits a standard transaction. And each input refuses:
 * a forged digit in any value, an echo of another value than the opponent's, the challenger's signature
 * missing or by another key, a covenant signature missing, and two values' signatures swapped.
 */
import { describe, expect, it } from 'vitest';
import { tapscriptWitnessWeight } from '../../../circuits/wots-values.ts';
import type { SchnorrCheckResult, SignatureChecker } from '../../../src/bitcoin/script/checker.ts';
import { CONSENSUS_FLAGS } from '../../../src/bitcoin/script/flags.ts';
import { ScriptExecution } from '../../../src/bitcoin/script/interpreter.ts';
import { castToBool } from '../../../src/bitcoin/script/num.ts';
import { bytesToHex } from '../../../src/core/bytes.ts';
import { MAINNET_SEARCH, REGTEST_SEARCH, type SearchShape } from '../../../src/dispute/game/grid.ts';
import {
  gameMoveShapes,
  MOVE_WITNESS_ITEM_BUDGET,
  type Move,
  MoveLayoutError,
  type MoveShape,
  type MoveSignatures,
  type MoveSigners,
  moveInputs,
  moveInputWitness,
} from '../../../src/dispute/game/move-inputs.ts';
import { type WotsSecretKey, wotsPublicKey } from '../../../src/dispute/winternitz/keys.ts';
import type { WotsSignature } from '../../../src/dispute/winternitz/sign.ts';
import {
  randomBytes,
  rng,
  valueSecret,
  withBitFlipped,
  withDigitChanged,
  wotsSign,
} from '../../circuits/gvm/helpers.ts';
import { hasOpSuccess } from '../../circuits/helpers.ts';

const COVENANT = [new Uint8Array(32).fill(0x11), new Uint8Array(32).fill(0x22)];
const CHALLENGER = new Uint8Array(32).fill(0x33);
const STRANGER = new Uint8Array(32).fill(0x44);
/** The one signature the test checker accepts for each key. */
const signatureOf = (key: Uint8Array) => Uint8Array.from({ length: 64 }, (_, i) => (key[0] as number) ^ i);
const KNOWN = new Map(
  [...COVENANT, CHALLENGER, STRANGER].map((k) => [bytesToHex(k), bytesToHex(signatureOf(k))]),
);

const checker: SignatureChecker = {
  checkEcdsaSignature: () => false,
  checkSchnorrSignature: (sig, pubkey): SchnorrCheckResult =>
    KNOWN.get(bytesToHex(pubkey)) === bytesToHex(sig) ? { ok: true } : { ok: false, error: 'SCHNORR_SIG' },
  checkLockTime: () => false,
  checkSequence: () => false,
};

/** Runs one input: whether it spends (no error, one true item) and the stack + altstack peak. */
function run(
  script: Uint8Array,
  items: Uint8Array[],
): { spent: boolean; error: string | undefined; max: number } {
  // BIP-342's rule the interpreter alone does not apply: an OP_SUCCESSx anywhere spends for anyone.
  if (hasOpSuccess(script)) return { spent: true, error: 'OP_SUCCESS', max: items.length };
  const e = new ScriptExecution({
    script,
    stack: items,
    flags: CONSENSUS_FLAGS,
    checker,
    sigVersion: 'tapscript',
    execData: { codeseparatorPos: 0xffffffff, validationWeightLeft: Number.POSITIVE_INFINITY },
  });
  let max = items.length;
  while (e.step() === 'running') max = Math.max(max, e.stack.length + e.altstack.length);
  const spent = e.error === 'OK' && e.stack.length === 1 && castToBool(e.stack[0] as Uint8Array);
  return { spent, error: e.error, max };
}

/** A move with keys: the mover's for its values and echoes, the opponent's for what it echoes. */
type Keyed = { move: Move; secrets: Map<string, WotsSecretKey>; theirs: Map<string, WotsSecretKey> };

function keyed(shape: MoveShape, index: number): Keyed {
  const secrets = new Map<string, WotsSecretKey>();
  const theirs = new Map<string, WotsSecretKey>();
  const seed = shape.mover === 'operator' ? 'a0' : 'c1';
  const other = shape.mover === 'operator' ? 'c1' : 'a0';
  let k = 0;
  const values = shape.values.map((v) => {
    const s = valueSecret(seed, index, k++, v.bytes);
    secrets.set(v.label, s);
    return { label: v.label, key: wotsPublicKey(s) };
  });
  const echoes = shape.echoes.map((v) => {
    const ours = valueSecret(seed, index, k++, v.bytes);
    const opponent = valueSecret(other, index, k++, v.bytes);
    secrets.set(v.label, ours);
    theirs.set(v.label, opponent);
    return { label: v.label, ours: wotsPublicKey(ours), theirs: wotsPublicKey(opponent) };
  });
  return { move: { name: shape.name, mover: shape.mover, values, echoes }, secrets, theirs };
}

const signersOf = (m: Move): MoveSigners =>
  m.mover === 'challenger' ? { covenant: COVENANT, mover: CHALLENGER } : { covenant: COVENANT };

/** Honest signatures of random values (the echoes equal to what the opponent signed). */
function honestSignatures(
  k: Keyed,
  next: () => number,
): MoveSignatures & { echoesSigned: Map<string, Uint8Array> } {
  const values = new Map<string, WotsSignature>();
  for (const v of k.move.values) {
    const bytes = randomBytes(next, v.key.messageBytes);
    values.set(v.label, wotsSign(k.secrets.get(v.label) as WotsSecretKey, bytes));
  }
  const echoes = new Map<string, { theirs: WotsSignature; ours: WotsSignature }>();
  const echoesSigned = new Map<string, Uint8Array>();
  for (const e of k.move.echoes) {
    const bytes = randomBytes(next, e.ours.messageBytes);
    echoesSigned.set(e.label, bytes);
    echoes.set(e.label, {
      theirs: wotsSign(k.theirs.get(e.label) as WotsSecretKey, bytes),
      ours: wotsSign(k.secrets.get(e.label) as WotsSecretKey, bytes),
    });
  }
  return {
    values,
    echoes,
    echoesSigned,
    covenant: COVENANT.map(signatureOf),
    ...(k.move.mover === 'challenger' ? { mover: signatureOf(CHALLENGER) } : {}),
  };
}

const SHAPES: [string, SearchShape][] = [
  ['regtest', REGTEST_SEARCH],
  ['mainnet', MAINNET_SEARCH],
];

describe.each(SHAPES)('the moves of a game at %s’s shape', (_, shape) => {
  const moves = gameMoveShapes(shape).map((m, i) => keyed(m, i));

  it('every move spends with its honest witness, within the stack limit, and fits a standard transaction', () => {
    const next = rng(shape.depth);
    const weights: string[] = [];
    for (const k of moves) {
      const inputs = moveInputs(k.move, signersOf(k.move));
      // Every value once, in move order; echoes on the first input only.
      expect(inputs.flatMap((i) => i.values.map((v) => v.label))).toEqual(k.move.values.map((v) => v.label));
      expect(inputs.slice(1).every((i) => i.echoes.length === 0)).toBe(true);
      const sigs = honestSignatures(k, next);
      let weight = 0;
      for (const [n, input] of inputs.entries()) {
        const items = moveInputWitness(input, sigs);
        expect(items).toHaveLength(input.witnessItems);
        expect(input.witnessItems).toBeLessThanOrEqual(MOVE_WITNESS_ITEM_BUDGET);
        const r = run(input.script, items);
        if (!r.spent) expect.fail(`${k.move.name} input ${n}: ${r.error}`);
        expect(r.max, `${k.move.name} input ${n}`).toBeLessThanOrEqual(1_000);
        // The input's outpoint, sequence and empty scriptSig (41 B) count 4 WU a byte.
        weight += tapscriptWitnessWeight(items, input.script, 8) + 4 * 41;
      }
      expect(weight, k.move.name).toBeLessThan(400_000);
      weights.push(`${k.move.name} ${inputs.length} in ${(weight / 1000).toFixed(1)} kWU`);
    }
    console.info(`moves at K = ${shape.depth}: ${weights.join(', ')}`);
  });

  it('each input refuses a forged digit, a false echo, a missing or foreign signature, swapped values', () => {
    const next = rng(100 + shape.depth);
    let refused = 0;
    for (const k of moves) {
      const inputs = moveInputs(k.move, signersOf(k.move));
      const sigs = honestSignatures(k, next);
      for (const input of inputs) {
        const honest = moveInputWitness(input, sigs);
        const attempts: [string, Uint8Array[]][] = [];
        // A digit changed somewhere in the Winternitz items (below the Schnorr signatures).
        const schnorr = sigs.covenant.length + (sigs.mover === undefined ? 0 : 1);
        const wots = honest.slice(0, honest.length - schnorr);
        if (wots.length > 0) {
          attempts.push(['a forged digit', [...withDigitChanged(wots, next), ...honest.slice(wots.length)]]);
        }
        // An echo of another value than the opponent signed.
        for (const e of input.echoes) {
          const pair = sigs.echoes.get(e.label) as { theirs: WotsSignature; ours: WotsSignature };
          // The opponent's value with one bit flipped: always another value.
          const other = withBitFlipped(next, sigs.echoesSigned.get(e.label) as Uint8Array);
          const echoes = new Map(sigs.echoes);
          echoes.set(e.label, {
            theirs: pair.theirs,
            ours: wotsSign(k.secrets.get(e.label) as WotsSecretKey, other),
          });
          attempts.push([`a false echo of ${e.label}`, moveInputWitness(input, { ...sigs, echoes })]);
        }
        // The challenger's signature missing, or another key's in its place.
        if (sigs.mover !== undefined) {
          const { mover: _, ...rest } = sigs;
          attempts.push(['no challenger signature', moveInputWitness(input, rest)]);
          attempts.push([
            'a stranger’s signature',
            moveInputWitness(input, { ...sigs, mover: signatureOf(STRANGER) }),
          ]);
        }
        // One covenant signature missing.
        attempts.push([
          'a covenant signature short',
          moveInputWitness(input, { ...sigs, covenant: sigs.covenant.slice(1) }),
        ]);
        // Two values of one size swapped (each signature under the other's key): the first size the
        // input holds twice.
        const sizes = input.values.map((v) => v.key.messageBytes);
        const twice = sizes.find((n, i) => sizes.indexOf(n) !== i);
        const [a, b] = input.values.filter((v) => v.key.messageBytes === twice);
        if (a !== undefined && b !== undefined && a.label !== b.label) {
          const values = new Map(sigs.values);
          values.set(a.label, sigs.values.get(b.label) as WotsSignature);
          values.set(b.label, sigs.values.get(a.label) as WotsSignature);
          attempts.push(['two values swapped', moveInputWitness(input, { ...sigs, values })]);
        }
        for (const [what, items] of attempts) {
          if (run(input.script, items).spent) expect.fail(`${k.move.name}: ${what} spent`);
          refused++;
        }
      }
    }
    expect(refused).toBeGreaterThan(moves.length * 2);
  });
});

describe('move layout', () => {
  it('packs 11 chain values an input at most (86 items each), and splits the operator’s big moves', () => {
    const moves = new Map(gameMoveShapes(MAINNET_SEARCH).map((m, i) => [m.name, keyed(m, i).move]));
    const count = (name: string) =>
      moveInputs(moves.get(name) as Move, signersOf(moves.get(name) as Move)).length;
    // T′ and 33 chain values: 10 beside T′, then 11 a connector.
    expect(count('assert')).toBe(4);
    expect(count('answer2')).toBe(3);
    expect(count('answer6')).toBe(2);
    expect(count('choice1')).toBe(1);
    expect(count('reveal')).toBe(1);
    expect(count('requestTape')).toBe(1);
    expect(count('requestRead')).toBe(1);
    expect(count('tapeReveal1')).toBe(5);
    expect(count('tapeReveal2')).toBe(5);
  });

  it('refuses a challenger’s move without its key, an operator’s with one, and a budget no value fits', () => {
    const [assert, choice] = gameMoveShapes(REGTEST_SEARCH).map((m, i) => keyed(m, i).move) as [Move, Move];
    expect(() => moveInputs(choice, { covenant: COVENANT })).toThrow(MoveLayoutError);
    expect(() => moveInputs(assert, { covenant: COVENANT, mover: CHALLENGER })).toThrow(/covenant only/);
    expect(() => moveInputs(assert, { covenant: COVENANT }, 20)).toThrow(/steps alone needs 22 items/);
    expect(() =>
      moveInputWitness(moveInputs(assert, { covenant: COVENANT })[0]!, {
        values: new Map(),
        echoes: new Map(),
        covenant: [],
      }),
    ).toThrow(/no signature of steps/);
  });
});
