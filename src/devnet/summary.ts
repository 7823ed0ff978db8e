/**
 * The end of a devnet run: what happened (verdicts, disputes, latencies) against what had to happen
 * (the plan), and whether the run went as expected. The CLI exits 0 exactly when `ok` is true and prints
 * `toJson` as its last line with `--json`.
 */

import type { Verdict } from '../judge/verdict.ts';
import type { L2ExecutionFault } from '../l2/governance-ingester.ts';
import type { SequencerDeviation } from '../l2/rollup-sequencer.ts';
import type { RaisedAlert } from './alerts.ts';
import type { ExportedBundle } from './export-bundles.ts';
import type { DevnetPlan } from './plan.ts';
import { judgeL2Faults, type RollupFinding } from './rollup-expectations.ts';
import type { ExpectedEnd } from './strategies/types.ts';
import type { WalletSpend } from './wallet-spend.ts';

export type DisputeSummary = {
  id: string;
  epoch: bigint;
  /** Where Vigil's diagnosis put the fraud (undefined when it could not tell). */
  step: number | undefined;
  rule: string | undefined;
  fault: string | undefined;
  kickoffTxid: string;
  challengeTxid: string | undefined;
  challengeConfirmed: boolean;
  /** The block that confirmed the challenge, and the last block it could confirm in (the take's eve). */
  challengeConfirmedAt: number | undefined;
  challengeDeadline: number | undefined;
  finalState: string;
  outcome: string | undefined;
  latencyMs: number | undefined;
};

/** How a wrong claim ended for the operator on Bitcoin. */
export type OperatorEnd = 'slashed-by-disprove' | 'slashed-by-timeout' | 'not-slashed';

export type DevnetSummary = {
  fault: string;
  behaviour: string;
  strategy: string;
  expect: ExpectedEnd;
  /** Each claim's end on Bitcoin as the operator saw it (its state), and for wrong ones the verdict. */
  operatorEnds: { epoch: bigint; fraud: boolean; state: string; end: OperatorEnd }[];
  walletSpend: WalletSpend | undefined;
  alerts: RaisedAlert[];
  /** Alert rules of config/alerts.yml the devnet cannot evaluate. */
  alertsNotEvaluated: string[];
  claims: number;
  epochsJudged: number;
  verdicts: { valid: number; fraud: number; unavailable: number };
  disputes: DisputeSummary[];
  expected: {
    fraudEpochs: bigint[];
    firstFault: { epoch: bigint; step: number; rule: string } | undefined;
  };
  /** Vigil's first header fault per rollup parameter (an L2 that broke its governance). */
  rollupParamFaults: RollupFinding[];
  finished: boolean;
  blocks: number;
  latencyMs: { samples: number; median: number | undefined; p99: number | undefined };
  /** Epochs judged per second from the watcher's start (meaningful with `backlog`). */
  judgedPerSecond: number | undefined;
  /**
   * The planned epochs over the time from the watcher's start to its first sync that reached the L2 head
   * (meaningful with `backlog`): the pace of ingestion in the same run, beside the imports and judging of
   * the same polls. Judging cannot outrun it.
   */
  l2IngestedPerSecond: number | undefined;
  ok: boolean;
  problems: string[];
  /** The bundles written with `exportBundles`. */
  bundles?: ExportedBundle[];
};

/** The alert an L2 breaking a governed rollup parameter raises (config/alerts.yml). */
const ROLLUP_ALERT = 'VigilL2RollupParamViolated';

/** Alerts that fire on every wrong claim, so cannot explain why one went unpunished. */
const NOT_AN_EXPLANATION = new Set(['VigilFraudDetected']);

