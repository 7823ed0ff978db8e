/**
 * What one game's graph holds in leaf script and Winternitz public keys (#15 acceptance 5, docs/protocol.md
 * §24.4–24.7), built, not estimated: every disprove, refusal and equivocation leaf (for both sides'
 * keys) the protocol lists for one game of the governance program at mainnet's shape (n = 32, K = 29),
 * each built by its generator with keys of the right sizes (one per committed value, as a game's key plan
 * has them) and a covenant of 5 keys. The transactions' own small leaves (timeouts, payouts: a covenant and a CSV) are left out. The
 * second search's leaves are counted once per read (q = 1 and q = 2 name different reads), so the figure
 * is an upper bound until the graph fixes where they sit. Baseline for the execution leaves: one per
 * program position, built in the same run.
 */
import { chainLinkLeaf } from '../circuits/gvm/chain-leaf.ts';
import { execGroupLeaf, planExecGroups } from '../circuits/gvm/exec-groups.ts';
import { execLeaf } from '../circuits/gvm/exec-leaf.ts';
import {
  earlyHaltLeaf,
  futureReadLeaf,
  lastStepLeaf,
  laterWriteLeaf,
  lengthLeaf,
  notATapeStepLeaf,
  notAWriteLeaf,
  pastEndLeaf,
  pastReadLeaf,
  readValueLeaf,
  resignAtReadLeaf,
  resignLeaf,
  resignPoints,
  tapePositionLeaf,
  unwrittenReadLastLeaf,
} from '../circuits/gvm/game-leaves.ts';
import { hashExecLeaf } from '../circuits/gvm/hash-leaf.ts';
import { differLeaf, differsFromLeaf, equivocationLeaf, pcRangeLeaf } from '../circuits/gvm/memory-leaves.ts';
import { entryPcLeaf, h0Leaf, pcLinkLeaf, wrongPredecessorLeaf } from '../circuits/gvm/preimage-leaves.ts';
import { tapeLevelLeaf, tapeTopLeaf } from '../circuits/gvm/tape-leaf.ts';
import { MAINNET_SEARCH, roundBits } from '../src/dispute/game/grid.ts';
import { type GameClaim, gameKeyDomain, gameKeyPlan } from '../src/dispute/game/key-plan.ts';
import { gameMoveShapes } from '../src/dispute/game/move-inputs.ts';
import { deriveGameWotsSecretKey } from '../src/dispute/winternitz/game-keys.ts';
import { type WotsPublicKey, wotsPublicKey } from '../src/dispute/winternitz/keys.ts';
import {
  CHAIN_BYTES,
  fieldBytes,
  type Instruction,
  SMALL_BYTES,
  STEP_FIELDS,
  type StepField,
  TAPE_HALF_DEPTH,
  WORD_BYTES,
} from '../src/machine/isa.ts';
import { programHash } from '../src/machine/program.ts';
import { governanceProgram } from '../src/machine/programs/governance.ts';
import { type BenchFigure, type Benchmark, withRatio } from './harness.ts';
import { benchSecret } from './leaf-figures.ts';

const SHAPE = MAINNET_SEARCH;
const COVENANT = Array.from({ length: 5 }, (_, i) => new Uint8Array(32).fill(i + 1));

const PLAN = new Map(gameKeyPlan(SHAPE).map((e) => [e.label, e]));
const CLAIM: GameClaim = {
  network: 'regtest',
  operator: new Uint8Array(32).fill(0x66),
  epoch: 14n,
  instance: 0,
};
const CHALLENGER = new Uint8Array(32).fill(0x71);
const SEEDS = { operator: new Uint8Array(32).fill(0x0a), challenger: new Uint8Array(32).fill(0x0c) };

