/**
 * `vigil replay <bundle> --report out.html`: one self-contained HTML page a researcher can hand to a
 * colleague. Pure: a replay result and its bundle in, a string out; the CLI writes it.
 *
 * Safety: the bundle is the operator's and may be hostile. Every string from it (and from the result,
 * which echoes it) passes through `text()`; bundle strings never reach an attribute that is a URL, an
 * id or a handler. The page carries no script at all, and its Content-Security-Policy forbids every
 * fetch and every script, so even a missed escape could neither run code nor reach the network.
 */
import { bytesToHex } from '../../core/bytes.ts';
import type { DisputeBundleV2 } from '../bundle.ts';
import type { ReplayResult } from '../result.ts';
import { jsonText, text } from './escape.ts';
import { REPORT_CSS } from './style.ts';
import { renderTimeline } from './timeline.ts';
import { firstDivergentStep, renderTrace, stepAnchor } from './trace.ts';
import { renderTransactions, type ScriptTrace } from './transactions.ts';

export type { ScriptTrace, ScriptTraceLine } from './transactions.ts';
export { MAX_TRACE_LINES_PER_INPUT, MAX_TRACE_LINES_PER_REPORT, traceLineCaps } from './transactions.ts';

/** No fetch of any kind, no script, no plugin, no form target, no <base>: only the inline stylesheet. */
export const REPORT_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

function hex0x(bytes: Uint8Array): string {
  return `0x${bytesToHex(bytes)}`;
}

/** Two hex strings with the digits where they differ marked; `b` carries the marks. */
function markDifferences(a: string, b: string): string {
  let out = '';
  let run = '';
  let marking = false;
  const flush = () => {
    if (run !== '') out += marking ? `<mark>${text(run)}</mark>` : text(run);
    run = '';
  };
  for (let i = 0; i < b.length; i++) {
    const differs = a[i] !== b[i];
    if (differs !== marking) {
      flush();
      marking = differs;
    }
    run += b[i];
  }
  flush();
  return out;
}

function countDifferences(a: string, b: string): number {
  let n = Math.abs(a.length - b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) n++;
  return n;
}

/** The state leaves the divergent step left different: the records the broken rule wrote wrong. */
function stateLeaves(result: ReplayResult): string {
  const d = result.divergence;
  if (!d.found) return '';
  if (d.leaves.length === 0) return '<p class="muted">No state leaf differs after this step.</p>';
  const rows = d.leaves.map(
    (l) =>
      `<tr><td>${text(l.kind)}<br><span class="mono hash muted">${text(l.id)}</span></td>` +
      `<td class="mono hash">${l.expected === undefined ? '<span class="muted">absent</span>' : text(l.expected)}</td>` +
      `<td class="mono hash">${l.claimed === undefined ? '<span class="muted">absent</span>' : markDifferences(l.expected ?? '', l.claimed)}</td></tr>`,
  );
  const more =
    d.leavesTotal > d.leaves.length
      ? `<p>${d.leavesTotal - d.leaves.length} more differing leaves not listed.</p>`
      : '';
  return (
    `<h3>State leaves that differ after step ${Math.trunc(d.step)} (${d.leavesTotal})</h3>` +
    '<table class="leaves"><colgroup><col class="lk"><col><col></colgroup><thead><tr><th>leaf</th><th>expected</th><th>claimed (digits differing marked)</th></tr></thead>' +
    `<tbody>${rows.join('')}</tbody></table>${more}`
  );
}

function notRecorded(items: readonly string[]): string {
  return items.length === 0
    ? ''
    : `<p class="muted">Not compared (the record lacks it): ${items.map((i) => text(i)).join('; ')}.</p>`;
}

