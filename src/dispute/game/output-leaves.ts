/**
 * Which leaves each output of one game carries (docs/protocol.md §24.4–24.7, §24.11): the disprove leaves
 * a challenger spends, the refusals an operator spends, and the equivocation leaves for every key either
 * side signs. A leaf sits on the output of the move whose values it judges last, so it can be spent as
 * soon as that move confirms and before the opponent's next move spends the output. Pure: no I/O.
 *
 *   reserve Q_w                  h_0, length, image root (the assert's values); the assert's equivocations
 *   reveal                       resign at every point of the first search, the step's leaves, execution
 *   choice_R                     past end (the operator's refusal)
 *   request tape                 not a tape step (the operator's refusal: the tape was asked for)
 *   read / choice′_R             past the read (the second search's past end)
 *   read / reveal′               resign′, resign at the read, chain link′, wrong predecessor, and RV1–RV3
 *                                for each of the two reads (whichever read w disputes, the operator's
 *                                answers are chain values, so one second search serves both)
 *   tape / tape reveal 2         the tape path's leaves
 *   every move's output          one equivocation leaf per key that move signed (its opponent spends it)
 *
 * Who may spend a leaf is its first check (the generators' `covenant` keys): the challenger's key on its
 * disproves and on the operator's equivocations, the operator's on refusals and on the challenger's
 * equivocations. No covenant is needed in them: a leaf only frees the output it sits on, and the stake D
 * moves only through the covenant's presigned slash, whose other input is this output (game-graph.ts).
 * Choices are read as the operator echoed them (§24.11 item 1) in the challenger's leaves, and as the
 * challenger signed them in the operator's refusals, which read T′, pc and waddr as the challenger
 * echoed them (item 2).
 */
import { chainLinkLeaf } from '../../../circuits/gvm/chain-leaf.ts';
import { type ExecGroup, execGroupLeaf, planExecGroups } from '../../../circuits/gvm/exec-groups.ts';
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
  type ResignPoint,
  readValueLeaf,
  resignAtReadLeaf,
  resignLeaf,
  resignPoints,
  tapePositionLeaf,
  unwrittenReadLastLeaf,
} from '../../../circuits/gvm/game-leaves.ts';
import { hashExecLeaf } from '../../../circuits/gvm/hash-leaf.ts';
import {
  differLeaf,
  differsFromLeaf,
  equivocationLeaf,
  pcRangeLeaf,
} from '../../../circuits/gvm/memory-leaves.ts';
import {
  entryPcLeaf,
  h0Leaf,
  haltPositionsOf,
  pcLinkLeaf,
  wrongPredecessorLeaf,
} from '../../../circuits/gvm/preimage-leaves.ts';
import { tapeLevelLeaf, tapeTopLeaf } from '../../../circuits/gvm/tape-leaf.ts';
import {
  CHAIN_BYTES,
  fieldBytes,
  SMALL_BYTES,
  STEP_FIELDS,
  type StepField,
  TAPE_HALF_DEPTH,
  WORD_BYTES,
} from '../../machine/isa.ts';
import { type Program, programHash } from '../../machine/program.ts';
import type { WotsPublicKey } from '../winternitz/keys.ts';
import { roundBits, type SearchShape } from './grid.ts';
import { gameMoveShapes } from './move-inputs.ts';
import { type GameSigner, keyOf, type SignerKeys } from './signer-keys.ts';

/** A leaf of a game output: its name (what the watcher looks it up by), who spends it, its script. */
export type GameLeaf = { readonly name: string; readonly spender: GameSigner; readonly script: Uint8Array };

/** The kick-off's committed values the game's leaves read (§24.9: R′ and the two roots). */
export type KickoffKeys = {
  readonly root: WotsPublicKey;
  readonly imageRoot: WotsPublicKey;
  readonly inputsRoot: WotsPublicKey;
};

export type GameLeafSpec = {
  readonly shape: SearchShape;
  readonly program: Program;
  /** The pre-state root the graph fixes (§24.11 item 5): import checks it against the L2. */
  readonly agreedImageRoot: Uint8Array;
  readonly operator: Uint8Array;
  readonly challenger: Uint8Array;
  readonly keys: { readonly operator: SignerKeys; readonly challenger: SignerKeys };
  readonly kickoff: KickoffKeys;
};

