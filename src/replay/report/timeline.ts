/**
 * The timeline of both chains as inline SVG, each chain on its own axis and to its own scale: the L2
 * track shows the epoch's end block and the block that committed its root; the Bitcoin track shows each
 * dispute transaction at its confirmation height and each deadline as a window from the kick-off to the
 * height it falls at, so a reader sees how much of a window was left. A table under the drawing carries
 * the same facts as text (for search, copy and screen readers).
 */
import type { ReplayResult } from '../result.ts';
import { text } from './escape.ts';

const WIDTH = 1000;
const LEFT = 110;
const RIGHT = 40;
const PLOT = WIDTH - LEFT - RIGHT;
/** Label rows above an axis, used in turn so that nearby events do not print over each other. */
const LABEL_ROWS = 3;

type Scale = (value: bigint) => number;

/** A linear scale over [min, max] widened by a margin; one point gets a window of its own. */
function scaleFor(values: readonly bigint[]): { x: Scale; min: bigint; max: bigint } {
  let min = values[0] ?? 0n;
  let max = min;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max - min;
  const pad = span === 0n ? 5n : span / 12n + 1n;
  const lo = min - pad < 0n ? 0n : min - pad;
  const hi = max + pad;
  const range = Number(hi - lo);
  return { x: (v) => LEFT + (Number(v - lo) / range) * PLOT, min: lo, max: hi };
}

/** A decimal string as bigint; undefined for anything else (the engine should never pass one, but the
 * report must not throw on a malformed value). */
function decimal(value: string): bigint | undefined {
  return /^[0-9]{1,78}$/.test(value) ? BigInt(value) : undefined;
}

function fmt(x: number): string {
  return x.toFixed(1);
}

function axis(y: number, label: string, s: { min: bigint; max: bigint; x: Scale }): string {
  const out = [
    `<text class="track" x="8" y="${y + 4}">${text(label)}</text>`,
    `<line class="axis" x1="${LEFT}" y1="${y}" x2="${WIDTH - RIGHT}" y2="${y}"/>`,
  ];
  const span = s.max - s.min;
  // Up to five ticks with their heights, never two on one height (a short span has fewer).
  const ticks = new Set<bigint>();
  for (let i = 0n; i <= 4n; i++) ticks.add(s.min + (span * i) / 4n);
  for (const v of ticks) {
    const x = fmt(s.x(v));
    out.push(`<line class="tick" x1="${x}" y1="${y - 3}" x2="${x}" y2="${y + 3}"/>`);
    out.push(`<text class="lbl muted" x="${x}" y="${y + 16}" text-anchor="middle">${v}</text>`);
  }
  return out.join('');
}

type Marker = { at: bigint; label: string; cls: string };

function markers(y: number, s: { x: Scale }, items: readonly Marker[]): string {
  const sorted = [...items].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return sorted
    .map((m, i) => {
      const x = fmt(s.x(m.at));
      const ly = y - 14 - (i % LABEL_ROWS) * 15;
      return (
        `<line class="tick" x1="${x}" y1="${ly + 3}" x2="${x}" y2="${y}"/>` +
        `<circle class="${m.cls}" cx="${x}" cy="${y}" r="5"/>` +
        `<text class="lbl" x="${x}" y="${ly}" text-anchor="middle">${text(m.label)}</text>`
      );
    })
    .join('');
}

