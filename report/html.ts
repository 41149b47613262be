import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ReportData } from './model.ts';
import { PAGE_SCRIPT } from './page-script.ts';

const require = createRequire(import.meta.url);

/** uPlot's browser build and stylesheet, read from node_modules when a report is written. */
function chartLibrary(): { script: string; style: string } {
  return {
    script: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    style: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  };
}

/** JSON that is safe inside a <script> element: no `</script>`, no `<!--`, no line separators. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char,
  );
}

/**
 * One self-contained HTML page: the data, uPlot and the page's own script and styles are inlined, and the
 * content security policy forbids every fetch, so it opens from disk with no server and no network.
 */
export function renderReportHtml(data: ReportData): string {
  const library = chartLibrary();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.title)}</title>
<style>${library.style}</style>
<style>${PAGE_STYLE}</style>
</head>
<body>
<main>
<header>
  <h1>${escapeHtml(data.title)}</h1>
  <div id="summary" class="summary"></div>
</header>
<section id="rollback"></section>
<section>
  <h2>Timeline</h2>
  <p class="hint" id="timeline-hint">Times in UTC.</p>
  <ul class="marker-legend" id="marker-legend"></ul>
  <div id="charts"></div>
</section>
<section>
  <h2>Steps</h2>
  <table id="steps"></table>
  <p class="hint" id="split-hint"></p>
</section>
<section>
  <h2>Events</h2>
  <table id="events"></table>
</section>
<section>
  <h2>Notes</h2>
  <ul id="notes"></ul>
</section>
<footer id="footer"></footer>
</main>
<script id="swing-data" type="application/json">${scriptJson(data)}</script>
<script>${library.script}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

const PAGE_STYLE = `
:root { --source: #2b6cb0; --target: #dd6b20; --weight: #6b46c1; --reads: #2c7a7b; --alarm: #c53030; --ok: #2f855a; --muted: #5a6472; --cutover: #000; --pins: #806f00; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a202c; background: #f7f8fa; }
main { max-width: 1120px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 8px; }
h2 { font-size: 17px; margin: 28px 0 8px; }
section > h2:first-child { margin-top: 0; }
section, header { background: #fff; border: 1px solid #e2e6eb; border-radius: 8px; padding: 16px 20px; margin-bottom: 16px; }
section:empty { display: none; }
.summary { display: flex; flex-wrap: wrap; gap: 8px 28px; color: var(--muted); }
.summary b { color: #1a202c; font-weight: 600; }
.outcome { display: inline-block; padding: 2px 10px; border-radius: 999px; font-weight: 700; color: #fff; }
.outcome-completed { background: var(--ok); }
.outcome-rolled-back, .outcome-failed { background: var(--alarm); }
.outcome-halted, .outcome-running { background: #b7791f; }
#rollback { border-left: 6px solid var(--alarm); }
#rollback h2 { margin-top: 0; color: var(--alarm); }
#rollback dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
#rollback dt { color: var(--muted); }
#rollback dd { margin: 0; overflow-wrap: anywhere; }
.chart { margin: 8px 0 20px; }
.chart h3 { font-size: 14px; margin: 0 0 4px; }
/* Markers, and their swatches in the legend, drawn by the same rules. The cutover's black is its own: the only
   colour 3:1 or more against every line (the read share's teal, the write share's purple, source, target).
   The pins' olive is its own too: 4.2:1 beside the black, 5:1 on white, and apart from the teal and the purple
   in hue (CIEDE2000 33 and 64; at least 31 and 57 in red-green colour blindness), since no colour 3:1 from the
   teal in lightness stays 3:1 on white. */
.marker, .swatch { border-left: 2px solid var(--alarm); }
.marker { position: absolute; top: 0; bottom: 0; width: 0; pointer-events: none; }
.marker-rollback, .swatch-rollback { border-left: 2px dashed #742a2a; }
.marker-cutover, .swatch-cutover { border-left: 2px solid var(--cutover); }
.marker-pins, .swatch-pins { border-left: 2px dotted var(--pins); }
.marker-legend { list-style: none; display: flex; flex-wrap: wrap; gap: 2px 20px; margin: 6px 0 0; padding: 0; font-size: 12px; color: var(--muted); }
.marker-legend:empty { display: none; }
.swatch { display: inline-block; width: 0; height: 14px; margin-right: 6px; vertical-align: -3px; }
.swatch.band { position: static; width: 16px; border-left: 0; }
.marker-labels { position: relative; height: 16px; }
.marker-label { position: absolute; top: 0; font-size: 11px; line-height: 15px; white-space: nowrap; color: var(--alarm); padding: 0 3px; }
.marker-label-rollback { color: #742a2a; }
.marker-label-cutover { color: var(--cutover); font-weight: 600; }
.marker-label-pins { color: var(--pins); font-weight: 600; }
.band { position: absolute; top: 0; bottom: 0; background: rgba(197, 48, 48, .10); pointer-events: none; }
.band-exposure { background: repeating-linear-gradient(135deg, rgba(44, 122, 123, .16) 0 6px, rgba(44, 122, 123, .04) 6px 12px); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #edf0f3; vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
td.num, th.num { text-align: right; }
tr.rolled-back td { background: #fff5f5; }
tr.not-reached td { color: #a0aec0; }
.verdict { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; }
.verdict-as-asked { background: #e6ffed; color: var(--ok); }
.verdict-off { background: #fed7d7; color: var(--alarm); }
.verdict-too-few, .verdict-not-measured { background: #edf2f7; color: var(--muted); }
.kind { font-size: 12px; color: var(--muted); }
.kind-alarm-ALARM, .kind-rollback { color: var(--alarm); font-weight: 600; }
.hint { color: var(--muted); font-size: 12px; margin: 4px 0 0; }
footer { color: var(--muted); font-size: 12px; text-align: center; }
.u-legend { font-size: 12px; }
`;
