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
/** Stack items shown per line, the top ones; an item longer than this many hex digits is shortened. */
const MAX_STACK_ITEMS = 6;
const MAX_ITEM_HEX = 40;

function traceKey(txid: string, input: number): string {
  return `${txid}:${input}`;
}

/** A stack item as given; a long hex item is shortened with its size (one a caller shortened stays as is). */
function stackItem(item: string): string {
  if (item === '') return '[]';
  if (item.length <= MAX_ITEM_HEX) return item;
  return /^[0-9a-f]*$/i.test(item) && item.length % 2 === 0
    ? `${item.slice(0, MAX_ITEM_HEX)}…(${item.length / 2} B)`
    : `${item.slice(0, MAX_ITEM_HEX)}…`;
}

function renderLines(trace: ScriptTrace): string {
  // The first lines, and past the cap any line where execution stopped: the error is what a reader wants.
  const shown = trace.lines.filter((l, i) => i < MAX_TRACE_LINES_PER_INPUT || l.error !== undefined);
  const items = shown.map((l, i) => {
    const gap =
      i === MAX_TRACE_LINES_PER_INPUT && trace.lines.length > shown.length
        ? `<li class="gap">… ${trace.lines.length - shown.length} lines not shown …</li>`
        : '';
    const cls = l.error !== undefined ? ' class="err"' : l.executed ? '' : ' class="skip"';
    const stack =
      l.stack === undefined
        ? ''
        : `<span class="stk">[${text(
            l.stack.slice(-MAX_STACK_ITEMS).map(stackItem).join(' '),
          )}${l.stack.length > MAX_STACK_ITEMS ? ` +${l.stack.length - MAX_STACK_ITEMS} below` : ''}]</span>`;
    const label = l.label === undefined ? '' : `<span class="lab">${text(l.label)}</span>`;
    const error = l.error === undefined ? '' : ` → error ${text(l.error)}`;
    const skipped = l.executed ? '' : ' (not executed)';
    return `${gap}<li${cls}${i < MAX_TRACE_LINES_PER_INPUT ? '' : ` value="${trace.lines.indexOf(l) + 1}"`}>${text(l.stage)} #${Math.trunc(l.index)}: ${text(l.instruction)}${skipped}${error}${label}${stack}`;
  });
  const more =
    trace.lines.length > shown.length
      ? `<p class="muted">${trace.lines.length - shown.length} more lines not shown (the first ${MAX_TRACE_LINES_PER_INPUT} are, and any where execution stopped).</p>`
      : '';
  return `<ol class="ops">${items.join('')}</ol>${more}`;
}

function inputRow(
  txid: string,
  input: ReplayInputCheck,
  bundleTx: BundleTx | undefined,
  traces: ReadonlyMap<string, ScriptTrace>,
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
  const trace = traces.get(traceKey(txid, input.index));
  const steps =
    trace === undefined
      ? '<p class="muted">No opcode trace was passed for this input: its verdict and leaf size above are what the replay checked.</p>'
      : `<details class="ops"><summary>Execution, opcode by opcode (${trace.lines.length} lines)</summary><div class="body">${renderLines(trace)}</div></details>`;
  return (
    `<details class="input"><summary>input ${Math.trunc(input.index)}: ${verdict} · ${leaf}</summary>` +
    `<div class="body"><p>${spent}.</p>${steps}</div></details>`
  );
}

function txSection(
  check: ReplayTxCheck | undefined,
  bundleTx: BundleTx | undefined,
  n: number,
  traces: ReadonlyMap<string, ScriptTrace>,
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
    `<div class="body"><dl class="facts">${facts.join('')}</dl>${inputs}</div></details>`
  );
}

/** Every transaction of the dispute: those the replay verified, then any the bundle has that it did not. */
export function renderTransactions(
  checks: readonly ReplayTxCheck[],
  bundle: DisputeBundleV2,
  scripts: readonly ScriptTrace[] = [],
): string {
  const traces = new Map(scripts.map((t) => [traceKey(t.txid, t.input), t]));
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