/** The output a leaf list belongs to: `reserve` (Q_w), or the id of the game transaction whose output 0 it is. */
export type LeafSite = string;

/** Every game output's leaves, by site; the move-input and timeout leaves are the graph's (game-graph.ts). */
export function gameOutputLeaves(spec: GameLeafSpec): Map<LeafSite, GameLeaf[]> {
  const { shape, program } = spec;
  const R = roundBits(shape).length;
  const sites = new Map<LeafSite, GameLeaf[]>();
  const put = (site: LeafSite, name: string, spender: GameSigner, script: Uint8Array) => {
    const list = sites.get(site) ?? [];
    list.push({ name, spender, script });
    sites.set(site, list);
  };
  const signerKey = (spender: GameSigner) => [spender === 'challenger' ? spec.challenger : spec.operator];
  const op = (label: string, bytes: number) => keyOf(spec.keys.operator, label, bytes, 'operator');
  const ch = (label: string, bytes: number) => keyOf(spec.keys.challenger, label, bytes, 'challenger');
  const W = signerKey('challenger');
  const O = signerKey('operator');
  const echoChoices = (p: string) => Array.from({ length: R }, (_, r) => op(`echo.choice${p}${r + 1}`, 1));
  const ownChoices = (p: string) => Array.from({ length: R }, (_, r) => ch(`choice${p}${r + 1}`, 1));
  const record = Object.fromEntries(STEP_FIELDS.map((f) => [f, op(`record.${f}`, fieldBytes(f))])) as Record<
    StepField,
    WotsPublicKey
  >;
  const halts = haltPositionsOf(program);
  const tapes = program.instructions.flatMap((ins, pc) => (ins.op === 'tape' ? [pc] : []));
  const chain = (l: string) => op(l, CHAIN_BYTES);
  const small = (l: string) => op(l, SMALL_BYTES);
  const word = (l: string) => op(l, WORD_BYTES);

  // Q_w: the assert's values, judged as soon as it confirms.
  put(
    'reserve',
    'h0',
    'challenger',
    h0Leaf(
      programHash(program),
      { h0: chain('h0'), inputsRoot: spec.kickoff.inputsRoot, imageRoot: spec.kickoff.imageRoot },
      W,
    ).script,
  );
  put('reserve', 'length', 'challenger', lengthLeaf(shape, { steps: small('steps') }, W).script);
  put(
    'reserve',
    'image-root',
    'challenger',
    differsFromLeaf(spec.agreedImageRoot, spec.kickoff.imageRoot, W).script,
  );

  const resignAll = (site: LeafSite, p: '' | '′') => {
    for (const point of resignPoints(shape)) {
      const labels = resignLabels(shape, p, point);
      const committed = chain(labels.committed);
      const resigned = chain(labels.resigned);
      put(
        site,
        `resign${p}:${point.round}.${point.slot}.${point.side}`,
        'challenger',
        resignLeaf(shape, point, { choices: echoChoices(p), committed, resigned }, W).script,
      );
    }
  };

  // The reveal: the step i the first search ended at.
  resignAll('reveal', '');
  const step = (name: string, script: Uint8Array) => put('reveal', name, 'challenger', script);
  step(
    'chain-link',
    chainLinkLeaf(
      {
        h: chain('h'),
        pc: record.pc,
        nextPc: record.nextPc,
        waddr: record.waddr,
        wvalue: record.wvalue,
        hNext: chain('hNext'),
      },
      W,
    ).script,
  );
  step(
    'pc-link',
    pcLinkLeaf(shape, halts, { choices: echoChoices(''), h: chain('h'), pc: record.pc }, W).script,
  );
  step('entry-pc', entryPcLeaf(shape, { choices: echoChoices(''), pc: record.pc }, W).script);
  step('pc-range', pcRangeLeaf(program.instructions.length, record.pc, W).script);
  step(
    'last-step',
    lastStepLeaf(
      shape,
      halts,
      {
        choices: echoChoices(''),
        steps: small('steps'),
        pc: record.pc,
        r1value: record.r1value,
        root: spec.kickoff.root,
      },
      W,
    ).script,
  );
  step(
    'early-halt',
    earlyHaltLeaf(shape, halts, { choices: echoChoices(''), steps: small('steps'), pc: record.pc }, W).script,
  );
  for (const [q, a, v, l] of [
    [1, 'r1addr', 'r1value', 'r1last'],
    [2, 'r2addr', 'r2value', 'r2last'],
  ] as const) {
    step(
      `unwritten-read:${q}`,
      unwrittenReadLastLeaf({ raddr: record[a], rvalue: record[v], rlast: small(l) }, W).script,
    );
    step(
      `future-read:${q}`,
      futureReadLeaf(shape, { choices: echoChoices(''), raddr: record[a], rlast: small(l) }, W).script,
    );
  }
  gameExecGroups(program).forEach((g, k) => {
    step(`execution:${k}`, execGroupLeaf(program, g, record, W).script);
  });
  program.instructions.forEach((ins, pc) => {
    if (ins.op === 'hash') step(`execution:hash.${pc}`, hashExecLeaf(pc, ins, record, W).script);
  });

  // The operator's refusals: a choice past T′, a tape request over a step that is not a tape step.
  put(
    `choice${R}`,
    'past-end',
    'operator',
    pastEndLeaf(shape, { choices: ownChoices(''), steps: ch('echo.steps', SMALL_BYTES) }, O).script,
  );
  put(
    'requestTape',
    'not-a-tape-step',
    'operator',
    notATapeStepLeaf(
      tapes,
      { pc: ch('echo.record.pc', SMALL_BYTES), waddr: ch('echo.record.waddr', SMALL_BYTES) },
      O,
    ).script,
  );

  // The second search: one branch, whichever read w disputes. The operator answers with chain values and
  // reveals step j's chained fields either way; only the RV leaves depend on the read, and both reads'
  // sit on reveal′. Against an honest trace no RV leaf of either read spends (§24.5), so w's choice of
  // leaf is free; against a lying operator w uses the read it targeted.
  put(
    `read/choice′${R}`,
    'past-read',
    'operator',
    pastReadLeaf(shape, { readChoices: ownChoices(''), choices: ownChoices('′') }, O).script,
  );
  const site = 'read/reveal′';
  resignAll(site, '′');
  const write = (name: string, script: Uint8Array) => put(site, name, 'challenger', script);
  write(
    'resign-at-read',
    resignAtReadLeaf(
      shape,
      { readChoices: echoChoices(''), choices: echoChoices('′'), readH: chain('h'), hNext: chain('hNext′') },
      W,
    ).script,
  );
  write(
    'chain-link′',
    chainLinkLeaf(
      {
        h: chain('h′'),
        pc: small('pc′'),
        nextPc: small('nextPc′'),
        waddr: small('waddr′'),
        wvalue: word('wvalue′'),
        hNext: chain('hNext′'),
      },
      W,
    ).script,
  );
  write('wrong-predecessor', wrongPredecessorLeaf({ hNext: chain('hNext′'), h: chain('h′') }, W).script);
  for (const [q, a, v, l] of [
    [1, 'r1addr', 'r1value', 'r1last'],
    [2, 'r2addr', 'r2value', 'r2last'],
  ] as const) {
    write(
      `read-value:${q}`,
      readValueLeaf(
        shape,
        {
          choices: echoChoices('′'),
          raddr: record[a],
          rvalue: record[v],
          rlast: small(l),
          waddr: small('waddr′'),
          wvalue: word('wvalue′'),
        },
        W,
      ).script,
    );
    write(
      `later-write:${q}`,
      laterWriteLeaf(
        shape,
        {
          readChoices: echoChoices(''),
          choices: echoChoices('′'),
          raddr: record[a],
          rlast: small(l),
          waddr: small('waddr′'),
        },
        W,
      ).script,
    );
    write(
      `not-a-write:${q}`,
      notAWriteLeaf(
        shape,
        { choices: echoChoices('′'), raddr: record[a], rlast: small(l), waddr: small('waddr′') },
        W,
      ).script,
    );
  }

  // The tape path: every leaf reads the second tape-reveal transaction's values, so they sit on its output.
  const tape = (name: string, script: Uint8Array) => put('tape/tapeReveal2', name, 'challenger', script);
  for (let j = 0; j < TAPE_HALF_DEPTH; j++) {
    tape(
      `tape-level:${j}`,
      tapeLevelLeaf(
        j,
        {
          position: small('tape.position'),
          node: word(`tape.node${j}`),
          sibling: word(`tape.sibling${j}`),
          parent: word(`tape.node${j + 1}`),
        },
        W,
      ).script,
    );
  }
  tape(
    'tape-top',
    tapeTopLeaf(
      {
        position: small('tape.position'),
        root: word(`tape.node${TAPE_HALF_DEPTH}`),
        imageRoot: spec.kickoff.imageRoot,
        inputsRoot: spec.kickoff.inputsRoot,
      },
      W,
    ).script,
  );
  tape(
    'tape-position',
    tapePositionLeaf({ position: small('tape.position'), r1value: record.r1value }, W).script,
  );
  tape('tape-word', differLeaf(WORD_BYTES, { a: word('tape.node0'), b: record.wvalue }, W).script);

  // Equivocation: on the output of the move that signs a key, for the opponent. The assert's keys on Q_w.
  const signedAt = new Map<string, LeafSite[]>();
  for (const node of gameMoveSites(shape)) {
    const signer: GameSigner = node.move.mover;
    const spender: GameSigner = signer === 'operator' ? 'challenger' : 'operator';
    const labels = [
      ...node.move.values.map((x) => ({ label: x.label, bytes: x.bytes })),
      ...node.move.echoes.map((e) => ({ label: `echo.${e.label}`, bytes: e.bytes })),
    ];
    for (const { label, bytes } of labels) {
      const id = `${signer}:${label}:${node.site}`;
      if (signedAt.has(id)) continue;
      signedAt.set(id, [node.site]);
      const key = keyOf(spec.keys[signer], label, bytes, signer);
      put(node.site, equivocationLeafName(label), spender, equivocationLeaf(key, signerKey(spender)).script);
    }
  }
  return sites;
}

