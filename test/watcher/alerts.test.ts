import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { watcherMetrics } from '../../src/queue/metrics.ts';
import { registryMetrics } from '../../src/watcher/graph-registry.ts';
import { watcherHealthMetrics } from '../../src/watcher/health-metrics.ts';

const root = new URL('../../config/', import.meta.url);
const alerts = readFileSync(new URL('alerts.yml', root), 'utf8');
const dashboard = readFileSync(new URL('grafana-dashboard.json', root), 'utf8');

const registry = new Registry();
watcherMetrics(registry);
watcherHealthMetrics(registry);
registryMetrics(registry);
// The wallet's gauge is registered by src/bitcoin/wallet.
const known = new Set([...registry.getMetricsAsArray().map((m) => m.name), 'vigil_wallet_balance_sats']);
const used = (text: string) =>
  new Set([...text.matchAll(/\bvigil_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')));

type Rule = {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string };
};
const rules = (parse(alerts) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

describe('shipped alert rules and dashboard', () => {
  it('alerts.yml is valid YAML with named rules, each with a severity and a summary', () => {
    expect(rules.length).toBeGreaterThanOrEqual(6);
    for (const r of rules) {
      expect(r.alert).toMatch(/^Vigil[A-Za-z]+$/);
      expect(['warning', 'critical']).toContain(r.labels.severity);
      expect(r.annotations.summary.length).toBeGreaterThan(10);
    }
  });

  it.each([
    ['alerts.yml', alerts],
    ['grafana-dashboard.json', dashboard],
  ])('%s uses only metrics the watcher exports', (_name, text) => {
    const names = used(text);
    expect(names.size).toBeGreaterThan(4);
    expect([...names].filter((n) => !known.has(n))).toEqual([]);
  });

  it('the dashboard is valid JSON with unique panel ids', () => {
    const d = JSON.parse(dashboard) as { panels: { id: number }[] };
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('alerts on what /healthz answers 503 on', () => {
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
  ])('%s is critical and reads the health gauges', (name, expr, wait) => {
    const rule = rules.find((r) => r.alert === name);
    expect(rule?.expr.trim()).toMatch(expr);
    expect(rule?.labels.severity).toBe('critical');
    expect(rule?.for).toBe(wait);
  });

  it('the alert names are unique', () => {
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
  });
});
