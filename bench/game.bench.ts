/**
 * The narrowing game played in memory (#15, docs/protocol.md §24, src/dispute/game/): what it costs
 * Vigil to hold the honest run and to play one game to its disprove, with the run kept whole and with
 * the checkpointed view (a few machine snapshots, re-runs per question). The game: an operator whose
 * trace is honest but whose halt claims to have read a wrong root, so every phase is played (the first
 * search, the reveal, the second search to the root's last write, RV1). Baseline in the same run: one
 * machine run of the epoch without the chain. Heap figures are retained heap after a forced collection.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { equalBytes } from '../src/core/bytes.ts';
import {
  type GameTurn,
  nextTurn,
  SILENT_CHALLENGER,
  SILENT_OPERATOR,
} from '../src/dispute/game/game-turn.ts';
import { MAINNET_SEARCH } from '../src/dispute/game/grid.ts';
import {
  type CheckpointOptions,
  checkpointedView,
  gameViewOptions,
  type HonestView,
  runHonest,
  viewOfHonestRun,
  viewOfRun,
} from '../src/dispute/game/honest-view.ts';
import type { MoveValues } from '../src/dispute/game/move-values.ts';
import type { GameContext } from '../src/dispute/game/moves.ts';
import { viewOperator } from '../src/dispute/game/operator.ts';
import type { OperatorPlayer } from '../src/dispute/game/players.ts';
import { playGame } from '../src/dispute/game/referee.ts';
import { ruleChallenger } from '../src/dispute/game/rule.ts';
import {
  computeStateRoot,
  createGenesisState,
  type GovernanceInput,
  reexecute,
} from '../src/governance/index.ts';
import { generateOneEpochWorkload, generateWorkload } from '../src/governance/workload.ts';
import { type TapeRecipe, tapeOfRecipe } from '../src/l2/tape-recipe.ts';
import { runProgram } from '../src/machine/interpreter.ts';
import { wordOf } from '../src/machine/isa.ts';
import { buildGovernanceProgram } from '../src/machine/programs/governance.ts';
import { encodeInputsTape } from '../src/machine/programs/inputs-tape.ts';
import { imageWords } from '../src/machine/programs/state-image.ts';
import { Tape } from '../src/machine/tape.ts';
import { PRIOR_CHUNK, runHonestOnThread } from '../src/watcher/honest-run-thread.ts';
import { type BenchFigure, type Benchmark, withRatio } from './harness.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapMb = () => {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

const { program } = buildGovernanceProgram();
const MAX_STEPS = 2 ** 29;

function tapeOf(inputs: number): Tape {
  const w = generateOneEpochWorkload(inputs);
  const bytes = createGenesisState(w.genesis).leaves.image();
  const image: bigint[] = [];
  for (let i = 0; i < bytes.length; i += 32) image.push(wordOf(bytes.subarray(i, i + 32)));
  return new Tape({ image, inputs: encodeInputsTape(w.inputs) });
}

/** The honest operator of `view`, except that its halt says it read `claimed`. */
function rootLiar(view: HonestView, claimed: bigint): OperatorPlayer {
  const honest = viewOperator(MAINNET_SEARCH, program, view);
  return {
    ...honest,
    reveal(i) {
      const r = honest.reveal(i);
      if (r === undefined || 'refuse' in r || i !== view.stepCount - 1) return r;
      return { ...r, record: { ...r.record, r1: { addr: r.record.r1.addr, value: claimed } } };
    },
  };
}

/** The context of a kick-off over `tape` that claims `claimed`. */
const contextOf = (tape: Tape, claimed: bigint): GameContext => ({
  program,
  imageRoot: tape.imageRoot,
  inputsRoot: tape.inputRoot,
  agreedImageRoot: tape.imageRoot,
  claimedRoot: claimed,
});

/** The root a bench epoch's run halts on (every bench epoch halts within its search's 2^K steps). */
function haltedOn(view: HonestView): bigint {
  if (view.result === undefined) throw new Error(`A bench run did not halt within ${view.stepCount} steps`);
  return view.result;
}

