/// <reference lib="dom" />
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { differenceCiede2000, wcagContrast } from 'culori';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReportHtml } from '#report/html.ts';
import type { ReportData, ReportStep } from '#report/model.ts';
import { type OpenedReport, openReport } from './browser.ts';

interface PlotView {
  readonly root: HTMLElement;
  readonly over: HTMLElement;
  readonly series: ReadonlyArray<{ label: string; stroke: string | ((u: unknown, i: number) => string) }>;
}
type ReportWindow = { swingReport: { charts: Array<{ id: string; plot: PlotView }> } };

const START = Date.UTC(2026, 11, 7, 7, 0, 0) / 1000;
const iso = (second: number) => new Date((START + second) * 1000).toISOString();

/**
 * A completed reads-first rollout: reads at 10 then 100 %, the write cutover at 4 s, the pins removed at 8 s;
 * its report's weight chart carries both shares' lines and the cutover's and the pins' markers.
 */
function completedReadsFirst(): ReportData {
  const seconds = Array.from({ length: 13 }, (_, second) => START + second);
  const flat = (value: number) => seconds.map(() => value);
  const step = (index: number, kind: ReportStep['kind'], percent: number, from: number): ReportStep => ({
    index,
    number: index + 1,
    of: 4,
    kind,
    percent,
    gate: false,
    startedAt: iso(from),
    state: 'passed',
  });
  return {
    title: 'Swing local run: completed',
    source: 'local',
    execution: 'local',
    outcome: 'completed',
    plan: '10:1s,100:1s',
    startedAt: iso(0),
    endedAt: iso(12),
    traffic: 'reads-first',
    weights: {
      t: [START, START + 1, START + 2, START + 4, START + 12],
      readPercent: [0, 10, 100, 100, 100],
      targetPercent: [0, 0, 0, 100, 100],
    },
    cutoverAt: iso(4),
    pinsRemovedAt: iso(8),
    series: {
      resolutionSeconds: 1,
      t: seconds,
      rps: { source: flat(100), target: flat(100) },
      errorPercent: { source: flat(0), target: flat(0) },
      latencyMs: { source: flat(5), target: flat(6) },
      latencyLabel: 'p99 over each second',
    },
    events: [],
    steps: [
      step(0, 'reads', 10, 1),
      step(1, 'reads', 100, 2),
      step(2, 'cutover', 100, 4),
      step(3, 'pins', 100, 8),
    ],
    notes: [],
    generatedAt: iso(12),
  };
}

describe("The pins' marker in the report of a completed reads-first rollout, opened in headless Chromium", () => {
  let directory: string;
  let opened: OpenedReport;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'swing-pins-marker-'));
    const file = join(directory, 'run.html');
    writeFileSync(file, renderReportHtml(completedReadsFirst()));
    opened = await openReport(file, { width: 1200, height: 1400 });
  }, 60_000);

  afterAll(async () => {
    await opened?.close();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('draws the pins in a colour of their own, readable against both shares and the cutover, with a legend entry', async () => {
    expect(opened.consoleErrors).toEqual([]);
    const seen = await opened.page.evaluate(() => {
      const chart = (window as unknown as ReportWindow).swingReport.charts.find(
        (one) => one.id === 'weight',
      )!;
      const plot = chart.plot;
      const stroke = (i: number) => {
        const value = plot.series[i]!.stroke;
        return typeof value === 'function' ? value(plot, i) : value;
      };
      // Colours as the browser computes them (rgb(...)): a stroke through a probe element's color.
      const computed = (value: string) => {
        const probe = document.createElement('span');
        probe.style.color = value;
        document.body.appendChild(probe);
        const colour = getComputedStyle(probe).color;
        probe.remove();
        return colour;
      };
      // What the chart is drawn on: the first ancestor of the plot with a background of its own.
      let node: Element | null = plot.over;
      let background = 'rgba(0, 0, 0, 0)';
      while (node && background === 'rgba(0, 0, 0, 0)') {
        background = getComputedStyle(node).backgroundColor;
        node = node.parentElement;
      }
      const pins = plot.over.querySelector('.marker-pins');
      const label = plot.root.parentElement!.querySelector('.marker-label-pins');
      const legend = document.querySelector('#marker-legend li[data-kind="marker-pins"]');
      const swatch = legend?.querySelector('.swatch');
      return {
        labels: [plot.series[1]!.label, plot.series[2]!.label],
        reads: computed(stroke(1)),
        writes: computed(stroke(2)),
        background,
        marker: pins ? getComputedStyle(pins).borderLeftColor : undefined,
        style: pins ? getComputedStyle(pins).borderLeftStyle : undefined,
        cutover: getComputedStyle(plot.over.querySelector('.marker-cutover')!).borderLeftColor,
        label: label ? { text: label.textContent, colour: getComputedStyle(label).color } : undefined,
        legend: legend?.textContent,
        swatch: swatch
          ? {
              colour: getComputedStyle(swatch).borderLeftColor,
              style: getComputedStyle(swatch).borderLeftStyle,
            }
          : undefined,
      };
    });
    expect(seen.labels).toEqual(['read share', 'write share']);
    expect(seen.marker).toBeDefined();
    expect(seen.style).toBe('dotted');
    // Its own colour: neither share's, nor the cutover's.
    for (const other of [seen.reads, seen.writes, seen.cutover]) expect(seen.marker).not.toBe(other);
    // Readable beside the cutover's black line (WCAG's 3:1 for graphics) and on the chart's background; its
    // label as text (4.5:1).
    expect(wcagContrast(seen.marker!, seen.cutover)).toBeGreaterThanOrEqual(3);
    expect(wcagContrast(seen.marker!, seen.background)).toBeGreaterThanOrEqual(3);
    expect(seen.label).toEqual({ text: 'pins removed', colour: seen.marker });
    expect(wcagContrast(seen.label!.colour, seen.background)).toBeGreaterThanOrEqual(4.5);
    // Against the two shares' lines no colour can reach 3:1 in lightness and still stand on the white chart and
    // beside the black cutover (3:1 from the teal needs a luminance of 0.58 or more, from the background 0.30
    // or less): it differs from them in hue instead, by a CIEDE2000 difference of 20 or more (the teal it had: 0).
    const difference = differenceCiede2000();
    expect(difference(seen.marker!, seen.reads)).toBeGreaterThanOrEqual(20);
    expect(difference(seen.marker!, seen.writes)).toBeGreaterThanOrEqual(20);
    // The legend names it, its swatch drawn as the marker is.
    expect(seen.legend).toContain('the pins removed');
    expect(seen.swatch).toEqual({ colour: seen.marker, style: 'dotted' });
  });
});
