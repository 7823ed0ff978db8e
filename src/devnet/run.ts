/**
 * `vigil devnet`: the whole system on one machine. anvil runs the L2 with the governance contracts and a
 * seeded workload; an operator commits every epoch's root on the L2 and claims it on Bitcoin (simnet in
 * process, or an external regtest node) with a presigned dispute graph; `vigil watch`'s watcher follows
 * both chains, judges every kick-off against its own reference model, and challenges the wrong ones
 * through the BullMQ queue to the end of each dispute. The run is told as a story and summarised; it
 * is "as expected" when every wrong epoch was caught at the right step and no honest one was accused.
 */

import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { identityStepCircuit } from '../../circuits/identity.ts';
import { addressForScript } from '../bitcoin/codec/address.ts';
import { connectDevnetBitcoin, type DevnetBitcoin } from '../bitcoin/simnet/devnet-bitcoin.ts';
import { WalletKey } from '../bitcoin/wallet/keys.ts';
import { concatBytes, utf8 } from '../core/bytes.ts';
import { VigilError } from '../core/errors.ts';
import { sha256 } from '../core/hashes.ts';
import { defaultGraphParameters } from '../dispute/graph/parameters.ts';
import type { DisputeRecord } from '../dispute/records/store.ts';
import { executorByName, REFERENCE_EXECUTOR } from '../governance/index.ts';
import type { Verdict } from '../judge/verdict.ts';
import { startL2Devnet } from '../l2/devnet.ts';
import { createGovernanceIngester } from '../l2/governance-ingester.ts';
import { L2Rpc } from '../l2/rpc.ts';
import { HealthRegistry } from '../observability/health.ts';
import { deleteKeysByPrefix } from '../store/redis.ts';
import { createL2EpochSource } from '../watcher/epoch-source.ts';
import { bullConnectionFromUrl } from '../watcher/from-config.ts';
import { createGraphRegistry } from '../watcher/graph-registry.ts';
import { createWatcher } from '../watcher/watcher.ts';
import { watchAlerts } from './alerts.ts';
import { createFeeMarket } from './fee-market.ts';
import { createDevnetLogger, type LogRecord } from './log.ts';
import { devnetOperatorKeys, type OperatorBehaviour, startDevnetOperator } from './operator.ts';
import { settled } from './pacer.ts';
import { type DevnetPlan, planDevnet } from './plan.ts';
import { type ExpectedEnd, strategyByName } from './strategies/index.ts';
import { type DevnetSummary, type DisputeSummary, summarise } from './summary.ts';
import { openWalletLedger } from './wallet-spend.ts';

export type DevnetOptions = {
  redis: Redis;
  redisUrl: string;
  epochs?: number;
  seed?: number;
  scenarioFile?: string;
  /** A fault of the catalogue for the operator; 'none' = honest. */
  fault?: string;
  /** What the operator does when challenged (default: asserts its trace). */
  behaviour?: OperatorBehaviour;
  /** The operator's strategy (src/devnet/strategies/); overrides `behaviour`. */
  strategy?: string;
  /** The watcher's log lines on stderr at this level (default silent); warnings reach the story anyway. */
  logLevel?: string;
  /** An external Bitcoin Core regtest node instead of the in-process simnet. */
  bitcoinRpc?: string;
  bitcoinCookieFile?: string;
  /** Least time between two Bitcoin blocks (default 50 ms). */
  minBlockIntervalMs?: number;
  /** Give up after this many Bitcoin blocks past the kick-offs (default 120). */
  maxBlocks?: number;
  logger?: Logger;
  /** Confirm every kick-off before the watcher starts, and time how fast it judges the backlog. */
  backlog?: boolean;
  /** Aborting ends the run early (not as expected) and still cleans up. */
  signal?: AbortSignal;
  /** Story lines, as they happen. */
  say?: (line: string) => void;
};

