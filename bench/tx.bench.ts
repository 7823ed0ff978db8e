/**
 * Transaction verification cost beside the raw signature verification it cannot avoid: the same
 * signatures verified directly with tiny-secp256k1, in the same run. The ratio is the engine's
 * overhead (sighashes, script execution, taproot commitment checks, parsing) on top of the curve work.
 */
import { STANDARD_FLAGS } from '../src/bitcoin/script/flags.ts';
import { verifyTransaction } from '../src/bitcoin/tx/verify.ts';
import {
  type SpendKind,
  signedFixture,
  verifyCommitmentsRaw,
  verifyRaw,
} from '../testkit/bitcoin/tx/signed-fixtures.ts';
import { type Benchmark, timeBest, withRatio } from './harness.ts';

const MIXED: SpendKind[] = Array.from(
  { length: 100 },
  (_, i) => (['p2pkh', 'p2wpkh', 'p2tr-key', 'p2tr-script'] as const)[i % 4]!,
);

async function compare(name: string, kinds: SpendKind[]) {
  const f = signedFixture(kinds);
  // Fresh verification each time: no signature cache, new precomputed data.
  const verify = () => {
    if (!verifyTransaction(f.tx, f.prevouts, STANDARD_FLAGS).ok)
      throw new Error(`${name}: fixture does not verify`);
  };
  const raw = () => {
    if (!verifyRaw(f.raw)) throw new Error(`${name}: raw signatures do not verify`);
  };
  const curve = () => {
    raw();
    if (!verifyCommitmentsRaw(f.commitments)) throw new Error(`${name}: commitments do not verify`);
  };
  verify();
  curve();
  // Interleaved rounds, best of each: on a shared machine the three see the same load.
  let engine = Number.POSITIVE_INFINITY;
  let signatures = Number.POSITIVE_INFINITY;
  let allCurve = Number.POSITIVE_INFINITY;
  const start = performance.now();
  for (let round = 0; round < 15 || performance.now() - start < 3000; round++) {
    engine = Math.min(engine, await timeBest(verify, 0, 1));
    signatures = Math.min(signatures, await timeBest(raw, 0, 1));
    allCurve = Math.min(allCurve, await timeBest(curve, 0, 1));
  }
  return [
    withRatio({
      name,
      value: engine,
      unit: 'ms',
      baseline: signatures,
      target: '≤ 1.5× raw signature verification',
    }),
    // Script-path spends also need one tweak check each (BIP-341's commitment): curve work no engine avoids.
    withRatio({ name: `${name}.vs-all-curve-work`, value: engine, unit: 'ms', baseline: allCurve }),
  ];
}

export const benchmarks: Benchmark[] = [
  {
    name: 'tx.verify',
    run: async () => [
      ...(await compare('tx.verify.taproot-script-path-1-input', ['p2tr-script'])),
      ...(await compare('tx.verify.mixed-100-inputs', MIXED)),
    ],
  },
];