/** Every leaf of one game, with the keys in `keys` (derived into it when missing), by kind. */
function leafSet(keys: Map<string, WotsPublicKey>) {
  /**
   * The one key of a committed value, by its label: a move's from the game's key plan, derived from its
   * signer's seed; the kick-off's (`kickoff.*`, §15's keys, not the game's) by value index. A label the
   * leaves need that the plan lacks is an error, so the inventory also checks the plan.
   */
  const key = (label: string, bytes: number): WotsPublicKey => {
    let k = keys.get(label);
    if (k === undefined) {
      const entry = PLAN.get(label);
      if (entry === undefined && !label.startsWith('kickoff.'))
        throw new Error(`no key planned for ${label}`);
      if (entry !== undefined && entry.bytes !== bytes)
        throw new Error(`${label}: planned for ${entry.bytes} bytes`);
      const secret =
        entry === undefined
          ? benchSecret(0x7e, 0, keys.size, bytes)
          : deriveGameWotsSecretKey(SEEDS[entry.signer], gameKeyDomain(entry, CLAIM, CHALLENGER));
      k = wotsPublicKey(secret);
      keys.set(label, k);
    }
    return k;
  };
  const small = (l: string) => key(l, SMALL_BYTES);
  const chain = (l: string) => key(l, CHAIN_BYTES);
  const word = (l: string) => key(l, WORD_BYTES);
  const R = roundBits(SHAPE).length;
  // Choices as the leaves read them: the operator's echoes for the challenger's leaves (§24.11 item 1),
  // the challenger's own keys for the operator's refusals.
  const echoChoices = (p: string) => Array.from({ length: R }, (_, r) => key(`echo.choice${p}${r + 1}`, 1));
  const ownChoices = (p: string) => Array.from({ length: R }, (_, r) => key(`choice${p}${r + 1}`, 1));
  const program = governanceProgram();
  const halts = program.instructions.flatMap((ins, pc) => (ins.op === 'halt' ? [pc] : []));
  const tapes = program.instructions.flatMap((ins, pc) => (ins.op === 'tape' ? [pc] : []));
  const record = Object.fromEntries(STEP_FIELDS.map((f) => [f, key(`record.${f}`, fieldBytes(f))])) as Record<
    StepField,
    WotsPublicKey
  >;

  const kinds = new Map<string, { count: number; bytes: number }>();
  const add = (kind: string, script: Uint8Array) => {
    const k = kinds.get(kind) ?? { count: 0, bytes: 0 };
    k.count++;
    k.bytes += script.length;
    kinds.set(kind, k);
  };

  // On Q_w, at the assert: h_0, the length, the image root against the graph's.
  add(
    'assert leaves',
    h0Leaf(
      programHash(program),
      { h0: chain('h0'), inputsRoot: word('kickoff.inputsRoot'), imageRoot: word('kickoff.imageRoot') },
      COVENANT,
    ).script,
  );
  add('assert leaves', lengthLeaf(SHAPE, { steps: small('steps') }, COVENANT).script);
  add(
    'assert leaves',
    differsFromLeaf(new Uint8Array(32).fill(9), word('kickoff.imageRoot'), COVENANT).script,
  );

  // The reveal's output: resign at every point of the first search, the step's own leaves.
  /** The key a search point was committed under: h_0 and the far end, or an answer's point. */
  const pointKey = (p: string, round: number, slot: number) => {
    if (round === 1 && slot === 0) return chain('h0');
    // The second search's far end is the reveal's h_i (§24.5).
    if (round === 1 && slot === 2 ** (roundBits(SHAPE)[0] as number)) return chain(p === '' ? 'hEnd' : 'h');
    return chain(round === 1 && p === '' ? `round1.point${slot}` : `answer${p}${round}.point${slot}`);
  };
  /** A search's resign leaves: each point's committed key against the reveal's re-signed end. */
  const resignAll = (p: '' | '′') => {
    for (const point of resignPoints(SHAPE)) {
      const committed = pointKey(p, point.round, point.slot);
      const resigned = chain(point.side === 'h' ? `h${p}` : `hNext${p}`);
      add(
        `resign${p}`,
        resignLeaf(SHAPE, point, { choices: echoChoices(p), committed, resigned }, COVENANT).script,
      );
    }
  };
  resignAll('');
  add(
    'step',
    chainLinkLeaf(
      {
        h: chain('h'),
        pc: record.pc,
        nextPc: record.nextPc,
        waddr: record.waddr,
        wvalue: record.wvalue,
        hNext: chain('hNext'),
      },
      COVENANT,
    ).script,
  );
  add(
    'step',
    pcLinkLeaf(SHAPE, halts, { choices: echoChoices(''), h: chain('h'), pc: record.pc }, COVENANT).script,
  );
  add('step', entryPcLeaf(SHAPE, { choices: echoChoices(''), pc: record.pc }, COVENANT).script);
  add('step', pcRangeLeaf(program.instructions.length, record.pc, COVENANT).script);
  add(
    'step',
    lastStepLeaf(
      SHAPE,
      halts,
      {
        choices: echoChoices(''),
        steps: small('steps'),
        pc: record.pc,
        r1value: record.r1value,
        root: word('kickoff.root'),
      },
      COVENANT,
    ).script,
  );
  add(
    'step',
    earlyHaltLeaf(SHAPE, halts, { choices: echoChoices(''), steps: small('steps'), pc: record.pc }, COVENANT)
      .script,
  );
  for (const [a, v, l] of [
    ['r1addr', 'r1value', 'r1last'],
    ['r2addr', 'r2value', 'r2last'],
  ] as const) {
    add(
      'step',
      unwrittenReadLastLeaf({ raddr: record[a], rvalue: record[v], rlast: small(l) }, COVENANT).script,
    );
    add(
      'step',
      futureReadLeaf(SHAPE, { choices: echoChoices(''), raddr: record[a], rlast: small(l) }, COVENANT).script,
    );
  }
  add(
    'operator refusals',
    pastEndLeaf(SHAPE, { choices: ownChoices(''), steps: small('echo.steps') }, COVENANT).script,
  );

  // Execution: grouped (8 leaves), and the hash positions' own.
  for (const g of planExecGroups(program, { covenantKeys: COVENANT.length })) {
    add('execution (grouped)', execGroupLeaf(program, g, record, COVENANT).script);
  }
  program.instructions.forEach((ins, pc) => {
    if (ins.op === 'hash') add('execution (hash)', hashExecLeaf(pc, ins, record, COVENANT).script);
  });

  // The second search, once per read: resign at its points and at the read, the write step's leaves.
  for (const [a, v, l] of [
    ['r1addr', 'r1value', 'r1last'],
    ['r2addr', 'r2value', 'r2last'],
  ] as const) {
    resignAll('′');
    add(
      'resign′',
      resignAtReadLeaf(
        SHAPE,
        {
          readChoices: echoChoices(''),
          choices: echoChoices('′'),
          readH: chain('h'),
          hNext: chain('hNext′'),
        },
        COVENANT,
      ).script,
    );
    add(
      'write step',
      chainLinkLeaf(
        {
          h: chain('h′'),
          pc: small('pc′'),
          nextPc: small('nextPc′'),
          waddr: small('waddr′'),
          wvalue: word('wvalue′'),
          hNext: chain('hNext′'),
        },
        COVENANT,
      ).script,
    );
    add(
      'write step',
      readValueLeaf(
        SHAPE,
        {
          choices: echoChoices('′'),
          raddr: record[a],
          rvalue: record[v],
          rlast: small(l),
          waddr: small('waddr′'),
          wvalue: word('wvalue′'),
        },
        COVENANT,
      ).script,
    );
    add(
      'write step',
      laterWriteLeaf(
        SHAPE,
        {
          readChoices: echoChoices(''),
          choices: echoChoices('′'),
          raddr: record[a],
          rlast: small(l),
          waddr: small('waddr′'),
        },
        COVENANT,
      ).script,
    );
    add(
      'write step',
      notAWriteLeaf(
        SHAPE,
        { choices: echoChoices('′'), raddr: record[a], rlast: small(l), waddr: small('waddr′') },
        COVENANT,
      ).script,
    );
    add('write step', wrongPredecessorLeaf({ hNext: chain('hNext′'), h: chain('h′') }, COVENANT).script);
    add(
      'operator refusals',
      pastReadLeaf(SHAPE, { readChoices: ownChoices(''), choices: ownChoices('′') }, COVENANT).script,
    );
  }

  // The tape path (q = 3).
  for (let j = 0; j < TAPE_HALF_DEPTH; j++) {
    add(
      'tape',
      tapeLevelLeaf(
        j,
        {
          position: small('tape.position'),
          node: word(`tape.node${j}`),
          sibling: word(`tape.sibling${j}`),
          parent: word(`tape.node${j + 1}`),
        },
        COVENANT,
      ).script,
    );
  }
  add(
    'tape',
    tapeTopLeaf(
      {
        position: small('tape.position'),
        root: word(`tape.node${TAPE_HALF_DEPTH}`),
        imageRoot: word('kickoff.imageRoot'),
        inputsRoot: word('kickoff.inputsRoot'),
      },
      COVENANT,
    ).script,
  );
  add(
    'tape',
    tapePositionLeaf({ position: small('tape.position'), r1value: record.r1value }, COVENANT).script,
  );
  add('tape', differLeaf(WORD_BYTES, { a: word('tape.node0'), b: record.wvalue }, COVENANT).script);
  add(
    'operator refusals',
    notATapeStepLeaf(tapes, { pc: small('echo.record.pc'), waddr: small('echo.record.waddr') }, COVENANT)
      .script,
  );

  // Equivocation: one leaf per key either side signs in any move (the assert's on every Q_w, counted
  // once; the requests' echo keys once): the operator's slash D, the challenger's lose the bond.
  const signed = new Set<string>();
  for (const move of gameMoveShapes(SHAPE)) {
    const kind = move.mover === 'operator' ? 'equivocation' : 'equivocation (challenger)';
    const labels = [
      ...move.values.map((v) => ({ label: v.label, bytes: v.bytes })),
      ...move.echoes.map((e) => ({ label: `echo.${e.label}`, bytes: e.bytes })),
    ];
    for (const { label, bytes } of labels) {
      if (signed.has(label)) continue;
      signed.add(label);
      add(kind, equivocationLeaf(key(label, bytes), COVENANT).script);
    }
  }
  return { kinds, record, program };
}

