/**
 * The narrowing game's moves as inputs (#15 acceptance 5, docs/protocol.md §24.6,
 * src/dispute/game/move-inputs.ts): for every move of a game at mainnet's shape (n = 32, K = 29), the
 * inputs it takes and their weight, with real Winternitz keys and signatures of random values, the
 * Schnorr signatures 64 bytes each, a covenant of `COVENANT_KEYS` keys, and each leaf at tree depth 8.
 * The weight counts what the inputs add to the transaction (witness, outpoint, sequence); the outputs
 * (a move output, 2 to 9 connectors, an anchor) add under 2 kWU. Baseline: the standard transaction
 * limit, 400,000 WU.
 */
import { tapscriptWitnessWeight } from '../circuits/wots-values.ts';
import { MAINNET_SEARCH, REGTEST_SEARCH, type SearchShape } from '../src/dispute/game/grid.ts';
import {
  gameMoveShapes,
  type MoveShape,
  moveInputs,
  moveInputWitness,
} from '../src/dispute/game/move-inputs.ts';
import { wotsPublicKey } from '../src/dispute/winternitz/keys.ts';
import { type WotsSignature, wotsSign } from '../src/dispute/winternitz/sign.ts';
import { type BenchFigure, type Benchmark, withRatio } from './harness.ts';
import { benchSecret, DEPTH } from './leaf-figures.ts';

/** The operator and a committee of 4: the covenant a game's presigned transactions carry. */
const COVENANT_KEYS = 5;
const STANDARD_WEIGHT = 400_000;
/** Outpoint (36), sequence (4) and an empty scriptSig's length (1), at 4 WU a byte. */
const INPUT_BASE_WEIGHT = 4 * 41;

function moveWeight(shape: MoveShape, index: number): { inputs: number; weight: number } {
  let k = 0;
  const secretOf = (bytes: number) =>
    benchSecret(shape.mover === 'operator' ? 0xa0 : 0xc1, index, k++, bytes);
  const fill = (bytes: number, b: number) => new Uint8Array(bytes).fill(b);
  const values = new Map<string, WotsSignature>();
  const move = {
    name: shape.name,
    mover: shape.mover,
    values: shape.values.map((v, i) => {
      const s = secretOf(v.bytes);
      values.set(v.label, wotsSign(s, fill(v.bytes, 0x5a ^ i)));
      return { label: v.label, key: wotsPublicKey(s) };
    }),
    echoes: shape.echoes.map((v) => {
      const ours = secretOf(v.bytes);
      const theirs = secretOf(v.bytes);
      return { label: v.label, ours: wotsPublicKey(ours), theirs: wotsPublicKey(theirs), s: [theirs, ours] };
    }),
  };
  const echoes = new Map(
    move.echoes.map((e) => [
      e.label,
      {
        theirs: wotsSign(e.s[0]!, fill(e.ours.messageBytes, 3)),
        ours: wotsSign(e.s[1]!, fill(e.ours.messageBytes, 3)),
      },
    ]),
  );
  const covenant = Array.from({ length: COVENANT_KEYS }, (_, i) => new Uint8Array(32).fill(i + 1));
  const mover = shape.mover === 'challenger' ? new Uint8Array(32).fill(0xcc) : undefined;
  const inputs = moveInputs(move, mover === undefined ? { covenant } : { covenant, mover });
  const sig = new Uint8Array(64).fill(7);
  let weight = 0;
  for (const input of inputs) {
    const items = moveInputWitness(input, {
      values,
      echoes,
      covenant: covenant.map(() => sig),
      ...(mover === undefined ? {} : { mover: sig }),
    });
    weight += tapscriptWitnessWeight(items, input.script, DEPTH) + INPUT_BASE_WEIGHT;
  }
  return { inputs: inputs.length, weight };
}

function figures(label: string, shape: SearchShape): BenchFigure[] {
  const out: BenchFigure[] = [];
  let operatorWorst = 0;
  for (const [i, move] of gameMoveShapes(shape).entries()) {
    const { inputs, weight } = moveWeight(move, i);
    if (move.mover === 'operator') operatorWorst = Math.max(operatorWorst, weight);
    out.push(
      withRatio({
        name: `dispute.game.moves.${label}.${move.name}`,
        value: weight,
        unit: `WU of its ${inputs} input${inputs === 1 ? '' : 's'} (${move.mover}; baseline: the standard limit)`,
        baseline: STANDARD_WEIGHT,
      }),
    );
  }
  out.push(
    withRatio({
      name: `dispute.game.moves.${label}.operatorWorst`,
      value: operatorWorst,
      unit: "WU, the operator's heaviest move (baseline: the standard limit)",
      baseline: STANDARD_WEIGHT,
    }),
  );
  return out;
}

export const benchmarks: Benchmark[] = [
  { name: 'dispute.game.moves.mainnet', run: async () => figures('mainnet', MAINNET_SEARCH) },
  { name: 'dispute.game.moves.regtest', run: async () => figures('regtest', REGTEST_SEARCH) },
];