/** Plays the game; its time, moves, and how it ended. */
function play(tape: Tape, vigil: HonestView, operator: HonestView) {
  const claimed = haltedOn(vigil) ^ 1n;
  const ctx = contextOf(tape, claimed);
  const t0 = performance.now();
  const outcome = playGame(
    ctx,
    MAINNET_SEARCH,
    rootLiar(operator, claimed),
    ruleChallenger(ctx, MAINNET_SEARCH, vigil),
  );
  const ms = performance.now() - t0;
  if (outcome.winner !== 'challenger' || outcome.at !== 'read-value') {
    throw new Error(`The bench game ended ${outcome.winner} ${outcome.end} ${outcome.at}, not by RV1`);
  }
  return { ms, moves: outcome.moves.length };
}

function checkpointed(tape: Tape, options: CheckpointOptions) {
  const before = heapMb();
  const t0 = performance.now();
  const view = checkpointedView(program, tape, options);
  const ms = performance.now() - t0;
  return { view, ms, heap: heapMb() - before };
}

/**
 * What a watcher's turn costs (docs/protocol.md §24.9, src/dispute/game/game-turn.ts): `nextTurn` replays
 * the game over every confirmed move at each turn, so a job that restarts needs no state. The game above
 * is played turn by turn from an in-memory chain of the moves' values: Vigil's turns in all and the last
 * one alone with its checkpointed view kept across turns (a daemon that keeps it per dispute), and the
 * last turn with a view built afresh (just restarted). Baseline in the same run: the game played once.
 */
/**
 * The game of `turnFigures` played turn by turn from an in-memory chain of the moves' values, Vigil's
 * turns on `vigilView` (kept across turns, as a daemon keeps it per dispute), the lying operator's on
 * `operatorView`. Each of Vigil's turns is timed: it is synchronous, on the thread that plays it.
 */
function playTurns(tape: Tape, vigilView: HonestView, operatorView: HonestView) {
  const claimed = haltedOn(vigilView) ^ 1n;
  const ctx = contextOf(tape, claimed);
  let assert: MoveValues | undefined;
  const moves = new Map<string, MoveValues>();
  const chain = () => ({ ...(assert === undefined ? {} : { assert }), moves });
  const vigilTurn = (view: HonestView): GameTurn =>
    nextTurn(ctx, MAINNET_SEARCH, chain(), {
      operator: SILENT_OPERATOR,
      challenger: ruleChallenger(ctx, MAINNET_SEARCH, view),
    });
  let turns = 0;
  let totalMs = 0;
  let lastMs = 0;
  let maxMs = 0;
  let end: GameTurn | undefined;
  for (let guard = 0; guard < 100 && end === undefined; guard++) {
    const t1 = performance.now();
    const v = vigilTurn(vigilView);
    lastMs = performance.now() - t1;
    totalMs += lastMs;
    maxMs = Math.max(maxMs, lastMs);
    turns++;
    if (v.kind === 'move') {
      moves.set(v.id, v.values);
    } else if (v.kind === 'silent' && v.side === 'operator') {
      const o = nextTurn(ctx, MAINNET_SEARCH, chain(), {
        operator: rootLiar(operatorView, claimed),
        challenger: SILENT_CHALLENGER,
      });
      if (o.kind !== 'move') throw new Error(`The operator's turn is ${o.kind}, not a move`);
      if (o.id === 'assert') assert = o.values;
      else moves.set(o.id, o.values);
    } else {
      end = v;
    }
  }
  if (end?.kind !== 'disprove' || !end.leaf.startsWith('read-value')) {
    throw new Error(`The bench game ended with ${end?.kind}, not Vigil's RV1 disprove`);
  }
  return { turns, totalMs, lastMs, maxMs, vigilTurn };
}