/** The devnet watcher's wallet key: fixed, regtest only. */
export const DEVNET_WATCHER_KEY = WalletKey.fromBytes(
  sha256(utf8('vigil devnet watcher wallet (regtest only)')),
);

const WATCHER_COINS = 8;
/** The devnet watcher's fee cap: what the wallet-spend check allows per vbyte Vigil sent. */
const WATCHER_MAX_FEE_RATE_SAT_VB = 50;

const short = (h: string) => `${h.slice(0, 12)}…`;

export async function runDevnet(o: DevnetOptions): Promise<DevnetSummary> {
  const say = o.say ?? (() => {});
  const told = new Set<string>();
  const logger =
    o.logger ??
    createDevnetLogger({
      level: o.logLevel ?? 'silent',
      onWarning: (r) => {
        const line = warningLine(r);
        // A retried job fails the same way many times: told once.
        if (line !== undefined && !told.has(line)) {
          told.add(line);
          say(line);
        }
      },
    });
  const faultName = o.fault ?? 'none';
  const operatorExecutor = faultName === 'none' ? REFERENCE_EXECUTOR : executorByName(faultName);
  const strategy = strategyByName(o.strategy ?? o.behaviour ?? 'assert');
  const behaviour: OperatorBehaviour = strategy.name === 'never-assert' ? 'never-assert' : 'assert';
  if (strategy.simnetOnly && o.bitcoinRpc) {
    throw new VigilError(
      `The operator strategy ${strategy.name} needs the in-process simnet (its fee knob or its Esplora front)`,
      { metaMessages: ['Run it without --bitcoin-rpc.'] },
    );
  }
  const network = 'regtest' as const;
  const params = defaultGraphParameters[network];
  const prefix = `{vigil-devnet-${randomUUID()}}`;
  const graphDir = await mkdtemp(join(tmpdir(), 'vigil-devnet-graphs-'));
  const stops: (() => Promise<unknown>)[] = [
    () => rm(graphDir, { recursive: true, force: true }),
    () => deleteKeysByPrefix(o.redis, prefix),
  ];
  const stopAll = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
  };
  try {
    // 1. The L2: contracts, workload, operator commitments.
    const l2 = await startL2Devnet({
      redis: o.redis,
      epochs: o.epochs,
      seed: o.seed,
      scenarioFile: o.scenarioFile,
      fault: faultName,
      logger,
    });
    stops.push(() => l2.stop());
    say(`L2: anvil at ${l2.rpcUrl}, governance contracts deployed from block ${l2.deployment.startBlock}`);
    say(
      `operator: ${faultName === 'none' ? 'honest' : `faulty — ${faultName} (breaks ${operatorExecutor.breaks})`}; strategy ${strategy.name}: ${strategy.doc}`,
    );
    const l2Run = await l2.run();
    say(
      `L2: ${l2Run.inputs} governance transactions, ${l2Run.epochs.length} epochs, each committed by the operator on the L2`,
    );

    // 2. The operator's view of the feed, its claims, and what the run must find.
    const plan = await planFromChain(
      o.redis,
      `${prefix}:plan`,
      l2.rpcUrl,
      l2Run.deployment,
      operatorExecutor,
      params.traceSteps,
      strategy.expect,
    );
    if (plan.firstFault) {
      const f = plan.firstFault;
      say(
        `(the devnet knows: the fault first bites at epoch ${f.epoch}, step ${f.step} (${f.inputKind}), rule ${f.rule})`,
      );
    }

    // 3. Bitcoin, the operator's wallet and the watcher's wallet.
    const bitcoin = await connectDevnetBitcoin(
      o.bitcoinRpc ? { bitcoinRpc: o.bitcoinRpc, cookieFile: o.bitcoinCookieFile } : {},
    );
    stops.push(() => bitcoin.stop());
    say(
      `bitcoin: ${o.bitcoinRpc ? `regtest node at ${redactUrl(o.bitcoinRpc)}` : 'in-process simnet (every transaction checked by Vigil’s interpreter)'}`,
    );
    const watcherScript = concatBytes(Uint8Array.of(0x51, 0x20), DEVNET_WATCHER_KEY.taprootOutputKey);
    // Several coins, not one: disputes opened in the same block each need a coin of their own,
    // otherwise the second challenge waits for the first one's change.
    const watcherAddress = addressForScript(watcherScript, network) as string;
    await bitcoin.mine(WATCHER_COINS, watcherAddress);
    await bitcoin.mine(100);
    const market = createFeeMarket(bitcoin);
    const operator = await startDevnetOperator({
      bitcoin,
      graphDir,
      behaviour,
      logger,
      hooks: strategy.hooks(),
      market,
    });
    if (strategy.market) {
      market.set(strategy.market.floorSatVb, strategy.market.estimateSatVb);
      say(
        `bitcoin: a fee market — blocks take packages from ${strategy.market.floorSatVb ?? 0} sat/vB, the estimate is ${strategy.market.estimateSatVb ?? 'none'}`,
      );
    }
    const watched = strategy.watcherBackend ? await strategy.watcherBackend(bitcoin) : undefined;
    if (watched) {
      stops.push(() => watched.stop());
      say(`bitcoin: the watcher reads Bitcoin through ${watched.describe}`);
    }
    const watcherBackend = watched?.backend ?? bitcoin.backend;
    const wallet = await openWalletLedger(bitcoin.backend, watcherAddress, watcherScript);

    // 4. The watcher, exactly as `vigil watch` composes it, with the devnet's keys and graph directory.
    const keys = devnetOperatorKeys();
    const registry = new Registry();
    const health = new HealthRegistry();
    const l2Rpc = new L2Rpc({ urls: [l2.rpcUrl], logger });
    const graphs = createGraphRegistry({
      dir: graphDir,
      network,
      operator: keys.operator,
      committee: keys.committee,
      backend: watcherBackend,
      logger,
      registry,
    });
    const source = createL2EpochSource({
      rpc: l2Rpc,
      redis: o.redis,
      prefix: `${prefix}:l2`,
      deployment: l2Run.deployment,
      confirmations: 1,
      traceSteps: params.traceSteps,
      graphs,
      // The L2 phase above already compared the contracts with the reference model at every epoch end
      // (its execution faults are part of the summary); reading them all again costs minutes on anvil.
      crossCheck: false,
      logger,
    });
    const verdicts: { verdict: Verdict; diagnosis: unknown }[] = [];
    const judgeClock = { start: 0, end: 0, judged: new Set<bigint>() };
    const watcher = createWatcher({
      redis: o.redis,
      prefix,
      connection: bullConnectionFromUrl(o.redisUrl),
      backend: watcherBackend,
      network,
      mode: 'challenge',
      allowMainnetSpending: false,
      walletKey: DEVNET_WATCHER_KEY,
      expectations: {
        network,
        params,
        circuit: identityStepCircuit,
        operator: keys.operator,
        committee: keys.committee,
      },
      source,
      fees: {
        targetBlocks: 2,
        maxFeeRateSatVb: WATCHER_MAX_FEE_RATE_SAT_VB,
        bumpAfterBlocks: 2,
        bumpStepSatVb: 5,
      },
      bitcoinConfirmations: 1,
      l2Confirmations: 1,
      pollIntervalMs: 100,
      deadlineMarginBlocks: 2,
      registry,
      health,
      logger,
      onVerdict: (verdict, extra) => {
        verdicts.push({ verdict, diagnosis: extra.diagnosis });
        if (verdict.outcome !== 'unavailable') {
          judgeClock.judged.add(verdict.epoch);
          if (judgeClock.judged.size === plan.claims.length) judgeClock.end = performance.now();
        }
        // "unavailable" comes on every poll until the kick-off is deep enough: not news.
        if (verdict.outcome !== 'unavailable') say(verdictLine(verdict, extra.diagnosis));
      },
    });
    // 5. The operator claims every epoch on Bitcoin; blocks come as the watcher keeps up. With
    // `backlog`, every kick-off is confirmed before the watcher starts (a watcher catching up).
    const startWatcher = async () => {
      await watcher.start();
      stops.push(async () => watcher.stop(new AbortController().signal));
      judgeClock.start = performance.now();
    };
    // Otherwise the operator claims one epoch per Bitcoin block, as epochs come one after another on
    // a live system (claiming them all in one block would measure a burst, not the detection latency).
    const pending = [...plan.claims];
    if (o.backlog) {
      for (const c of pending.splice(0)) await operator.claim(c);
      say(`bitcoin: the operator published ${plan.claims.length} graphs and broadcast their kick-offs`);
      await bitcoin.mine(1);
      await startWatcher();
    } else {
      await startWatcher();
      say(`bitcoin: the operator publishes a graph and broadcasts a kick-off for each epoch, one per block`);
    }
    const probe = {
      tip: () => bitcoin.backend.getTipHeight(),
      watcherTip: () => watcher.lastPolledTip(),
      busyJobs: async () => {
        const c = await watcher.queue().queue.getJobCounts('waiting', 'active');
        return (c.waiting ?? 0) + (c.active ?? 0);
      },
    };
    const latencies = new LatencyClock(bitcoin, watcher.store, () =>
      operator.claims().map((c) => c.kickoffTxid),
    );
    const maxBlocks = o.maxBlocks ?? 120;
    const alerts = watchAlerts(registry);
    let blocks = 0;
    let finished = false;
    /** The block by which every claim had ended on Bitcoin (the watcher gets a grace period after it). */
    let claimsEndedAt: number | undefined;
    const grace = params.timelocks.disproveWindow + params.timelocks.challengeWindow;
    while (blocks < maxBlocks && !o.signal?.aborted) {
      for (const line of await operator.react()) say(`  operator: ${line}`);
      const next = pending.shift();
      if (next) await operator.claim(next);
      const minedAt = Date.now();
      await market.mine();
      blocks++;
      const tip = await probe.tip();
      await latencies.blockMined(tip, minedAt);
      await settled(probe, tip, 30_000, () => latencies.sample());
      for (const line of await storyOfDisputes(watcher.store, latencies, tip)) say(line);
      await alerts.sample(tip);
      for (const a of alerts.raised().filter((x) => x.atBlock === tip))
        say(`  alert ${a.name}: ${a.summary}`);
      if (await allSettled(operator.claims(), watcher.store, plan)) {
        finished = true;
        break;
      }
      // Every claim ended on Bitcoin but a dispute is still open: nothing more can happen on chain;
      // the watcher gets a grace period to notice, then the run ends (not settled).
      if (pending.length === 0 && claimsFinal(operator.claims(), plan)) {
        claimsEndedAt ??= blocks;
        if (blocks - claimsEndedAt >= grace) break;
      }
      const wait = (o.minBlockIntervalMs ?? 50) - (Date.now() - minedAt);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const records = await watcher.store.list();
    const disputes: DisputeSummary[] = [];
    for (const r of records) disputes.push(disputeSummary(r, await watcher.store.events(r.id), latencies));
    const spend = await wallet.close(disputes.length, params.challengeAmount, WATCHER_MAX_FEE_RATE_SAT_VB);
    return summarise({
      plan,
      verdicts,
      disputes,
      finished,
      blocks,
      fault: faultName,
      behaviour,
      strategy: strategy.name,
      operatorClaims: operator.claims().map((c) => ({ epoch: c.epoch, state: c.state })),
      walletSpend: spend,
      alerts: alerts.raised(),
      alertsNotEvaluated: alerts.notEvaluated,
      l2ExecutionFaults: l2Run.executionFaults.length,
      latenciesMs: latencies.values(),
      judgedPerSecond:
        judgeClock.end > judgeClock.start
          ? plan.claims.length / ((judgeClock.end - judgeClock.start) / 1000)
          : undefined,
    });
  } finally {
    await stopAll();
  }
}

