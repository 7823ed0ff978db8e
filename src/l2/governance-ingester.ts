/**
 * Composition: the reorg-safe ingester, the log decoder, the reference model as derived state and the
 * epoch-end cross-check, wired for one deployment of the governance contracts.
 */
import type { Logger } from 'pino';
import type { Executor } from '../governance/index.ts';
import type { RedisClient } from '../store/redis.ts';
import { ContractCrossChecker, type CrossCheckResult } from './cross-check.ts';
import { CursorStore, type JournalStore } from './cursor-store.ts';
import { createLogDecoder, createRevertedTxDecoder, entryKind, type L2Entry } from './decode.ts';
import { type EpochEnd, GovernanceDerivation } from './derivation.ts';
import { type WatchedDeployment, watchedAddresses } from './governance-contracts.ts';
import { type HeaderParam, ViolationRuns } from './header-check.ts';
import { L2Ingester } from './ingester.ts';
import type { L2Metrics } from './metrics.ts';
import { refusalLabel } from './refusal.ts';
import type { BlockHeader, L2Rpc } from './rpc.ts';

/** A run of blocks breaking a rollup parameter is warned about again every this many blocks. */
const RUN_WARN_EVERY = 1_000;
/** `faults` keeps the first this many (every one is still logged, counted and passed to the hook). */
const MAX_KEPT_FAULTS = 10_000;
/** `checks` keeps the newest this many: a daemon makes one per epoch for months (each is logged). */
const MAX_KEPT_CHECKS = 1_000;

/** The L2 ran something other than docs/protocol.md: not the operator's commitment, the chain itself. */
export type L2ExecutionFault =
  | { kind: 'state-mismatch'; epochEnd: EpochEnd; differences: string[] }
  | { kind: 'rejected-input'; block: bigint; rule: string; reason: string; inputKind: string }
  /** The contracts refused, naming `rule`, a transaction the rules accept (a contract stricter than §4–§6). */
  | { kind: 'reverted-input-accepted'; block: bigint; txHash: string; inputKind: string; rule: string }
  /**
   * A block header breaks a governed rollup parameter in force at that block: its gasLimit is not
   * `l2GasLimit` (voted), or its baseFeePerGas is below `minBaseFee` (docs/l2-ingestion.md "Header checks").
   */
  | {
      kind: 'rollup-param-violated';
      block: bigint;
      blockHash: string;
      param: HeaderParam;
      voted: bigint;
      observed: bigint;
      /**
       * Blocks in the run this fault starts (the same break from `block` on), when known: `vigil verify`
       * counts them within the epoch; the daemon reports a run at its first block, before its length is.
       */
      blocks?: number;
    };

/** Where the cursor and journal live: Redis under a key prefix, or any other JournalStore. */
export type JournalLocation = { redis: RedisClient; prefix: string } | { store: JournalStore<L2Entry> };

export type GovernanceIngesterOptions = JournalLocation & {
  rpc: L2Rpc;
  deployment: WatchedDeployment;
  confirmations?: number;
  maxRange?: bigint;
  metrics?: L2Metrics;
  logger?: Logger;
  /** The model's executor (default the reference; tests use a faulty one to show the cross-check catches it). */
  executor?: Executor;
  /** Read the contracts at every epoch end and compare (default true). */
  crossCheck?: boolean;
  /** Keep each ended epoch's trace in the derivation (`stepsOf`): what a judge of the epochs reads. */
  keepStepRoots?: boolean;
  /**
   * 'touched' (default): each check reads the globals and the records the epoch touched, plus a rolling
   * sweep; 'full': every check reads every record (docs/l2-ingestion.md "What the cross-check reads").
   */
  crossCheckScope?: 'touched' | 'full';
  /** Records of each list the rolling sweep re-reads per check (default 2). */
  crossCheckSweep?: number;
  onEpochEnd?: (end: EpochEnd, check: CrossCheckResult | undefined) => Promise<void> | void;
  onExecutionFault?: (fault: L2ExecutionFault) => void;
  pollIntervalMs?: number;
};

export type GovernanceIngester = {
  ingester: L2Ingester<L2Entry>;
  derivation: GovernanceDerivation;
  store: JournalStore<L2Entry>;
  /** The newest cross-checks (at most MAX_KEPT_CHECKS), oldest first. */
  checks: CrossCheckResult[];
  faults: L2ExecutionFault[];
};

