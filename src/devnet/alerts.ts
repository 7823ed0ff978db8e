/**
 * Which of Vigil's alerts a devnet run raised. The alerts are Prometheus rules (config/alerts.yml) over
 * the watcher's metrics; the devnet has no Prometheus, so each rule the devnet knows is mirrored here as
 * a condition on the metrics registry, sampled once per block. Only rules present in alerts.yml count
 * (a mirror of a rule that does not ship raises nothing), and the run lists shipped rules it cannot
 * evaluate. Time is compressed on the devnet: `for:` durations are ignored, `increase(...[w])` is the
 * change over the last few blocks, and block-count thresholds are scaled to regtest's short windows
 * (T_c = 6 instead of 432), or every regtest dispute would be "critical" from its first block.
 */
import { readFileSync } from 'node:fs';
import type { Registry } from 'prom-client';

export type RaisedAlert = { name: string; labels: Record<string, string>; atBlock: number; summary: string };

type Sample = { value: number; labels: Record<string, string | number> };
type Snapshot = Map<string, Sample[]>;

/** Blocks an `increase(...)` window spans on the devnet. */
const WINDOW_BLOCKS = 6;
/** Regtest thresholds for the deadline rules (mainnet: 12 critical, 36 warning). */
const CRITICAL_LEFT = 1;
const WARNING_LEFT = 2;

const sum = (s: Sample[] | undefined, match: Record<string, string> = {}) =>
  (s ?? [])
    .filter((x) => Object.entries(match).every(([k, v]) => String(x.labels[k]) === v))
    .reduce((a, x) => a + x.value, 0);

/** `startedAt`: seconds, when the devnet began sampling (stands in for a rule's `for:` at start). */
type Rule = (
  now: Snapshot,
  past: Snapshot | undefined,
  ctx: { startedAt: number },
) => { labels: Record<string, string>; summary: string }[];

function deadline(kind: string, atMost: number): Rule {
  return (now) => {
    return (now.get('vigil_dispute_deadline_blocks_left') ?? [])
      .filter((x) => String(x.labels.deadline) === kind && x.value <= atMost && x.value >= 0)
      .map((x) => ({
        labels: { dispute: String(x.labels.dispute) },
        summary: `dispute ${String(x.labels.dispute)}: ${x.value} blocks left (${kind})`,
      }));
  };
}

const increased = (now: Snapshot, past: Snapshot | undefined, name: string, match: Record<string, string>) =>
  sum(now.get(name), match) - sum(past?.get(name), match);