function inventory(): BenchFigure[] {
  // The operator's side: derive every key, build every leaf.
  const keys = new Map<string, WotsPublicKey>();
  const t0 = performance.now();
  leafSet(keys);
  const ms = performance.now() - t0;
  // An import's side: the same keys as fresh objects (parsed from a document), every leaf rebuilt.
  const parsed = new Map(
    [...keys].map(([label, k]) => [
      label,
      { messageBytes: k.messageBytes, hashes: k.hashes.map((h) => h.slice()) },
    ]),
  );
  const t1 = performance.now();
  const { kinds, record, program } = leafSet(parsed);
  const rebuildMs = performance.now() - t1;
  const b0 = performance.now();
  let perPosition = 0;
  program.instructions.forEach((ins, pc) => {
    if (ins.op !== 'hash') perPosition += execLeaf(pc, ins as Instruction, record, COVENANT).script.length;
  });
  const perPositionMs = performance.now() - b0;

  let totalBytes = 0;
  let totalLeaves = 0;
  const figures: BenchFigure[] = [];
  for (const [kind, k] of kinds) {
    totalBytes += k.bytes;
    totalLeaves += k.count;
    figures.push({
      name: `dispute.game.leaves.${kind.replace(/[^a-z0-9′]+/gi, '-').replace(/^-|-$/g, '')}`,
      value: k.bytes,
      unit: `bytes of script in ${k.count} leaves`,
    });
  }
  const keyBytes = [...keys.values()].reduce((n, k) => n + k.hashes.length * 20, 0);
  const grouped = kinds.get('execution (grouped)')?.bytes ?? 0;
  figures.push(
    withRatio({
      name: 'dispute.game.leaves.execution',
      value: grouped,
      unit: 'bytes, the grouped execution leaves (baseline: one leaf per position)',
      baseline: perPosition,
    }),
    {
      name: 'dispute.game.leaves.total',
      value: totalBytes,
      unit: `bytes of leaf script in ${totalLeaves} leaves, one game`,
    },
    {
      name: 'dispute.game.leaves.wotsKeys',
      value: keyBytes,
      unit: `bytes of Winternitz public keys (${keys.size} values), one game`,
    },
    {
      name: 'dispute.game.leaves.buildMs',
      value: Number(ms.toFixed(0)),
      unit: 'ms to derive the keys and build every leaf of one game (the operator)',
    },
    withRatio({
      name: 'dispute.game.leaves.rebuildMs',
      value: Number(rebuildMs.toFixed(0)),
      unit: 'ms to rebuild every leaf of one game from its keys, as an import does (baseline: the execution leaves alone, one per position)',
      baseline: Number(perPositionMs.toFixed(0)),
    }),
  );
  return figures;
}

export const benchmarks: Benchmark[] = [{ name: 'dispute.game.leaves', run: async () => inventory() }];
