/**
 * The watcher's epoch source on a live L2: a governance ingester running the reference model (Vigil's
 * side of every epoch), and the operator's graphs from the graph directory.
 *
 * `sync()` advances ingestion towards the L2 head; the watcher calls it while it holds the lease, before
 * judging. Ingestion follows the head itself (reorgs rewind the derived state), and depth is judged here:
 * an epoch's inputs are final once its end block is `confirmations` deep. `facts(epoch)` never throws
 * for missing data: anything not known yet is an incomplete fact, and the judge fails closed on it.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { GameMaterialNotReadyError } from '../challenger/game-context.ts';
import { bytesToHex, hexToBytes } from '../core/bytes.ts';
import { VigilError } from '../core/errors.ts';
import { redactText } from '../core/redact.ts';
import { traceCheckpoints } from '../dispute/trace-checkpoints.ts';
import { type GovernanceInput, REFERENCE_EXECUTOR } from '../governance/index.ts';
import { diagnoseFraud, type FraudDiagnosis } from '../judge/diagnose.ts';
import type { L2Fact, ReexecutionFact } from '../judge/verdict.ts';
import type { EpochEnd } from '../l2/derivation.ts';
import type { WatchedDeployment } from '../l2/governance-contracts.ts';
import { createGovernanceIngester, type GovernanceIngester } from '../l2/governance-ingester.ts';
import { createL2Metrics, type L2Metrics } from '../l2/metrics.ts';
import { L2Rpc, L2RpcUnavailableError } from '../l2/rpc.ts';
import type { RedisClient } from '../store/redis.ts';
import type { EndedEpoch, HeldEpoch } from './claim-games.ts';
import type { GraphCoverageFacts, L2SyncFacts } from './component-health.ts';
import {
  createGraphRegistry,
  type GovernedWindow,
  type GraphRegistry,
  type GraphRegistryOptions,
} from './graph-registry.ts';
import type { EpochSource } from './watcher.ts';

export type L2EpochSourceOptions = {
  /** The L2 node(s): an L2Rpc, or the URLs to build one from. */
  rpc?: L2Rpc;
  rpcUrls?: readonly string[];
  requestTimeoutMs?: number;
  redis: RedisClient;
  /** Redis key prefix of the ingestion cursor and journal. */
  prefix: string;
  deployment: WatchedDeployment;
  /** Depth an epoch's end block and the operator's commitment need before they count. */
  confirmations: number;
  /** Steps of each epoch's trace (the graph's traceSteps): r_0 … r_k. */
  traceSteps: number;
  /** The operator's graphs: a registry, or the options to create one. */
  graphs: GraphRegistry | GraphRegistryOptions;
  maxRange?: bigint;
  /** The chain id the L2 node must report (config `l2.chainId`); unchecked when absent. */
  chainId?: number;
  /** Compare the model with the contracts at every epoch end (default true). */
  crossCheck?: boolean;
  /**
   * How long one sync() may ingest before it returns (ms, default 250): the watcher syncs under a lease
   * it must renew, so a long catch-up is spread over several polls. Those come one after another
   * (`catchingUp`), each judging what the syncs before it made final and importing graphs beside its
   * own sync: a short budget keeps that pipeline fine-grained.
   */
  syncBudgetMs?: number;
  /**
   * Ended epochs whose inputs the journal keeps behind the newest (unset: all). Older ones are pruned into
   * the journal's base (docs/l2-ingestion.md "Pruning"), never one at or above a graph not settled yet,
   * above the newest settled one, or whose end is less than `pruneDepth` blocks deep.
   */
  retainEpochs?: number;
  /** L2 blocks an epoch end must be under before the journal is pruned past it (default 1000). */
  pruneDepth?: number;
  /**
   * Longest history (inputs since genesis, or since the pruned journal's base) the fault diagnosis re-executes, once per catalogue fault
   * (default 20 000, a few seconds): beyond it the diagnosis says so instead of holding up the poll.
   */
  diagnoseMaxInputs?: number;
  logger?: Logger;
  metrics?: L2Metrics;
  registry?: Registry;
};

