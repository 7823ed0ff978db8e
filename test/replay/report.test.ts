/**
 * The replay report in a real browser: Debian's headless Chromium driven by playwright-core (one launch
 * for the file). What a reader sees is asserted on the page's DOM; what the page may do (console errors,
 * requests, dialogs) is listened for while it loads. The screenshot is kept as a test artifact
 * (artifacts/, gitignored).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonText, text } from '../../src/replay/report/escape.ts';
import {
  MAX_TRACE_LINES_PER_INPUT,
  MAX_TRACE_LINES_PER_REPORT,
  MAX_TRACE_ROWS,
  REPORT_CSP,
  renderReplayReport,
  type ScriptTraceLine,
  traceLineCaps,
} from '../../src/replay/report/index.ts';
import {
  FRAUD_FAULT,
  fraudFixture,
  HOSTILE_IMG,
  HOSTILE_LINK,
  HOSTILE_SCRIPT,
  hostileFixture,
  largeFixture,
  realisticTraces,
} from './report-fixtures.ts';

const ARTIFACTS = resolve(import.meta.dirname, '../../artifacts');

/** Debian's `chromium` as found on PATH (`.ci/run` installs it). */
function chromiumOnPath(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'chromium');
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  throw new Error("chromium is not on PATH: install Debian's chromium package (.ci/run does)");
}

type Observed = { requests: string[]; errors: string[]; dialogs: string[] };

/** Opens `html` from a file in artifacts/ and records every request, console error and dialog. */
async function open(
  browser: Browser,
  name: string,
  html: string,
): Promise<{ page: Page; seen: Observed; url: string }> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, name);
  writeFileSync(file, html);
  const url = pathToFileURL(file).href;
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const seen: Observed = { requests: [], errors: [], dialogs: [] };
  page.on('request', (r) => seen.requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') seen.errors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => seen.errors.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => {
    seen.dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, seen, url };
}

let browser: Browser;

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: chromiumOnPath() });
});

afterAll(async () => {
  await browser?.close();
});