async function planFromChain(
  redis: Redis,
  prefix: string,
  rpcUrl: string,
  deployment: Parameters<typeof createGovernanceIngester>[0]['deployment'],
  executor: ReturnType<typeof executorByName>,
  traceSteps: number,
  expect: ExpectedEnd,
): Promise<DevnetPlan> {
  const rpc = new L2Rpc({ urls: [rpcUrl] });
  const feed = createGovernanceIngester({
    rpc,
    redis,
    prefix,
    deployment,
    executor,
    crossCheck: false,
    // An honest operator follows the chain; a faulty one keeps what its own checks accepted.
    chainReverts: executor === REFERENCE_EXECUTOR ? 'authoritative' : 'executor',
  });
  await feed.ingester.syncTo(await rpc.blockNumber());
  return planDevnet({
    inputs: feed.derivation.inputs,
    genesis: deployment.genesis,
    operator: executor,
    epochEnds: feed.derivation.epochEnds.map((e) => ({ epoch: e.epoch, blockHash: e.blockHash })),
    traceSteps,
    expect,
  });
}

/** A URL without its user:password part (the story is printed and may be pasted). */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

type Diagnosis = { fault?: string; rule?: string; step?: number; inputKind?: string; reason?: string };

function asDiagnosis(d: unknown): Diagnosis | undefined {
  if (typeof d === 'string') {
    try {
      return asDiagnosis(JSON.parse(d));
    } catch {
      return undefined;
    }
  }
  return d !== null && typeof d === 'object' ? (d as Diagnosis) : undefined;
}

