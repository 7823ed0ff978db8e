/**
 * A dispute scenario on a real simnet: an operator with a presigned graph for one epoch, its claim
 * funded on chain, a watcher wallet with coins, and a kick-off revealing a chosen state root. Shared by
 * the queue and watcher tests.
 */
import { randomUUID } from 'node:crypto';
import type { ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { CoreRpcBackend } from '../../src/bitcoin/backends/core-rpc.ts';
import { txidHex } from '../../src/bitcoin/codec/codec.ts';
import { type Simnet, startSimnet } from '../../src/bitcoin/simnet/start.ts';
import type { Tx } from '../../src/bitcoin/tx/types.ts';
import { WalletKey } from '../../src/bitcoin/wallet/keys.ts';
import type { DisputeGraph, DisputeJobContext } from '../../src/challenger/context.ts';
import type { OpenJobData } from '../../src/challenger/payloads.ts';
import { concatBytes, hexToBytes, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hashes.ts';
import { buildGraph } from '../../src/dispute/graph/build.ts';
import { graphToDocument } from '../../src/dispute/graph/document.ts';
import { type GraphExpectations, importGraph } from '../../src/dispute/graph/import.ts';
import { completeAssert, completeKickoff, readKickoff } from '../../src/dispute/graph/spend.ts';
import type { WatcherMode } from '../../src/dispute/plan/spend-policy.ts';
import { disputeId } from '../../src/dispute/records/state-machine.ts';
import { DisputeStore } from '../../src/dispute/records/store.ts';
import { traceCheckpoints } from '../../src/dispute/trace-checkpoints.ts';
import {
  computeStateRoot,
  createGenesisState,
  reexecute,
  type TraceStep,
} from '../../src/governance/index.ts';
import { generateWorkload } from '../../src/governance/workload.ts';
import { judgeEpoch, type Verdict } from '../../src/judge/verdict.ts';
import { DisputeQueue } from '../../src/queue/dispute-queue.ts';
import { deleteKeysByPrefix } from '../../src/store/redis.ts';
import type { EpochSource } from '../../src/watcher/watcher.ts';
import { mineCoins, out, P2WPKH, spend } from '../bitcoin/simnet/fixture.ts';
import { makeGraph, makeGraphSpec } from '../dispute/graph-fixture.ts';

export const REDIS_URL = 'redis://127.0.0.1:6379';
export const CONNECTION: ConnectionOptions = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };

export const WATCHER_KEY = WalletKey.fromBytes(sha256(utf8('vigil queue test watcher')));
export const WATCHER_SCRIPT = concatBytes(Uint8Array.from([0x51, 0x20]), WATCHER_KEY.taprootOutputKey);

export type Scenario = {
  sim: Simnet;
  backend: CoreRpcBackend;
  fixture: ReturnType<typeof makeGraph>;
  graphDocument: string;
  kickoff: { tx: Tx; txid: string; height: number };
  verdict: Verdict;
  openData: OpenJobData;
  /** The `extraCoins` asked for, as outpoints (display txid). */
  extraCoins: { txid: string; vout: number; value: bigint; script: Uint8Array }[];
  /** Vigil's own trace roots r_0 … r_k of the epoch (the reference model's, cut into the graph's k steps). */
  expectedTrace: Uint8Array[];
  watcherAddress: string;
  mine(n?: number): void;
  stop(): Promise<void>;
};

const MINER = P2WPKH;

/** The governance inputs the scenario's epochs come from (the watcher re-executes them itself). */
export const scenarioWorkload = () => generateWorkload({ seed: 808, inputs: 300 });

/** Sets up the chain up to a confirmed kick-off that reveals `claimedRoot` (or the honest root). */
export async function startScenario(
  options: {
    honest?: boolean;
    watcherCoins?: bigint[];
    epochIndex?: number;
    /** More confirmed coins, paid by the same funding transaction (an adversary's, say). */
    extraCoins?: { value: bigint; script: Uint8Array }[];
  } = {},
): Promise<Scenario> {
  const sim = await startSimnet();
  const backend = new CoreRpcBackend({
    url: sim.rpcUrl,
    auth: sim.rpcAuth,
    retry: { attempts: 2, baseDelayMs: 10 },
  });
  const chain = sim.chain;
  // The model's root for a real epoch of a seeded workload; the operator reveals it or a wrong one.
  const workload = scenarioWorkload();
  const run = reexecute(workload.inputs, { genesis: workload.genesis, trace: true });
  const epochs = run.epochs;
  const index = options.epochIndex ?? 0;
  const epoch = epochs[index];
  if (!epoch) throw new Error('no epoch');
  const trace = run.trace as TraceStep[];
  const first = index === 0 ? 0 : (epochs[index - 1]?.stepIndex as number) + 1;
  const preRoot =
    first === 0
      ? computeStateRoot(createGenesisState(workload.genesis))
      : (trace[first - 1] as TraceStep).root;
  const expectedTrace = traceCheckpoints(
    preRoot,
    trace.slice(first, epoch.stepIndex + 1).map((t) => t.root),
    defaultTraceSteps(),
  );
  const claimed = options.honest ? epoch.root : sha256(utf8('a wrong state root'));

  const placeholder = buildGraph(makeGraphSpec({ epoch: epoch.epoch }).spec);
  const claimScript = placeholder.outputs.claim.scriptPubKey;
  const claimValue = placeholder.spec.claim.value;
  const [coin] = mineCoins(chain, 1);
  for (let i = 0; i < 100; i++) chain.mine(MINER);
  const watcherCoins = options.watcherCoins ?? [3_000_000n, 2_000_000n];
  const extra = options.extraCoins ?? [];
  const fundingOutputs = [
    out(claimValue, claimScript),
    ...watcherCoins.map((v) => out(v, WATCHER_SCRIPT)),
    ...extra.map((c) => out(c.value, c.script)),
  ];
  const total = fundingOutputs.reduce((s, o) => s + o.value, 0n);
  const funding = spend({
    coins: [coin as NonNullable<typeof coin>],
    outputs: [...fundingOutputs, out((coin?.value as bigint) - total - 10_000n)],
  });
  chain.acceptTx(funding.tx);
  chain.mine(MINER);

  const fixture = makeGraph({
    epoch: epoch.epoch,
    claimTxid: hexToBytes(funding.txid).reverse(),
    claimVout: 0,
  });
  const l2BlockHash = sha256(utf8('l2 block at the epoch end'));
  const k = completeKickoff(fixture.graph, fixture.operatorSecret, fixture.kickoffSecrets, {
    stateRoot: claimed,
    l2BlockHash,
  });
  chain.acceptTx(k.tx);
  const block = chain.mine(MINER);
  const kickoffTxid = txidHex(k.tx);
  const revealed = readKickoff(fixture.graph, k.tx);
  const verdict = judgeEpoch({
    epoch: epoch.epoch,
    reexecution: { complete: true, root: epoch.root },
    l2: {
      inputsFinal: true,
      behind: false,
      epochEndBlockHash: l2BlockHash,
      commitment: { status: 'missing' },
    },
    kickoff: { status: 'seen', txid: kickoffTxid, depth: 1, revealed },
    graphVerified: true,
    depth: { l2: 1, bitcoin: 1 },
  });
  const graphDocument = JSON.stringify(graphToDocument(fixture.graph, fixture.sigs));
  const p = fixture.graph.spec.params;
  const openData: OpenJobData = {
    disputeId: disputeId(epoch.epoch, kickoffTxid),
    epoch: epoch.epoch.toString(),
    kickoffTxid,
    kickoffHeight: block.height,
    graph: graphDocument,
    verdict: JSON.stringify({ outcome: verdict.outcome, reasons: verdict.reasons }),
    seenAt: Date.now(),
    challengeWindow: p.timelocks.challengeWindow,
    assertWindow: p.timelocks.assertWindow,
  };
  const { addressForScript } = await import('../../src/bitcoin/codec/address.ts');
  return {
    sim,
    backend,
    fixture,
    graphDocument,
    kickoff: { tx: k.tx, txid: kickoffTxid, height: block.height },
    verdict,
    openData,
    expectedTrace,
    watcherAddress: addressForScript(WATCHER_SCRIPT, 'regtest') as string,
    extraCoins: extra.map((c, i) => ({ txid: funding.txid, vout: 1 + watcherCoins.length + i, ...c })),
    mine: (n = 1) => {
      for (let i = 0; i < n; i++) chain.mine(MINER);
    },
    stop: () => sim.stop(),
  };
}

const defaultTraceSteps = (): number => makeGraphSpec().spec.params.traceSteps;

/**
 * The operator asserts `trace` (r_0 … r_{k-1}) with its Winternitz keys: into the mempool, returned
 * with its txid.
 */
export function operatorAssert(s: Scenario, trace: readonly Uint8Array[]): { tx: Tx; txid: string } {
  const a = completeAssert(s.fixture.graph, s.fixture.sigs, s.fixture.traceSecrets, trace);
  s.sim.chain.acceptTx(a.tx);
  return { tx: a.tx, txid: txidHex(a.tx) };
}

/** What a watcher expects of the scenario operator's graph (everything but the epoch and commitment). */
export function scenarioExpectations(s: Scenario): Omit<GraphExpectations, 'epoch' | 'commitment'> {
  const g = s.fixture.graph;
  return {
    network: 'regtest',
    params: g.spec.params,
    circuit: g.spec.circuit,
    operator: g.spec.operator,
    committee: g.spec.committee,
  };
}

/** Re-imports the stored document the way a fresh process would: nothing from memory is trusted. */
export function graphOfScenario(s: Scenario): (rec: { opened: { graph?: string } }) => Promise<DisputeGraph> {
  const g = s.fixture.graph;
  return async (rec) => {
    const doc = rec.opened.graph;
    if (doc === undefined) throw new Error('no graph in the record');
    const imported = importGraph(doc, { ...scenarioExpectations(s), epoch: g.spec.epoch });
    return { graph: imported.graph, sigs: imported.sigs };
  };
}

export type Harness = {
  prefix: string;
  redis: Redis;
  store: DisputeStore;
  queue: DisputeQueue;
  ctx: DisputeJobContext;
  close(): Promise<void>;
};

/** A queue, a store and a bound context under a fresh {hash-tagged} prefix. */
export function harness(
  s: Scenario,
  mode: WatcherMode,
  prefix = `{vigil-test-${randomUUID()}}`,
  overrides: Partial<Omit<DisputeJobContext, 'track' | 'untrack'>> = {},
): Harness {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  const store = new DisputeStore(redis, prefix);
  const queue = new DisputeQueue({
    connection: CONNECTION,
    prefix,
    trackEveryMs: 100,
    backoffMs: 50,
    attempts: 5,
  });
  const ctx = queue.bind({
    store,
    backend: s.backend,
    mode,
    network: 'regtest',
    allowMainnetSpending: false,
    graphOf: graphOfScenario(s),
    wallet:
      mode === 'watch'
        ? undefined
        : {
            address: s.watcherAddress,
            script: WATCHER_SCRIPT,
            signSchnorrTweaked: (h: Uint8Array) => WATCHER_KEY.signSchnorrTweaked(h),
          },
    fees: { targetBlocks: 2, maxFeeRateSatVb: 50, fallbackSatVb: 2 },
    confirmations: 1,
    prefix,
    redis,
    metrics: undefined,
    logger: process.env.VIGIL_TEST_LOG ? pino({ level: 'debug' }) : undefined,
    ...overrides,
  });
  return {
    prefix,
    redis,
    store,
    queue,
    ctx,
    close: async () => {
      await queue.close();
      await cleanup(redis, prefix);
      await redis.quit();
    },
  };
}

/** Removes a test's keys (its prefix). */
export const cleanup = deleteKeysByPrefix;

export async function until<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
  onTick?: () => void,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    onTick?.();
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The watcher's view: the operator's published graph, and the model's root from its own re-execution. */
export function scenarioSource(s: Scenario): EpochSource {
  const g = s.fixture.graph;
  const expectations = scenarioExpectations(s);
  const w = scenarioWorkload();
  return {
    graphs: async () => [importGraph(s.graphDocument, { ...expectations, epoch: g.spec.epoch })],
    facts: async (epoch) => {
      const r = reexecute(w.inputs, { genesis: w.genesis });
      const e = r.epochs.find((x) => x.epoch === epoch);
      return {
        reexecution: e ? { complete: true, root: e.root } : { complete: false, reason: 'epoch not reached' },
        l2: { inputsFinal: true, behind: false, commitment: { status: 'missing' } },
      };
    },
  };
}