describe('replay report in Chromium', () => {
  it('shows the verdict, the first divergent step, the differing leaves and every dispute transaction, offline', async () => {
    const { result, bundle, scripts } = fraudFixture();
    const html = renderReplayReport(result, bundle, scripts);
    expect(html).not.toMatch(/https?:|\/\/[a-z0-9]/i);
    const { page, seen, url } = await open(browser, 'replay-report.html', html);
    try {
      // The only request is the file itself; nothing logged an error.
      expect(seen.requests).toEqual([url]);
      expect(seen.errors).toEqual([]);
      expect(await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content')).toBe(
        REPORT_CSP,
      );
      expect(await page.locator('script').count()).toBe(0);

      const header = (await page.locator('header').textContent()) ?? '';
      expect(header).toContain('fraud');
      expect(header).toContain('agrees with what the watcher decided');
      expect(header).toContain(FRAUD_FAULT);
      expect(result.divergence.found).toBe(true);
      const d = result.divergence.found ? result.divergence : undefined;
      expect(header).toContain(`step ${d?.step}`);
      expect(header).toContain(d?.rule);

      // The header links to the divergent row, which is marked and carries the step's facts.
      const link = page.locator('header a', { hasText: `step ${d?.step}` });
      expect(await link.getAttribute('href')).toBe(`#step-${d?.step}`);
      const row = page.locator(`#step-${d?.step}`);
      expect(await row.getAttribute('class')).toContain('first');
      const rowText = (await row.textContent()) ?? '';
      expect(rowText).toContain(d?.inputKind);
      expect(rowText).toContain(d?.expectedRoot);
      expect(rowText).toContain(d?.claimedRoot);
      expect(await page.locator('table.trace tr.first').count()).toBe(1);
      expect(await page.locator('table.trace tbody tr').count()).toBe(result.steps.length);
      await link.click();
      expect(new URL(page.url()).hash).toBe(`#step-${d?.step}`);

      // Leaf values: both roots at the step, and every differing state leaf with both values.
      const leaves = (await page.locator('#leaves').textContent()) ?? '';
      expect(leaves).toContain(d?.expectedRoot);
      expect(leaves).toContain(d?.claimedRoot);
      expect(d?.leaves.length).toBeGreaterThan(0);
      for (const l of d?.leaves ?? []) {
        expect(leaves).toContain(l.id);
        if (l.expected !== undefined) expect(leaves).toContain(l.expected);
        if (l.claimed !== undefined) expect(leaves).toContain(l.claimed);
      }

      // Every transaction of the dispute, on the timeline and with its checks.
      const timeline = (await page.locator('#timeline').textContent()) ?? '';
      const txs = (await page.locator('#transactions').textContent()) ?? '';
      expect(await page.locator('details.tx').count()).toBe(bundle.transactions.length);
      for (const t of bundle.transactions) {
        expect(txs).toContain(t.txid);
        expect(txs).toContain(t.role);
        expect(timeline).toContain(`${t.role} ${t.confirmation?.height}`);
      }
      for (const dl of result.timeline.deadlines) expect(timeline).toContain(`${dl.name}: ${dl.height}`);
      expect(timeline).toContain(`epoch end ${result.timeline.l2.epochEndBlock}`);

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'replay-report.png'), fullPage: true });
      await page.goto(`${url}#top`);
      await page.screenshot({ path: join(ARTIFACTS, 'replay-report-top.png') });
      expect(existsSync(join(ARTIFACTS, 'replay-report.png'))).toBe(true);
      expect(seen.errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('renders opcode traces collapsed under their input, and the leaf size and verdict where there is none', async () => {
    const { result, bundle, scripts } = fraudFixture();
    const { page, seen } = await open(
      browser,
      'replay-report-scripts.html',
      renderReplayReport(result, bundle, scripts),
    );
    try {
      const trace = scripts[0];
      const tx = page.locator('details.tx', { hasText: trace?.txid ?? '' });
      expect(await tx.count()).toBe(1);
      const ops = tx.locator('details.ops');
      expect(await ops.count()).toBe(1);
      expect(await ops.getAttribute('open')).toBeNull();
      expect(await ops.locator('li').count()).toBe(trace?.lines.length);
      expect(await ops.locator('li').first().isVisible()).toBe(false);
      await tx.locator('summary').first().click();
      await tx.locator('details.input summary').first().click();
      await ops.locator('summary').click();
      expect(await ops.locator('li').first().isVisible()).toBe(true);
      expect(await ops.locator('li').first().textContent()).toContain(trace?.lines[0]?.label);
      expect(await ops.locator('li.skip').count()).toBe(trace?.lines.filter((l) => !l.executed).length);

      // The assert's leaf has no trace: its size and the interpreter's verdict stand in.
      const assert = page.locator('details.tx', { hasText: 'assert' }).first();
      const assertText = (await assert.textContent()) ?? '';
      expect(assertText).toContain('script-path leaf of 13918 bytes');
      expect(assertText).toContain('verified');
      expect(assertText).toContain('No opcode trace was passed for this input');
      expect(seen.errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  // With the CSP and without it: escaping alone must keep the markup inert, the CSP is the second wall.
  for (const csp of [true, false]) {
    it(`renders hostile bundle strings as text: no dialog, no request, no element they describe (${csp ? 'with' : 'without'} the CSP)`, async () => {
      const { result, bundle, scripts } = hostileFixture();
      let html = renderReplayReport(result, bundle, scripts);
      expect(html).not.toContain('<script');
      expect(html).not.toContain('<img');
      expect(html).not.toContain('<a href="http');
      if (!csp) {
        html = html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '');
        expect(html).not.toContain('Content-Security-Policy');
      }
      const { page, seen, url } = await open(
        browser,
        `replay-report-hostile-${csp ? 'csp' : 'nocsp'}.html`,
        html,
      );
      try {
        // Open every collapsed section so that nothing hostile hides from the checks below.
        await page.locator('details:not([open]) > summary').evaluateAll((summaries) => {
          for (const s of summaries) (s.parentElement as { open: boolean } | null)!.open = true;
        });
        await page.evaluate('0'); // one round trip: whatever opening them started has run
        expect(seen.dialogs).toEqual([]);
        expect(seen.requests).toEqual([url]);
        expect(seen.errors).toEqual([]);
        expect(await page.locator('script, img, iframe, object, embed').count()).toBe(0);
        expect(await page.locator('a[href^="http"]').count()).toBe(0);
        expect(await page.locator('style').count()).toBe(1);
        const body = (await page.locator('body').textContent()) ?? '';
        for (const s of [HOSTILE_SCRIPT, HOSTILE_IMG, HOSTILE_LINK]) expect(body).toContain(s);
        expect(await page.title()).toContain(HOSTILE_SCRIPT);
      } finally {
        await page.close();
      }
    });
  }

  it('a 10,000-input epoch with every input traced renders every row in a report under 5 MB', async () => {
    const f = largeFixture(10_000);
    const scripts = realisticTraces(f);
    const html = renderReplayReport(f.result, f.bundle, scripts);
    const bytes = Buffer.byteLength(html, 'utf8');
    expect(bytes).toBeLessThan(5 * 1024 * 1024);
    const { page, seen } = await open(browser, 'replay-report-10k.html', html);
    try {
      expect(seen.errors).toEqual([]);
      expect(await page.locator('table.trace tbody tr').count()).toBe(10_000);
      expect(await page.locator('table.trace tr.x').count()).toBe(10_000);
      expect(await page.locator('#step-9999').textContent()).toContain(f.result.steps[9_999]?.claimedRoot);
      expect(await page.locator('header a[href="#step-0"]').count()).toBe(1);
      // Every traced input is there, its lines within the report's share.
      expect(await page.locator('details.ops').count()).toBe(scripts.length);
      expect(await page.locator('ol.ops li:not(.gap)').count()).toBe(MAX_TRACE_LINES_PER_REPORT);
    } finally {
      await page.close();
    }
  });

  it('an honest epoch fetched from the chains reads as valid, with no divergence and no watcher record', async () => {
    const { result, bundle } = fraudFixture();
    for (const s of result.steps) {
      s.claimedRoot = s.expectedRoot;
      s.claimedAccepted = s.expectedAccepted;
    }
    result.verdict = { outcome: 'valid', challengeable: false, equivocation: false, reasons: [] };
    result.divergence = { found: false, reason: 'every claimed root equals the reference' };
    result.roots.kickoff = result.roots.vigil;
    result.roots.l2Commitment = result.roots.vigil;
    result.agreement = { compared: false, reason: 'the bundle has no watcher record' };
    result.source = 'chains';
    bundle.source = 'chains';
    bundle.watcher = undefined;
    const { page, seen } = await open(
      browser,
      'replay-report-valid.html',
      renderReplayReport(result, bundle),
    );
    try {
      expect(seen.errors).toEqual([]);
      const header = (await page.locator('header').textContent()) ?? '';
      expect(header).toContain('valid');
      expect(header).toContain('not compared');
      expect(header).toContain('every claimed root equals the reference');
      expect(await page.locator('header.valid').count()).toBe(1);
      expect(await page.locator('table.trace tr.x').count()).toBe(0);
      expect(await page.locator('#leaves').textContent()).toContain('No step differs');
      expect(await page.locator('#watcher').textContent()).toContain('no watcher record');
    } finally {
      await page.close();
    }
  });
});

describe('replay report as a string (edges the fixtures do not reach)', () => {
  it('escapes the five characters that matter in text and quoted attributes', () => {
    expect(text(`<a href="x" title='y'>&amp;</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
  });

  it('shows values of unknown shape as bounded JSON: bigints, bytes, cycles and long values', () => {
    expect(jsonText({ amount: 10n, key: Uint8Array.of(0xab, 0x01) })).toBe(
      '{&quot;amount&quot;:&quot;10&quot;,&quot;key&quot;:&quot;0xab01&quot;}',
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(jsonText(cyclic)).toBe('(a value that cannot be shown as JSON)');
    expect(jsonText('x'.repeat(50), 10)).toBe('&quot;xxxxxxxxx… (42 more characters)');
  });

  it('names the divergent step and both roots even when the result lists no row for it', () => {
    const { result, bundle } = fraudFixture();
    const d = result.divergence;
    if (!d.found) throw new Error('the fixture diverges');
    result.steps = result.steps.filter((s) => s.index !== d.step);
    const html = renderReplayReport(result, bundle);
    expect(html).toContain(
      `step ${d.step}</a> (<code>${d.inputKind}</code>; the result lists no row for this step)`,
    );
    expect(html).toContain(d.expectedRoot);
    expect(html).not.toContain('No step differs');
  });

  it('caps an opcode trace at MAX_TRACE_LINES_PER_INPUT lines, counts the rest and keeps the line that failed', () => {
    const { result, bundle } = fraudFixture();
    const txid = bundle.transactions[2]?.txid as string;
    const lines: ScriptTraceLine[] = Array.from({ length: MAX_TRACE_LINES_PER_INPUT + 7 }, (_, i) => ({
      stage: 'tapscript',
      index: i,
      instruction: 'OP_NOP',
      executed: true,
    }));
    lines.push({
      stage: 'tapscript',
      index: lines.length,
      instruction: 'OP_VERIFY',
      executed: true,
      error: 'VERIFY',
    });
    const html = renderReplayReport(result, bundle, [{ txid, input: 0, lines }]);
    expect(html.match(/<li>tapscript #\d+: OP_NOP/g)?.length).toBe(MAX_TRACE_LINES_PER_INPUT);
    expect(html).toContain('<li class="gap">… 7 lines not shown …</li>');
    expect(html).toContain(
      `<li class="err" value="${MAX_TRACE_LINES_PER_INPUT + 8}">tapscript #${MAX_TRACE_LINES_PER_INPUT + 7}: OP_VERIFY → error VERIFY`,
    );
    expect(html).toContain(`7 more lines not shown (the first ${MAX_TRACE_LINES_PER_INPUT} are`);
  });

  it('shows the depth of the stack and its top items, shortened', () => {
    const { result, bundle } = fraudFixture();
    const txid = bundle.transactions[2]?.txid as string;
    const long = 'ab'.repeat(32);
    const cut = `${'cd'.repeat(20)}…`;
    const html = renderReplayReport(result, bundle, [
      {
        txid,
        input: 0,
        lines: [{ stage: 'tapscript', index: 0, instruction: 'OP_DUP', executed: true, stack: [long, cut] }],
      },
    ]);
    expect(html).toContain(`<span class="stk">[2] ${'ab'.repeat(8)}… ${'cd'.repeat(8)}…</span>`);
  });

  it('renders at most MAX_TRACE_ROWS rows of a longer epoch, around the first divergence, and says so', () => {
    const { result, bundle } = largeFixture(30_000);
    if (!result.divergence.found) throw new Error('the large fixture diverges');
    result.divergence.step = 20_000;
    const html = renderReplayReport(result, bundle);
    const rows = html.match(/<tr id="step-/g)?.length ?? 0;
    expect(rows).toBe(MAX_TRACE_ROWS);
    expect(html).toContain('id="step-20000"');
    expect(html).not.toContain('id="step-0"');
    expect(html).toContain(
      `Steps ${20_000 - MAX_TRACE_ROWS / 2} to ${20_000 + MAX_TRACE_ROWS / 2 - 1} are shown`,
    );
  });

  it('shares the trace lines of a report among the inputs: short traces whole, long ones evenly, none past the per-input cap', () => {
    expect(traceLineCaps([3, 10_000, 10_000, 50], 10_000)).toEqual([3, 4_973, 4_974, 50]);
    expect(traceLineCaps([20_000], 10_000)).toEqual([MAX_TRACE_LINES_PER_INPUT]);
    expect(traceLineCaps([], 10_000)).toEqual([]);
    const caps = traceLineCaps([5_001, 5_001, 5_001, 2, 2], MAX_TRACE_LINES_PER_REPORT);
    expect(caps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(MAX_TRACE_LINES_PER_REPORT);
  });

  it('lists an unconfirmed transaction and one the replay did not verify, without drawing them', () => {
    const { result, bundle } = fraudFixture();
    const disprove = result.transactions[3];
    if (disprove === undefined) throw new Error('the fixture has a disprove');
    disprove.height = undefined;
    disprove.blockHash = undefined;
    const entry = result.timeline.bitcoin.find((e) => e.role === 'disprove');
    if (entry !== undefined) entry.height = undefined;
    const challenge = result.transactions.splice(1, 1)[0];
    const html = renderReplayReport(result, bundle);
    expect(html).toContain('<td>disprove</td><td class="mono">unconfirmed</td>');
    expect(html).not.toContain('>disprove 840141</text>');
    const section = html.slice(
      html.indexOf(`<strong>challenge</strong> <span class="mono">${challenge?.txid}`),
    );
    expect(section.slice(0, 400)).toContain('not re-verified');
  });
});
