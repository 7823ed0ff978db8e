/**
 * The trace diff: one compact row per step of the epoch, the reference's root next to the root the
 * operator's claim implies. Every row is rendered up to MAX_TRACE_ROWS (a 10,000-input epoch whole), so each row is kept
 * small: a claimed root equal to the expected one prints as "same" instead of repeating 66 characters,
 * and rows are grouped in bodies the browser may skip laying out until they scroll into view.
 */
import type { ReplayResult, ReplayStep } from '../result.ts';
import { text } from './escape.ts';

/** Rows per chunk: the unit `content-visibility: auto` skips while off screen. */
const ROWS_PER_CHUNK = 200;

/**
 * Rows rendered at most: every step of a 10,000-input epoch, and for a longer one the window around the
 * first divergence, so the page stays a few MB whatever the epoch (`--json` has every step).
 */
export const MAX_TRACE_ROWS = 12_000;

/** The rows shown: all of them, or MAX_TRACE_ROWS around the first divergent step. */
function shownRange(total: number, first: number | undefined): { from: number; to: number } {
  if (total <= MAX_TRACE_ROWS) return { from: 0, to: total };
  const from = Math.max(0, Math.min(total - MAX_TRACE_ROWS, (first ?? 0) - MAX_TRACE_ROWS / 2));
  return { from, to: from + MAX_TRACE_ROWS };
}

/** The step the report points at: the engine's divergence, else the first row whose roots differ. */
export function firstDivergentStep(result: ReplayResult): number | undefined {
  if (result.divergence.found) return result.divergence.step;
  const row = result.steps.find((s) => s.claimedRoot !== undefined && s.claimedRoot !== s.expectedRoot);
  return row?.index;
}

/** The anchor of a step's row (indices are numbers, never bundle text). */
export function stepAnchor(index: number): string {
  return `step-${Math.trunc(index)}`;
}

function accepted(value: boolean | undefined): string {
  return value === undefined ? '' : value ? '✓' : '✗';
}

function row(s: ReplayStep, first: number | undefined): string {
  const differs = s.claimedRoot !== undefined && s.claimedRoot !== s.expectedRoot;
  const cls = s.index === first ? ' class="x first"' : differs ? ' class="x"' : '';
  const claimed =
    s.claimedRoot === undefined
      ? '<td class="same">no claim</td>'
      : differs
        ? `<td class="h">${text(s.claimedRoot)}</td>`
        : '<td class="same">same</td>';
  const acceptance =
    s.claimedAccepted !== undefined && s.claimedAccepted !== s.expectedAccepted
      ? `<td>${accepted(s.expectedAccepted)}≠${accepted(s.claimedAccepted)}</td>`
      : `<td>${accepted(s.expectedAccepted)}</td>`;
  // Closing </td> and </tr> are optional in HTML; leaving them out saves ~70 bytes a row.
  return (
    `<tr id="${stepAnchor(s.index)}"${cls}><td>${Math.trunc(s.index)}<td>${text(s.kind)}` +
    `<td>${text(s.block)}:${Math.trunc(s.txIndex)}:${Math.trunc(s.logIndex)}<td class="r">${text(s.rules.join(', '))}` +
    `${acceptance}<td class="h">${text(s.expectedRoot)}${claimed}`
  );
}

/** The trace diff table, every step, the first divergent one highlighted. */
export function renderTrace(result: ReplayResult): string {
  const first = firstDivergentStep(result);
  const differing = result.steps.filter(
    (s) => s.claimedRoot !== undefined && s.claimedRoot !== s.expectedRoot,
  ).length;
  const cols =
    '<colgroup><col class="i"><col class="k"><col class="p"><col class="r"><col class="a"><col class="h"><col class="h"></colgroup>';
  // One table per chunk of rows, each in a block the browser may skip laying out and painting while it is
  // off screen (content-visibility does not apply to the rows of one big table). The fixed layout and
  // the shared column widths keep the chunks' columns aligned under the one header.
  const chunks: string[] = [];
  const { from, to } = shownRange(result.steps.length, first);
  for (let i = from; i < to; i += ROWS_PER_CHUNK) {
    const rows = result.steps.slice(i, Math.min(to, i + ROWS_PER_CHUNK));
    chunks.push(
      `<div class="chunk"><table class="trace">${cols}<tbody>${rows.map((s) => row(s, first)).join('')}</tbody></table></div>`,
    );
  }
  const summary =
    `<p>${result.steps.length} steps; ${differing} with a claimed root that differs from the reference` +
    (first === undefined
      ? '.'
      : `; the first is <a href="#${stepAnchor(first)}">step ${Math.trunc(first)}</a>.`) +
    " ✓/✗: the input accepted or rejected by the reference (≠ and the claim's mark when they disagree).</p>" +
    (from === 0 && to === result.steps.length
      ? ''
      : `<p class="muted">Steps ${from} to ${to - 1} are shown, around the first divergence; \`vigil replay --json\` lists all ${result.steps.length}.</p>`);
  return (
    summary +
    `<table class="trace head">${cols}<thead><tr><th>step</th><th>input</th><th>L2 block:tx:log</th><th>rules</th>` +
    '<th></th><th>expected root</th><th>claimed root</th></tr></thead></table>' +
    chunks.join('')
  );
}
