/// <reference lib="dom" />
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WriteExposure } from '#domain/types.ts';
import type { LocalExecution } from '#local/executor.ts';
import { aws, mockDeployedStack, resetAws, swing } from '#test/cli/harness.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';
import { ALARM, baking } from '#test/support/rollout-world.ts';
import { type OpenedReport, openReport } from './browser.ts';

type LibraryEvent = LocalExecution['events'][number];
const ASL_TYPES: Record<string, string> = { Task: 'Task', Pass: 'Pass', Choice: 'Choice', Fail: 'Fail' };

/**
 * The execution history GetExecutionHistory would return for an execution the real ASL and engine ran on the
 * fake AWS: aws-local-stepfunctions' event log put in Step Functions' history event shapes (the fields the
 * report reads: state names, the states' outputs, task failures, how the execution ended).
 */
function asExecutionHistory(events: readonly LibraryEvent[]): HistoryEvent[] {
  return events.flatMap((event): HistoryEvent[] => {
    const timestamp = new Date(event.timestamp);
    switch (event.type) {
      case 'ExecutionStarted':
        return [
          {
            type: 'ExecutionStarted',
            timestamp,
            executionStartedEventDetails: { input: JSON.stringify(event.input) },
          },
        ] as HistoryEvent[];
      case 'StateEntered':
        return [
          {
            type: `${ASL_TYPES[event.state.type] ?? 'Task'}StateEntered`,
            timestamp,
            stateEnteredEventDetails: { name: event.state.name },
          },
        ] as HistoryEvent[];
      case 'StateExited':
        return [
          {
            type: `${ASL_TYPES[event.state.type] ?? 'Task'}StateExited`,
            timestamp,
            stateExitedEventDetails: { name: event.state.name, output: JSON.stringify(event.state.output) },
          },
        ] as HistoryEvent[];
      case 'StateFailed':
        return event.state.type === 'Task'
          ? ([
              {
                type: 'TaskFailed',
                timestamp,
                taskFailedEventDetails: { error: event.Error, cause: String(event.Cause) },
              },
            ] as HistoryEvent[])
          : [];
      case 'ExecutionFailed':
        return [
          {
            type: 'ExecutionFailed',
            timestamp,
            executionFailedEventDetails: { error: event.Error, cause: String(event.Cause) },
          },
        ] as HistoryEvent[];
      case 'ExecutionSucceeded':
        return [{ type: 'ExecutionSucceeded', timestamp }] as HistoryEvent[];
      default:
        return [];
    }
  });
}

interface PlotView {
  readonly over: HTMLElement;
  readonly series: ReadonlyArray<{ label: string }>;
  readonly data: ReadonlyArray<ReadonlyArray<number | null>>;
  posToVal(position: number, scale: string): number;
}
type ReportWindow = { swingReport: { charts: Array<{ id: string; plot: PlotView }> } };

describe('Report of an AWS reads-first execution rolled back after its cutover, opened in headless Chromium', () => {
  let directory: string;
  let opened: OpenedReport;
  let exposure: WriteExposure;
  let restoredAt: number;

  beforeAll(async () => {
    // A reads-first rollout through the real ASL and engine on the fake AWS, an alarm in the cutover's bake.
    const world = readsFirstWorld({ targetRequests: 41 });
    const execution = world.start({
      plan: '50:2000,100:1',
      readsFirst: { ...replayLagCutover(), cutoverBakeSeconds: 5000, afterCutover: 'rollback' },
    });
    await world.until((rollout) => baking(2)(rollout) && rollout?.cutoverAt !== undefined, 'cutover bake');
    await world.fireAlarm(ALARM);
    await execution.result;
    const ended = (await world.store.get(world.deps.listenerArn))!.history.at(-1)!;
    exposure = ended.exposure!;
    const history = asExecutionHistory(execution.events);
    const rollback = history.filter((event) => event.stateExitedEventDetails?.name === 'Rollback').at(-1)!;
    restoredAt = rollback.timestamp!.getTime() / 1000;

    resetAws();
    mockDeployedStack();
    aws.sfn.on(GetExecutionHistoryCommand).resolves({ events: history });
    // No settled minute yet: the charts span the run itself.
    aws.cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    directory = mkdtempSync(join(tmpdir(), 'swing-aws-reads-first-report-'));
    const out = join(directory, 'run.html');
    const result = await swing(['report', '--execution', 'reads-first-1', '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    opened = await openReport(out, { width: 1200, height: 1400 });
  }, 60_000);

  afterAll(async () => {
    await opened?.close();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('draws the read share and the write share: reads at 50 then 100 while writes stay 0, then both 100, then back', async () => {
    expect(opened.consoleErrors).toEqual([]);
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
    const cutover = Date.parse(exposure.cutoverAt) / 1000;
    const before = weight.t.flatMap((t, i) =>
      t < cutover - 0.001 ? [[weight.reads[i], weight.writes[i]]] : [],
    );
    expect(new Set(before.map(([, writes]) => writes))).toEqual(new Set([0]));
    expect(new Set(before.map(([reads]) => Math.round(reads!)))).toEqual(new Set([0, 50, 100]));
    expect(weight.writes).toContain(100);
    expect([weight.reads.at(-1), weight.writes.at(-1)]).toEqual([0, 0]);
  });

  it('marks the cutover and the rollback and shades the exposure window the Rollback task reported', async () => {
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
        };
      }),
    );
    const cutover = Date.parse(exposure.cutoverAt) / 1000;
    const ended = Date.parse(exposure.endedAt) / 1000;
    // No settled CloudWatch minute: the weight chart is the one drawn.
    expect(charts.map((chart) => chart.id)).toContain('weight');
    for (const chart of charts) {
      expect(chart.cutover, chart.id).toHaveLength(1);
      expect(Math.abs(chart.cutover[0]! - cutover), chart.id).toBeLessThan(0.5);
      expect(Math.abs(chart.rollback[0]! - restoredAt), chart.id).toBeLessThan(0.5);
      expect(Math.abs(chart.exposure!.from - cutover), chart.id).toBeLessThan(0.5);
      expect(Math.abs(chart.exposure!.to - ended), chart.id).toBeLessThan(0.5);
    }
  });

  it('lists the read steps, the write cutover and the pins as rows of their own, one numbering', async () => {
    const rows = await opened.page.locator('#steps tbody tr').evaluateAll((nodes) =>
      nodes.map((row) => ({
        kind: row.getAttribute('data-kind'),
        cells: Object.fromEntries(
          Array.from(row.querySelectorAll('td'), (cell) => [cell.dataset.col, cell.textContent]),
        ),
      })),
    );
    expect(rows.map((row) => row.kind)).toEqual(['reads', 'reads', 'cutover', 'pins']);
    expect(rows.map((row) => row.cells.step)).toEqual([
      '1/4 reads',
      '2/4 reads',
      '3/4 write cutover (rolled back)',
      expect.stringMatching(/^4\/4 pins/),
    ]);
    const events = await opened.page.locator('#events').textContent();
    expect(events).toContain('step 3/4, write cutover');
    expect(events).not.toMatch(/step \d+\/2\b/);
  });
});
