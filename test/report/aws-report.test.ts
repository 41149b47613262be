/// <reference lib="dom" />
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetExecutionHistoryCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aws, fixture, mockDeployedStack, resetAws, swing } from '#test/cli/harness.ts';
import { type OpenedReport, openReport } from './browser.ts';

describe('Report: swing report --execution, opened in headless Chromium', () => {
  let directory: string;
  let opened: OpenedReport;

  beforeAll(async () => {
    resetAws();
    mockDeployedStack();
    aws.sfn.on(GetExecutionHistoryCommand).resolves(fixture('sfn-get-execution-history-rolled-back'));
    aws.cloudWatch.on(GetMetricDataCommand).resolves(fixture('cloudwatch-get-metric-data-rollout'));
    directory = mkdtempSync(join(tmpdir(), 'swing-aws-report-'));
    const out = join(directory, 'run.html');
    const result = await swing(['report', '--execution', 'migrate-orders-7', '--out', out], {
      now: '2026-03-02T10:30:00.000Z',
    });
    expect(result.code).toBe(0);
    opened = await openReport(out);
  }, 60_000);

  afterAll(async () => {
    await opened?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('opens with no console error and no request, and draws the per-minute charts with the rollback marked', async () => {
    expect(opened.consoleErrors).toEqual([]);
    expect(opened.networkRequests).toEqual([]);
    const charts = await opened.page.evaluate(() =>
      (
        window as unknown as {
          swingReport: { charts: Array<{ id: string; plot: { over: HTMLElement; data: unknown[][] } }> };
        }
      ).swingReport.charts.map((chart) => ({
        id: chart.id,
        points: chart.plot.data[0]?.length ?? 0,
        rollbackMarkers: chart.plot.over.querySelectorAll('.marker-rollback').length,
        alarmMarkers: chart.plot.over.querySelectorAll('.marker-alarm').length,
      })),
    );
    expect(charts.map((chart) => chart.id)).toEqual(['weight', 'rps', 'errors', 'latency']);
    expect(charts.slice(1).every((chart) => chart.points === 14)).toBe(true);
    expect(charts.every((chart) => chart.rollbackMarkers === 1 && chart.alarmMarkers === 1)).toBe(true);
    const verdicts = await opened.page.locator('#steps tbody tr .verdict').allTextContents();
    expect(verdicts).toEqual(['as asked', 'OFF', 'not measured', 'not measured']);
  });
});
