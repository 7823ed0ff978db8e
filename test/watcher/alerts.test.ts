import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { watcherMetrics } from '../../src/queue/metrics.ts';

const root = new URL('../../config/', import.meta.url);
const alerts = readFileSync(new URL('alerts.yml', root), 'utf8');
const dashboard = readFileSync(new URL('grafana-dashboard.json', root), 'utf8');

const registry = new Registry();
watcherMetrics(registry);
// The wallet's gauge is registered by src/bitcoin/wallet.
const known = new Set([...registry.getMetricsAsArray().map((m) => m.name), 'vigil_wallet_balance_sats']);
const used = (text: string) =>
  new Set([...text.matchAll(/\bvigil_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')));

describe('shipped alert rules and dashboard', () => {
  it('alerts.yml is valid YAML with named rules, each with a severity and a summary', () => {
    const doc = parse(alerts) as {
      groups: {
        rules: {
          alert: string;
          expr: string;
          labels: { severity: string };
          annotations: { summary: string };
        }[];
      }[];
    };
    const rules = doc.groups.flatMap((g) => g.rules);
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
