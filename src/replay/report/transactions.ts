/**
 * Each dispute transaction with the interpreter's check of every input, as collapsible sections. The
 * replay result says whether each input verified (and the interpreter's error when not); the bundle adds
 * what was spent. When the caller also ran the inputs step by step (the `vigil tx debug` machinery), the
 * opcode-by-opcode lines are rendered collapsed under their input; otherwise the input shows the leaf
 * size and the verdict only.
 */
import type { BundleTx, DisputeBundleV2 } from '../bundle.ts';
import type { ReplayInputCheck, ReplayTxCheck } from '../result.ts';
import { text } from './escape.ts';

/** One executed (or skipped) instruction of one script of one input. */
export type ScriptTraceLine = {
  /** Which script was running: 'scriptSig', 'scriptPubKey', 'witness script', 'tapscript', … */
  stage: string;
  /** The instruction's index within that script. */
  index: number;
  /** The instruction as ASM (`OP_CHECKSIG`, `<20 bytes>`, …). */
  instruction: string;
  /** False when it sat in a branch not taken. */
  executed: boolean;
  /** The main stack after it, bottom first, as hex items; left out to keep a long trace small. */
  stack?: readonly string[];
  /** What the instruction's value means, e.g. the committed value a Winternitz digit belongs to. */
  label?: string;
  /** The interpreter's error name when execution stopped here. */
  error?: string;
};

/** The opcode-by-opcode execution of one input of one transaction. */
export type ScriptTrace = {
  txid: string;
  input: number;
  lines: readonly ScriptTraceLine[];
};

/** Lines rendered per input; a longer trace says how many it leaves out (a disprove leaf can be huge). */
export const MAX_TRACE_LINES_PER_INPUT = 5_000;
/**
 * Lines rendered in the whole report, shared among the traced inputs (a short trace leaves its share to
 * the long ones). What keeps a report under 5 MB whatever the caller traces: a 10,000-step trace diff is
 * about 3 MB, and these lines at about 120 bytes each add at most 1.2 MB.
 */
export const MAX_TRACE_LINES_PER_REPORT = 10_000;
/** Stack items shown per line (the top ones), each cut to this many characters. */
const STACK_ITEMS_SHOWN = 2;
const STACK_ITEM_CHARS = 16;
/** An instruction (a long push shows its data) is cut to this many characters. */
const INSTRUCTION_CHARS = 44;

/** A trace and the lines of it the report shows. */
type TracedInput = { trace: ScriptTrace; cap: number };

function traceKey(txid: string, input: number): string {
  return `${txid}:${input}`;
}