/** The devnet's mirror of each rule of config/alerts.yml it knows, by alert name. */
const RULES: Record<string, Rule> = {
  VigilChallengeDeadlineCritical: deadline('challenge', CRITICAL_LEFT),
  VigilChallengeDeadlineWarning: deadline('challenge', WARNING_LEFT),
  VigilBitcoinNotFollowed: (now) =>
    sum(now.get('vigil_chain_followed'), { chain: 'bitcoin' }) < 1
      ? [{ labels: {}, summary: 'no process follows Bitcoin' }]
      : [],
  VigilUnavailableVerdicts: (now, past) =>
    increased(now, past, 'vigil_verdicts_total', { outcome: 'unavailable' }) > 0 &&
    increased(now, past, 'vigil_epochs_judged_total', {}) === 0 &&
    past !== undefined
      ? [{ labels: {}, summary: 'epochs cannot be judged' }]
      : [],
  VigilFraudDetected: (now, past) =>
    increased(now, past, 'vigil_verdicts_total', { outcome: 'fraud' }) > 0
      ? [{ labels: {}, summary: 'an epoch was judged fraudulent' }]
      : [],
  VigilJobsFailingPermanently: (now, past) =>
    (now.get('vigil_job_failures_total') ?? [])
      .filter((x) => String(x.labels.kind) === 'permanent')
      .filter((x) => x.value - sum(past?.get('vigil_job_failures_total'), stringLabels(x.labels)) > 0)
      .map((x) => ({
        labels: { dispute_job: String(x.labels.dispute_job) },
        summary: `a dispute job failed permanently (${String(x.labels.dispute_job)})`,
      })),
  // One process on the devnet: its queue gauges are the queue's (the rule takes the max per process).
  VigilQueueBacklog: (now) =>
    sum(now.get('vigil_queue_jobs'), { state: 'waiting' }) +
      sum(now.get('vigil_queue_jobs'), { state: 'delayed' }) >
    100
      ? [{ labels: {}, summary: 'the dispute queue is backing up' }]
      : [],
  // Only once the wallet was read (mode challenge): the funding need is then above 0.
  VigilWalletLow: (now) => {
    const need = sum(now.get('vigil_watcher_challenge_funding_required_sats'));
    const s = now.get('vigil_watcher_wallet_spendable_sats');
    return need > 0 && s && s.length > 0 && Math.min(...s.map((x) => x.value)) < 2_000_000
      ? [{ labels: {}, summary: 'the watcher wallet is low' }]
      : [];
  },
  VigilChallengeFeeCapped: (now) =>
    (now.get('vigil_challenge_fee_capped') ?? [])
      .filter((x) => x.value === 1)
      .map((x) => ({
        labels: { dispute: String(x.labels.dispute) },
        summary: `dispute ${String(x.labels.dispute)}: the challenge is stuck at the fee cap`,
      })),
  VigilDisproveDeadlineCritical: deadline('disprove', CRITICAL_LEFT),
  VigilDisproveImpossible: (now) =>
    (now.get('vigil_disprove_impossible') ?? [])
      .filter((x) => x.value === 1)
      .map((x) => ({
        labels: { dispute: String(x.labels.dispute), reason: String(x.labels.reason) },
        summary: `dispute ${String(x.labels.dispute)}: Vigil cannot disprove (${String(x.labels.reason)})`,
      })),
  VigilDeadlineAtRisk: (now) =>
    (now.get('vigil_watcher_deadline_at_risk') ?? [])
      .filter((x) => x.value === 1)
      .map((x) => ({
        labels: stringLabels(x.labels),
        summary: `dispute ${String(x.labels.dispute)} (${String(x.labels.state)}): the ${String(x.labels.deadline)} deadline is at risk`,
      })),
  // 120 s without a successful poll: on the devnet, a poll is due every 100 ms; sampled after each block.
  // 120 s without a successful poll. The gauge is 0 until the first one: counted from the start of
  // the run then, as the rule's `for: 1m` keeps a starting daemon from firing in Prometheus.
  VigilPollStale: (now, _past, ctx) => {
    const t = now.get('vigil_watcher_last_poll_success_timestamp_seconds');
    if (!t || t.length === 0) return [];
    const last = Math.max(...t.map((x) => x.value));
    return Date.now() / 1000 - (last > 0 ? last : ctx.startedAt) > 120
      ? [{ labels: {}, summary: 'no Bitcoin poll completed for 120 s' }]
      : [];
  },
  VigilWalletCannotFundChallenge: (now) => {
    const have = sum(now.get('vigil_watcher_wallet_spendable_sats'));
    const need = now.get('vigil_watcher_challenge_funding_required_sats');
    return need && need.length > 0 && have < sum(need)
      ? [{ labels: {}, summary: `the wallet holds ${have} spendable sats, not enough for a challenge` }]
      : [];
  },
  VigilTransactionRefused: (now, past) =>
    (now.get('vigil_send_refused_total') ?? [])
      .filter((x) => x.value - sum(past?.get('vigil_send_refused_total'), stringLabels(x.labels)) > 0)
      .map((x) => ({
        labels: stringLabels(x.labels),
        summary: `a ${String(x.labels.tx)} Vigil needs cannot be sent (${String(x.labels.kind)})`,
      })),
  VigilL2RollupParamViolated: (now, past) =>
    (now.get('vigil_l2_rollup_param_violations_total') ?? [])
      .filter(
        (x) => x.value - sum(past?.get('vigil_l2_rollup_param_violations_total'), stringLabels(x.labels)) > 0,
      )
      .map((x) => ({
        labels: { param: String(x.labels.param) },
        summary: `L2 block headers break the governed rollup parameter ${String(x.labels.param)}`,
      })),
  VigilChallengeLost: (now, past) =>
    increased(now, past, 'vigil_send_conflicts_total', { tx: 'challenge', action: 'lost' }) > 0
      ? [{ labels: {}, summary: "the operator's take spent connector A: a wrong claim went unchallenged" }]
      : [],
  VigilFalseClaimUnchallengeable: (now, past) =>
    increased(now, past, 'vigil_false_claims_unchallengeable_total', {}) > 0
      ? [{ labels: {}, summary: 'a claim is false and Vigil has no game in it' }]
      : [],
  VigilBundleNotPosted: (now, past) =>
    (now.get('vigil_bundles_not_posted_total') ?? [])
      .filter((x) => x.value - sum(past?.get('vigil_bundles_not_posted_total'), stringLabels(x.labels)) > 0)
      .map((x) => ({
        labels: { reason: String(x.labels.reason) },
        summary: `Vigil posted no bundle for a claim that lists it (${String(x.labels.reason)})`,
      })),
  // Vigil owes the next move with a third of the move window left, or less.
  VigilGameDeadlineNear: (now) => {
    const window = new Map<string, number>();
    for (const x of now.get('vigil_game_move_blocks') ?? []) {
      const d = String(x.labels.dispute);
      window.set(d, Math.max(window.get(d) ?? 0, x.value));
    }
    return (now.get('vigil_game_deadline_blocks') ?? [])
      .filter((x) => String(x.labels.owes) === 'vigil')
      .filter((x) => x.value <= (window.get(String(x.labels.dispute)) ?? 0) / 3)
      .map((x) => ({
        labels: { dispute: String(x.labels.dispute) },
        summary: `game ${String(x.labels.dispute)}: ${x.value} blocks before the operator can time out Vigil's move`,
      }));
  },
  VigilGameTxOutbid: (now) =>
    (now.get('vigil_game_outbid') ?? [])
      .filter((x) => x.value === 1)
      .map((x) => ({
        labels: { dispute: String(x.labels.dispute), tx: String(x.labels.tx) },
        summary: `game ${String(x.labels.dispute)}: Vigil's ${String(x.labels.tx)} at the top of its fee ladder is outbid`,
      })),
  VigilDisputeRecordMissing: (now) =>
    (now.get('vigil_dispute_record_missing') ?? [])
      .filter((x) => x.value === 1)
      .map((x) => ({
        labels: { dispute: String(x.labels.dispute) },
        summary: `dispute ${String(x.labels.dispute)} has jobs but no record`,
      })),
  VigilGraphRefused: (now, past) => [
    ...(now.get('vigil_graphs_refused_total') ?? [])
      .filter((x) => x.value - sum(past?.get('vigil_graphs_refused_total'), stringLabels(x.labels)) > 0)
      .map((x) => ({
        labels: { defect: String(x.labels.defect) },
        summary: `an operator graph was refused (${String(x.labels.defect)})`,
      })),
    ...(now.get('vigil_graph_files_refused_total') ?? [])
      .filter((x) => x.value - sum(past?.get('vigil_graph_files_refused_total'), stringLabels(x.labels)) > 0)
      .map((x) => ({
        labels: { reason: String(x.labels.reason) },
        summary: `an operator graph file was refused (${String(x.labels.reason)})`,
      })),
    ...(increased(now, past, 'vigil_graph_files_changed_after_verification_total', {}) > 0
      ? [{ labels: {}, summary: 'an operator graph file changed after its graph was verified' }]
      : []),
  ],
  VigilBackendInconsistent: (now, past) =>
    (now.get('vigil_send_conflicts_total') ?? [])
      .filter(
        (x) =>
          String(x.labels.action) === 'unexplained' &&
          x.value - sum(past?.get('vigil_send_conflicts_total'), stringLabels(x.labels)) > 0,
      )
      .map((x) => ({
        labels: { tx: String(x.labels.tx) },
        summary: `the Bitcoin backend's answers about a ${String(x.labels.tx)} do not hold up`,
      })),
};

