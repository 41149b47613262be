import { STEP_KIND_NAMES } from './step-names.ts';

/**
 * The report page's own script: plain browser JavaScript, no build step, no network. It draws only the
 * ReportData the page carries (report/model.ts).
 */
export const PAGE_SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('swing-data').textContent);
  var colors = { source: '#2b6cb0', target: '#dd6b20', weight: '#6b46c1', reads: '#2c7a7b' };
  // What each reads-first step moves, named as the summary and the events name it (report/step-names.ts).
  var stepKindNames = ${JSON.stringify(STEP_KIND_NAMES)};
  var readsFirst = data.traffic === 'reads-first';
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
    ['Traffic', text(readsFirst ? 'reads-first: reads ramp on read rules, writes cut over last' : 'all: every request split by weight')],
    ['Started', text(dayAndClock(data.startedAt))],
    ['Took', text(data.endedAt ? seconds(Date.parse(data.endedAt) - Date.parse(data.startedAt)) : 'still running')],
  ].forEach(function (pair) {
    summary.appendChild(el('div', {}, [text(pair[0] + ': '), el('b', {}, [pair[1]])]));
  });

  function exposureText(e) {
    var requests = e.targetRequests === undefined ? 'requests not measured'
      : e.targetRequests + ' requests to the target' + (e.writes !== undefined ? ' (' + e.writes + ' writes, ' + e.reads + ' reads)' : ' (reads included)');
    return e.windowMs + ' ms from the cutover (' + precise(e.from) + ') to ' + (e.until === 'restore' ? 'the restore' : e.until === 'hold' ? 'the hold' : 'the end of the run') +
      ' (' + precise(e.to) + '); ' + requests + '; every write in it ' + (e.until === 'restore' ? 'is on the target only' : 'stays on the target');
  }

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
    if (data.exposure) rows.push(['Write exposure', exposureText(data.exposure)]);
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
    if (event.kind === 'alarm' && event.state === 'ALARM') markers.push({ kind: 'alarm', at: event.at, label: 'ALARM', title: event.text });
  });
  if (data.cutoverAt) markers.push({ kind: 'cutover', at: data.cutoverAt, label: 'cutover', title: 'write cutover: writes move to the target' });
  if (data.pinsRemovedAt) markers.push({ kind: 'pins', at: data.pinsRemovedAt, label: stepKindNames.pins, title: 'the pins leave: pinned reads go to the target' });
  if (rollback && rollback.restoredAt) {
    markers.push({ kind: 'rollback', at: rollback.restoredAt, label: 'rollback', title: 'rollback: weights restored' });
  }
  var bands = [];
  if (rollback && rollback.at && rollback.restoredAt) bands.push({ kind: 'rollback', from: rollback.at, to: rollback.restoredAt });
  if (data.exposure) bands.push({ kind: 'exposure', from: data.exposure.from, to: data.exposure.to, label: 'exposure ' + data.exposure.windowMs + ' ms' });

  // The legend of the lines and shades across every chart, each swatch drawn by its marker's or band's own rule.
  var legend = document.getElementById('marker-legend');
  [
    ['marker', 'alarm', 'an alarm entered ALARM'],
    ['marker', 'cutover', 'the write cutover: writes move to the target'],
    ['marker', 'pins', 'the pins removed: the pinned reads go to the target'],
    ['marker', 'rollback', 'the starting weights restored'],
    ['band', 'rollback', 'from the alarm to the restore'],
    ['band', 'exposure', 'the write exposure, whose writes are on the target only'],
  ].forEach(function (entry) {
    var shown = entry[0] === 'marker'
      ? markers.some(function (m) { return m.kind === entry[1]; })
      : bands.some(function (b) { return b.kind === entry[1]; });
    if (!shown) return;
    var swatch = el('span', { class: entry[0] === 'marker' ? 'swatch swatch-' + entry[1] : 'swatch band band-' + entry[1] });
    legend.appendChild(el('li', { 'data-kind': entry[0] + '-' + entry[1] }, [swatch, text(entry[2])]));
  });

  // Labels sit in a strip above the plot, never on its lines: each takes the side of its marker that stays
  // inside the chart and crosses no other marker, and the first row where it overlaps no other label.
  function overlay(u) {
    var over = u.over;
    Array.prototype.slice.call(over.querySelectorAll('.marker, .band')).forEach(function (node) { node.remove(); });
    var strip = u.root.parentNode.querySelector('.marker-labels');
    strip.textContent = '';
    var plotLeft = over.getBoundingClientRect().left - strip.getBoundingClientRect().left;
    var plotWidth = over.clientWidth;
    bands.forEach(function (band) {
      var left = u.valToPos(Date.parse(band.from) / 1000, 'x');
      var right = u.valToPos(Date.parse(band.to) / 1000, 'x');
      over.appendChild(el('div', { class: 'band band-' + band.kind, 'data-from': band.from, 'data-to': band.to, title: band.label || '', style: 'left:' + left + 'px;width:' + Math.max(2, right - left) + 'px' }));
    });
    var placed = markers.map(function (marker) {
      return { marker: marker, x: u.valToPos(Date.parse(marker.at) / 1000, 'x') };
    }).sort(function (a, b) { return a.x - b.x; });
    var rows = [];
    placed.forEach(function (item) {
      over.appendChild(el('div', { class: 'marker marker-' + item.marker.kind, style: 'left:' + item.x + 'px', 'data-at': item.marker.at, title: item.marker.title }));
      var label = el('span', { class: 'marker-label marker-label-' + item.marker.kind, text: item.marker.label, 'data-at': item.marker.at });
      strip.appendChild(label);
      var w = label.offsetWidth;
      var others = placed.filter(function (other) { return other !== item; }).map(function (other) { return other.x; });
      function clear(left) {
        return left >= 0 && left + w <= plotWidth && !others.some(function (x) { return x > left - 2 && x < left + w + 2; });
      }
      var right = item.x + 3;
      var leftSide = item.x - 3 - w;
      var left = clear(right) ? right : clear(leftSide) ? leftSide : item.x + 3 + w > plotWidth ? leftSide : right;
      left = Math.max(0, Math.min(plotWidth - w, left));
      var row = 0;
      while ((rows[row] || []).some(function (span) { return left < span[1] + 4 && left + w + 4 > span[0]; })) row += 1;
      (rows[row] = rows[row] || []).push([left, left + w]);
      label.style.left = plotLeft + left + 'px';
      label.style.top = row * 16 + 'px';
    });
    strip.style.height = Math.max(1, rows.length) * 16 + 'px';
  }

  function lastValue(values) {
    for (var i = values.length - 1; i >= 0; i -= 1) if (values[i] != null) return values[i];
    return null;
  }

  function width() { return Math.max(320, document.getElementById('charts').clientWidth); }

  function chart(id, title, unit, x, series, options) {
    options = options || {};
    var holder = el('div', { class: 'chart', id: 'chart-' + id }, [el('h3', { text: title }), el('div', { class: 'marker-labels' })]);
    document.getElementById('charts').appendChild(holder);
    var values = [x].concat(series.map(function (one) { return one.values; }));
    var range = options.yRange ? options.yRange : function (u, min, max) { return [0, Math.max(1, max * 1.1)]; };
    var u = new uPlot({
      width: width(),
      height: 200,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'); },
      // Every chart spans the whole run, so their times line up one above the other.
      scales: { x: { time: true, range: function () { return timeRange; } }, y: { range: range } },
      // Before any hover the legend shows each line's last value at the run's end, not uPlot's "--".
      series: [{
        label: 'time (UTC)',
        value: function (u, v, si, idx) { return idx == null ? clock(new Date(x[x.length - 1] * 1000).toISOString()) + ' (end)' : clock(new Date(v * 1000).toISOString()); },
      }].concat(series.map(function (one) {
        return {
          label: one.label,
          stroke: one.color,
          width: 2,
          spanGaps: false,
          paths: options.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
          value: function (u, v, si, idx) {
            if (idx == null) v = lastValue(one.values);
            return v == null ? 'no data' : v + ' ' + unit;
          },
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
  if (data.weights.t.length > 0 && data.weights.readPercent) {
    chart('weight', 'Target share, reads-first: reads ramp first, writes move at the cutover', '%', data.weights.t, [
      { label: 'read share', values: data.weights.readPercent, color: colors.reads },
      { label: 'write share', values: data.weights.targetPercent, color: colors.weight },
    ], { yRange: [0, 100], stepped: true });
  } else if (data.weights.t.length > 0) {
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
    var kindText = step.kind ? ' ' + stepKindNames[step.kind] : '';
    var numberText = step.number !== undefined ? step.number + '/' + step.of : String(step.index + 1);
    var cells = [
      [numberText + kindText + (step.state === 'rolled-back' ? ' (rolled back)' : step.state === 'not-reached' ? ' (not reached)' : ''), ''],
      [(step.kind === 'cutover' ? 'writes ' : step.kind === 'reads' ? 'reads ' : step.kind === 'pins' ? 'pinned reads ' : '') + step.percent + ' %', ''],
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
    var row = el('tr', { class: step.state, 'data-step': String(step.index), 'data-kind': step.kind || 'all', 'data-verdict': verdict });
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
    (readsFirst ? 'Reads-first: a read step counts the read rules\\' requests; the write cutover, and the pins\\' step from their removal, the default action\\'s. ' : '') +
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