function verdictHeader(result: ReplayResult, bundle: DisputeBundleV2): string {
  const v = result.verdict;
  const badge =
    v.outcome === 'fraud'
      ? '<span class="badge bad">fraud</span>'
      : v.outcome === 'valid'
        ? '<span class="badge ok">valid</span>'
        : '<span class="badge warn">unavailable</span>';
  const a = result.agreement;
  const agreement = !a.compared
    ? `<p class="lead"><span class="badge warn">not compared</span> with the watcher: ${text(a.reason)}</p>`
    : a.agrees
      ? '<p class="lead"><span class="badge ok">agrees</span> with what the watcher decided at the time.</p>' +
        notRecorded(a.notRecorded)
      : `<p class="lead"><span class="badge bad">differs</span> from what the watcher decided at the time:</p>` +
        `<ul>${a.differences.map((d) => `<li>${text(d)}</li>`).join('')}</ul>${notRecorded(a.notRecorded)}`;
  const consistency =
    result.consistency.length === 0
      ? ''
      : `<p class="lead"><span class="badge bad">inconsistent</span> the bundle contradicts itself:</p>` +
        `<ul>${result.consistency.map((c) => `<li>${text(c)}</li>`).join('')}</ul>`;
  const d = result.divergence;
  const first = firstDivergentStep(result);
  const divergence = d.found
    ? `<p class="lead">First divergent step: <a href="#${stepAnchor(d.step)}"><strong>step ${Math.trunc(d.step)}</strong></a> ` +
      `(global step ${Math.trunc(d.globalStep)}, input <code>${text(d.inputKind)}</code>): rule <code>${text(d.rule)}</code> broken, ` +
      `reproduced by fault <code>${text(d.fault)}</code>.</p>`
    : `<p class="lead">No catalogue fault reproduces the claim: ${text(d.reason)}` +
      (first === undefined
        ? ''
        : ` (roots first differ at <a href="#${stepAnchor(first)}">step ${Math.trunc(first)}</a>)`) +
      '.</p>';
  const reasons =
    v.reasons.length === 0
      ? ''
      : `<ul>${v.reasons.map((r) => `<li><code>${text(r.code)}</code> ${text(r.message)}</li>`).join('')}</ul>`;
  const flags = [
    v.challengeable ? 'challengeable on Bitcoin' : 'not challengeable on Bitcoin',
    v.equivocation ? 'the operator equivocated (two different roots committed)' : undefined,
  ].filter((f) => f !== undefined);
  const facts = [
    ['source', result.source === 'records' ? "Vigil's records and the chains" : 'the chains alone'],
    ['dispute', bundle.watcher?.disputeId ?? '(no watcher record)'],
    [
      'watcher state',
      bundle.watcher === undefined ? '—' : `${bundle.watcher.state} (${bundle.watcher.verdict.outcome})`,
    ],
    ['L2 chain id', bundle.l2.chainId === undefined ? 'unknown' : String(bundle.l2.chainId)],
    ['epoch end block', `${result.timeline.l2.epochEndBlock} (${bundle.l2.epochEndBlockHash})`],
    ['kick-off', bundle.kickoffTxid],
    [
      'graph',
      result.graph.imported
        ? `imported, hash ${result.graph.hash ?? 'unknown'}`
        : `not imported: ${result.graph.error ?? 'no reason given'}`,
    ],
    [
      'chain checks',
      result.chainChecksOk ? 'every transaction verified, graph imported' : 'FAILED (see below)',
    ],
  ];
  return (
    `<header class="verdict ${v.outcome === 'fraud' ? 'fraud' : v.outcome === 'valid' ? 'valid' : 'unavailable'}">` +
    `<h1>Epoch ${text(result.epoch)}: ${badge}</h1>` +
    `<p class="lead">Replayed offline: ${text(flags.join('; '))}.</p>${reasons}${agreement}${consistency}${divergence}` +
    `<dl class="facts">${facts.map(([k, val]) => `<dt>${text(k ?? '')}</dt><dd class="hash">${text(val ?? '')}</dd>`).join('')}</dl>` +
    '<nav class="toc"><a href="#timeline">Timeline</a><a href="#leaves">Leaf values</a>' +
    '<a href="#transactions">Transactions</a><a href="#trace">Trace diff</a><a href="#watcher">Watcher record</a></nav>' +
    '</header>'
  );
}