function stringLabels(l: Record<string, string | number>): Record<string, string> {
  return Object.fromEntries(Object.entries(l).map(([k, v]) => [k, String(v)]));
}

/** Alert names config/alerts.yml ships (`- alert: Name` lines). */
export function shippedAlertNames(file = new URL('../../config/alerts.yml', import.meta.url)): string[] {
  try {
    return [...readFileSync(file, 'utf8').matchAll(/^\s*- alert:\s*(\w+)/gm)].map((m) => m[1] as string);
  } catch {
    return [];
  }
}

export type AlertWatch = {
  /** Samples the registry after a block. */
  sample(block: number): Promise<void>;
  /** Every alert raised so far, first time each (name + labels) fired. */
  raised(): RaisedAlert[];
  /** Shipped rules the devnet has no mirror for. */
  notEvaluated: string[];
};

export function watchAlerts(registry: Registry, shipped = shippedAlertNames()): AlertWatch {
  const history: Snapshot[] = [];
  const raised = new Map<string, RaisedAlert>();
  const active = shipped.filter((n) => RULES[n] !== undefined);
  const ctx = { startedAt: Date.now() / 1000 };
  return {
    notEvaluated: shipped.filter((n) => RULES[n] === undefined),
    raised: () => [...raised.values()],
    async sample(block) {
      const snap: Snapshot = new Map();
      for (const m of await registry.getMetricsAsJSON()) {
        snap.set(
          m.name,
          (m.values as { value: number; labels: Record<string, string | number> }[]).map((v) => ({
            value: v.value,
            labels: v.labels,
          })),
        );
      }
      const past = history.length >= WINDOW_BLOCKS ? history[history.length - WINDOW_BLOCKS] : history[0];
      for (const name of active) {
        for (const f of (RULES[name] as Rule)(snap, past, ctx)) {
          const key = `${name}${JSON.stringify(f.labels)}`;
          if (!raised.has(key))
            raised.set(key, { name, labels: f.labels, atBlock: block, summary: f.summary });
        }
      }
      history.push(snap);
      if (history.length > WINDOW_BLOCKS + 1) history.shift();
    },
  };
}