/** The q-quantile (nearest rank) of `values`; undefined when empty. */
export function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function summarise(r: {
  plan: DevnetPlan;
  verdicts: readonly { verdict: Verdict }[];
  disputes: DisputeSummary[];
  finished: boolean;
  blocks: number;
  fault: string;
  behaviour: string;
  strategy?: string;
  operatorClaims?: { epoch: bigint; state: string }[];
  walletSpend?: WalletSpend;
  alerts?: RaisedAlert[];
  alertsNotEvaluated?: string[];
  /** Every L2 execution fault Vigil's ingestion reported. */
  l2ExecutionFaults: readonly L2ExecutionFault[];
  /** A faulty sequencer's first block breaking each rollup parameter (empty for an honest one). */
  sequencerDeviations?: readonly SequencerDeviation[];
  latenciesMs: readonly number[];
  judgedPerSecond: number | undefined;
  l2IngestedPerSecond: number | undefined;
}): DevnetSummary {
  // The last judged outcome of each epoch ("unavailable" only means "not yet").
  const final = new Map<bigint, Verdict['outcome']>();
  for (const { verdict } of r.verdicts) {
    if (verdict.outcome !== 'unavailable') final.set(verdict.epoch, verdict.outcome);
  }
  const count = (o: Verdict['outcome']) => [...final.values()].filter((x) => x === o).length;
  const fraudEpochs = r.plan.claims.filter((c) => c.fraud).map((c) => c.epoch);
  const expect = r.plan.expect;
  const alerts = r.alerts ?? [];
  const states = new Map((r.operatorClaims ?? []).map((c) => [c.epoch, c.state]));
  const operatorEnds = r.plan.claims.map((c) => {
    const state = states.get(c.epoch) ?? 'never claimed';
    const end: OperatorEnd =
      state === 'disproved'
        ? 'slashed-by-disprove'
        : state === 'slashed'
          ? 'slashed-by-timeout'
          : 'not-slashed';
    return { epoch: c.epoch, fraud: c.fraud, state, end };
  });
  const slashedAll = operatorEnds.filter((e) => e.fraud).every((e) => e.end !== 'not-slashed');
  // 'cannot-start-alert': the wrong claims cannot be disputed, so only the alert is asked for;
  // 'slashed-or-alert': the full checks when the operator was slashed, the alert otherwise.
  const disputeExpected = expect !== 'cannot-start-alert' && (expect !== 'slashed-or-alert' || slashedAll);
  const problems: string[] = [];
  if (!r.finished && disputeExpected)
    problems.push(`the run did not settle within ${r.blocks} Bitcoin blocks`);
  const l2 = judgeL2Faults(r.l2ExecutionFaults, r.sequencerDeviations ?? []);
  problems.push(...l2.problems);
  // An L2 that broke its governance must also raise the alert that says so, per parameter.
  if (!(r.alertsNotEvaluated ?? []).includes(ROLLUP_ALERT)) {
    for (const d of r.sequencerDeviations ?? []) {
      if (!alerts.some((a) => a.name === ROLLUP_ALERT && a.labels.param === d.param))
        problems.push(`the L2 broke ${d.param} and Vigil raised no ${ROLLUP_ALERT} alert for it`);
    }
  }
  for (const c of r.plan.claims) {
    const got = final.get(c.epoch);
    const want = c.fraud ? 'fraud' : 'valid';
    // A wrong claim Vigil could not judge is expected when no dispute can start; an honest one never.
    if (got === undefined && c.fraud && !disputeExpected) continue;
    if (got !== want) problems.push(`epoch ${c.epoch}: judged ${got ?? 'never'}, expected ${want}`);
  }
  const byEpoch = new Map<bigint, DisputeSummary[]>();
  for (const d of r.disputes) byEpoch.set(d.epoch, [...(byEpoch.get(d.epoch) ?? []), d]);
  for (const [epoch, ds] of byEpoch) {
    if (!fraudEpochs.includes(epoch)) problems.push(`epoch ${epoch} is honest but was disputed`);
    if (ds.length > 1) problems.push(`epoch ${epoch} has ${ds.length} disputes`);
  }
  if (disputeExpected) {
    for (const epoch of fraudEpochs) {
      const d = byEpoch.get(epoch)?.[0];
      if (!d) {
        problems.push(`epoch ${epoch} is wrong but no dispute was opened`);
        continue;
      }
      if (!d.challengeConfirmed) problems.push(`epoch ${epoch}: the challenge never confirmed`);
      else if (
        d.challengeConfirmedAt === undefined ||
        d.challengeDeadline === undefined ||
        d.challengeConfirmedAt > d.challengeDeadline
      ) {
        problems.push(
          `epoch ${epoch}: the challenge confirmed at block ${d.challengeConfirmedAt ?? '?'}, after its window (last block ${d.challengeDeadline ?? '?'})`,
        );
      }
      if (d.finalState !== 'resolved' || d.outcome !== 'operator-slashed') {
        problems.push(
          `epoch ${epoch}: dispute ended ${d.finalState}${d.outcome ? ` (${d.outcome})` : ''}, expected the operator slashed`,
        );
      }
    }
  }
  if (r.operatorClaims !== undefined) {
    for (const e of operatorEnds.filter((x) => x.fraud)) {
      const want =
        expect === 'slashed-by-disprove' || expect === 'slashed-by-timeout'
          ? expect
          : expect === 'slashed' || (expect === 'slashed-or-alert' && slashedAll)
            ? 'slashed'
            : undefined;
      if (want === undefined) continue;
      if (want === 'slashed' ? e.end === 'not-slashed' : e.end !== want) {
        problems.push(`epoch ${e.epoch}: the operator ended ${e.state} (${e.end}), expected ${want}`);
      }
    }
  }
  // VigilFraudDetected fires on every wrong claim: it says fraud was found, not why it went unpunished.
  const explaining = alerts.filter((x) => !NOT_AN_EXPLANATION.has(x.name));
  if (!disputeExpected && fraudEpochs.length > 0 && explaining.length === 0) {
    problems.push(
      `the wrong claims (epochs ${fraudEpochs.join(', ')}) were not slashed and Vigil raised no alert saying why`,
    );
  }
  // Vigil's records must tell the truth about the chain: a dispute it calls won must be a slash.
  for (const d of r.disputes) {
    const e = operatorEnds.find((x) => x.epoch === d.epoch);
    if (d.outcome === 'operator-slashed' && e !== undefined && e.end === 'not-slashed' && r.operatorClaims) {
      problems.push(
        `epoch ${d.epoch}: Vigil's dispute ${d.id} says operator-slashed, but on Bitcoin the operator ended ${e.state}`,
      );
    }
  }
  const w = r.walletSpend;
  if (w && w.spent > w.allowance) {
    problems.push(
      `Vigil's wallet paid ${w.spent} sat, above the challenge amount per dispute plus fees at ${w.feeCapSatVb} sat/vB (${w.allowance} sat)`,
    );
  }
  const f = r.plan.firstFault;
  if (f && disputeExpected) {
    const d = byEpoch.get(f.epoch)?.[0];
    if (d && (d.step !== f.step || d.rule !== f.rule)) {
      problems.push(
        `epoch ${f.epoch}: Vigil placed the fraud at step ${d.step ?? '?'} rule ${d.rule ?? '?'}, the fault is at step ${f.step} rule ${f.rule}`,
      );
    }
    if (fraudEpochs[0] !== f.epoch)
      problems.push(`the first wrong claim is epoch ${fraudEpochs[0]}, the fault bites at ${f.epoch}`);
  }
  return {
    fault: r.fault,
    behaviour: r.behaviour,
    strategy: r.strategy ?? r.behaviour,
    expect,
    operatorEnds,
    walletSpend: w,
    alerts,
    alertsNotEvaluated: r.alertsNotEvaluated ?? [],
    claims: r.plan.claims.length,
    epochsJudged: final.size,
    verdicts: {
      valid: count('valid'),
      fraud: count('fraud'),
      unavailable: r.plan.claims.length - final.size,
    },
    disputes: r.disputes,
    expected: {
      fraudEpochs,
      firstFault: f ? { epoch: f.epoch, step: f.step, rule: f.rule } : undefined,
    },
    rollupParamFaults: l2.findings,
    finished: r.finished,
    blocks: r.blocks,
    latencyMs: {
      samples: r.latenciesMs.length,
      median: quantile(r.latenciesMs, 0.5),
      p99: quantile(r.latenciesMs, 0.99),
    },
    judgedPerSecond: r.judgedPerSecond,
    l2IngestedPerSecond: r.l2IngestedPerSecond,
    ok: problems.length === 0,
    problems,
  };
}