function leafValues(result: ReplayResult, bundle: DisputeBundleV2): string {
  const parts: string[] = [];
  const first = firstDivergentStep(result);
  if (first !== undefined) {
    // The divergence carries both roots itself; the step's row (when the result has it) adds context.
    const d = result.divergence;
    const step = result.steps.find((s) => s.index === first);
    const before = result.steps.find((s) => s.index === first - 1);
    const expected = d.found ? d.expectedRoot : (step?.expectedRoot ?? '');
    const claimed = d.found ? d.claimedRoot : step?.claimedRoot;
    const rows = [
      before === undefined
        ? ''
        : `<div class="row"><span class="muted">before (agreed)</span><span class="mono hash">${text(before.expectedRoot)}</span></div>`,
      `<div class="row"><span>expected</span><span class="mono hash">${text(expected)}</span></div>`,
      claimed === undefined
        ? '<div class="row"><span>claimed</span><span class="muted">no executor reproduces the claim at this step</span></div>'
        : `<div class="row"><span>claimed</span><span class="mono hash">${markDifferences(expected, claimed)}</span></div>`,
    ];
    const count =
      claimed === undefined
        ? ''
        : `<p>${countDifferences(expected, claimed)} hex digits differ (marked).</p>`;
    const context =
      step === undefined
        ? d.found
          ? ` (<code>${text(d.inputKind)}</code>; the result lists no row for this step)`
          : ''
        : ` (<code>${text(step.kind)}</code> at L2 ${text(step.block)}:${Math.trunc(step.txIndex)}:${Math.trunc(step.logIndex)}; ` +
          `rules ${text(step.rules.join(', ') || 'none')})`;
    parts.push(
      `<h3>At <a href="#${stepAnchor(first)}">step ${Math.trunc(first)}</a>${context}</h3>` +
        `<div class="leafdiff">${rows.join('')}</div>${count}${stateLeaves(result)}`,
    );
  } else {
    parts.push('<p>No step differs: every claimed root equals the reference root.</p>');
  }

  const vigil = result.roots.vigil;
  const rootRow = (name: string, value: string | undefined) =>
    `<tr><td>${name}</td><td class="mono hash">${value === undefined ? '<span class="muted">not available</span>' : markDifferences(vigil, value)}</td>` +
    `<td>${value === undefined ? '' : value === vigil ? '<span class="ok-t">= Vigil</span>' : '<span class="bad-t">≠ Vigil</span>'}</td></tr>`;
  const l2Bytes = bundle.l2.commitment?.stateRoot;
  parts.push(
    "<h3>Epoch roots</h3><table><thead><tr><th>root</th><th>value (digits differing from Vigil's marked)</th><th></th></tr></thead><tbody>" +
      `<tr><td>Vigil (reference)</td><td class="mono hash">${text(vigil)}</td><td></td></tr>` +
      rootRow('kick-off (Winternitz-signed)', result.roots.kickoff) +
      rootRow('L2 commitment', result.roots.l2Commitment) +
      (l2Bytes === undefined || result.roots.l2Commitment !== undefined
        ? ''
        : rootRow('L2 commitment (bundle)', hex0x(l2Bytes))) +
      '</tbody></table>',
  );

  const cp = result.checkpoints;
  const recorded = bundle.watcher?.expectedTrace.map(hex0x);
  const other = (r: string, value: string | undefined) =>
    value === undefined
      ? '<span class="muted">—</span>'
      : value === r
        ? '<span class="muted">same</span>'
        : markDifferences(r, value);
  const cpRows = cp.expected.map((r, i) => {
    const cls =
      cp.disproveStep === i ? ' class="x first"' : cp.firstRecordedMismatch === i ? ' class="x"' : '';
    return (
      `<tr${cls}><td>r<sub>${i}</sub>${cp.disproveStep === i ? ' (disprove)' : ''}</td><td class="mono hash">${text(r)}</td>` +
      `<td class="mono hash">${other(r, cp.asserted?.[i])}</td><td class="mono hash">${other(r, recorded?.[i])}</td></tr>`
    );
  });
  const notes = [
    cp.firstRecordedMismatch === undefined
      ? "The watcher's recorded trace agrees with every recomputed checkpoint (or none was recorded)."
      : `The watcher's recorded trace first disagrees at r<sub>${Math.trunc(cp.firstRecordedMismatch)}</sub>.`,
    cp.asserted === undefined
      ? 'The operator did not assert a trace.'
      : `The operator asserted ${cp.asserted.length} checkpoints.`,
    cp.disproveStep !== undefined
      ? `A disprove targets r<sub>${Math.trunc(cp.disproveStep)}</sub>.`
      : cp.disproveImpossible !== undefined
        ? `No step can be disproved: ${text(cp.disproveImpossible)}.`
        : '',
  ];
  parts.push(
    `<h3>Checkpoints r<sub>0</sub> … r<sub>${Math.max(0, cp.expected.length - 1)}</sub></h3>` +
      `<p>${notes.join(' ')}</p>` +
      `<details${cp.disproveStep !== undefined ? ' open' : ''}><summary>${cp.expected.length} checkpoints: recomputed, asserted by the operator, recorded by the watcher</summary>` +
      '<div class="body"><table><thead><tr><th></th><th>recomputed</th><th>asserted (digits differing marked)</th><th>recorded by the watcher</th></tr></thead>' +
      `<tbody>${cpRows.join('')}</tbody></table></div></details>`,
  );
  return parts.join('');
}

