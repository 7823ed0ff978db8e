/**
 * The shipped alert rules and dashboard, tested as a Prometheus user tests them: promtool checks the rules
 * and runs their unit tests (config/alerts.test.yml), every alert has a case where it fires and one where
 * it does not, and every metric and label the rules, their tests and the dashboard name is one a live
 * `vigil watch` exports, with its registry built by the constructors the daemon calls.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultConfig } from '../../src/config/load.ts';
import type { VigilConfig } from '../../src/config/schema.ts';
import { HealthRegistry } from '../../src/observability/health.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { buildInfo, createMetricsRegistry } from '../../src/observability/metrics.ts';
import {
  backendFromConfig,
  bullConnectionFromUrl,
  epochSourceFromConfig,
  watcherFeesFromConfig,
} from '../../src/watcher/from-config.ts';
import { createWatcher } from '../../src/watcher/watcher.ts';

const configDir = fileURLToPath(new URL('../../config/', import.meta.url));
const read = (file: string) => readFileSync(join(configDir, file), 'utf8');
const alerts = read('alerts.yml');
const dashboard = read('grafana-dashboard.json');

type Rule = {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description?: string };
};
const rules = (parse(alerts) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

type UnitTest = {
  input_series: { series: string; values: string }[];
  alert_rule_test?: { eval_time: string; alertname: string; exp_alerts?: unknown[] }[];
};
const unitTests = (parse(read('alerts.test.yml')) as { tests: UnitTest[] }).tests;

// ---- promtool ---------------------------------------------------------------------------------------

const INSTALL_PROMTOOL =
  'promtool is not installed: the alert rules are tested with it. Install it with ' +
  '`sudo apt-get install -y prometheus` (Debian and Ubuntu; .ci/run does this) or take it from a ' +
  'Prometheus release tarball, and put it on PATH.';

function promtool(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { cwd: configDir, encoding: 'utf8', timeout: 60_000 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new Error(INSTALL_PROMTOOL);
  if (r.error) throw r.error;
  return { status: r.status, output: `promtool ${args.join(' ')}\n${r.stdout}${r.stderr}` };
}

describe('promtool', () => {
  it('checks the rules', () => {
    const r = promtool('check', 'rules', 'alerts.yml');
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain(`SUCCESS: ${rules.length} rules found`);
  }, 60_000);

  it('passes the rules unit tests (config/alerts.test.yml)', () => {
    const r = promtool('test', 'rules', 'alerts.test.yml');
    expect(r.status, r.output).toBe(0);
    expect(r.output, r.output).toContain('SUCCESS');
  }, 60_000);
});

describe('the unit tests cover every alert', () => {
  const cases = unitTests.flatMap((t) => t.alert_rule_test ?? []);

  it.each(rules.map((r) => [r.alert]))('%s has a case where it fires and one where it does not', (name) => {
    const own = cases.filter((c) => c.alertname === name);
    expect(own.filter((c) => (c.exp_alerts ?? []).length > 0).length, `${name} never fires`).toBeGreaterThan(
      0,
    );
    expect(
      own.filter((c) => (c.exp_alerts ?? []).length === 0).length,
      `${name} always fires`,
    ).toBeGreaterThan(0);
  });

  it('tests no alert that alerts.yml does not ship', () => {
    const names = new Set(rules.map((r) => r.alert));
    expect([...new Set(cases.map((c) => c.alertname))].filter((n) => !names.has(n))).toEqual([]);
  });
});

// ---- metric names and labels ------------------------------------------------------------------------

/** Labels Prometheus adds to every series of a scrape target. */
const TARGET_LABELS = ['instance', 'job'];

let registry: Registry;
let graphDir: string;
let redis: Redis;

