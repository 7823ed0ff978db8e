/**
 * The report's stylesheet, inlined into the page (the CSP allows inline style only). System fonts only:
 * nothing is fetched. Colours carry meaning twice, always with a word or a mark next to them, so the
 * report also reads in print and for colour-blind readers.
 */
export const REPORT_CSS = `
:root{--fg:#1b1f24;--muted:#5b636e;--line:#d7dce2;--bg:#fff;--soft:#f5f7f9;--bad:#b3261e;--bad-bg:#fdecea;
--ok:#1e7a3c;--ok-bg:#e8f5ec;--warn:#8a5a00;--warn-bg:#fff4d6;--accent:#1f5fbf}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1440px;margin:0 auto;padding:0 20px 40px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:16px 0 6px}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.hash{word-break:break-all}
.muted{color:var(--muted)}
a{color:var(--accent)}
header.verdict{padding:18px 20px;margin:0 -20px 0;border-bottom:4px solid var(--line)}
header.fraud{background:var(--bad-bg);border-color:var(--bad)}
header.valid{background:var(--ok-bg);border-color:var(--ok)}
header.unavailable{background:var(--warn-bg);border-color:var(--warn)}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:12px;border:1px solid}
.badge.bad{color:var(--bad);border-color:var(--bad);background:#fff}
.badge.ok{color:var(--ok);border-color:var(--ok);background:#fff}
.badge.warn{color:var(--warn);border-color:var(--warn);background:#fff}
.lead{font-size:16px;margin:6px 0}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:10px 0 0}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0}
nav.toc{margin:10px 0 0;font-size:13px}
nav.toc a{margin-right:14px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:3px 6px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--soft);font-weight:600;font-size:12.5px}
.ok-t{color:var(--ok)}.bad-t{color:var(--bad)}.warn-t{color:var(--warn)}
svg.timeline{width:100%;height:auto;border:1px solid var(--line);background:var(--soft)}
svg text{font:12px system-ui,sans-serif;fill:var(--fg)}
svg .axis{stroke:var(--muted);stroke-width:1.5}
svg .tick{stroke:var(--muted)}
svg .ev{fill:var(--accent)}
svg .ev.bad{fill:var(--bad)}
svg .l2{fill:#6a3fb5}
svg .deadline{stroke:var(--warn);stroke-width:2;stroke-dasharray:5 3}
svg .window{fill:var(--warn-bg);stroke:var(--warn);stroke-width:.5}
svg .lbl{font-size:11px}
svg .track{font-weight:600}
.leafdiff{border:1px solid var(--line);padding:10px;background:var(--soft)}
.leafdiff .row{display:grid;grid-template-columns:9em 1fr;gap:8px;margin:2px 0}
table.leaves{table-layout:fixed}table.leaves col.lk{width:14em}
mark{background:#ffd3cf;color:var(--bad);font-weight:700}
table.trace{table-layout:fixed;font-size:12px}
table.trace td{padding:1px 6px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
table.trace col.i{width:4em}table.trace col.k{width:9.5em}table.trace col.p{width:7.5em}table.trace col.h{width:29.5%}
table.trace col.a{width:3.2em}
div.chunk{content-visibility:auto;contain-intrinsic-size:auto 4000px}
table.trace td.h{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:10px;white-space:normal;word-break:break-all}
table.trace td.r{white-space:normal;font-size:11px}
tr.x td{background:var(--bad-bg)}
tr.first td{background:#ffd3cf;font-weight:700;border-top:2px solid var(--bad);border-bottom:2px solid var(--bad)}
tr:target td{outline:2px solid var(--accent)}
td.same{color:var(--muted)}
details{border:1px solid var(--line);border-radius:4px;margin:6px 0;background:var(--bg)}
details>summary{cursor:pointer;padding:6px 10px;background:var(--soft)}
details[open]>summary{border-bottom:1px solid var(--line)}
details .body{padding:8px 10px}
details details{margin:4px 0}
details.ops>.body{max-height:70vh;overflow:auto}
ol.ops{margin:0;padding:0 0 0 4.5em;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
ol.ops li.skip{color:var(--muted)}
ol.ops li.gap{list-style:none;color:var(--muted)}
ol.ops li.err{color:var(--bad);font-weight:700}
ol.ops .stk{color:var(--muted);margin-left:1.5em;white-space:pre}
ol.ops .lab{color:var(--accent);margin-left:1.5em}
ul.events{margin:0;padding-left:1.2em;font-size:12.5px}
ul.events li{margin:2px 0}
@media print{details{break-inside:avoid}div.chunk{content-visibility:visible}}
`;
