/**
 * GVM-1's hash-based and memory disprove leaves (#14, `circuits/gvm/`): per leaf, the script size, the
 * spending input's witness weight at tree depth 8 (script + witness + control block, `circuits.gvm.
 * <leaf>.weight`), the spending (wrong-claim) witness's items and bytes (`.witness`, `.witnessBytes`),
 * the largest stack + altstack measured in the interpreter on that witness (`.maxStack`), and the time
 * one spend takes in the interpreter. Weight and max stack carry BitVM's largest disprove leaf (3.95 MB
 * script, 933 items) as baseline and the 400,000 WU standard-transaction / 1,000-item limits in the
 * target. Real keys and signatures throughout.
 */
import {
  CHAIN_LINK_FIELDS,
  chainFieldBytes,
  chainLinkLeaf,
  chainLinkWitness,
} from '../circuits/gvm/chain-leaf.ts';
import { hashExecLeaf, hashExecWitness } from '../circuits/gvm/hash-leaf.ts';
import {
  differLeaf,
  differsFromLeaf,
  differsFromWitness,
  differWitness,
  equivocationLeaf,
  equivocationWitness,
  type GvmLeaf,
  pcRangeLeaf,
  pcRangeWitness,
  readAfterWriteLeaf,
  readAfterWriteWitness,
  unwrittenReadLeaf,
  unwrittenReadWitness,
} from '../circuits/gvm/memory-leaves.ts';
import { tapeLevelLeaf, tapeLevelWitness, tapeTopLeaf, tapeTopWitness } from '../circuits/gvm/tape-leaf.ts';
import { CONSENSUS_FLAGS } from '../src/bitcoin/script/flags.ts';
import { runScript } from '../src/bitcoin/script/interpreter.ts';
import { type WotsSecretKey, wotsPublicKey } from '../src/dispute/winternitz/keys.ts';
import { wotsSign } from '../src/dispute/winternitz/sign.ts';
import { chainNext } from '../src/machine/chain.ts';
import {
  fieldBytes,
  fieldValue,
  type Instruction,
  NONE,
  STEP_FIELDS,
  type StepRecord,
  smallBytes,
  wordBytes,
} from '../src/machine/isa.ts';
import { execute } from '../src/machine/semantics.ts';
import { type BenchFigure, type Benchmark, timeBest } from './harness.ts';
import {
  benchSecret,
  maxStackFigure,
  measuredRun,
  publicKeysOf,
  secretsOf,
  signFields,
  weightFigure,
  witnessFigures,
} from './leaf-figures.ts';

let nextIndex = 0;
/** A fresh Winternitz secret key for a value of `bytes` bytes, as a graph derives one. */
function secret(bytes: number): WotsSecretKey {
  return benchSecret(0x47, 0, nextIndex++, bytes);
}

/** The figures of one leaf, measured on a witness that spends it (a wrong claim). */
async function figuresOf(name: string, leaf: GvmLeaf, items: Uint8Array[]): Promise<BenchFigure[]> {
  const run = measuredRun(leaf.script, items);
  if (run.error !== 'OK' || !run.spent) {
    throw new Error(`the ${name} leaf did not spend on a wrong claim: ${run.error}`);
  }
  const exec = await timeBest(() => runScript(leaf.script, { stack: items, flags: CONSENSUS_FLAGS }), 100);
  const p = `circuits.gvm.${name}`;
  return [
    weightFigure(`${p}.weight`, items, leaf.script),
    { name: `${p}.script`, value: leaf.script.length, unit: 'bytes' },
    { name: `${p}.judge`, value: leaf.judgeBytes, unit: 'bytes (after the Winternitz verifications)' },
    ...witnessFigures(p, items),
    maxStackFigure(`${p}.maxStack`, run.max),
    { name: `${p}.exec`, value: Number(exec.toFixed(2)), unit: 'ms in the interpreter' },
  ];
}

const word = (seed: number) => Uint8Array.from({ length: 32 }, (_, i) => (i * seed + 11) & 0xff);

async function hashFigures(): Promise<BenchFigure[]> {
  const secrets = secretsOf(STEP_FIELDS, (f) => secret(fieldBytes(f)));
  const keys = publicKeysOf(STEP_FIELDS, secrets);
  const out: BenchFigure[] = [];
  // Two memory operands (the most digits kept), and an immediate one (a constant pushed instead).
  const shapes: [string, Instruction][] = [
    ['hash', { op: 'hash', dst: 9, x: { mem: 3 }, y: { mem: 4 } }],
    ['hashImm', { op: 'hash', dst: 9, x: { mem: 3 }, y: { imm: (1n << 255n) + 12345n } }],
  ];
  for (const [name, ins] of shapes) {
    const pc = 41;
    const step = execute(pc, ins, { read: (a) => BigInt(a) * 0x1234567n }, { word: () => 0n });
    const wrong: StepRecord = { ...step, w: { ...step.w, value: step.w.value ^ 1n } };
    const sigs = signFields(STEP_FIELDS, secrets, (f) => fieldValue(wrong, f));
    out.push(...(await figuresOf(name, hashExecLeaf(pc, ins, keys), hashExecWitness(sigs))));
  }
  return out;
}