function cut(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

/**
 * Each trace's share of `budget` lines, by water-filling: the shortest traces take all they have, the
 * rest split what is left evenly, none above MAX_TRACE_LINES_PER_INPUT.
 */
export function traceLineCaps(lengths: readonly number[], budget = MAX_TRACE_LINES_PER_REPORT): number[] {
  const caps = new Array<number>(lengths.length).fill(0);
  const order = lengths.map((n, i) => ({ n, i })).sort((a, b) => a.n - b.n);
  let remaining = budget;
  order.forEach(({ n, i }, k) => {
    const share = Math.floor(remaining / (order.length - k));
    const cap = Math.min(n, share, MAX_TRACE_LINES_PER_INPUT);
    caps[i] = cap;
    remaining -= cap;
  });
  return caps;
}

/** The top of the stack after an instruction: its depth and the top items (top last), shortened. */
function stackText(stack: readonly string[]): string {
  const top = stack
    .slice(-STACK_ITEMS_SHOWN)
    .map((item) => (item === '' ? '[]' : cut(item, STACK_ITEM_CHARS)));
  return `[${stack.length}]${stack.length > STACK_ITEMS_SHOWN ? ' …' : ''}${top.length > 0 ? ` ${top.join(' ')}` : ''}`;
}

function renderLines(trace: ScriptTrace, cap: number): string {
  // The first `cap` lines, and past them any line where execution stopped: the error is what a reader wants.
  const shown: { line: ScriptTraceLine; n: number }[] = [];
  trace.lines.forEach((line, n) => {
    if (n < cap || line.error !== undefined) shown.push({ line, n });
  });
  const left = trace.lines.length - shown.length;
  const items = shown.map(({ line: l, n }, i) => {
    const gap = i === cap && left > 0 ? `<li class="gap">… ${left} lines not shown …</li>` : '';
    const cls = l.error !== undefined ? ' class="err"' : l.executed ? '' : ' class="skip"';
    const stack = l.stack === undefined ? '' : `<span class="stk">${text(stackText(l.stack))}</span>`;
    const label = l.label === undefined ? '' : `<span class="lab">${text(l.label)}</span>`;
    const error = l.error === undefined ? '' : ` → error ${text(l.error)}`;
    const skipped = l.executed ? '' : ' (not executed)';
    // Past a gap the list's own numbering would be wrong: such a line carries its number.
    const value = n === i ? '' : ` value="${n + 1}"`;
    return `${gap}<li${cls}${value}>${text(l.stage)} #${Math.trunc(l.index)}: ${text(cut(l.instruction, INSTRUCTION_CHARS))}${skipped}${error}${label}${stack}`;
  });
  const more =
    left > 0
      ? `<p class="muted">${left} more lines not shown (the first ${cap} are, and any where execution stopped; ` +
        '<code>vigil replay &lt;bundle&gt; --debug &lt;tx&gt;:&lt;input&gt;</code> steps through all of them).</p>'
      : '';
  return `<ol class="ops">${items.join('')}</ol>${more}`;
}

function inputRow(
  txid: string,
  input: ReplayInputCheck,
  bundleTx: BundleTx | undefined,
  traces: ReadonlyMap<string, TracedInput>,
): string {
  const prevout = bundleTx?.prevouts[input.index];
  const verdict = input.ok
    ? '<span class="ok-t">✓ verified</span>'
    : `<span class="bad-t">✗ failed${input.error === undefined ? '' : `: ${text(input.error)}`}</span>`;
  const leaf =
    input.leafBytes === undefined
      ? 'key path or not a script-path spend'
      : `script-path leaf of ${input.leafBytes} bytes`;
  const spent =
    prevout === undefined
      ? 'prevout not in the bundle'
      : `spends ${prevout.value} sat, output script ${prevout.script.length} bytes`;
  const traced = traces.get(traceKey(txid, input.index));
  const steps =
    traced === undefined
      ? '<p class="muted">No opcode trace was passed for this input: its verdict and leaf size above are what the replay checked.</p>'
      : `<details class="ops"><summary>Execution, opcode by opcode (${traced.trace.lines.length} lines)</summary><div class="body">${renderLines(traced.trace, traced.cap)}</div></details>`;
  return (
    `<details class="input"><summary>input ${Math.trunc(input.index)}: ${verdict} · ${leaf}</summary>` +
    `<div class="body"><p>${spent}.</p>${steps}</div></details>`
  );
}

function txSection(
  check: ReplayTxCheck | undefined,
  bundleTx: BundleTx | undefined,
  n: number,
  traces: ReadonlyMap<string, TracedInput>,
): string {
  const role = check?.role ?? bundleTx?.role ?? 'other';
  const txid = check?.txid ?? bundleTx?.txid ?? '';
  const height = check?.height ?? bundleTx?.confirmation?.height;
  const blockHash = check?.blockHash ?? bundleTx?.confirmation?.blockHash;
  const status =
    check === undefined
      ? '<span class="badge warn">not re-verified</span>'
      : check.ok
        ? '<span class="badge ok">verified</span>'
        : '<span class="badge bad">failed</span>';
  const where = height === undefined ? 'unconfirmed' : `height ${height}`;
  const facts = [
    `<dt>txid</dt><dd class="mono hash">${text(txid)}</dd>`,
    `<dt>confirmed</dt><dd>${height === undefined ? 'no' : `at height ${height}, block <span class="mono hash">${text(blockHash ?? '?')}</span>`}</dd>`,
  ];
  if (check !== undefined)
    facts.push(`<dt>weight</dt><dd>${check.weight} WU (${Math.ceil(check.weight / 4)} vB)</dd>`);
  if (bundleTx !== undefined) {
    facts.push(`<dt>raw size</dt><dd>${bundleTx.raw.length} bytes</dd>`);
  }
  if (check !== undefined && check.externalInputs > 0) {
    facts.push(
      `<dt>prevouts from outside</dt><dd>${check.externalInputs} input(s) spend a transaction not in the bundle: their prevouts are the bundle's word</dd>`,
    );
  }
  const problems =
    check === undefined || check.problems.length === 0
      ? ''
      : `<ul class="problems">${check.problems.map((p) => `<li>${text(p)}</li>`).join('')}</ul>`;
  const inputs =
    check === undefined
      ? '<p class="muted">The replay did not verify this transaction.</p>'
      : check.inputs.length === 0
        ? '<p class="muted">No input checks.</p>'
        : check.inputs.map((i) => inputRow(txid, i, bundleTx, traces)).join('');
  const open = check !== undefined && !check.ok ? ' open' : '';
  return (
    `<details class="tx" id="tx-${n}"${open}><summary><strong>${text(role)}</strong> ` +
    `<span class="mono">${text(txid)}</span> · ${where} · ${check?.inputs.length ?? bundleTx?.prevouts.length ?? 0} input(s) ${status}</summary>` +
    `<div class="body"><dl class="facts">${facts.join('')}</dl>${problems}${inputs}</div></details>`
  );
}

/** Every transaction of the dispute: those the replay verified, then any the bundle has that it did not. */
export function renderTransactions(
  checks: readonly ReplayTxCheck[],
  bundle: DisputeBundleV2,
  scripts: readonly ScriptTrace[] = [],
): string {
  const caps = traceLineCaps(scripts.map((t) => t.lines.length));
  const traces = new Map(scripts.map((t, i) => [traceKey(t.txid, t.input), { trace: t, cap: caps[i] ?? 0 }]));
  const byTxid = new Map(bundle.transactions.map((t) => [t.txid, t]));
  const seen = new Set<string>();
  const parts: string[] = [];
  checks.forEach((c) => {
    seen.add(c.txid);
    parts.push(txSection(c, byTxid.get(c.txid), parts.length, traces));
  });
  for (const t of bundle.transactions) {
    if (!seen.has(t.txid)) parts.push(txSection(undefined, t, parts.length, traces));
  }
  if (parts.length === 0) return '<p class="muted">The dispute has no Bitcoin transaction.</p>';
  return parts.join('');
}