/** The SVG drawing and the table of the same facts. */
export function renderTimeline(result: ReplayResult): string {
  const { l2, bitcoin, deadlines } = result.timeline;
  const parts: string[] = [];

  // L2 track.
  const l2Points: Marker[] = [];
  const end = decimal(l2.epochEndBlock);
  if (end !== undefined) l2Points.push({ at: end, label: `epoch end ${l2.epochEndBlock}`, cls: 'l2' });
  const committed = l2.commitmentBlock === undefined ? undefined : decimal(l2.commitmentBlock);
  if (committed !== undefined)
    l2Points.push({ at: committed, label: `commitment ${l2.commitmentBlock}`, cls: 'l2' });
  const l2Scale = scaleFor(l2Points.map((p) => p.at));
  const l2Y = 70;
  parts.push(axis(l2Y, 'L2 blocks', l2Scale), markers(l2Y, l2Scale, l2Points));

  // Bitcoin track: confirmed transactions and deadlines share one scale.
  const confirmed = bitcoin.filter((e) => e.height !== undefined && Number.isSafeInteger(e.height));
  const btcValues = [
    ...confirmed.map((e) => BigInt(e.height as number)),
    ...deadlines.filter((d) => Number.isSafeInteger(d.height)).map((d) => BigInt(d.height)),
  ];
  const btcY = 170;
  let height = 200;
  if (btcValues.length > 0) {
    const s = scaleFor(btcValues);
    parts.push(axis(btcY, 'Bitcoin', s));
    const kickoff = confirmed.find((e) => e.role === 'kickoff');
    const windowStart = BigInt(kickoff?.height ?? Math.min(...btcValues.map(Number)));
    deadlines
      .filter((d) => Number.isSafeInteger(d.height))
      .forEach((d, i) => {
        const y = btcY + 30 + i * 22;
        const x0 = s.x(windowStart);
        const x1 = s.x(BigInt(d.height));
        const w = Math.max(1, x1 - x0);
        parts.push(
          `<rect class="window" x="${fmt(Math.min(x0, x1))}" y="${y - 7}" width="${fmt(w)}" height="12"/>`,
          `<line class="deadline" x1="${fmt(x1)}" y1="${btcY}" x2="${fmt(x1)}" y2="${y + 6}"/>`,
          // A label near the right edge goes left of its line (over the window) so it is not cut off.
          x1 > WIDTH - RIGHT - 200
            ? `<text class="lbl" x="${fmt(x1 - 6)}" y="${y + 3}" text-anchor="end">${text(`${d.name}: ${d.height}`)}</text>`
            : `<text class="lbl" x="${fmt(x1 + 6)}" y="${y + 3}">${text(`${d.name}: ${d.height}`)}</text>`,
        );
      });
    height = btcY + 40 + deadlines.length * 22;
    parts.push(
      markers(
        btcY,
        s,
        confirmed.map((e) => ({
          at: BigInt(e.height as number),
          label: `${e.role} ${e.height}`,
          cls: e.role === 'disprove' || e.role === 'assert-timeout' ? 'ev bad' : 'ev',
        })),
      ),
    );
  } else {
    parts.push(`<text class="track" x="8" y="${btcY + 4}">Bitcoin</text>`);
    parts.push(`<text class="lbl muted" x="${LEFT}" y="${btcY + 4}">no confirmed transaction</text>`);
  }
  const legend =
    deadlines.length === 0
      ? ''
      : '<p class="muted">Each chain to its own scale. Each deadline (dashed) is drawn as the window from the kick-off to the height it falls at.</p>';
  const svg =
    `<svg class="timeline" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="Timeline of both chains">` +
    `${parts.join('')}</svg>`;

  const rows: string[] = [
    `<tr><td>L2</td><td>epoch end</td><td class="mono">${text(l2.epochEndBlock)}</td><td></td></tr>`,
    `<tr><td>L2</td><td>commitment</td><td class="mono">${text(l2.commitmentBlock ?? 'not committed')}</td><td></td></tr>`,
  ];
  for (const e of bitcoin) {
    rows.push(
      `<tr><td>Bitcoin</td><td>${text(e.role)}</td><td class="mono">${e.height === undefined ? 'unconfirmed' : e.height}</td>` +
        `<td class="mono hash">${text(e.txid)}</td></tr>`,
    );
  }
  for (const d of deadlines) {
    rows.push(
      `<tr><td>Bitcoin</td><td>deadline: ${text(d.name)}</td><td class="mono">${d.height}</td><td></td></tr>`,
    );
  }
  const table =
    '<table class="events"><thead><tr><th>chain</th><th>event</th><th>height</th><th>transaction</th></tr></thead>' +
    `<tbody>${rows.join('')}</tbody></table>`;
  return legend + svg + table;
}