async function turnFigures(): Promise<BenchFigure[]> {
  const tape = tapeOf(100);
  const vigilView = checkpointedView(program, tape, { maxSteps: MAX_STEPS });
  const operatorView = checkpointedView(program, tape, { maxSteps: MAX_STEPS });
  const straight = play(tape, vigilView, operatorView);
  // Its own view, not warmed by the straight game: the turns take and cache the snapshots themselves.
  const turnView = checkpointedView(program, tape, { maxSteps: MAX_STEPS });
  const { turns, totalMs, lastMs, vigilTurn } = playTurns(tape, turnView, operatorView);

  // A daemon just restarted: its view built afresh, then the last turn.
  const t2 = performance.now();
  const fresh = checkpointedView(program, tape, { maxSteps: MAX_STEPS });
  vigilTurn(fresh);
  const restartMs = performance.now() - t2;

  return [
    {
      name: 'dispute.game.turn.turns',
      value: turns,
      unit: `Vigil's turns to RV1 (${straight.moves} moves in the game), one epoch of 100 inputs`,
    },
    withRatio({
      name: 'dispute.game.turn.allMs',
      value: Math.round(totalMs),
      unit: 'ms, all of Vigil’s turns, each replaying the game, its view kept across turns (baseline: the game played once)',
      baseline: Math.round(straight.ms),
    }),
    withRatio({
      name: 'dispute.game.turn.lastMs',
      value: Math.round(lastMs),
      unit: 'ms, the last turn alone, view kept (baseline: the game played once)',
      baseline: Math.round(straight.ms),
    }),
    {
      name: 'dispute.game.turn.restartMs',
      value: Math.round(restartMs),
      unit: 'ms, the last turn after a restart: the checkpointed view built afresh, then the turn',
    },
  ];
}

/**
 * The daemon's first run of a game's epoch (src/watcher/honest-run-thread.ts): on the main thread, the
 * longest the event loop stood still is the whole run; on its own thread, what the caller waits for is
 * the same run plus the thread's start, and the loop keeps turning (the leases, job locks, /healthz).
 */
async function honestThreadFigures(): Promise<BenchFigure[]> {
  const tape = tapeOf(1_000);
  const stall = async <T>(work: () => T | Promise<T>) => {
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    // One turn of the loop first, so the histogram has seen it idle.
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    const value = await work();
    const ms = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 20));
    h.disable();
    return { value, ms, maxStallMs: h.max / 1e6 };
  };
  // Before: the view's default (8 snapshots) run on the main thread. Now: the daemon's (gameViewOptions).
  const here = await stall(() => runHonest(program, tape, { maxSteps: MAX_STEPS }));
  const there = await stall(
    async () => (await runHonestOnThread(program, { tape }, gameViewOptions(MAINNET_SEARCH))).run,
  );
  const operatorView = viewOfHonestRun(program, tape, here.value);
  const before = playTurns(tape, viewOfHonestRun(program, tape, here.value), operatorView);
  const now = playTurns(tape, viewOfHonestRun(program, tape, there.value), operatorView);
  return [
    withRatio({
      name: 'dispute.game.honestThread.waitMs',
      value: Math.round(there.ms),
      unit: "ms, the first run of a 1,000-input epoch on its own thread with the daemon's options, start included (baseline: the view's defaults on the main thread)",
      baseline: Math.round(here.ms),
    }),
    withRatio({
      name: 'dispute.game.honestThread.maxStallMs',
      value: Math.round(there.maxStallMs),
      unit: 'ms, the longest the event loop stood still meanwhile (baseline: the run on the main thread)',
      baseline: Math.round(here.maxStallMs),
    }),
    withRatio({
      name: 'dispute.game.honestThread.longestTurnMs',
      value: Math.round(now.maxMs),
      unit: `ms, Vigil's longest turn of the game to RV1 (${now.turns} turns), on the daemon's view (baseline: the view's defaults)`,
      baseline: Math.round(before.maxMs),
    }),
    withRatio({
      name: 'dispute.game.honestThread.allTurnsMs',
      value: Math.round(now.totalMs),
      unit: "ms, all of Vigil's turns, on the daemon's view (baseline: the view's defaults)",
      baseline: Math.round(before.totalMs),
    }),
  ];
}

/**
 * A game's tape on a long history: the state before the epoch rebuilt from the L2 journal's base, 256
 * epochs of about 1,000 inputs behind (l2.retainEpochs' default) over 200 validators and 2,000
 * delegators, then the tape of the next epoch. Before, the main thread did all of it for every claim it
 * judged, hashing the image again as words. Now a claim is judged on ingestion's roots, and a game's tape
 * is rebuilt from its recipe on the run's thread with the state tree's own nodes: the main thread only
 * posts the recipe and takes the tape's levels back (transferred), both timed here in one thread.
 */