export type EpochSyncStatus = {
  /** The L2 head seen at the end of the last successful sync. */
  head: bigint | undefined;
  /** The last L2 block ingested. */
  cursor: bigint | undefined;
  /** The last sync reached the head. */
  caughtUp: boolean;
  /** Why the last sync failed, until one succeeds. */
  error: string | undefined;
};

export type L2EpochSource = EpochSource & {
  sync(): Promise<void>;
  catchingUp(): boolean;
  status(): EpochSyncStatus;
  healthFacts(): { l2: L2SyncFacts; graphs: GraphCoverageFacts };
  /** Which catalogue fault, if any, explains `claimedRoot` for the epoch (informational). */
  diagnose(epoch: bigint, claimedRoot: Uint8Array): Promise<FraudDiagnosis | undefined>;
  /** The governed challenge window in force during `epoch`, once it is known and final (graph import). */
  governedChallengeWindow(epoch: bigint): GovernedWindow;
  /**
   * Epoch `epoch` once its end is ingested and final: the roots the model reached before and after it,
   * and the recipe of its tape for the governance program, what a game's honest run executes
   * (docs/protocol.md §23).
   */
  endedEpoch(epoch: bigint): EndedEpoch | undefined;
  /** Never prunes past the epochs the registry's claims and games hold (claim-games.ts `heldEpoch`). */
  holdTapes(held: () => HeldEpoch): void;
  ingestion: GovernanceIngester;
};

type EpochModel = { root: Uint8Array; checkpoints: Uint8Array[] };

/** The L2 node is another chain than the configuration names: nothing it says is used. */
export class L2ChainMismatchError extends VigilError {
  override name = 'L2ChainMismatchError';
}

/**
 * One line saying why a sync failed, for the log, `facts()` and /healthz: the error's first line and,
 * for an RPC that gave up, its last cause's (viem's "HTTP request failed."), URLs redacted.
 */
function failureText(err: unknown): string {
  const first = (e: unknown): string =>
    e instanceof Error
      ? (((e as { shortMessage?: string }).shortMessage ?? e.message).split('\n')[0] ?? '')
      : String(e);
  const text = first(err);
  const cause = err instanceof L2RpcUnavailableError && err.cause !== undefined ? first(err.cause) : '';
  return redactText(cause !== '' && cause !== text ? `${text}: ${cause}` : text);
}

function isRegistry(g: GraphRegistry | GraphRegistryOptions): g is GraphRegistry {
  return typeof (g as GraphRegistry).graphs === 'function';
}

