/**
 * `vigil replay <bundle>`'s output: the text a person reads, and the JSON a machine reads. Both are
 * functions of the result alone, so two runs over one bundle print the same bytes.
 */
import type { ReplayResult } from './result.ts';

export function replayJson(r: ReplayResult): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

/** Whether the replay found everything in order: an honest epoch, every check passed, no disagreement. */
export function replayPassed(r: ReplayResult): boolean {
  return r.verdict.outcome === 'valid' && r.chainChecksOk && (!r.agreement.compared || r.agreement.agrees);
}

export function formatReplayText(r: ReplayResult): string {
  const lines: string[] = [];
  const v = r.verdict;
  lines.push(
    `epoch ${r.epoch}: ${v.outcome}${v.challengeable ? ' (challengeable on Bitcoin)' : ''}${v.equivocation ? ', equivocation' : ''}`,
  );
  for (const reason of v.reasons) lines.push(`  ${reason.code}: ${reason.message}`);
  lines.push(
    'roots:',
    `  vigil          ${r.roots.vigil}`,
    `  kick-off       ${r.roots.kickoff ?? '(not read)'}`,
    `  L2 commitment  ${r.roots.l2Commitment ?? '(none)'}`,
  );
  const d = r.divergence;
  if (d.found) {
    lines.push(
      `first divergent step ${d.step} of the epoch (${d.globalStep} since genesis): ${d.inputKind}`,
      `  fault ${d.fault}, rule ${d.rule}`,
      `  expected root ${d.expectedRoot}`,
      `  claimed root  ${d.claimedRoot}`,
    );
    const step = r.steps[d.step];
    if (step !== undefined) {
      lines.push(`  input at L2 block ${step.block} tx ${step.txIndex} log ${step.logIndex}`);
    }
    if (d.leaves.length > 0) {
      lines.push(
        `  leaves that differ (${d.leavesTotal}${d.leavesTotal > d.leaves.length ? `, first ${d.leaves.length}` : ''}):`,
      );
      for (const l of d.leaves) {
        lines.push(
          `    ${l.kind} ${l.id}`,
          `      expected ${l.expected ?? '(absent)'}`,
          `      claimed  ${l.claimed ?? '(absent)'}`,
        );
      }
    }
  } else {
    lines.push(`first divergent step: none located (${d.reason})`);
  }
  const c = r.checkpoints;
  if (c.expected.length > 0) lines.push(`checkpoints r_0 … r_${c.expected.length - 1} recomputed`);
  if (c.asserted !== undefined) {
    lines.push(
      c.disproveStep !== undefined
        ? `asserted trace: step ${c.disproveStep} is the first wrong one (the step a disprove targets)`
        : `asserted trace: no step can be disproved (${c.disproveImpossible ?? 'unknown'})`,
    );
  }
  lines.push(
    r.graph.imported
      ? `graph imported and verified (hash ${r.graph.hash})`
      : `graph refused: ${r.graph.error ?? 'unknown'}`,
  );
  lines.push('transactions:');
  for (const t of r.transactions) {
    const where = t.height === undefined ? 'unconfirmed' : `height ${t.height}`;
    const bad = t.inputs.filter((i) => !i.ok).map((i) => `input ${i.index}: ${i.error}`);
    const verdict = t.ok ? 'verifies' : bad.length > 0 ? `FAILS (${bad.join('; ')})` : 'FAILS';
    lines.push(`  ${t.role.padEnd(14)} ${t.txid}  ${where}  ${verdict}`);
    for (const p of t.problems) lines.push(`    ${p}`);
    if (t.externalInputs > 0) {
      lines.push(
        `    ${t.externalInputs} input(s) spend outside the bundle: their prevouts are the bundle's word`,
      );
    }
  }
  if (r.consistency.length > 0) {
    lines.push('the bundle contradicts itself:');
    for (const c of r.consistency) lines.push(`  ${c}`);
  }
  const a = r.agreement;
  if (!a.compared) lines.push(`watcher: not compared (${a.reason})`);
  else if (a.agrees) lines.push('watcher: the replay agrees with what the watcher decided');
  else {
    lines.push('watcher: the replay DIFFERS from what the watcher decided:');
    for (const diff of a.differences) lines.push(`  ${diff}`);
  }
  if (a.compared && a.notRecorded.length > 0) {
    lines.push(`  not compared (not recorded): ${a.notRecorded.join('; ')}`);
  }
  return `${lines.join('\n')}\n`;
}
