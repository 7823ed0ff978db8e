/** What the circuit tests share: a reproducible generator, the tapscript spend rule, Winternitz forgeries. */
import { CONSENSUS_FLAGS } from '../../src/bitcoin/script/flags.ts';
import { runScript } from '../../src/bitcoin/script/interpreter.ts';
import { castToBool, encodeScriptNum } from '../../src/bitcoin/script/num.ts';
import { isOpSuccess } from '../../src/bitcoin/script/opcodes.ts';
import { type ParsedScript, parseScript } from '../../src/bitcoin/script/script.ts';
import { hexToBytes } from '../../src/core/bytes.ts';
import { hash160 } from '../../src/core/hashes.ts';
import { deriveWotsSecretKey, type WotsSecretKey } from '../../src/dispute/winternitz/keys.ts';

/** A deterministic generator (xorshift32) so failures reproduce. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

export const randomBytes = (next: () => number, n: number): Uint8Array<ArrayBuffer> =>
  Uint8Array.from({ length: n }, () => next() & 0xff);

const successScan = new WeakMap<Uint8Array | ParsedScript, boolean>();

/**
 * BIP-342: a tapscript that holds an OP_SUCCESSx anywhere (before any instruction that fails to parse)
 * succeeds for any witness, before a single opcode runs. The interpreter alone (`runScript`) does not
 * apply that rule (`verify.ts` does), and a leaf's untaken branches never run in a test, so the spend
 * rules below scan for it: one such byte in a generated leaf must make every "never spends" fail.
 */
export function hasOpSuccess(script: Uint8Array | ParsedScript): boolean {
  let found = successScan.get(script);
  if (found === undefined) {
    const parsed = script instanceof Uint8Array ? parseScript(script) : script;
    found = false;
    for (let i = 0; i < parsed.count && !found; i++) found = isOpSuccess(parsed.opcodes[i] as number);
    successScan.set(script, found);
  }
  return found;
}

/** Tapscript spend rule: an OP_SUCCESSx anywhere, or no error and exactly one true item left. */
export function spends(script: Uint8Array, stack: Uint8Array[]): boolean {
  if (hasOpSuccess(script)) return true;
  const r = runScript(script, { stack, flags: CONSENSUS_FLAGS });
  return r.error === 'OK' && r.stack.length === 1 && castToBool(r.stack[0] as Uint8Array);
}

/**
 * Three Winternitz secret keys (value indexes 0, 1, 2) as a graph derives them: bound to network,
 * operator, epoch and instance.
 */
export function threeValueSecrets(
  seedByte: string,
  instance: number,
): [WotsSecretKey, WotsSecretKey, WotsSecretKey] {
  const seed = hexToBytes(seedByte.repeat(32));
  const derive = (valueIndex: number) =>
    deriveWotsSecretKey(seed, {
      network: 'regtest',
      operator: hexToBytes('66'.repeat(32)),
      epoch: 14n,
      instance,
      valueIndex,
      messageBytes: 32,
    });
  return [derive(0), derive(1), derive(2)];
}

const digitOf = (item: Uint8Array) => (item.length === 0 ? 0 : (item[0] as number));

/**
 * A witness of (hash, digit) pairs with one digit changed and its hash kept: the signature check must
 * refuse it. Reads `next` twice (the pair, then the new digit).
 */
export function withDigitChanged(witness: readonly Uint8Array[], next: () => number): Uint8Array[] {
  const w = witness.slice();
  const i = next() % (w.length / 2);
  w[2 * i + 1] = encodeScriptNum((digitOf(w[2 * i + 1] as Uint8Array) + 1 + (next() % 15)) % 16);
  return w;
}

/**
 * A witness with one digit raised and its hash moved one step along its chain, so every hash chain
 * still checks and only the checksum can refuse it. Reads `next` once (where to start looking).
 */
export function withDigitRaised(witness: readonly Uint8Array[], next: () => number): Uint8Array[] {
  const w = witness.slice();
  let j = next() % (w.length / 2);
  for (let t = 0; t < w.length / 2; t++, j = (j + 1) % (w.length / 2)) {
    const d = digitOf(w[2 * j + 1] as Uint8Array);
    if (d < 15) {
      w[2 * j] = hash160(w[2 * j] as Uint8Array);
      w[2 * j + 1] = encodeScriptNum(d + 1);
      break;
    }
  }
  return w;
}
