/**
 * Disprove leaves of the arithmetic micro-steps governance needs (#14): the operator has
 * Winternitz-committed three 32-byte values, two operands `a`, `b` and the claimed result `c` (uint256,
 * big-endian), and the leaf can be spent exactly when the step is wrong:
 *
 * - `add`: the step is "a + b < 2^256 and c = a + b". An overflowing a + b makes ANY c wrong: a result
 *   taken mod 2^256 would hide the overflow, so the leaf is spendable on every step whose sum carries out
 *   of 256 bits, whatever c;
 * - `sub`: the step is "b ≤ a and c = a − b": spendable when b > a (an underflow, whatever c) or c ≠ a − b;
 * - `lt`: the step is "c = (a < b ? 1 : 0)": spendable when c ∉ {0, 1} or c disagrees with a < b.
 *
 * Script: the shared three-value prefix (`wots-values.ts`: covenant keys, then the real
 * `appendWotsVerify` for c, b, a — c on top of the witness, verified first), each value turned into its
 * 9 × 29-bit limbs by `digits-to-limbs` right after its verification, leaving `[A B C]` (limbs most
 * significant deepest, C on top). Then C waits on the altstack while the limb gadget of `limbs.ts` runs
 * on `[A B]`, and the comparison leaves one item, 1 exactly when the step is wrong: the leaf's only
 * stack item, so tapscript's clean-stack rule holds.
 *
 * Witness (bottom first): a's Winternitz items, b's, c's, then the covenant signatures.
 */
import { ScriptBuilder } from '../src/bitcoin/script/builder.ts';
import { Op } from '../src/bitcoin/script/opcodes.ts';
import { concatBytes } from '../src/core/bytes.ts';
import type { WotsPublicKey } from '../src/dispute/winternitz/keys.ts';
import type { WotsSignature } from '../src/dispute/winternitz/sign.ts';
import { digitsToLimbsGadget, valueOfBytes } from './digits-to-limbs.ts';
import { limbAddGadget, limbEqualGadget, limbLessThanGadget, limbSubGadget, UINT256_LIMBS } from './limbs.ts';
import { appendThreeValueVerify, threeValueWitness } from './wots-values.ts';

export type ArithKind = 'add' | 'sub' | 'lt';
export const ARITH_KINDS: readonly ArithKind[] = ['add', 'sub', 'lt'];

/** The committed values of a step: operands and claimed result, 32 bytes each (uint256, big-endian). */
export type ArithStepKeys = { a: WotsPublicKey; b: WotsPublicKey; c: WotsPublicKey };
export type ArithStepSignatures = { a: WotsSignature; b: WotsSignature; c: WotsSignature };

export type ArithStepLeaf = {
  script: Uint8Array;
  /** Bytes of the covenant, the three Winternitz verifications, digits → limbs and altstack moves. */
  verifyBytes: number;
  /** Bytes of the judgement on `[A B C]`. */
  circuitBytes: number;
};

const N = UINT256_LIMBS;

function repeat(b: ScriptBuilder, op: number, count: number): void {
  for (let i = 0; i < count; i++) b.op(op);
}

/**
 * The judgement on `[A B C]` (27 limbs) → `[wrong]`. Exported for tests on limbs alone.
 *
 * add / sub: C to the altstack, `[A B]` → `[carry|borrow  R]`, C back, `[R C]` → `[R = C]`, then
 * `OP_NOT OP_BOOLOR`: wrong iff the carry (borrow) is set or R ≠ C.
 * lt: C to the altstack, `[A B]` → `[A < B]`, C back, `C_0 = (A < B)` (which also forces C_0 ∈ {0, 1})
 * negated, then OR-ed with every higher limb of C (each must be 0).
 */
export function arithCircuit(kind: ArithKind): Uint8Array {
  const b = new ScriptBuilder();
  repeat(b, Op.OP_TOALTSTACK, N);
  if (kind === 'lt') {
    b.raw(limbLessThanGadget(N).script);
    repeat(b, Op.OP_FROMALTSTACK, N);
    // [lt C_8 … C_0]: bring lt up to C_0.
    b.number(N).op(Op.OP_ROLL, Op.OP_NUMEQUAL, Op.OP_NOT);
    repeat(b, Op.OP_BOOLOR, N - 1);
  } else {
    b.raw((kind === 'add' ? limbAddGadget(N) : limbSubGadget(N)).script);
    repeat(b, Op.OP_FROMALTSTACK, N);
    b.raw(limbEqualGadget(N).script);
    b.op(Op.OP_NOT, Op.OP_BOOLOR);
  }
  return b.build();
}

let toLimbs: Uint8Array | undefined;

/** The leaf script, with its two parts measured. `covenant`: x-only keys checked first (may be empty). */
export function arithStepLeaf(
  kind: ArithKind,
  keys: ArithStepKeys,
  covenant: readonly Uint8Array[] = [],
): ArithStepLeaf {
  toLimbs ??= digitsToLimbsGadget().script;
  const b = new ScriptBuilder();
  appendThreeValueVerify(
    b,
    { bottom: keys.a, middle: keys.b, top: keys.c },
    covenant,
    { script: toLimbs, outputItems: N },
    'an arithmetic operand',
  );
  const verify = b.build();
  const circuit = arithCircuit(kind);
  return { script: concatBytes(verify, circuit), verifyBytes: verify.length, circuitBytes: circuit.length };
}

/** The witness items below the script and control block, bottom first. */
export function arithStepWitness(
  sigs: ArithStepSignatures,
  covenantSigs: readonly Uint8Array[] = [],
): Uint8Array[] {
  return threeValueWitness({ bottom: sigs.a, middle: sigs.b, top: sigs.c }, covenantSigs);
}

const TWO_256 = 1n << 256n;

/** The same judgement in TypeScript, on the committed 32-byte big-endian values. */
export function isFaulty(kind: ArithKind, a: Uint8Array, b: Uint8Array, c: Uint8Array): boolean {
  const [x, y, z] = [valueOfBytes(a), valueOfBytes(b), valueOfBytes(c)];
  switch (kind) {
    case 'add':
      return x + y >= TWO_256 || z !== x + y;
    case 'sub':
      return y > x || z !== x - y;
    case 'lt':
      return z !== (x < y ? 1n : 0n);
  }
}