export function createL2EpochSource(o: L2EpochSourceOptions): L2EpochSource {
  const metrics = o.metrics ?? (o.registry ? createL2Metrics(o.registry) : undefined);
  const rpc =
    o.rpc ??
    new L2Rpc({
      urls: o.rpcUrls ?? [],
      timeoutMs: o.requestTimeoutMs,
      metrics,
      logger: o.logger,
    });
  const ingestion = createGovernanceIngester({
    rpc,
    redis: o.redis,
    prefix: o.prefix,
    deployment: o.deployment,
    // Follow the head: depth is judged per fact, and a reorg rewinds the derived state.
    confirmations: 0,
    maxRange: o.maxRange,
    metrics,
    logger: o.logger,
    executor: REFERENCE_EXECUTOR,
    keepStepRoots: true,
    crossCheck: o.crossCheck,
  });
  const registry = isRegistry(o.graphs)
    ? o.graphs
    : createGraphRegistry({ ...o.graphs, registry: o.graphs.registry ?? o.registry });
  const derivation = ingestion.derivation;
  let head: bigint | undefined;
  let caughtUp = false;
  /** The last sync succeeded and stopped on its budget, not at the head. */
  let budgetSpent = false;
  let failed: string | undefined;
  // What /healthz `l2` and `graphs` decide on (src/watcher/component-health.ts).
  const l2Facts: L2SyncFacts = {
    firstAttempt: undefined,
    lastOk: undefined,
    head: undefined,
    failures: undefined,
    chain: undefined,
  };
  const committedSince = new Map<bigint, number>();
  let graphEpochs: Set<bigint> | undefined;

  async function sync(): Promise<void> {
    const budget = o.syncBudgetMs ?? 250;
    const started = Date.now();
    l2Facts.firstAttempt ??= started;
    try {
      // On every sync, not only the first: a node swapped behind the URL must not be believed.
      if (o.chainId !== undefined) {
        const id = await rpc.call('eth_chainId', (c) => c.getChainId());
        if (id !== o.chainId) {
          if (l2Facts.chain?.reported !== id) {
            l2Facts.chain = { expected: o.chainId, reported: id, since: Date.now() };
          }
          throw new L2ChainMismatchError(`The L2 node reports chain id ${id}, not ${o.chainId}`, {
            metaMessages: ['Check l2.rpcUrls and l2.chainId: Vigil judges one chain only.'],
          });
        }
        l2Facts.chain = undefined;
      }
      // After a failed step the in-memory state may be ahead of the journal: rebuild it first.
      if (failed !== undefined) await ingestion.ingester.init();
      caughtUp = false;
      budgetSpent = false;
      for (;;) {
        const r = await ingestion.ingester.step();
        if (r === 'idle') {
          caughtUp = true;
          break;
        }
        if (Date.now() - started >= budget) {
          budgetSpent = true;
          break;
        }
      }
      head = await rpc.blockNumber();
      failed = undefined;
      const now = Date.now();
      if (l2Facts.head?.number !== head) l2Facts.head = { number: head, since: now };
      l2Facts.lastOk = now;
      l2Facts.failures = undefined;
      let committed = -1n;
      for (const epoch of derivation.commitments.keys()) {
        if (epoch > committed) committed = epoch;
        if (!committedSince.has(epoch)) committedSince.set(epoch, now);
      }
      // A commitment a reorg retracted needs no graph any more.
      for (const epoch of committedSince.keys())
        if (!derivation.commitments.has(epoch)) committedSince.delete(epoch);
      metrics?.lastCommittedEpoch.set(Number(committed));
      await pruneQuietly();
    } catch (err) {
      budgetSpent = false;
      failed = failureText(err);
      const now = Date.now();
      l2Facts.failures = {
        count: (l2Facts.failures?.count ?? 0) + 1,
        since: l2Facts.failures?.since ?? now,
        last: failed,
      };
      throw err;
    }
  }

  /** The lowest epoch of a graph the watcher holds and has not settled, at its last `graphs()`. */
  let lowestOpenGraph: bigint | undefined;
  /** `graphs()` ran since this process started: until then no open graph is known, so nothing is pruned. */
  let graphsSeen = false;
  let settledSeen = 0;
  let newestSettled: bigint | undefined;
  /** The registry's claims and games: the lowest epoch whose tape they need (holdTapes). */
  let heldByClaims: (() => HeldEpoch) | undefined;

  /**
   * Moves the journal's base to the newest epoch end that is `retainEpochs` behind the newest end, below
   * every open graph and every epoch the registry's claims and games hold, at or below the newest settled
   * one and `pruneDepth` deep, once that is `retainEpochs / 4` (at least 1) epochs past the current base:
   * a backlog (nothing settled yet) is never pruned, and an epoch whose dispute or game runs keeps its
   * inputs.
   */
  async function prune(): Promise<void> {
    const retain = o.retainEpochs;
    const newest = derivation.epochEnds.at(-1);
    if (retain === undefined || newest === undefined || !ingestion.ingester.synced) return;
    const settled = registry.settledEpochs?.();
    if (settled === undefined || !graphsSeen) return;
    if (settled.size !== settledSeen) {
      settledSeen = settled.size;
      for (const e of settled) if (newestSettled === undefined || e > newestSettled) newestSettled = e;
    }
    if (newestSettled === undefined) return;
    let limit = newest.epoch - BigInt(retain);
    if (newestSettled < limit) limit = newestSettled;
    if (lowestOpenGraph !== undefined && lowestOpenGraph - 1n < limit) limit = lowestOpenGraph - 1n;
    // A game's tape is rebuilt from the journal after a restart: its epoch's pre-state must stay.
    const held = heldByClaims?.();
    if (held === 'unknown') return;
    if (held !== undefined && held - 1n < limit) limit = held - 1n;
    const current = derivation.baseEpoch ?? -1n;
    if (limit - current < BigInt(Math.max(1, Math.floor(retain / 4)))) return;
    const depth = o.pruneDepth ?? 1000;
    const ends = derivation.epochEnds;
    let target: EpochEnd | undefined;
    for (let i = ends.length - 1; i >= 0 && target === undefined; i--) {
      const e = ends[i] as EpochEnd;
      if (e.epoch <= limit && depthOf(e.block) >= depth) target = e;
    }
    if (target === undefined || target.epoch <= current) return;
    const dropped = target.lastInput + 1 - derivation.inputsOffset;
    const base = derivation.baseAt(target.epoch);
    if (!(await ingestion.ingester.compact(base))) return;
    derivation.prune(base);
    o.logger?.info(
      {
        epoch: target.epoch.toString(),
        block: target.block.toString(),
        inputs: dropped,
        baseBytes: base.data.length,
      },
      'L2 journal pruned: its base moved to the end of an epoch judged for good',
    );
  }

  /** The newest ended epoch when a prune last failed: tried again once the L2 has moved on. */
  let pruneFailedAt: bigint | undefined;

  /**
   * Pruning is housekeeping: a failure (Redis away, a base that would not rebuild) is logged and tried
   * again a few epochs later, and never fails the sync that judging waits on.
   */
  async function pruneQuietly(): Promise<void> {
    const newest = derivation.epochEnds.at(-1)?.epoch;
    const step = BigInt(Math.max(1, Math.floor((o.retainEpochs ?? 0) / 4)));
    if (pruneFailedAt !== undefined && newest !== undefined && newest < pruneFailedAt + step) return;
    try {
      await prune();
      pruneFailedAt = undefined;
    } catch (err) {
      pruneFailedAt = newest;
      o.logger?.error(
        { err: redactText(err instanceof Error ? err.message : String(err)) },
        'L2 journal pruning failed: the journal is kept whole for now, and pruning is tried again later',
      );
    }
  }

  const endOf = (epoch: bigint): EpochEnd | undefined => {
    const ends = derivation.epochEnds;
    for (let i = ends.length - 1; i >= 0; i--) if ((ends[i] as EpochEnd).epoch === epoch) return ends[i];
    return undefined;
  };

  const depthOf = (block: bigint): number =>
    head === undefined || head < block ? 0 : Number(head - block) + 1;

  function commitmentFact(epoch: bigint): L2Fact['commitment'] {
    const c = derivation.commitments.get(epoch);
    if (!c) return { status: 'missing' };
    const depth = depthOf(c.position.block);
    if (depth < o.confirmations) return { status: 'pending', depth };
    return { status: 'committed', root: hexToBytes(c.stateRoot), depth };
  }

  /**
   * The feed's inputs in [from, to), without those the chain overruled: a refused transaction the
   * reference would have accepted (out of gas, say) changed nothing on the L2, so it changes nothing
   * here either (the L2 execution fault is reported by ingestion).
   */
  function inputsBetween(from: number, to: number): GovernanceInput[] {
    const overruled = derivation.overruledInputs;
    const slice = derivation.inputsSlice(from, to);
    if (overruled.size === 0) return slice;
    return slice.filter((_, i) => !overruled.has(from + i));
  }

  /**
   * The reference re-execution of one ended epoch: the trace the derivation recorded while it applied the
   * epoch (the reference executor, the chain's overruled inputs left out), cut to the graph's checkpoints.
   */
  function model(end: EpochEnd): EpochModel {
    const steps = derivation.stepsOf(end);
    const root = steps?.roots.at(-1);
    if (steps === undefined || root === undefined) {
      throw new VigilError(`the L2 derivation kept no trace of epoch ${end.epoch}`);
    }
    return { root, checkpoints: traceCheckpoints(steps.preRoot, steps.roots, o.traceSteps) };
  }

  /**
   * `error` is set when the facts are incomplete because something failed here (ingestion, a
   * re-execution that threw), not because the data is not there yet: the claim is still judged
   * (unavailable), but the watcher's poll does not count as completed, so health shows the failure.
   */
  async function facts(epoch: bigint): Promise<{ reexecution: ReexecutionFact; l2: L2Fact; error?: string }> {
    const cursor = ingestion.ingester.cursor?.number;
    if (failed !== undefined) {
      const reason = `L2 ingestion failed and is retried: ${failed}`;
      return {
        reexecution: { complete: false, reason },
        l2: { inputsFinal: false, behind: true, commitment: { status: 'missing' } },
        error: reason,
      };
    }
    const end = endOf(epoch);
    const base = derivation.baseEpoch;
    if (!end && base !== undefined && epoch <= base) {
      return {
        reexecution: {
          complete: false,
          reason: `epoch ${epoch} is at or below the pruned L2 journal's base (epoch ${base}): its inputs are no longer kept (l2.retainEpochs)`,
        },
        l2: { inputsFinal: false, behind: false, commitment: { status: 'missing' } },
      };
    }
    if (!end) {
      const last = derivation.epochEnds.at(-1)?.epoch;
      const behind = last === undefined || epoch > last;
      return {
        reexecution: {
          complete: false,
          reason: behind
            ? `epoch ${epoch} has not ended in the L2 ingested so far (through block ${cursor ?? 'none'})`
            : `the L2 has no end of epoch ${epoch} (its epochs ended so far: up to ${last})`,
        },
        l2: { inputsFinal: false, behind, commitment: commitmentFact(epoch) },
      };
    }
    let reexecution: ReexecutionFact;
    let error: string | undefined;
    try {
      const m = model(end);
      reexecution =
        `0x${bytesToHex(m.root)}` === end.root.toLowerCase()
          ? { complete: true, root: m.root, stepIndex: end.lastInput, checkpoints: m.checkpoints }
          : {
              complete: false,
              reason: `re-execution of epoch ${epoch} reached 0x${bytesToHex(m.root)}, ingestion ${end.root}`,
            };
    } catch (err) {
      reexecution = { complete: false, reason: `re-execution of epoch ${epoch} failed: ${String(err)}` };
      // The reference model throwing is a fault of Vigil's, not missing data: it must show in health.
      error = reexecution.reason;
    }
    return {
      ...(error !== undefined ? { error } : {}),
      reexecution,
      l2: {
        inputsFinal: depthOf(end.block) >= o.confirmations && depthOf(end.block) > 0,
        behind: false,
        epochEndBlockHash: hexToBytes(end.blockHash),
        commitment: commitmentFact(epoch),
      },
    };
  }

  /**
   * The challenge window in force during `epoch`: the model's value after the endEpoch that started it
   * (the genesis value for the first epoch). Known once the ingested L2 has started the epoch and that
   * end block is `confirmations` deep (at least 1): a graph is never judged on a value a reorg may undo.
   */
  // The reasons name no moving figure (cursor, depth): the registry logs a deferral once per reason.
  function governedChallengeWindow(epoch: bigint): GovernedWindow {
    const params = derivation.paramsOfEpoch(epoch);
    if (params === undefined) {
      return { known: false, reason: `epoch ${epoch} has not started on the L2 ingested so far` };
    }
    const started = epoch > 0n ? endOf(epoch - 1n) : undefined;
    if (started !== undefined) {
      const need = Math.max(o.confirmations, 1);
      if (depthOf(started.block) < need) {
        return {
          known: false,
          reason: `the end of epoch ${epoch - 1n} that started epoch ${epoch} is not ${need} blocks deep yet`,
        };
      }
    }
    return { known: true, value: Number(params.challengeWindow) };
  }
  registry.governWith?.(governedChallengeWindow);

  /**
   * The epoch's roots as ingestion computed them, with no re-execution (claim-games.ts judges every claim
   * with these), and its tape's recipe for a game: the state before the epoch is rebuilt from the
   * journal's base on the honest run's thread, never here.
   */
  function endedEpoch(epoch: bigint): EndedEpoch | undefined {
    const end = endOf(epoch);
    if (end === undefined || failed !== undefined) return undefined;
    if (depthOf(end.block) < Math.max(o.confirmations, 1)) return undefined;
    if (end.firstInput < derivation.inputsOffset) return undefined;
    return {
      epoch,
      preRoot: derivation.rootBefore(end),
      root: hexToBytes(end.root),
      // Taken when asked: the journal may be pruned later, but never past an epoch a game holds. Asked
      // while the journal is read again (a reorg, a start), the end is gone or another: not ready yet.
      tapeSource: () => {
        const now = endOf(epoch);
        const same =
          now !== undefined &&
          now.firstInput === end.firstInput &&
          now.lastInput === end.lastInput &&
          now.root === end.root;
        if (failed !== undefined || !same) {
          throw new GameMaterialNotReadyError(
            `Epoch ${epoch}'s end is not where the claim was judged on the L2 ingested now: its tape waits`,
          );
        }
        return { recipe: derivation.tapeRecipe(now) };
      },
    };
  }

  async function diagnose(epoch: bigint, claimedRoot: Uint8Array): Promise<FraudDiagnosis | undefined> {
    const end = endOf(epoch);
    if (!end) return undefined;
    const max = o.diagnoseMaxInputs ?? 20_000;
    const offset = derivation.inputsOffset;
    const since = offset > 0 ? 'the L2 journal base' : 'genesis';
    if (end.lastInput + 1 - offset > max) {
      return {
        fault: undefined,
        reason: `not diagnosed: ${end.lastInput + 1 - offset} inputs since ${since}, more than the ${max} the watcher re-executes per fault`,
      };
    }
    return diagnoseFraud({
      genesis: derivation.genesis,
      ...(offset > 0 ? { base: { state: derivation.startingState(), inputs: offset } } : {}),
      priorInputs: inputsBetween(offset, end.firstInput),
      epochInputs: inputsBetween(end.firstInput, end.lastInput + 1),
      claimedRoot,
    });
  }

  return {
    graphs: async () => {
      const graphs = await registry.graphs();
      // The graphs judged for good and let go of (settled) still count as published.
      const epochs = new Set(registry.settledEpochs?.() ?? []);
      let lowest: bigint | undefined;
      for (const g of graphs) {
        const e = g.graph.spec.epoch;
        epochs.add(e);
        if (lowest === undefined || e < lowest) lowest = e;
      }
      lowestOpenGraph = lowest;
      graphsSeen = true;
      metrics?.lastGraphEpoch.set([...epochs].reduce((m, e) => Math.max(m, Number(e)), -1));
      graphEpochs = epochs;
      return graphs;
    },
    settled: (graph) => registry.settle?.(graph),
    facts,
    sync,
    catchingUp: () => budgetSpent && failed === undefined,
    diagnose,
    governedChallengeWindow,
    endedEpoch,
    holdTapes: (held) => {
      heldByClaims = held;
    },
    ingestion,
    status: () => ({ head, cursor: ingestion.ingester.cursor?.number, caughtUp, error: failed }),
    healthFacts: () => ({
      l2: { ...l2Facts },
      graphs: { committed: new Map(committedSince), graphs: graphEpochs },
    }),
  };
}