function watcherRecord(bundle: DisputeBundleV2): string {
  const w = bundle.watcher;
  if (w === undefined) {
    return '<p class="muted">This bundle was fetched from the chains: there is no watcher record to compare with.</p>';
  }
  const diagnosis =
    w.diagnosis === undefined
      ? 'none recorded'
      : w.diagnosis.fault === undefined
        ? `not located: ${w.diagnosis.reason}`
        : `fault ${w.diagnosis.fault}, rule ${w.diagnosis.rule}, step ${w.diagnosis.step} (global ${w.diagnosis.globalStep}), input ${w.diagnosis.inputKind}`;
  const facts = [
    ['dispute', w.disputeId],
    ['state', w.state],
    ['outcome', w.outcome ?? 'open'],
    ['kick-off height', String(w.kickoffHeight)],
    ['verdict', `${w.verdict.outcome}${w.verdict.equivocation ? ', equivocation' : ''}`],
    ['diagnosis', diagnosis],
    ['disproved step', w.disprovedStep === undefined ? 'none' : String(w.disprovedStep)],
  ];
  const events = w.history.map((e) => `<li class="mono">${jsonText(e, 2_000)}</li>`).join('');
  return (
    `<dl class="facts">${facts.map(([k, v]) => `<dt>${text(k ?? '')}</dt><dd>${text(v ?? '')}</dd>`).join('')}</dl>` +
    `<details><summary>${w.history.length} recorded events</summary><div class="body"><ul class="events">${events}</ul></div></details>`
  );
}

/**
 * The report page. `scripts`, when given, holds opcode-by-opcode executions of some inputs (keyed by
 * txid and input index); each renders collapsed under its input.
 */
export function renderReplayReport(
  result: ReplayResult,
  bundle: DisputeBundleV2,
  scripts?: readonly ScriptTrace[],
): string {
  const title = `Vigil replay: epoch ${result.epoch}, ${result.verdict.outcome}`;
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">` +
    '<meta name="referrer" content="no-referrer"><meta name="viewport" content="width=device-width,initial-scale=1">' +
    `<title>${text(title)}</title><style>${REPORT_CSS}</style></head><body><main>` +
    verdictHeader(result, bundle) +
    `<section id="timeline"><h2>Timeline of both chains</h2>${renderTimeline(result)}</section>` +
    `<section id="leaves"><h2>Leaf values that differ</h2>${leafValues(result, bundle)}</section>` +
    `<section id="transactions"><h2>Transactions and their script checks</h2>${renderTransactions(result.transactions, bundle, scripts)}</section>` +
    `<section id="trace"><h2>Trace diff</h2>${renderTrace(result)}</section>` +
    `<section id="watcher"><h2>Watcher record</h2>${watcherRecord(bundle)}</section>` +
    '<footer class="muted"><p>Written by <code>vigil replay --report</code>. Self-contained: no script, no network.</p></footer>' +
    '</main></body></html>\n'
  );
}