function verdictLine(v: Verdict, diagnosis: unknown): string {
  const kickoff = v.kickoffTxid ? ` (kick-off ${short(v.kickoffTxid)})` : '';
  if (v.outcome === 'valid') return `epoch ${v.epoch}: valid${kickoff}`;
  if (v.outcome === 'unavailable') {
    return `epoch ${v.epoch}: not judged yet — ${v.reasons.map((r) => r.code).join(', ')}`;
  }
  const d = asDiagnosis(diagnosis);
  const where =
    d?.step !== undefined
      ? `; step ${d.step} (${d.inputKind ?? '?'}), rule ${d.rule ?? '?'}${d.fault ? ` — the ${d.fault} fault` : ''}`
      : d?.reason
        ? `; step not identified (${d.reason})`
        : '';
  const root = v.reasons.find((r) => r.code === 'root-mismatch');
  return `epoch ${v.epoch}: FRAUD${kickoff} — ${root?.message ?? v.reasons.map((r) => r.code).join(', ')}${where}`;
}

/** Times from "kick-off at depth" (the block that confirmed it was mined) to "challenge in the mempool". */
class LatencyClock {
  private readonly atDepth = new Map<string, number>();
  private readonly seen = new Map<string, number>();
  constructor(
    private readonly bitcoin: DevnetBitcoin,
    private readonly store: { list(): Promise<DisputeRecord[]> },
    private readonly kickoffs: () => string[],
  ) {}