async function tapeRecipeFigures(): Promise<BenchFigure[]> {
  const w = generateWorkload({
    seed: 3,
    inputs: 257_000,
    epochLength: 1000,
    validators: 200,
    delegators: 2000,
  });
  const ends = w.inputs.flatMap((x, i) => (x.kind === 'endEpoch' ? [i] : []));
  const first = (ends.at(-2) as number) + 1;
  const last = ends.at(-1) as number;
  const prior = w.inputs.slice(0, first);
  const inputs = w.inputs.slice(first, last + 1);

  const t0 = performance.now();
  const old = createGenesisState(w.genesis);
  reexecute(prior, { state: old });
  const oldTape = new Tape({ image: imageWords(old), inputs: encodeInputsTape(inputs) });
  const beforeMs = performance.now() - t0;
  const preRoot = computeStateRoot(old).slice();

  // What the caller's thread does: one message with the recipe less its history, the history in chunks
  // of PRIOR_CHUNK (the event loop turns between them), then the tape's levels back, transferred.
  const recipe: TapeRecipe = {
    epoch: BigInt(ends.length - 1),
    base: undefined,
    genesis: w.genesis,
    prior,
    inputs,
    preRoot,
  };
  const pieces: number[] = [];
  const timed = <T>(f: () => T): T => {
    const t = performance.now();
    const v = f();
    pieces.push(performance.now() - t);
    return v;
  };
  const head = timed(() => structuredClone({ ...recipe, prior: [] }));
  const received: GovernanceInput[] = [];
  for (let i = 0; i < prior.length; i += PRIOR_CHUNK) {
    for (const x of timed(() => structuredClone(prior.slice(i, i + PRIOR_CHUNK)))) received.push(x);
  }
  const t2 = performance.now();
  const built = tapeOfRecipe({ ...head, prior: received });
  const threadMs = performance.now() - t2;
  const back = timed(() =>
    Tape.fromParts(structuredClone(built.parts(), { transfer: built.transferables() })),
  );
  if (!equalBytes(back.root, oldTape.root))
    throw new Error('the tape from the recipe is not the tape made in place');
  return [
    withRatio({
      name: 'dispute.game.tapeRecipe.mainThreadMs',
      value: Math.round(pieces.reduce((a, b) => a + b, 0)),
      unit: `ms of the main thread in all for a game's tape after ${prior.length} inputs (${oldTape.wordCounts.image} image words): the recipe posted, its history in ${pieces.length - 2} chunks, the levels taken back (baseline: re-execution and tape there, as before for every claim judged)`,
      baseline: Math.round(beforeMs),
    }),
    withRatio({
      name: 'dispute.game.tapeRecipe.longestPieceMs',
      value: Math.round(Math.max(...pieces)),
      unit: 'ms, the longest of those pieces: the longest the event loop stands still for it (baseline: as above, in one piece)',
      baseline: Math.round(beforeMs),
    }),
    withRatio({
      name: 'dispute.game.tapeRecipe.threadMs',
      value: Math.round(threadMs),
      unit: "ms the run's thread takes to rebuild it (baseline: the same on the main thread before)",
      baseline: Math.round(beforeMs),
    }),
  ];
}