/** The registry `vigil watch` serves on /metrics: the daemon base's, then what the watcher registers. */
beforeAll(() => {
  graphDir = mkdtempSync(join(tmpdir(), 'vigil-alerts-'));
  const base = defaultConfig();
  const address = (n: number) => `0x${n.toString(16).padStart(40, '0')}`;
  const key = (n: number) => n.toString(16).padStart(2, '0').repeat(32);
  const config: VigilConfig = {
    ...base,
    mode: 'watch',
    bitcoin: { ...base.bitcoin, backend: 'esplora', url: 'http://127.0.0.1:1' },
    l2: {
      ...base.l2,
      contracts: {
        token: address(1),
        paramRegistry: address(2),
        staking: address(3),
        governor: address(4),
        epochManager: address(5),
        stateCommitment: address(6),
      },
    },
    dispute: { ...base.dispute, graphDir, operatorKey: key(1), committeeKeys: [key(2)] },
  };
  registry = createMetricsRegistry(buildInfo());
  // Never connects: building the watcher registers its metrics, starting it would talk to Redis.
  redis = new Redis({ lazyConnect: true });
  const backend = backendFromConfig(config);
  const logger = createLogger({ level: 'silent', format: 'json' });
  const epochs = epochSourceFromConfig(config, { redis, backend, logger, registry });
  expect(epochs, 'the epoch source is configured').toBeDefined();
  createWatcher({
    redis,
    prefix: config.redis.keyPrefix,
    connection: bullConnectionFromUrl('redis://127.0.0.1:1'),
    backend,
    network: config.bitcoin.network,
    mode: config.mode,
    allowMainnetSpending: config.allowMainnetSpending,
    walletKey: undefined,
    expectations: epochs?.expectations,
    source: epochs?.source,
    fees: watcherFeesFromConfig(config),
    walletReserve: BigInt(config.fees.walletReserveSats),
    bitcoinConfirmations: config.bitcoin.confirmations,
    l2Confirmations: config.l2.confirmations,
    pollIntervalMs: config.bitcoin.pollIntervalMs,
    deadlineMarginBlocks: config.dispute.deadlineMarginBlocks,
    registry,
    health: new HealthRegistry(),
    logger,
  });
});

afterAll(() => {
  redis?.disconnect();
  if (graphDir) rmSync(graphDir, { recursive: true, force: true });
});

type Exported = { type: string; labels: string[] };
function exported(): Map<string, Exported> {
  const out = new Map<string, Exported>();
  for (const m of registry.getMetricsAsArray()) {
    const { type, labelNames } = m as unknown as { type: string; labelNames: string[] };
    out.set(m.name, { type, labels: [...labelNames] });
  }
  return out;
}

/**
 * The labels of a series as Prometheus stores it after a scrape: a metric label that is also a target
 * label becomes `exported_<name>` (no honor_labels), and the target labels are added.
 */
const stored = (labels: readonly string[]): string[] => [
  ...labels.map((l) => (TARGET_LABELS.includes(l) ? `exported_${l}` : l)),
  ...TARGET_LABELS,
];

/** A name as written in PromQL, to the exported metric (histogram series end in _bucket, _sum, _count). */
function metricOf(
  name: string,
  known: Map<string, Exported>,
): { metric: string; extra: string[] } | undefined {
  if (known.has(name)) return { metric: name, extra: [] };
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (m && known.get(m[1] as string)?.type === 'histogram')
    return { metric: m[1] as string, extra: m[2] === 'bucket' ? ['le'] : [] };
  return undefined;
}

type Use = { where: string; name: string; labels: string[] };

/** Every vigil_ metric an expression selects, with the labels it matches, groups or prints by. */
function usesOf(where: string, expr: string, printed: string[]): Use[] {
  const grouping = [...expr.matchAll(/\b(?:by|on|without|ignoring)\s*\(([^)]*)\)/g)].flatMap((m) =>
    (m[1] as string)
      .split(',')
      .map((l) => l.trim())
      .filter((l) => l !== ''),
  );
  return [...expr.matchAll(/\b(vigil_[a-z0-9_]+)\s*(\{[^}]*\})?/g)].map((m) => ({
    where,
    name: m[1] as string,
    labels: [
      ...[...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((x) => x[1] as string),
      ...grouping,
      ...printed,
    ],
  }));
}

function ruleUses(): Use[] {
  return rules.flatMap((r) => {
    const text = Object.values(r.annotations).join(' ');
    const printed = [...text.matchAll(/\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)/g)].map((m) => m[1] as string);
    return usesOf(`alerts.yml ${r.alert}`, r.expr, printed);
  });
}

function dashboardUses(): Use[] {
  const d = JSON.parse(dashboard) as {
    panels: { id: number; title: string; targets?: { expr: string; legendFormat?: string }[] }[];
  };
  return d.panels.flatMap((p) =>
    (p.targets ?? []).flatMap((t) => {
      const printed = [...(t.legendFormat ?? '').matchAll(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g)].map(
        (m) => m[1] as string,
      );
      return usesOf(`grafana panel ${p.id} (${p.title})`, t.expr, printed);
    }),
  );
}

/** What is wrong with one use: the metric is not exported, or lacks labels it is matched/grouped by. */
function problems(uses: Use[], known: Map<string, Exported>): string[] {
  return uses.flatMap((u) => {
    const m = metricOf(u.name, known);
    if (!m) return [`${u.where}: ${u.name} is not exported by vigil watch`];
    const have = [...stored((known.get(m.metric) as Exported).labels), ...m.extra];
    const missing = [...new Set(u.labels)].filter((l) => !have.includes(l));
    return missing.length > 0 ? [`${u.where}: ${u.name} has no label ${missing.join(', ')}`] : [];
  });
}

