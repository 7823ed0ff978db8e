/**
 * What /healthz means for the watcher: 503 when no Vigil process follows the Bitcoin chain (nobody holds
 * the lease, or this holder's polls have failed for a while), or when an open dispute's deadline is
 * at risk (a challenge not yet broadcast with fewer blocks left than the safety margin).
 */
import { blocksLeft } from '../dispute/records/deadlines.ts';
import type { DisputeRecord } from '../dispute/records/store.ts';
import type { HealthStatus } from '../observability/health.ts';

export function followHealth(f: {
  holder: string | null;
  self: string;
  lastPollOk: number | undefined;
  now: number;
  maxAgeMs: number;
}): HealthStatus {
  if (f.holder === null) return { healthy: false, reason: 'no Vigil process follows Bitcoin (lease free)' };
  if (f.holder !== f.self) return { healthy: true, reason: 'another process follows Bitcoin' };
  if (f.lastPollOk === undefined || f.now - f.lastPollOk > f.maxAgeMs) {
    return { healthy: false, reason: 'this process holds the lease but its Bitcoin polls are failing' };
  }
  return { healthy: true };
}

export function deadlineHealth(
  records: readonly DisputeRecord[],
  tip: number,
  marginBlocks: number,
): HealthStatus {
  const atRisk = records.filter((r) => {
    if (r.state !== 'detected') return false;
    const by = Number(r.fields.challengeBy);
    return Number.isFinite(by) && blocksLeft(by, tip) <= marginBlocks;
  });
  if (atRisk.length > 0) {
    return {
      healthy: false,
      reason: `challenge deadline at risk for ${atRisk.map((r) => r.id).join(', ')}`,
    };
  }
  return { healthy: true };
}
