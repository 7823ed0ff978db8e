/**
 * The epoch source prunes the L2 journal (l2.retainEpochs) on a real anvil and Redis: only behind the
 * epochs the watcher judged for good, never at or above a graph still open, and a pruned source (or a
 * restarted one, starting from the base) gives for every kept epoch the facts of a source that never
 * pruned. The graph registry is a stand-in whose open and settled epochs the test sets: the pruning
 * policy reads nothing else of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GameMaterialNotReadyError } from '../../src/challenger/game-context.ts';
import { bytesToHex } from '../../src/core/bytes.ts';
import type { ImportedGraph } from '../../src/dispute/graph/import.ts';
import { computeStateRoot, FAULTS, reexecute } from '../../src/governance/index.ts';
import { generateWorkload } from '../../src/governance/workload.ts';
import type { FraudDiagnosis } from '../../src/judge/diagnose.ts';
import { tapeOfRecipe } from '../../src/l2/tape-recipe.ts';
import { runProgram } from '../../src/machine/interpreter.ts';
import { wordOf } from '../../src/machine/isa.ts';
import { governanceProgram } from '../../src/machine/programs/governance.ts';
import type { Tape } from '../../src/machine/tape.ts';
import type { EndedEpoch } from '../../src/watcher/claim-games.ts';
import { createL2EpochSource, type L2EpochSource } from '../../src/watcher/epoch-source.ts';
import type { GraphRegistry } from '../../src/watcher/graph-registry.ts';
import { type Chain, startChain, testRedis } from '../l2/helpers.ts';

/** A registry whose open graphs and settled epochs are the test's to set. */
function standInRegistry() {
  const settled = new Set<bigint>();
  let open: bigint[] = [];
  const registry: GraphRegistry = {
    graphs: async () => open.map((epoch) => ({ graph: { spec: { epoch } } }) as unknown as ImportedGraph),
    refused: () => new Map(),
    refusedFiles: () => new Map(),
    settledEpochs: () => settled,
  };
  return {
    registry,
    settle: (...epochs: bigint[]) => {
      for (const e of epochs) settled.add(e);
    },
    open: (...epochs: bigint[]) => {
      open = epochs;
    },
  };
}

async function syncAll(s: L2EpochSource): Promise<void> {
  for (let i = 0; i < 1000 && !s.status().caughtUp; i++) await s.sync();
  expect(s.status().caughtUp).toBe(true);
}

/** The epoch's tape from the source's recipe, rebuilt here (the daemon rebuilds it on the run's thread). */
function tapeOf(ended: EndedEpoch): Tape {
  const source = ended.tapeSource();
  if (!('recipe' in source)) throw new Error('the L2 epoch source gives a recipe');
  return tapeOfRecipe(source.recipe);
}

const range = (from: number, to: number): bigint[] =>
  Array.from({ length: to - from + 1 }, (_, i) => BigInt(from + i));