describe('every metric and label used exists in what vigil watch exports', () => {
  it('the daemon registry holds the watcher, health, L2 and graph metrics', () => {
    const known = exported();
    for (const name of [
      'vigil_build_info',
      'vigil_verdicts_total',
      'vigil_watcher_last_poll_success_timestamp_seconds',
      'vigil_l2_processed_block',
      'vigil_l2_last_committed_epoch',
      'vigil_l2_last_graph_epoch',
      'vigil_graphs_imported',
      // The soak reads it to judge the RSS without the reuse check's hashes.
      'vigil_graph_settled_wots_bytes',
    ]) {
      expect(known.has(name), name).toBe(true);
    }
  });

  it('alerts.yml: every metric, matcher label, grouping label and $labels in an annotation', () => {
    const uses = ruleUses();
    expect(new Set(uses.map((u) => u.name)).size).toBeGreaterThan(15);
    expect(problems(uses, exported())).toEqual([]);
  });

  it('grafana-dashboard.json: every metric, label and legend label', () => {
    const known = exported();
    const uses = dashboardUses();
    expect(uses.length).toBeGreaterThan(8);
    expect(problems(uses, known)).toEqual([]);
  });

  it('alerts.test.yml: every input series is named and labelled exactly as Prometheus stores it', () => {
    const known = exported();
    const wrong: string[] = [];
    for (const t of unitTests) {
      for (const { series } of t.input_series) {
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\}$/.exec(series.trim());
        if (!m) {
          wrong.push(`${series}: not name{labels}`);
          continue;
        }
        const metric = metricOf(m[1] as string, known);
        if (!metric) {
          wrong.push(`${series}: ${m[1]} is not exported by vigil watch`);
          continue;
        }
        const labels = [...(m[2] as string).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*=/g)].map((x) => x[1]);
        const expected = [...stored((known.get(metric.metric) as Exported).labels), ...metric.extra];
        if ([...labels].sort().join() !== [...expected].sort().join())
          wrong.push(`${series}: labels ${labels.sort().join()} (exported: ${expected.sort().join()})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('no metric label clashes with a target label a scrape adds (job, instance)', () => {
    const clashes = [...exported()]
      .flatMap(([name, m]) => m.labels.filter((l) => TARGET_LABELS.includes(l)).map((l) => `${name}{${l}}`))
      .sort();
    expect(clashes).toEqual([]);
  });

  it('the dashboard is valid JSON with unique panel ids', () => {
    const d = JSON.parse(dashboard) as { panels: { id: number }[] };
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

// ---- the rules' shape -------------------------------------------------------------------------------

describe('shipped alert rules', () => {
  it('are named rules, each with a severity and a summary, the names unique', () => {
    expect(rules.length).toBeGreaterThanOrEqual(21);
    for (const r of rules) {
      expect(r.alert).toMatch(/^Vigil[A-Za-z0-9]+$/);
      expect(['warning', 'critical']).toContain(r.labels.severity);
      expect(r.annotations.summary.length).toBeGreaterThan(10);
    }
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
  });

  it('are each explained in the operator docs: the table of docs/operations.md and the quick start', () => {
    for (const doc of ['docs/operations.md', 'docs/quickstart-operator.md']) {
      const text = readFileSync(fileURLToPath(new URL(`../../${doc}`, import.meta.url)), 'utf8');
      const documented = new Set([...text.matchAll(/^\| `(Vigil[A-Za-z0-9]+)` \|/gm)].map((m) => m[1]));
      expect([...documented].sort(), doc).toEqual(rules.map((r) => r.alert).sort());
    }
  });

  it.each([
    // A deadline not met on chain, in any state (a challenged dispute whose connector A is unspent).
    [
      'VigilDeadlineAtRisk',
      /^max by \(dispute, state, deadline\) \(vigil_watcher_deadline_at_risk\) == 1$/,
      '0m',
    ],
    // No poll completed with every step successful for two minutes, by any process.
    ['VigilPollStale', /^time\(\) - max\(vigil_watcher_last_poll_success_timestamp_seconds\) > 120$/, '1m'],
    // The next challenge cannot be funded.
    [
      'VigilWalletCannotFundChallenge',
      /^vigil_watcher_wallet_spendable_sats < vigil_watcher_challenge_funding_required_sats$/,
      '2m',
    ],
  ])('%s is critical and reads the health gauges /healthz answers 503 on', (name, expr, wait) => {
    const rule = rules.find((r) => r.alert === name);
    expect(rule?.expr.trim()).toMatch(expr);
    expect(rule?.labels.severity).toBe('critical');
    expect(rule?.for).toBe(wait);
  });
});