/**
 * The labels a resign leaf reads for `point` of a search (`''` the first, `'′'` the second): the value
 * committed there (h_0 and h_{2^K} in the assert, the second search's far end the reveal's h_i, else an
 * answer's point) and the reveal's re-signed end. The leaves and their witnesses both take them from here.
 */
export function resignLabels(
  shape: SearchShape,
  p: '' | '′',
  point: ResignPoint,
): { committed: string; resigned: string } {
  const { round, slot } = point;
  const committed =
    round === 1 && slot === 0
      ? 'h0'
      : round === 1 && slot === 2 ** (roundBits(shape)[0] as number)
        ? p === ''
          ? 'hEnd'
          : 'h'
        : round === 1 && p === ''
          ? `round1.point${slot}`
          : `answer${p}${round}.point${slot}`;
  return { committed, resigned: point.side === 'h' ? `h${p}` : `hNext${p}` };
}

/** The execution groups of a game's program, as its leaves are built (each leaf checks one key). */
export const gameExecGroups = (program: Program): ExecGroup[] => planExecGroups(program, { covenantKeys: 1 });

/** The name of the leaf, on the output of the move that signed `label`, that proves an equivocation on it. */
export const equivocationLeafName = (label: string): string => `equivocation:${label}`;

/** A move and the output its values' equivocation leaves sit on (the assert's: Q_w). */
export type MoveSite = { readonly site: LeafSite; readonly move: ReturnType<typeof gameMoveShapes>[number] };

/** Every move of a game with its site (the graph's transaction id: `read/…`, `tape/…` in the two branches). */
export function gameMoveSites(shape: SearchShape): MoveSite[] {
  const out: MoveSite[] = [];
  for (const move of gameMoveShapes(shape)) {
    const second = move.name.includes('′');
    const tape = move.name.startsWith('tapeReveal');
    if (move.name === 'assert') out.push({ site: 'reserve', move });
    else if (second) out.push({ site: `read/${move.name}`, move });
    else if (tape) out.push({ site: `tape/${move.name}`, move });
    else out.push({ site: move.name, move });
  }
  return out;
}