describe('the epoch source prunes the L2 journal behind what was judged for good', () => {
  const w = generateWorkload({ seed: 17, inputs: 300, epochLength: 20 });
  const { redis, prefix, cleanup } = testRedis();
  let chain: Chain;
  let ended: bigint;

  const source = (name: string, registry: GraphRegistry, retainEpochs?: number): L2EpochSource =>
    createL2EpochSource({
      rpcUrls: [chain.anvil.rpcUrl],
      redis,
      prefix: `${prefix}:${name}`,
      deployment: chain.deployment,
      confirmations: 1,
      traceSteps: 4,
      maxRange: 50n,
      ...(retainEpochs !== undefined ? { retainEpochs } : {}),
      pruneDepth: 3,
      graphs: registry,
    });

  beforeAll(async () => {
    chain = await startChain(w.genesis);
    await chain.driver.replay(w.inputs);
    await chain.rpc.mine(5);
  }, 120_000);
  afterAll(async () => {
    await cleanup();
    await chain?.stop();
  });

  it('prunes nothing before graphs were read, nor past the newest settled epoch or an open graph', async () => {
    const reg = standInRegistry();
    const s = source('policy', reg.registry, 3);
    const d = s.ingestion.derivation;
    reg.settle(...range(0, 20));
    await syncAll(s);
    ended = (d.epochEnds.at(-1)?.epoch ?? -1n) as bigint;
    expect(ended).toBeGreaterThan(10n);
    // graphs() never ran in this process: an open graph could be anywhere.
    expect(d.baseEpoch).toBeUndefined();

    // A graph open at epoch 4: the base stays below it.
    reg.open(4n, 9n);
    await s.graphs();
    await s.sync();
    expect(d.baseEpoch).toBe(3n);
    const stored = await s.ingestion.store.base?.();
    expect(stored).toBeDefined();
    expect((await s.ingestion.store.journal())[0]?.number).toBe(stored?.block);

    // Settled through 7 only (a backlog behind it): the base stops at 7 even with no graph open.
    const reg2 = standInRegistry();
    const s2 = source('backlog', reg2.registry, 3);
    reg2.settle(...range(0, 7));
    reg2.open();
    await syncAll(s2);
    await s2.graphs();
    await s2.sync();
    expect(s2.ingestion.derivation.baseEpoch).toBe(7n);

    // A prune that fails (Redis refusing the script) is logged; the sync and the facts go on.
    const reg4 = standInRegistry();
    const s4 = source('failing', reg4.registry, 3);
    reg4.settle(...range(0, 20));
    await syncAll(s4);
    const store = s4.ingestion.store;
    store.compact = async () => {
      throw new Error('ERR Redis is loading the dataset in memory');
    };
    await s4.graphs();
    await expect(s4.sync()).resolves.toBeUndefined();
    expect(s4.ingestion.derivation.baseEpoch).toBeUndefined();
    expect(s4.status().error).toBeUndefined();
    expect((await s4.facts(2n)).reexecution.complete).toBe(true);

    // The registry's claims and games hold their epochs' tapes: nothing is pruned while what they hold is
    // unknown (no retain since the start), and the base stays below the lowest epoch they hold.
    const reg5 = standInRegistry();
    const s5 = source('claims', reg5.registry, 3);
    reg5.settle(...range(0, 20));
    let held: bigint | undefined | 'unknown' = 'unknown';
    s5.holdTapes(() => held);
    await syncAll(s5);
    await s5.graphs();
    await s5.sync();
    expect(s5.ingestion.derivation.baseEpoch).toBeUndefined();
    held = 6n;
    await s5.sync();
    expect(s5.ingestion.derivation.baseEpoch).toBe(5n);
    // The game's tape still rebuilds from the pruned base, as from a base further back (the source above).
    const tape = s5.endedEpoch(6n);
    const wider = s.endedEpoch(6n);
    if (tape === undefined || wider === undefined) throw new Error('no tape of epoch 6');
    expect(bytesToHex(tape.preRoot)).toBe(bytesToHex(wider.preRoot));
    expect(bytesToHex(tape.root)).toBe(bytesToHex(wider.root));
    expect(bytesToHex(tapeOf(tape).root)).toBe(bytesToHex(tapeOf(wider).root));
    held = undefined;
    await s5.sync();
    expect(s5.ingestion.derivation.baseEpoch as bigint).toBeGreaterThan(5n);

    // Nothing settled: nothing pruned, however far behind the retention the history is.
    const reg3 = standInRegistry();
    const s3 = source('nothing-settled', reg3.registry, 1);
    await syncAll(s3);
    await s3.graphs();
    await s3.sync();
    expect(s3.ingestion.derivation.baseEpoch).toBeUndefined();
    expect(s3.ingestion.derivation.inputsOffset).toBe(0);
  });

  it('a pruned source, and one restarted from its base, give the facts of a source that never pruned', async () => {
    const reg = standInRegistry();
    const pruned = source('facts', reg.registry, 3);
    reg.settle(...range(0, 50));
    await syncAll(pruned);
    await pruned.graphs();
    await pruned.sync();
    const base = pruned.ingestion.derivation.baseEpoch as bigint;
    expect(base).toBe(ended - 3n);
    expect(pruned.ingestion.derivation.inputsOffset).toBeGreaterThan(0);

    const whole = source('whole', standInRegistry().registry);
    await syncAll(whole);
    // A pruned epoch: not known any more, said plainly, and not a failure of the source.
    const gone = await pruned.facts(base);
    expect(gone.error).toBeUndefined();
    expect(gone.reexecution).toMatchObject({
      complete: false,
      reason: expect.stringMatching(/pruned L2 journal/),
    });
    expect(gone.l2.behind).toBe(false);

    const restarted = source('facts', standInRegistry().registry, 3);
    await syncAll(restarted);
    expect(restarted.ingestion.derivation.baseEpoch).toBe(base);
    for (let e = base + 1n; e <= ended; e++) {
      const want = await whole.facts(e);
      expect(want.reexecution.complete).toBe(true);
      for (const s of [pruned, restarted]) {
        const got = await s.facts(e);
        expect(got.error).toBeUndefined();
        expect(got.reexecution.complete).toBe(true);
        if (!got.reexecution.complete || !want.reexecution.complete) continue;
        expect(bytesToHex(got.reexecution.root)).toBe(bytesToHex(want.reexecution.root));
        expect(got.reexecution.checkpoints?.map(bytesToHex)).toEqual(
          want.reexecution.checkpoints?.map(bytesToHex),
        );
        expect(got.reexecution.stepIndex).toBe(want.reexecution.stepIndex);
        expect(got.l2).toEqual(want.l2);
      }
    }
    // Each kept epoch's tape (a game's honest run) is the same from the base as from genesis, starts on
    // the previous epoch's root, and runs on the governance program to the model's root.
    expect(restarted.endedEpoch(base)).toBeUndefined();
    const derivation = whole.ingestion.derivation;
    const ends = derivation.epochEnds;
    for (let e = base + 1n; e <= ended; e++) {
      const want = whole.endedEpoch(e);
      const got = restarted.endedEpoch(e);
      if (want === undefined || got === undefined) throw new Error(`no tape of epoch ${e}`);
      const gotTape = tapeOf(got);
      expect(bytesToHex(gotTape.root)).toBe(bytesToHex(tapeOf(want).root));
      expect(`0x${bytesToHex(got.preRoot)}`).toBe(ends.find((x) => x.epoch === e - 1n)?.root);
      expect(bytesToHex(gotTape.imageRoot)).toBe(bytesToHex(got.preRoot));
      // The roots are ingestion's, read with no re-execution; the re-execution reaches the same.
      const end = ends.find((x) => x.epoch === e);
      if (end === undefined) throw new Error(`no end of epoch ${e}`);
      expect(computeStateRoot(derivation.stateBefore(end))).toEqual(got.preRoot);
      const run = runProgram(governanceProgram(), gotTape, {
        maxSteps: 1 << 24,
        keepSteps: false,
        hashChain: false,
      });
      expect(run.status).toBe('halted');
      expect(run.result).toBe(wordOf(got.root));
      expect(`0x${bytesToHex(got.root)}`).toBe(ends.find((x) => x.epoch === e)?.root);
    }

    // The governed window of the first kept epoch is still known (its parameters are the base's).
    expect(restarted.governedChallengeWindow(base + 1n)).toEqual(whole.governedChallengeWindow(base + 1n));

    // A fraud after the base is diagnosed from the base, as from genesis.
    const last = ended;
    const d = whole.ingestion.derivation;
    const end = d.epochEnds.find((x) => x.epoch === last);
    if (end === undefined) throw new Error('no end of the last epoch');
    let diagnosed = false;
    for (const fault of FAULTS) {
      const state = d.startingState();
      reexecute(d.inputsSlice(0, end.firstInput), { state });
      const claimed = reexecute(d.inputsSlice(end.firstInput, end.lastInput + 1), {
        state,
        executor: fault,
      }).root;
      const fromGenesis = (await whole.diagnose(last, claimed)) as FraudDiagnosis | undefined;
      if (fromGenesis?.fault === undefined) continue;
      expect(await restarted.diagnose(last, claimed)).toEqual(fromGenesis);
      diagnosed = true;
      break;
    }
    if (!diagnosed) throw new Error('no catalogue fault changes the last epoch of this workload');

    // A game that asks for its tape while the journal is being read again (a reorg, a start) is told to
    // wait, not handed a recipe of the half-read journal.
    const judgedOn = restarted.endedEpoch(ended);
    if (judgedOn === undefined) throw new Error(`no epoch ${ended}`);
    const reread = restarted.ingestion.derivation;
    const blocks = reread.epochEnds.length;
    reread.reset();
    expect(blocks).toBeGreaterThan(0);
    expect(() => judgedOn.tapeSource()).toThrow(GameMaterialNotReadyError);
  });
});
