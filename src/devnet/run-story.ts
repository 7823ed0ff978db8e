/**
 * The devnet run told as a story: the logger that turns the watcher's warnings into story lines, one
 * line per verdict, and the new history events of every dispute after each block.
 */

import type { Logger } from 'pino';
import type { DisputeRecord } from '../dispute/records/store.ts';
import type { Verdict } from '../judge/verdict.ts';
import type { LatencyClock } from './latency-clock.ts';
import { createDevnetLogger, type LogRecord } from './log.ts';
import type { Say } from './run-context.ts';

export const short = (h: string): string => `${h.slice(0, 12)}…`;

/** The run's logger: `logger` if given, else one at `logLevel` (default silent) telling warnings once each. */
export function storyLogger(o: { logger?: Logger; logLevel?: string }, say: Say): Logger {
  const told = new Set<string>();
  return (
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
    })
  );
}

/** A URL without its user:password part (the story is printed and may be pasted). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

export type Diagnosis = { fault?: string; rule?: string; step?: number; inputKind?: string; reason?: string };

export function asDiagnosis(d: unknown): Diagnosis | undefined {
  if (typeof d === 'string') {
    try {
      return asDiagnosis(JSON.parse(d));
    } catch {
      return undefined;
    }
  }
  return d !== null && typeof d === 'object' ? (d as Diagnosis) : undefined;
}

export function verdictLine(v: Verdict, diagnosis: unknown): string {
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

const printed = new WeakMap<object, Map<string, number>>();

/** New history events of every dispute since the last call, as story lines. */
export async function storyOfDisputes(
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

/** A watcher warning as a story line; the operator's own warnings are already told by the operator. */
export function warningLine(r: LogRecord): string | undefined {
  if (r.msg.startsWith('devnet operator')) return undefined;
  const f = r.fields;
  // The job's id is left out: a repeating job has a new one each run, and the story tells each failure once.
  const job = typeof f.name === 'string' ? ` — job ${f.name}` : '';
  const err = typeof f.err === 'string' ? `: ${f.err}` : '';
  const permanent = f.permanent === true ? ' [permanent]' : '';
  return `  watcher ${r.level}: ${r.msg}${job}${err}${permanent}`;
}
