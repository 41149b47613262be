import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ReportData } from './model.ts';

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
:root { --source: #2b6cb0; --target: #dd6b20; --weight: #6b46c1; --alarm: #c53030; --ok: #2f855a; --muted: #5a6472; }
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
.marker { position: absolute; top: 0; bottom: 0; width: 0; border-left: 2px solid var(--alarm); pointer-events: none; }
.marker span { position: absolute; top: 2px; left: 4px; font-size: 11px; white-space: nowrap; color: var(--alarm); background: rgba(255,255,255,.85); padding: 0 3px; border-radius: 3px; }
.marker-rollback { border-left: 2px dashed #742a2a; }
.marker-rollback span { color: #742a2a; top: 18px; }
.band { position: absolute; top: 0; bottom: 0; background: rgba(197, 48, 48, .10); pointer-events: none; }
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

// The page's own script: plain browser JavaScript, no build step, no network.
const PAGE_SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('swing-data').textContent);
  var colors = { source: '#2b6cb0', target: '#dd6b20', weight: '#6b46c1' };
  var charts = [];
  window.swingReport = { data: data, charts: charts };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === 'text') node.textContent = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }
  function text(value) { return document.createTextNode(value); }
  function pad(n) { return String(n).padStart(2, '0'); }
  function clock(iso) {
    if (!iso) return '-';
    var d = new Date(iso);
    return pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()) + ':' + pad(d.getUTCSeconds());
  }
  function dayAndClock(iso) { return iso ? iso.slice(0, 10) + ' ' + clock(iso) + ' UTC' : '-'; }
  function seconds(ms) {
    if (ms < 1000) return Math.round(ms) + ' ms';
    return ms >= 60000 ? (ms / 60000).toFixed(1) + ' min' : (ms / 1000).toFixed(1) + ' s';
  }
  function precise(iso) {
    return iso ? iso.slice(0, 10) + ' ' + clock(iso) + '.' + String(new Date(iso).getUTCMilliseconds()).padStart(3, '0') + ' UTC' : '-';
  }
  function since(iso) {
    return iso ? '+' + seconds(Date.parse(iso) - Date.parse(data.startedAt)) : '';
  }

  // ---- Summary ----
  var summary = document.getElementById('summary');
  var outcome = el('span', { class: 'outcome outcome-' + data.outcome, id: 'outcome', text: data.outcome });
  [
    ['Outcome', outcome],
    ['Execution', text(data.execution)],
    ['Plan', text(data.plan)],
    ['Started', text(dayAndClock(data.startedAt))],
    ['Took', text(data.endedAt ? seconds(Date.parse(data.endedAt) - Date.parse(data.startedAt)) : 'still running')],
  ].forEach(function (pair) {
    summary.appendChild(el('div', {}, [text(pair[0] + ': '), el('b', {}, [pair[1]])]));
  });

  // ---- Rollback ----
  var rollback = data.rollback;
  if (rollback) {
    var rows = [
      ['Reason', rollback.error + (rollback.alarm ? ' (alarm ' + rollback.alarm + ')' : '')],
      ['Cause', rollback.cause],
      ['Signalled', rollback.at ? precise(rollback.at) + '  (' + since(rollback.at) + ')' : '-'],
      ['Restored', rollback.restoredAt ? precise(rollback.restoredAt) + '  (' + since(rollback.restoredAt) + ')' : '-'],
      ['Alarm to restore', rollback.msFromAlarmToRestore === undefined ? '-' : seconds(rollback.msFromAlarmToRestore)],
    ];
    var list = el('dl', {});
    rows.forEach(function (row) {
      list.appendChild(el('dt', { text: row[0] }));
      list.appendChild(el('dd', { text: row[1], 'data-field': row[0].toLowerCase().replace(/ /g, '-') }));
    });
    var box = document.getElementById('rollback');
    box.appendChild(el('h2', { text: 'Rolled back' }));
    box.appendChild(list);
  }

  // ---- Charts ----
  var s = data.series;
  var markers = [];
  data.events.forEach(function (event) {
    if (event.kind === 'alarm' && event.state === 'ALARM') markers.push({ kind: 'alarm', at: event.at, label: event.text });
  });
  if (rollback && rollback.restoredAt) {
    markers.push({ kind: 'rollback', at: rollback.restoredAt, label: 'rollback: weights restored' });
  }
  if (markers.length > 0) {
    document.getElementById('timeline-hint').textContent =
      'Times in UTC. Red lines: an alarm entered ALARM' + (rollback && rollback.restoredAt ? '; dashed: the starting weights restored; shaded: from the alarm to the restore.' : '.');
  }
  var band = rollback && rollback.at && rollback.restoredAt ? [Date.parse(rollback.at) / 1000, Date.parse(rollback.restoredAt) / 1000] : null;

  function overlay(u) {
    var over = u.over;
    Array.prototype.slice.call(over.querySelectorAll('.marker, .band')).forEach(function (node) { node.remove(); });
    if (band) {
      var left = u.valToPos(band[0], 'x');
      var right = u.valToPos(band[1], 'x');
      over.appendChild(el('div', { class: 'band', style: 'left:' + left + 'px;width:' + Math.max(2, right - left) + 'px' }));
    }
    markers.forEach(function (marker) {
      var x = u.valToPos(Date.parse(marker.at) / 1000, 'x');
      var node = el('div', {
        class: 'marker marker-' + marker.kind,
        style: 'left:' + x + 'px',
        'data-at': marker.at,
        title: marker.label,
      }, [el('span', { text: marker.kind === 'rollback' ? 'rollback' : 'ALARM' })]);
      over.appendChild(node);
    });
  }

  function width() { return Math.max(320, document.getElementById('charts').clientWidth); }

  function chart(id, title, unit, x, series, options) {
    options = options || {};
    var holder = el('div', { class: 'chart', id: 'chart-' + id }, [el('h3', { text: title })]);
    document.getElementById('charts').appendChild(holder);
    var values = [x].concat(series.map(function (one) { return one.values; }));
    var range = options.yRange ? options.yRange : function (u, min, max) { return [0, Math.max(1, max * 1.1)]; };
    var u = new uPlot({
      width: width(),
      height: 200,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'); },
      // Every chart spans the whole run, so their times line up one above the other.
      scales: { x: { time: true, range: function () { return timeRange; } }, y: { range: range } },
      series: [{ label: 'time (UTC)' }].concat(series.map(function (one) {
        return {
          label: one.label,
          stroke: one.color,
          width: 2,
          spanGaps: false,
          paths: options.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
          value: function (u, v) { return v == null ? '-' : v + ' ' + unit; },
        };
      })),
      axes: [
        {
          space: 70,
          incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400],
          values: function (u, splits) { return splits.map(function (v) { return clock(new Date(v * 1000).toISOString()); }); },
        },
        { label: unit, size: 56 },
      ],
      hooks: { draw: [overlay] },
    }, values, holder);
    charts.push({ id: id, title: title, plot: u });
  }

  var allTimes = s.t.concat(data.weights.t);
  var timeRange = [
    Math.min.apply(null, allTimes.concat([Date.parse(data.startedAt) / 1000])),
    Math.max.apply(null, allTimes.concat([data.endedAt ? Date.parse(data.endedAt) / 1000 : 0])),
  ];
  if (data.weights.t.length > 0) {
    chart('weight', 'Target weight', '%', data.weights.t, [
      { label: 'target share of the weights', values: data.weights.targetPercent, color: colors.weight },
    ], { yRange: [0, 100], stepped: true });
  }
  if (s.t.length > 0) {
    var per = s.resolutionSeconds === 1 ? 'each second' : 'each ' + s.resolutionSeconds + ' s';
    chart('rps', 'Requests per second', 'req/s', s.t, [
      { label: 'source', values: s.rps.source, color: colors.source },
      { label: 'target', values: s.rps.target, color: colors.target },
    ]);
    chart('errors', '5xx share of answers (' + per + ')', '%', s.t, [
      { label: 'source 5xx', values: s.errorPercent.source, color: colors.source },
      { label: 'target 5xx', values: s.errorPercent.target, color: colors.target },
    ]);
    chart('latency', 'Latency (' + s.latencyLabel + ')', 'ms', s.t, [
      { label: 'source', values: s.latencyMs.source, color: colors.source },
      { label: 'target', values: s.latencyMs.target, color: colors.target },
    ]);
  } else {
    document.getElementById('charts').appendChild(el('p', { class: 'hint', text: 'No metric datapoints for this run.' }));
  }
  var resizeTimer;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      charts.forEach(function (c) { c.plot.setSize({ width: width(), height: 200 }); });
    }, 100);
  });

  // ---- Steps ----
  var table = document.getElementById('steps');
  var head = ['Step', 'Asked', 'Weights', 'Gate', 'Started', 'Ended', 'Source req', 'Target req', 'Delivered', 'Split', 'p-value'];
  table.appendChild(el('thead', {}, [el('tr', {}, head.map(function (name, i) {
    return el('th', { text: name, class: i >= 6 && i !== 9 ? 'num' : '' });
  }))]));
  var body = el('tbody', {});
  data.steps.forEach(function (step) {
    var d = step.delivered;
    var verdict = d ? d.verdict : 'not-measured';
    var verdictText = { 'as-asked': 'as asked', off: 'OFF', 'too-few': 'too few', 'not-measured': 'not measured' }[verdict];
    var badge = el('span', { class: 'verdict verdict-' + verdict, text: verdictText });
    if (d && d.notes && d.notes.length) badge.title = d.notes.join('\\n');
    var cells = [
      [String(step.index + 1) + (step.state === 'rolled-back' ? ' (rolled back)' : step.state === 'not-reached' ? ' (not reached)' : ''), ''],
      [step.percent + ' %', ''],
      [step.weights ? step.weights.source + ' / ' + step.weights.target : '-', ''],
      [step.gate ? 'gate' : '', ''],
      [step.startedAt ? clock(step.startedAt) : '-', ''],
      [step.endedAt ? clock(step.endedAt) : '-', ''],
      [d && d.requests ? String(d.requests.source) : '-', 'num'],
      [d && d.requests ? String(d.requests.target) : '-', 'num'],
      [d && d.deliveredPercent !== undefined ? d.deliveredPercent + ' %' : '-', 'num'],
      [null, ''],
      [d && d.pValue !== undefined ? (d.pValue < 0.0001 ? d.pValue.toExponential(1) : d.pValue.toPrecision(2)) : '-', 'num'],
    ];
    var row = el('tr', { class: step.state, 'data-step': String(step.index), 'data-verdict': verdict });
    cells.forEach(function (cell, i) {
      var td = el('td', { class: cell[1], 'data-col': head[i].toLowerCase().replace(/[^a-z]+/g, '-') });
      if (cell[0] === null) td.appendChild(badge);
      else td.textContent = cell[0];
      row.appendChild(td);
    });
    body.appendChild(row);
  });
  table.appendChild(body);
  var level = (data.steps.find(function (step) { return step.delivered; }) || {}).delivered;
  document.getElementById('split-hint').textContent =
    'Delivered: the target\\'s share of the requests served during the step. Split: a two-sided binomial test of that share against the asked one' +
    (level ? ' at level ' + level.level : '') + '; "too few" when there are too few requests to judge. Hover a badge for its notes.';

  // ---- Events ----
  var events = document.getElementById('events');
  events.appendChild(el('thead', {}, [el('tr', {}, ['Time (UTC)', 'Since start', 'Kind', 'What'].map(function (name) { return el('th', { text: name }); }))]));
  var eventBody = el('tbody', {});
  data.events.forEach(function (event) {
    eventBody.appendChild(el('tr', { 'data-kind': event.kind }, [
      el('td', { text: clock(event.at) }),
      el('td', { text: since(event.at) }),
      el('td', {}, [el('span', { class: 'kind kind-' + event.kind + (event.state ? '-' + event.state : ''), text: event.kind })]),
      el('td', { text: event.text }),
    ]));
  });
  events.appendChild(eventBody);

  // ---- Notes ----
  var notes = document.getElementById('notes');
  data.notes.forEach(function (note) { notes.appendChild(el('li', { text: note })); });
  document.getElementById('footer').textContent = 'Written by swing report at ' + dayAndClock(data.generatedAt) + ' from a ' + (data.source === 'aws' ? 'Step Functions execution' : 'local run') + '.';
})();
`;