/** The one JSON line `vigil devnet --json` ends with (bigints as decimal strings). */
export function toJson(s: DevnetSummary): string {
  return JSON.stringify({
    // `vigil devnet --json` ends with the game's summary, `--part2` with this one: scripts tell them apart.
    graph: 'part2',
    ok: s.ok,
    fault: s.fault,
    behaviour: s.behaviour,
    strategy: s.strategy,
    expect: s.expect,
    operatorEnds: s.operatorEnds
      .filter((e) => e.fraud)
      .map((e) => ({ epoch: e.epoch.toString(), state: e.state, end: e.end })),
    walletSpend: s.walletSpend
      ? {
          spent: s.walletSpend.spent.toString(),
          allowance: s.walletSpend.allowance.toString(),
          feeCapSatVb: s.walletSpend.feeCapSatVb,
          txs: s.walletSpend.txs.length,
        }
      : null,
    alerts: s.alerts.map((a) => ({ name: a.name, labels: a.labels, atBlock: a.atBlock })),
    epochsJudged: s.epochsJudged,
    verdicts: s.verdicts,
    disputes: s.disputes.map((d) => ({
      epoch: d.epoch.toString(),
      step: d.step ?? null,
      rule: d.rule ?? null,
      challengeTxid: d.challengeTxid ?? null,
      finalState: d.finalState,
      outcome: d.outcome ?? null,
      latencyMs: d.latencyMs ?? null,
    })),
    rollupParamFaults: s.rollupParamFaults.map((f) => ({
      block: f.block.toString(),
      param: f.param,
      voted: f.voted.toString(),
      observed: f.observed.toString(),
    })),
    latencyMs: s.latencyMs,
    problems: s.problems,
  });
}