async function chainFigures(): Promise<BenchFigure[]> {
  const secrets = secretsOf(CHAIN_LINK_FIELDS, (f) => secret(chainFieldBytes(f)));
  const keys = publicKeysOf(CHAIN_LINK_FIELDS, secrets);
  const h = word(7).slice(0, 20);
  const step: StepRecord = {
    pc: 12,
    r1: { addr: NONE, value: 0n },
    r2: { addr: NONE, value: 0n },
    w: { addr: 5, value: 77n },
    nextPc: 13,
  };
  const hNext = chainNext(h, step);
  hNext[19] = (hNext[19] as number) ^ 1;
  const values = {
    h,
    pc: smallBytes(12),
    nextPc: smallBytes(13),
    waddr: smallBytes(5),
    wvalue: wordBytes(77n),
    hNext,
  };
  const sigs = signFields(CHAIN_LINK_FIELDS, secrets, (f) => values[f]);
  return figuresOf('chain', chainLinkLeaf(keys), chainLinkWitness(sigs));
}

async function tapeFigures(): Promise<BenchFigure[]> {
  const [p, a, b, c] = [secret(4), secret(32), secret(32), secret(32)];
  const level = tapeLevelLeaf(28, {
    position: wotsPublicKey(p),
    node: wotsPublicKey(a),
    sibling: wotsPublicKey(b),
    parent: wotsPublicKey(c),
  });
  // Bit 28 set, so the conditional swap of the children runs (the costlier branch).
  const position = 2 ** 28 + 5;
  const levelItems = tapeLevelWitness({
    position: wotsSign(p, smallBytes(position)),
    node: wotsSign(a, word(3)),
    sibling: wotsSign(b, word(5)),
    parent: wotsSign(c, word(9)),
  });
  const top = tapeTopLeaf({
    position: wotsPublicKey(p),
    root: wotsPublicKey(a),
    imageRoot: wotsPublicKey(b),
    inputsRoot: wotsPublicKey(c),
  });
  const topItems = tapeTopWitness({
    position: wotsSign(p, smallBytes(2 ** 29 + 5)),
    root: wotsSign(a, word(3)),
    imageRoot: wotsSign(b, word(3)),
    inputsRoot: wotsSign(c, word(9)),
  });
  return [
    ...(await figuresOf('tapeLevel', level, levelItems)),
    ...(await figuresOf('tapeTop', top, topItems)),
  ];
}

async function memoryFigures(): Promise<BenchFigure[]> {
  const [ra, rv, wa, wv] = [secret(4), secret(32), secret(4), secret(32)];
  const raw = readAfterWriteLeaf({
    raddr: wotsPublicKey(ra),
    rvalue: wotsPublicKey(rv),
    waddr: wotsPublicKey(wa),
    wvalue: wotsPublicKey(wv),
  });
  const rawItems = readAfterWriteWitness({
    raddr: wotsSign(ra, smallBytes(17)),
    rvalue: wotsSign(rv, word(3)),
    waddr: wotsSign(wa, smallBytes(17)),
    wvalue: wotsSign(wv, word(5)),
  });
  const unwritten = unwrittenReadLeaf({ raddr: wotsPublicKey(ra), rvalue: wotsPublicKey(rv) });
  const unwrittenItems = unwrittenReadWitness({
    raddr: wotsSign(ra, smallBytes(17)),
    rvalue: wotsSign(rv, word(3)),
  });
  const out = [
    ...(await figuresOf('readAfterWrite', raw, rawItems)),
    ...(await figuresOf('unwrittenRead', unwritten, unwrittenItems)),
  ];
  for (const n of [32, 20, 4]) {
    const [x, y] = [secret(n), secret(n)];
    const leaf = differLeaf(n, { a: wotsPublicKey(x), b: wotsPublicKey(y) });
    const items = differWitness({ a: wotsSign(x, word(3).slice(0, n)), b: wotsSign(y, word(5).slice(0, n)) });
    out.push(...(await figuresOf(`differ${n}`, leaf, items)));
  }
  // Two values under one key (protocol §24.7): a 20-byte chain value, as an answer signs.
  const chain = secret(20);
  const twice = equivocationLeaf(wotsPublicKey(chain));
  const twiceItems = equivocationWitness(
    wotsSign(chain, word(3).slice(0, 20)),
    wotsSign(chain, word(5).slice(0, 20)),
  );
  out.push(...(await figuresOf('equivocation20', twice, twiceItems)));
  // The kick-off's image root against the graph's constant (protocol §24.11 fix 5).
  const root = secret(32);
  const rootLeaf = differsFromLeaf(word(3), wotsPublicKey(root));
  out.push(...(await figuresOf('differsFrom32', rootLeaf, differsFromWitness(wotsSign(root, word(5))))));
  const pc = secret(4);
  const leaf = pcRangeLeaf(1000, wotsPublicKey(pc));
  out.push(...(await figuresOf('pcRange', leaf, pcRangeWitness(wotsSign(pc, smallBytes(0xfffffff0))))));
  return out;
}

export const benchmarks: Benchmark[] = [
  { name: 'circuits.gvm.hash', run: hashFigures },
  { name: 'circuits.gvm.chain', run: chainFigures },
  { name: 'circuits.gvm.tape', run: tapeFigures },
  { name: 'circuits.gvm.memory', run: memoryFigures },
];