export function createGovernanceIngester(o: GovernanceIngesterOptions): GovernanceIngester {
  const derivation = new GovernanceDerivation(o.deployment.genesis, o.executor, o.keepStepRoots ?? false);
  const store = 'store' in o ? o.store : new CursorStore<L2Entry>(o.redis, o.prefix);
  const checker = new ContractCrossChecker(
    o.deployment.addresses,
    o.crossCheckSweep !== undefined ? { sweep: o.crossCheckSweep } : {},
  );
  const checks: CrossCheckResult[] = [];
  const faults: L2ExecutionFault[] = [];
  const report = (f: L2ExecutionFault) => {
    if (faults.length < MAX_KEPT_FAULTS) faults.push(f);
    o.metrics?.executionFaults.inc();
    o.logger?.error(
      {
        fault: f.kind,
        ...('epochEnd' in f ? { epoch: f.epochEnd.epoch.toString() } : {}),
        // What differs, so the report can be checked without re-running anything (the first few).
        ...(f.kind === 'state-mismatch'
          ? {
              block: String(f.epochEnd.block),
              differences: f.differences.slice(0, 5),
              more: Math.max(0, f.differences.length - 5),
            }
          : {}),
        ...(f.kind === 'rollup-param-violated'
          ? {
              block: String(f.block),
              blockHash: f.blockHash,
              param: f.param,
              voted: String(f.voted),
              observed: String(f.observed),
            }
          : {}),
      },
      'L2 execution fault',
    );
    o.onExecutionFault?.(f);
  };
  /**
   * Header violations grouped into runs: a run (same parameter, voted and observed values) is one fault,
   * reported at its first block; every block of it is counted; a warning repeats every
   * RUN_WARN_EVERY blocks while it lasts, and its end is logged. So a chain that breaks a parameter for
   * months costs one fault, not one per block.
   */
  const runs = new ViolationRuns();
  const checkHeader = (h: BlockHeader) => {
    const verdict = runs.check(h, derivation.state.params);
    for (const run of verdict.ended) {
      o.metrics?.rollupParamViolating.set({ param: run.param }, 0);
      o.logger?.info(
        {
          param: run.param,
          fromBlock: String(run.firstBlock),
          blocks: run.blocks,
          obeysFrom: String(h.number),
        },
        'L2 blocks obey the rollup parameter again',
      );
    }
    for (const run of verdict.continued) {
      o.metrics?.rollupParamViolations.inc({ param: run.param });
      if (run.blocks % RUN_WARN_EVERY === 0) {
        o.logger?.warn(
          {
            param: run.param,
            voted: String(run.voted),
            observed: String(run.observed),
            fromBlock: String(run.firstBlock),
            blocks: run.blocks,
          },
          'L2 blocks still break the rollup parameter in force',
        );
      }
    }
    for (const run of verdict.started) {
      o.metrics?.rollupParamViolations.inc({ param: run.param });
      o.metrics?.rollupParamViolating.set({ param: run.param }, 1);
      report({
        kind: 'rollup-param-violated',
        block: run.firstBlock,
        blockHash: run.firstHash,
        param: run.param,
        voted: run.voted,
        observed: run.observed,
      });
    }
  };
  let rejectedSeen = 0;
  let revertedSeen = 0;
  const ingester = new L2Ingester<L2Entry>({
    rpc: o.rpc,
    store,
    addresses: watchedAddresses(o.deployment.addresses),
    decode: createLogDecoder(o.deployment.addresses),
    decodeReverted: createRevertedTxDecoder(o.deployment.addresses, (tx, inputKind, refusal) => {
      o.metrics?.refusedTxs.inc({ input: inputKind, refusal: refusalLabel(refusal) });
      if (refusal.kind === 'not-input') {
        o.logger?.debug(
          {
            block: tx.block.toString(),
            tx: tx.hash,
            input: inputKind,
            refusal: refusal.reason,
            source: tx.report.source,
            ...(refusal.detail ? { detail: refusal.detail } : {}),
          },
          'a refused L2 transaction that is not a governance input',
        );
      }
    }),
    derivation,
    startBlock: o.deployment.startBlock,
    confirmations: o.confirmations,
    maxRange: o.maxRange,
    metrics: o.metrics,
    logger: o.logger,
    entryKind,
    checkHeader,
    pollIntervalMs: o.pollIntervalMs,
    onRewind: (fork) => {
      checker.forgetAbove(fork.number);
      runs.rewind(fork.number);
      while (checks.length > 0 && (checks[checks.length - 1] as CrossCheckResult).block > fork.number)
        checks.pop();
      rejectedSeen = derivation.rejected.length;
      revertedSeen = derivation.revertedAccepted.length;
    },
    afterBlock: async (block) => {
      for (const r of derivation.rejected.slice(rejectedSeen)) {
        report({
          kind: 'rejected-input',
          block: block.number,
          rule: r.rule,
          reason: r.reason,
          inputKind: r.input.kind,
        });
      }
      rejectedSeen = derivation.rejected.length;
      for (const r of derivation.revertedAccepted.slice(revertedSeen)) {
        report({
          kind: 'reverted-input-accepted',
          block: block.number,
          txHash: r.txHash,
          inputKind: r.input.kind,
          rule: r.rule ?? 'unknown',
        });
      }
      revertedSeen = derivation.revertedAccepted.length;
      for (const end of derivation.lastBlockEpochEnds) {
        let check: CrossCheckResult | undefined;
        // Taken at every epoch end, checked or not, so the collection never outgrows an epoch.
        const touched = derivation.touched.take();
        if (o.crossCheck !== false) {
          const keys = o.crossCheckScope === 'full' ? undefined : touched;
          check = await o.rpc.call('eth_call', (client) =>
            checker.check(client, derivation.state, block.number, keys),
          );
          // An L2 execution fault is an accusation: read the same block again (twice at most) before
          // making it. A node that answers a historical read with another block's state (seen on anvil
          // under load) gives two answers for one block; the contracts cannot.
          const first = check;
          for (let again = 0; !check.ok && again < 2; again++) {
            check = await o.rpc.call('eth_call', (client) =>
              checker.check(client, derivation.state, block.number, keys),
            );
            if (check.ok) {
              o.logger?.warn(
                {
                  epoch: end.epoch.toString(),
                  block: block.number.toString(),
                  differences: first.differences.slice(0, 5),
                },
                'the L2 node answered two reads of one block differently: a later read agrees with the model, no fault reported',
              );
            }
          }
          checks.push(check);
          if (checks.length > MAX_KEPT_CHECKS) checks.splice(0, checks.length - MAX_KEPT_CHECKS);
          if (!check.ok) report({ kind: 'state-mismatch', epochEnd: end, differences: check.differences });
        }
        await o.onEpochEnd?.(end, check);
      }
    },
  });
  return { ingester, derivation, store, checks, faults };
}