  async blockMined(tip: number, minedAt: number): Promise<void> {
    for (const txid of this.kickoffs()) {
      if (this.atDepth.has(txid)) continue;
      const s = await this.bitcoin.backend.getTxStatus(txid);
      if (s?.confirmed && s.blockHeight === tip) this.atDepth.set(txid, minedAt);
    }
  }

  async sample(): Promise<void> {
    for (const r of await this.store.list()) {
      const txid = r.challenge.txid;
      if (txid === undefined || this.seen.has(r.kickoffTxid)) continue;
      const s = await this.bitcoin.backend.getTxStatus(txid);
      if (s) this.seen.set(r.kickoffTxid, Date.now());
    }
  }

  latencyOf(kickoffTxid: string): number | undefined {
    const a = this.atDepth.get(kickoffTxid);
    const b = this.seen.get(kickoffTxid);
    return a !== undefined && b !== undefined ? b - a : undefined;
  }

  values(): number[] {
    return [...this.seen.keys()].flatMap((k) => {
      const l = this.latencyOf(k);
      return l === undefined ? [] : [l];
    });
  }
}

const printed = new WeakMap<object, Map<string, number>>();

/** New history events of every dispute since the last call, as story lines. */
async function storyOfDisputes(
  store: {
    list(): Promise<DisputeRecord[]>;
    events(
      id: string,
    ): Promise<{ seq: number; type: string; to?: string; detail?: Record<string, unknown> }[]>;
  },
  latencies: LatencyClock,
  tip: number,
): Promise<string[]> {
  let seenSeq = printed.get(store);
  if (!seenSeq) {
    seenSeq = new Map();
    printed.set(store, seenSeq);
  }
  const lines: string[] = [];
  for (const r of await store.list()) {
    const from = seenSeq.get(r.id) ?? -1;
    const events = (await store.events(r.id)).filter((e) => e.seq > from);
    for (const e of events) {
      const txid = typeof e.detail?.txid === 'string' ? ` ${short(e.detail.txid)}` : '';
      const what = e.to ? `→ ${e.to}` : e.type;
      let extra = '';
      if (e.to === 'challenged') {
        const ms = latencies.latencyOf(r.kickoffTxid);
        extra = ms !== undefined ? ` (${ms} ms after the kick-off reached depth)` : '';
      }
      if (e.to === 'resolved' && r.outcome) extra = `: ${r.outcome}`;
      lines.push(`  dispute ${r.id} (epoch ${r.epoch}) at block ${tip}: ${what}${txid}${extra}`);
      seenSeq.set(r.id, e.seq);
    }
  }
  return lines;
}

