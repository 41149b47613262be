/// <reference lib="dom" />
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wcagContrast as contrast } from 'culori';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLocalOptions } from '#local/options.ts';
import { runLocal } from '#local/run.ts';
import type { LocalSummary } from '#local/summary.ts';
import { type OpenedReport, openReport } from './browser.ts';

/** Where the screenshot goes, for a person to look at: SWING_REPORT_SCREENSHOT or the test's own folder. */
const screenshotPath = () => process.env.SWING_REPORT_SCREENSHOT;

interface PlotView {
  readonly root: HTMLElement;
  readonly over: HTMLElement;
  readonly series: ReadonlyArray<{ label: string }>;
  readonly data: ReadonlyArray<ReadonlyArray<number | null>>;
  posToVal(position: number, scale: string): number;
}
type ReportWindow = { swingReport: { charts: Array<{ id: string; plot: PlotView }> } };

describe('Report of a reads-first run rolled back after its cutover, opened in headless Chromium', () => {
  let directory: string;
  let summary: LocalSummary;
  let exitCode: number;
  let opened: OpenedReport;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'swing-reads-first-report-'));
    const report = join(directory, 'run.html');
    const run = await runLocal(
      parseLocalOptions({
        plan: '10:1s,50:1s,100:1s',
        portBase: '0',
        rate: '200',
        traffic: 'reads-first',
        targetErrors: '0.5@cutover',
        // Only the 5xx alarm may roll back: on a loaded machine the p99 latency could pass the default first.
        alarmP99: '600000',
        report,
        json: true,
      }),
      { stdout: () => {}, isTTY: false },
    );
    exitCode = run.exitCode;
    summary = run.summary;
    opened = await openReport(report, { width: 1200, height: 1400 });
    const shot = screenshotPath();
    if (shot) {
      await opened.page.screenshot({ path: shot, fullPage: true });
      await opened.page.locator('#chart-weight').screenshot({ path: shot.replace(/\.png$/, '-weight.png') });
    }
  }, 120_000);

  afterAll(async () => {
    await opened?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('rolled back after the cutover, with an exposure, and opens with no console error and no request', () => {
    expect(exitCode, JSON.stringify(summary.rollback)).toBe(1);
    expect(summary.cutoverAt).toBeDefined();
    expect(summary.exposure?.measured).toBeDefined();
    expect(opened.consoleErrors).toEqual([]);
    expect(opened.networkRequests).toEqual([]);
  });

  it('draws the read share and the write share as two lines: reads rise while writes stay 0, then both 100', async () => {
    const weight = await opened.page.evaluate(() => {
      const chart = (window as unknown as ReportWindow).swingReport.charts.find(
        (one) => one.id === 'weight',
      )!;
      return {
        labels: chart.plot.series.slice(1).map((series) => series.label),
        t: chart.plot.data[0] as number[],
        reads: chart.plot.data[1] as number[],
        writes: chart.plot.data[2] as number[],
      };
    });
    expect(weight.labels).toEqual(['read share', 'write share']);
    const beforeCutover = weight.t.flatMap((t, i) =>
      t < Date.parse(summary.cutoverAt!) / 1000 - 0.01 ? [[weight.reads[i], weight.writes[i]]] : [],
    );
    expect(new Set(beforeCutover.map(([, writes]) => writes))).toEqual(new Set([0]));
    expect(new Set(beforeCutover.map(([reads]) => Math.round(reads!)))).toEqual(new Set([0, 10, 50, 100]));
    expect(weight.writes).toContain(100);
    // Restored: both shares back at 0 at the end.
    expect([weight.reads.at(-1), weight.writes.at(-1)]).toEqual([0, 0]);
  });

  it('marks the cutover and the rollback, and shades the exposure window, on every chart at their times', async () => {
    const charts = await opened.page.evaluate(() =>
      (window as unknown as ReportWindow).swingReport.charts.map((chart) => {
        const at = (node: HTMLElement) => chart.plot.posToVal(Number.parseFloat(node.style.left), 'x');
        const band = chart.plot.over.querySelector<HTMLElement>('.band-exposure');
        return {
          id: chart.id,
          cutover: Array.from(chart.plot.over.querySelectorAll<HTMLElement>('.marker-cutover'), at),
          rollback: Array.from(chart.plot.over.querySelectorAll<HTMLElement>('.marker-rollback'), at),
          exposure: band
            ? {
                from: at(band),
                to: chart.plot.posToVal(
                  Number.parseFloat(band.style.left) + Number.parseFloat(band.style.width),
                  'x',
                ),
              }
            : undefined,
          labels: Array.from(
            chart.plot.root.parentElement!.querySelectorAll<HTMLElement>('.marker-label'),
            (node) => node.textContent,
          ),
        };
      }),
    );
    const measured = summary.exposure!.measured!;
    const cutover = Date.parse(measured.from) / 1000;
    const restored = Date.parse(measured.to) / 1000;
    expect(charts.map((chart) => chart.id)).toEqual(['weight', 'rps', 'errors', 'latency']);
    for (const chart of charts) {
      expect(chart.cutover, chart.id).toHaveLength(1);
      expect(Math.abs(chart.cutover[0]! - cutover), chart.id).toBeLessThan(0.5);
      expect(Math.abs(chart.rollback[0]! - Date.parse(summary.rollback!.restoredAt!) / 1000)).toBeLessThan(
        0.5,
      );
      // A band narrower than 2 px is drawn 2 px wide: its end is then within a pixel's worth of time.
      expect(Math.abs(chart.exposure!.from - cutover), chart.id).toBeLessThan(0.5);
      expect(Math.abs(chart.exposure!.to - restored), chart.id).toBeLessThan(0.5);
      expect(chart.labels).toEqual(expect.arrayContaining(['cutover', 'rollback', 'ALARM']));
    }
  });

  it('draws the cutover in a colour of its own, readable against both shares, with an entry in the legend', async () => {
    const seen = await opened.page.evaluate(() => {
      const chart = (window as unknown as ReportWindow).swingReport.charts.find(
        (one) => one.id === 'weight',
      )!;
      const plot = chart.plot as unknown as {
        series: Array<{ label: string; stroke: string | ((u: unknown, i: number) => string) }>;
      };
      const stroke = (i: number) => {
        const value = plot.series[i]!.stroke;
        return typeof value === 'function' ? value(chart.plot, i) : value;
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
      const border = (node: Element | null) => (node ? getComputedStyle(node).borderLeftColor : undefined);
      const legend = document.querySelector('#marker-legend li[data-kind="marker-cutover"]');
      return {
        reads: computed(stroke(1)),
        writes: computed(stroke(2)),
        labels: [plot.series[1]!.label, plot.series[2]!.label],
        marker: border(chart.plot.over.querySelector('.marker-cutover')),
        label: getComputedStyle(chart.plot.root.parentElement!.querySelector('.marker-label-cutover')!).color,
        others: ['alarm', 'rollback'].map((kind) => border(chart.plot.over.querySelector(`.marker-${kind}`))),
        legend: legend
          ? { text: legend.textContent, swatch: border(legend.querySelector('.swatch')) }
          : undefined,
        legendKinds: Array.from(document.querySelectorAll('#marker-legend li'), (li) =>
          li.getAttribute('data-kind'),
        ),
      };
    });
    expect(seen.labels).toEqual(['read share', 'write share']);
    expect(seen.marker).toBeDefined();
    // Its own colour: neither share's, nor another marker's.
    for (const other of [seen.reads, seen.writes, ...seen.others]) expect(seen.marker).not.toBe(other);
    // Readable where it crosses either share's line (WCAG's 3:1 for graphics), and its label on the page.
    expect(contrast(seen.marker!, seen.reads)).toBeGreaterThanOrEqual(3);
    expect(contrast(seen.marker!, seen.writes)).toBeGreaterThanOrEqual(3);
    expect(seen.label).toBe(seen.marker);
    expect(contrast(seen.label, 'rgb(255, 255, 255)')).toBeGreaterThanOrEqual(4.5);
    // The legend names it, with a swatch of the marker's own colour, beside the other lines and shades drawn.
    expect(seen.legend?.text).toContain('the write cutover');
    expect(seen.legend?.swatch).toBe(seen.marker);
    expect(seen.legendKinds).toEqual(
      expect.arrayContaining(['marker-alarm', 'marker-cutover', 'marker-rollback', 'band-exposure']),
    );
  });

  it('puts each marker label above the plot, clear of every line and of the other labels, inside the chart', async () => {
    const layout = await opened.page.evaluate(() =>
      (window as unknown as ReportWindow).swingReport.charts.map((chart) => {
        const over = chart.plot.over.getBoundingClientRect();
        const box = (rect: DOMRect) => ({
          left: rect.left,
          right: rect.right,
          top: rect.top,
          bottom: rect.bottom,
        });
        return {
          id: chart.id,
          over: box(over),
          lines: Array.from(
            chart.plot.over.querySelectorAll<HTMLElement>('.marker'),
            (node) => node.getBoundingClientRect().left,
          ),
          labels: Array.from(
            chart.plot.root.parentElement!.querySelectorAll<HTMLElement>('.marker-label'),
            (node) => box(node.getBoundingClientRect()),
          ),
        };
      }),
    );
    for (const chart of layout) {
      expect(chart.labels.length, chart.id).toBeGreaterThanOrEqual(3);
      for (const [i, label] of chart.labels.entries()) {
        // Above the plot's area: no data line can pass under it.
        expect(label.bottom, chart.id).toBeLessThanOrEqual(chart.over.top + 0.5);
        expect(label.left, chart.id).toBeGreaterThanOrEqual(chart.over.left - 0.5);
        expect(label.right, chart.id).toBeLessThanOrEqual(chart.over.right + 0.5);
        for (const other of chart.labels.slice(i + 1)) {
          const apart =
            label.right <= other.left ||
            other.right <= label.left ||
            label.bottom <= other.top ||
            other.bottom <= label.top;
          expect(apart, `${chart.id}: two labels overlap`).toBe(true);
        }
      }
    }
  });

  it('shows each line\'s last value in the legends before any hover, never "--"', async () => {
    const values = await opened.page
      .locator('.u-legend .u-value')
      .evaluateAll((nodes) => nodes.map((node) => node.textContent ?? ''));
    expect(values.length).toBeGreaterThan(8);
    expect(values.filter((value) => value === '--' || value === '-' || value === '')).toEqual([]);
    expect(values.some((value) => value.endsWith('(end)'))).toBe(true);
  });

  it('lists the read steps and the write cutover as rows of their own, numbered as the run numbers them', async () => {
    const rows = await opened.page.locator('#steps tbody tr').evaluateAll((nodes) =>
      nodes.map((row) => ({
        kind: row.getAttribute('data-kind'),
        state: row.className,
        cells: Object.fromEntries(
          Array.from(row.querySelectorAll('td'), (cell) => [cell.dataset.col, cell.textContent]),
        ),
      })),
    );
    const of = summary.steps[0]!.of;
    expect(rows).toHaveLength(of);
    expect(rows.slice(0, 4).map((row) => row.kind)).toEqual(['reads', 'reads', 'reads', 'cutover']);
    expect(rows.slice(0, 4).map((row) => row.cells.step)).toEqual([
      `1/${of} reads`,
      `2/${of} reads`,
      `3/${of} reads`,
      `4/${of} write cutover (rolled back)`,
    ]);
    summary.steps.forEach((step, index) => {
      expect(rows[index]?.cells['source-req'], `step ${index + 1}`).toBe(
        String(step.delivered.requests?.source),
      );
      expect(rows[index]?.cells['target-req'], `step ${index + 1}`).toBe(
        String(step.delivered.requests?.target),
      );
    });
    // Each read step served its requests, counted on the read rules: not 0/0.
    for (const row of rows.slice(0, 3))
      expect(Number(row.cells['source-req']) + Number(row.cells['target-req'])).toBeGreaterThan(0);
  });

  it('names reads-first, the cutover and the exposure where a person reads them', async () => {
    const summaryText = await opened.page.locator('#summary').textContent();
    expect(summaryText ?? '').toContain('reads-first');
    const exposure = await opened.page.locator('#rollback dd[data-field="write-exposure"]').textContent();
    expect(exposure ?? '').toMatch(
      new RegExp(
        `^${summary.exposure!.measured!.windowMs} ms from the cutover .* to the restore .*; \\d+ requests to the target \\(\\d+ writes, \\d+ reads\\)`,
      ),
    );
    const events = await opened.page.locator('#events tbody').textContent();
    expect(events ?? '').toMatch(/write cutover: writes move to the target \(step 4\/\d, write cutover\)/);
    // One numbering: no step past the count of steps the run runs ("step 5/4").
    for (const [, step, of] of (events ?? '').matchAll(/step (\d+)\/(\d+)/g)) {
      expect(Number(step)).toBeLessThanOrEqual(Number(of));
    }
  });
});
