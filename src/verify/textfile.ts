/**
 * The Prometheus textfile-collector output of `vigil verify --textfile <path>`: node_exporter reads
 * every `*.prom` file of its directory, so the file is written whole to a temporary name and renamed,
 * and a scrape never sees half of it.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { Gauge, Registry } from 'prom-client';
import type { EpochVerification } from './epoch.ts';

export type VerifyRunFacts = {
  /** The verification, or undefined when the run failed before it (the exit code says why). */
  verification: EpochVerification | undefined;
  exitCode: number;
  durationSeconds: number;
  /** Unix seconds. */
  finishedAt: number;
};

export async function verifyMetricsText(f: VerifyRunFacts): Promise<string> {
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  gauge(
    'vigil_verify_last_run_timestamp_seconds',
    'When the last vigil verify run ended (unix seconds).',
  ).set(f.finishedAt);
  gauge(
    'vigil_verify_exit_code',
    'Exit code of the last vigil verify run (README: 0 all agree, 1 disagree, 2 usage, 3 config, 4 unreachable).',
  ).set(f.exitCode);
  gauge('vigil_verify_duration_seconds', 'How long the last vigil verify run took.').set(f.durationSeconds);
  const v = f.verification;
  if (v) {
    gauge('vigil_verify_epoch', 'The epoch the last vigil verify run checked.').set(Number(v.epoch));
    gauge(
      'vigil_verify_ok',
      '1 when at least one root was compared, all agreed, and the L2 broke no rule.',
    ).set(v.ok ? 1 : 0);
    gauge('vigil_verify_roots_compared', 'Roots compared with Vigil’s (given, L2 commitment, kick-off).').set(
      v.compared,
    );
    const check = gauge(
      'vigil_verify_root_agrees',
      '1 when the source gives the same root as Vigil, 0 when it differs (absent: nothing to compare).',
      ['source'],
    );
    for (const c of v.checks) {
      if (c.status === 'agrees' || c.status === 'disagrees') {
        check.set({ source: c.source }, c.status === 'agrees' ? 1 : 0);
      }
    }
    gauge('vigil_verify_l2_execution_faults', 'L2 execution faults up to the verified epoch.').set(
      v.l2Faults.length,
    );
    gauge('vigil_verify_epoch_inputs', 'Inputs in the verified epoch.').set(v.epochInputs);
  }
  return registry.metrics();
}

export async function writeTextfile(path: string, f: VerifyRunFacts): Promise<void> {
  const text = await verifyMetricsText(f);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, path);
}
