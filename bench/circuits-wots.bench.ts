/**
 * The Winternitz share of every disprove leaf (#14): script bytes per committed bit of the locking
 * fragment the leaves use (`wotsVerifyScript`, the same generator as `appendWotsVerify`), with real keys,
 * beside BitVM's published ≈ 26.1 B/bit (PR #121; not measured here). `circuits.wots.perBit` is a
 * 32-byte value (a word, a hash); the GVM leaves also commit 4-byte small values and 20-byte chain hashes.
 */
import { wotsPublicKey } from '../src/dispute/winternitz/keys.ts';
import { wotsVerifyScript } from '../src/dispute/winternitz/script.ts';
import { CHAIN_BYTES, SMALL_BYTES, WORD_BYTES } from '../src/machine/isa.ts';
import { type BenchFigure, type Benchmark, withRatio } from './harness.ts';
import { benchSecret } from './leaf-figures.ts';

const BITVM_BYTES_PER_BIT = 26.1;

function perBit(name: string, messageBytes: number, what: string): BenchFigure {
  const script = wotsVerifyScript(wotsPublicKey(benchSecret(0x3d, 0, 0, messageBytes)));
  return withRatio({
    name,
    value: Number((script.length / (8 * messageBytes)).toFixed(2)),
    unit: `script bytes / committed bit (${what}: ${script.length.toLocaleString('en-US')} B)`,
    baseline: BITVM_BYTES_PER_BIT,
    target: 'baseline: BitVM ≈ 26.1 B/bit (PR #121); ≤ it',
  });
}

export const benchmarks: Benchmark[] = [
  {
    name: 'circuits.wots',
    run: async () => [
      perBit('circuits.wots.perBit', WORD_BYTES, `${WORD_BYTES}-byte word`),
      perBit(`circuits.wots.perBit.${SMALL_BYTES}B`, SMALL_BYTES, `${SMALL_BYTES}-byte small value`),
      perBit(`circuits.wots.perBit.${CHAIN_BYTES}B`, CHAIN_BYTES, `${CHAIN_BYTES}-byte chain hash`),
    ],
  },
];
