/**
 * Composition: the reorg-safe ingester, the log decoder, the reference model as derived state and the
 * epoch-end cross-check, wired for one deployment of the governance contracts.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Executor } from '../governance/index.ts';
import { ContractCrossChecker, type CrossCheckResult } from './cross-check.ts';
import { CursorStore, type JournalStore } from './cursor-store.ts';
import { createLogDecoder, createRevertedTxDecoder, entryKind, type L2Entry } from './decode.ts';
import { type EpochEnd, GovernanceDerivation } from './derivation.ts';
import { type WatchedDeployment, watchedAddresses } from './governance-contracts.ts';
import { type HeaderParam, headerViolations } from './header-check.ts';
import { L2Ingester } from './ingester.ts';
import type { L2Metrics } from './metrics.ts';
import { refusalLabel } from './refusal.ts';
import type { BlockHeader, L2Rpc } from './rpc.ts';

/** How many reported (block, parameter) header faults are remembered to report each once. */
const HEADER_REPORTED_MAX = 100_000;

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
    };

/** Where the cursor and journal live: Redis under a key prefix, or any other JournalStore. */
export type JournalLocation = { redis: Redis; prefix: string } | { store: JournalStore<L2Entry> };

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
  onEpochEnd?: (end: EpochEnd, check: CrossCheckResult | undefined) => Promise<void> | void;
  onExecutionFault?: (fault: L2ExecutionFault) => void;
  pollIntervalMs?: number;
};

export type GovernanceIngester = {
  ingester: L2Ingester<L2Entry>;
  derivation: GovernanceDerivation;
  store: JournalStore<L2Entry>;
  checks: CrossCheckResult[];
  faults: L2ExecutionFault[];
};

export function createGovernanceIngester(o: GovernanceIngesterOptions): GovernanceIngester {
  const derivation = new GovernanceDerivation(o.deployment.genesis, o.executor);
  const store = 'store' in o ? o.store : new CursorStore<L2Entry>(o.redis, o.prefix);
  const checker = new ContractCrossChecker(o.deployment.addresses);
  const checks: CrossCheckResult[] = [];
  const faults: L2ExecutionFault[] = [];
  const report = (f: L2ExecutionFault) => {
    faults.push(f);
    o.metrics?.executionFaults.inc();
    o.logger?.error(
      {
        fault: f.kind,
        ...('epochEnd' in f ? { epoch: f.epochEnd.epoch.toString() } : {}),
        ...(f.kind === 'rollup-param-violated'
          ? {
              block: f.block.toString(),
              blockHash: f.blockHash,
              param: f.param,
              voted: f.voted.toString(),
              observed: f.observed.toString(),
            }
          : {}),
      },
      'L2 execution fault',
    );
    o.onExecutionFault?.(f);
  };
  /**
   * (block hash, parameter) pairs already reported: a header checked again (a resumed step, a reorg's
   * replay of the same blocks) is reported once. Bounded: the oldest are forgotten first.
   */
  const headerReported = new Set<string>();
  const checkHeader = (h: BlockHeader) => {
    for (const v of headerViolations(h, derivation.state.params)) {
      const key = `${h.hash}:${v.param}`;
      if (headerReported.has(key)) continue;
      headerReported.add(key);
      if (headerReported.size > HEADER_REPORTED_MAX) {
        const oldest = headerReported.values().next().value;
        if (oldest !== undefined) headerReported.delete(oldest);
      }
      o.metrics?.rollupParamViolations.inc({ param: v.param });
      report({ kind: 'rollup-param-violated', block: h.number, blockHash: h.hash, ...v });
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
        if (o.crossCheck !== false) {
          check = await o.rpc.call('eth_call', (client) =>
            checker.check(client, derivation.state, block.number),
          );
          checks.push(check);
          if (!check.ok) report({ kind: 'state-mismatch', epochEnd: end, differences: check.differences });
        }
        await o.onEpochEnd?.(end, check);
      }
    },
  });
  return { ingester, derivation, store, checks, faults };
}
