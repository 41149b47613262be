/// <reference lib="dom" />
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalSummary } from '#local/run.ts';
import { type OpenedReport, openReport } from './browser.ts';

const run = promisify(execFile);

/** The part of a uPlot instance the test reads. */
interface PlotView {
  readonly root: HTMLElement;
  readonly over: HTMLElement;
  readonly series: ReadonlyArray<{ label: string }>;
  readonly data: ReadonlyArray<ReadonlyArray<number | null>>;
  posToVal(position: number, scale: string): number;
}
type ReportWindow = { swingReport: { charts: Array<{ id: string; plot: PlotView }> } };

interface ChartState {
  id: string;
  labels: string[];
  lengths: number[];
  max: (number | null)[];
  inkedPixels: number;
  markers: Array<{ kind: string; at: string; atValue: number }>;
}

describe('Report: swing local --report, opened in headless Chromium', () => {
  let directory: string;
  let reportFile: string;
  let summary: LocalSummary;
  let exitCode: number;
  let opened: OpenedReport;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'swing-report-'));
    reportFile = join(directory, 'run.html');
    // The command of the "Done when", through the real CLI entry point.
    const command = [
      'bin/swing.js',
      'local',
      '--port-base',
      '0',
      '--target-errors',
      '0.5@50',
      '--report',
      reportFile,
      '--json',
    ];
    const outcome = await run(process.execPath, command, { cwd: process.cwd() }).then(
      (done) => ({ code: 0, stdout: done.stdout }),
      (failed: { code: number; stdout: string }) => ({ code: failed.code, stdout: failed.stdout }),
    );
    exitCode = outcome.code;
    summary = JSON.parse(outcome.stdout) as LocalSummary;
    opened = await openReport(reportFile);
  }, 90_000);

  afterAll(async () => {
    await opened?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('exits 1 for the rollback and carries the per-second series in --json', () => {
    expect(exitCode).toBe(1);
    expect(summary.outcome).toBe('rolled-back');
    expect(summary.timeline.series.t.length).toBeGreaterThan(5);
    expect(summary.timeline.series.rps.source.length).toBe(summary.timeline.series.t.length);
  });

  it('reports the documents the rollback left on the target only, measured from the stand-ins, in --json and the report', async () => {
    expect(summary.divergence?.replay.drained).toBe(true);
    expect(summary.divergence?.targetOnly).toBeGreaterThan(0);
    const notes = await opened.page.locator('#notes li').allTextContents();
    expect(notes.join('\n')).toContain(`${summary.divergence?.targetOnly} on the target only`);
  });

  it('is one self-contained file: no request beyond the file, no console error', async () => {
    const html = readFileSync(reportFile, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    expect(opened.networkRequests).toEqual([]);
    expect(opened.consoleErrors).toEqual([]);
    expect(await opened.page.title()).toBe('Swing local run: rolled-back');
  });

  it("draws the target weight, requests, 5xx and latency with the run's own series", async () => {
    const charts = await opened.page.evaluate(() => {
      const report = (window as unknown as ReportWindow).swingReport;
      return report.charts.map((chart) => {
        const canvas = chart.plot.root.querySelector('canvas') as HTMLCanvasElement;
        const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let inkedPixels = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) inkedPixels += 1;
        const markers = Array.from(chart.plot.over.querySelectorAll<HTMLElement>('.marker'), (node) => ({
          kind: node.classList.contains('marker-rollback') ? 'rollback' : 'alarm',
          at: node.dataset.at as string,
          atValue: chart.plot.posToVal(Number.parseFloat(node.style.left), 'x'),
        }));
        return {
          id: chart.id,
          labels: chart.plot.series.slice(1).map((series) => series.label),
          lengths: chart.plot.data.map((values) => values.length),
          max: chart.plot.data.slice(1).map((values) => Math.max(...values.map((value) => value ?? 0))),
          inkedPixels,
          markers,
        };
      });
    });
    const byId = new Map((charts as ChartState[]).map((chart) => [chart.id, chart]));
    const points = summary.timeline.series.t.length;

    expect([...byId.keys()]).toEqual(['weight', 'rps', 'errors', 'latency']);
    expect(byId.get('weight')?.labels).toEqual(['target share of the weights']);
    // Drawn from the writes, so a step shorter than a second still shows.
    const written = summary.timeline.events.flatMap((event) =>
      event.kind === 'weights' ? [event.targetPercent] : [],
    );
    expect(written).toContain(50.05);
    expect(byId.get('weight')?.max).toEqual([Math.max(...written)]);
    expect(byId.get('weight')?.lengths).toEqual([written.length + 1, written.length + 1]);
    expect(byId.get('rps')?.labels).toEqual(['source', 'target']);
    expect(byId.get('errors')?.labels).toEqual(['source 5xx', 'target 5xx']);
    // The injected failures show on the target's line, never on the source's.
    expect(byId.get('errors')?.max[1]).toBeGreaterThan(0);
    expect(byId.get('errors')?.max[0]).toBe(0);
    for (const chart of charts as ChartState[]) {
      if (chart.id !== 'weight')
        expect(
          chart.lengths.every((length) => length === points),
          chart.id,
        ).toBe(true);
      expect(chart.inkedPixels, `${chart.id} is drawn`).toBeGreaterThan(500);
    }
  });

  it('marks the alarm and the rollback on every chart at their times', async () => {
    const restoredAt = Date.parse(summary.rollback?.restoredAt ?? '') / 1000;
    const charts = await opened.page.evaluate(() =>
      (window as unknown as ReportWindow).swingReport.charts.map((chart) =>
        Array.from(chart.plot.over.querySelectorAll<HTMLElement>('.marker'), (node) => ({
          rollback: node.classList.contains('marker-rollback'),
          label:
            chart.plot.root.parentElement?.querySelector(
              `.marker-label-${node.classList.contains('marker-rollback') ? 'rollback' : 'alarm'}[data-at="${node.dataset.at}"]`,
            )?.textContent ?? '',
          atValue: chart.plot.posToVal(Number.parseFloat(node.style.left), 'x'),
        })),
      ),
    );
    for (const markers of charts) {
      const rollback = markers.find((marker) => marker.rollback);
      expect(rollback?.label).toBe('rollback');
      expect(Math.abs((rollback?.atValue ?? 0) - restoredAt)).toBeLessThan(0.5);
      expect(markers.some((marker) => !marker.rollback && marker.label === 'ALARM')).toBe(true);
    }
    const box = await opened.page.locator('#rollback').textContent();
    expect(box).toContain('Rolled back');
    expect(await opened.page.locator('#rollback dd[data-field="reason"]').textContent()).toBe(
      'AlarmFired (alarm local-target-5xx-rate)',
    );
    expect(await opened.page.locator('#rollback dd[data-field="alarm-to-restore"]').textContent()).toMatch(
      /^\d+ ms$|^\d+\.\d s$/,
    );
  });

  it('lists every planned step with its asked and delivered split, the rolled-back step marked', async () => {
    const rows = await opened.page.locator('#steps tbody tr').evaluateAll((nodes) =>
      nodes.map((row) => ({
        state: row.className,
        verdict: row.getAttribute('data-verdict'),
        cells: Object.fromEntries(
          Array.from(row.querySelectorAll('td'), (cell) => [cell.dataset.col, cell.textContent]),
        ),
      })),
    );

    expect(rows.map((row) => row.cells.asked)).toEqual(
      summary.plan.steps.map((step) => `${step.targetPercent} %`),
    );
    const reached = summary.steps.length;
    expect(rows.slice(0, reached - 1).every((row) => row.state === 'passed')).toBe(true);
    expect(rows[reached - 1]?.state).toBe('rolled-back');
    expect(rows.slice(reached).every((row) => row.state === 'not-reached')).toBe(true);
    summary.steps.forEach((step, index) => {
      const row = rows[index];
      expect(row?.cells['source-req']).toBe(String(step.delivered.requests?.source));
      expect(row?.cells['target-req']).toBe(String(step.delivered.requests?.target));
      expect(row?.cells.delivered).toBe(`${step.delivered.deliveredPercent} %`);
      expect(row?.verdict).toBe(step.delivered.verdict);
    });
    const split = await opened.page.locator('#steps tbody tr .verdict').allInnerTexts();
    expect(split.every((text) => ['as asked', 'OFF', 'too few', 'not measured'].includes(text))).toBe(true);
  });

  it('lists the events in order: alarm to ALARM, rolling back, weights restored', async () => {
    const kinds = await opened.page
      .locator('#events tbody tr')
      .evaluateAll((nodes) => nodes.map((row) => row.getAttribute('data-kind')));
    const alarm = kinds.indexOf('alarm');
    const restored = kinds.lastIndexOf('rollback');
    expect(alarm).toBeGreaterThanOrEqual(0);
    expect(restored).toBeGreaterThan(alarm);
    expect(kinds.at(-1)).toBe('outcome');
  });
});