const FINAL_CLAIM_STATES = new Set(['taken', 'paid-out', 'slashed', 'disproved']);

function claimsFinal(claims: { state: string }[], plan: DevnetPlan): boolean {
  return claims.length >= plan.claims.length && claims.every((c) => FINAL_CLAIM_STATES.has(c.state));
}

/** A watcher warning as a story line; the operator's own warnings are already told by the operator. */
function warningLine(r: LogRecord): string | undefined {
  if (r.msg.startsWith('devnet operator')) return undefined;
  const f = r.fields;
  // The job's id is left out: a repeating job has a new one each run, and the story tells each failure once.
  const job = typeof f.name === 'string' ? ` — job ${f.name}` : '';
  const err = typeof f.err === 'string' ? `: ${f.err}` : '';
  const permanent = f.permanent === true ? ' [permanent]' : '';
  return `  watcher ${r.level}: ${r.msg}${job}${err}${permanent}`;
}

async function allSettled(
  claims: { state: string }[],
  store: { list(): Promise<DisputeRecord[]> },
  plan: DevnetPlan,
): Promise<boolean> {
  if (claims.length < plan.claims.length) return false;
  if (!claims.every((c) => FINAL_CLAIM_STATES.has(c.state))) return false;
  return (await store.list()).every((r) => r.state === 'resolved');
}

function disputeSummary(
  r: DisputeRecord,
  events: readonly { to?: string; detail?: Record<string, unknown> }[],
  latencies: LatencyClock,
): DisputeSummary {
  // The last confirmation is the one that held: a reorg may send the dispute back to `challenged`.
  const confirmed = [...events].reverse().find((e) => e.to === 'confirmed');
  const d = asDiagnosis(r.opened.diagnosis);
  return {
    id: r.id,
    epoch: r.epoch,
    step: d?.step,
    rule: d?.rule,
    fault: d?.fault,
    kickoffTxid: r.kickoffTxid,
    challengeTxid: r.challenge.txid,
    challengeConfirmed: confirmed !== undefined,
    challengeConfirmedAt: typeof confirmed?.detail?.height === 'number' ? confirmed.detail.height : undefined,
    challengeDeadline: r.opened.challengeBy,
    finalState: r.state,
    outcome: r.outcome,
    latencyMs: latencies.latencyOf(r.kickoffTxid),
  };
}