export const benchmarks: Benchmark[] = [
  { name: 'dispute.game.turn', run: turnFigures },
  { name: 'dispute.game.tapeRecipe', run: tapeRecipeFigures },
  { name: 'dispute.game.honestThread', run: honestThreadFigures },
  {
    name: 'dispute.game.small',
    run: async () => {
      const tape = tapeOf(100);
      const t0 = performance.now();
      const machine = runProgram(program, tape, { maxSteps: MAX_STEPS, keepSteps: false, hashChain: false });
      const machineMs = performance.now() - t0;

      const before = heapMb();
      const t1 = performance.now();
      const run = runProgram(program, tape, { maxSteps: MAX_STEPS });
      const keptMs = performance.now() - t1;
      const kept = viewOfRun({ steps: run.steps, chain: run.chain, tape, result: run.result as bigint });
      const keptHeap = heapMb() - before;
      const keptGame = play(tape, kept, kept);

      const light = checkpointed(tape, { maxSteps: MAX_STEPS });
      const operatorView = checkpointedView(program, tape, { maxSteps: MAX_STEPS });
      const lightGame = play(tape, light.view, operatorView);
      const steps = machine.stepCount;
      const figures: BenchFigure[] = [
        { name: 'dispute.game.small.steps', value: steps, unit: 'micro-steps, one epoch of 100 inputs' },
        {
          name: 'dispute.game.small.machineMs',
          value: Math.round(machineMs),
          unit: 'ms, one machine run without the chain (the baseline)',
        },
        {
          name: 'dispute.game.small.kept.buildMs',
          value: Math.round(keptMs),
          unit: 'ms, run kept whole: records and chain',
          baseline: Math.round(machineMs),
          ratio: keptMs / machineMs,
        },
        {
          name: 'dispute.game.small.kept.heapMb',
          value: Math.round(keptHeap),
          unit: 'MB retained heap for the kept run',
        },
        {
          name: 'dispute.game.small.kept.gameMs',
          value: Math.round(keptGame.ms),
          unit: `ms, one game to RV1 (${keptGame.moves} moves), both sides on kept runs`,
        },
        {
          name: 'dispute.game.small.checkpointed.buildMs',
          value: Math.round(light.ms),
          unit: 'ms, checkpointed view: one run with the chain and 8 snapshots',
          baseline: Math.round(machineMs),
          ratio: light.ms / machineMs,
        },
        {
          name: 'dispute.game.small.checkpointed.heapMb',
          value: Number(light.heap.toFixed(1)),
          unit: 'MB retained heap for the checkpointed view',
        },
        {
          name: 'dispute.game.small.checkpointed.gameMs',
          value: Math.round(lightGame.ms),
          unit: `ms, one game to RV1 (${lightGame.moves} moves), both sides checkpointed (re-runs included)`,
          baseline: Math.round(machineMs),
          ratio: lightGame.ms / machineMs,
        },
      ];
      return figures;
    },
  },
  {
    name: 'dispute.game.epoch1000',
    run: async () => {
      // 30 million steps: a kept run would not fit; the checkpointed view is what Vigil can hold.
      const tape = tapeOf(1_000);
      const t0 = performance.now();
      const machine = runProgram(program, tape, { maxSteps: MAX_STEPS, keepSteps: false, hashChain: false });
      const machineMs = performance.now() - t0;
      const vigil = checkpointed(tape, { maxSteps: MAX_STEPS });
      const operator = checkpointedView(program, tape, { maxSteps: MAX_STEPS });
      const game = play(tape, vigil.view, operator);
      return [
        {
          name: 'dispute.game.epoch1000.steps',
          value: machine.stepCount,
          unit: 'micro-steps, one epoch of 1,000 inputs (64 validators, 2,000 delegators)',
        },
        {
          name: 'dispute.game.epoch1000.machineMs',
          value: Math.round(machineMs),
          unit: 'ms, one machine run without the chain (the baseline)',
        },
        {
          name: 'dispute.game.epoch1000.checkpointed.buildMs',
          value: Math.round(vigil.ms),
          unit: 'ms, checkpointed view: one run with the chain and 8 snapshots',
          baseline: Math.round(machineMs),
          ratio: vigil.ms / machineMs,
        },
        {
          name: 'dispute.game.epoch1000.checkpointed.heapMb',
          value: Number(vigil.heap.toFixed(1)),
          unit: 'MB retained heap for the checkpointed view',
        },
        {
          name: 'dispute.game.epoch1000.checkpointed.gameMs',
          value: Math.round(game.ms),
          unit: `ms, one game to RV1 (${game.moves} moves), both sides checkpointed (re-runs included)`,
          baseline: Math.round(machineMs),
          ratio: game.ms / machineMs,
        },
      ];
    },
  },
];
