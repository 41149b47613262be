import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetExecutionHistoryCommand } from '@aws-sdk/client-sfn';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReportData } from '#report/model.ts';
import { aws, fixture, mockDeployedStack, resetAws, STACK, swing } from './harness.ts';

const EXECUTION = `${STACK.stateMachineArn.replace(':stateMachine:', ':execution:')}:migrate-orders-7`;

/** The data a report file carries, read back from its inlined JSON. */
function reportDataOf(file: string): ReportData {
  const html = readFileSync(file, 'utf8');
  const json = /<script id="swing-data" type="application\/json">(.*?)<\/script>/s.exec(html)?.[1] ?? '';
  return JSON.parse(json) as ReportData;
}

describe('Command: swing report --execution', () => {
  let directory: string;

  beforeEach(() => {
    resetAws();
    mockDeployedStack();
    aws.sfn
      .on(GetExecutionHistoryCommand, { executionArn: EXECUTION })
      .resolves(fixture('sfn-get-execution-history-rolled-back'));
    aws.cloudWatch.on(GetMetricDataCommand).resolves(fixture('cloudwatch-get-metric-data-rollout'));
    directory = mkdtempSync(join(tmpdir(), 'swing-aws-report-'));
  });

  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('writes a report of the execution by name, and no task token of its history reaches the file', async () => {
    const out = join(directory, 'run.html');

    const result = await swing(['report', '--execution', 'migrate-orders-7', '--out', out], {
      now: '2026-03-02T10:30:00.000Z',
    });

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('rolled-back');
    const html = readFileSync(out, 'utf8');
    const { events } = fixture<{ events: Array<{ taskScheduledEventDetails?: { parameters: string } }> }>(
      'sfn-get-execution-history-rolled-back',
    );
    const tokens = events.flatMap((event) =>
      event.taskScheduledEventDetails
        ? [
            (JSON.parse(event.taskScheduledEventDetails.parameters) as { Payload: { taskToken: string } })
              .Payload.taskToken,
          ]
        : [],
    );
    expect(tokens).toHaveLength(2);
    for (const token of tokens) expect(html).not.toContain(token);
    expect(html).not.toContain('taskToken');
  });

  it('shows the steps with their weights, the rollback with its alarm and the time from alarm to restore', async () => {
    const out = join(directory, 'run.html');

    await swing(['report', '--execution', EXECUTION, '--out', out], { now: '2026-03-02T10:30:00.000Z' });

    const data = reportDataOf(out);
    expect(data).toMatchObject({ source: 'aws', outcome: 'rolled-back', plan: '5:5m,25:10m,50:10m!,100' });
    expect(data.steps.map((step) => step.state)).toEqual([
      'passed',
      'rolled-back',
      'not-reached',
      'not-reached',
    ]);
    expect(data.steps[1]?.weights).toEqual({ source: 749, target: 250 });
    expect(data.rollback).toMatchObject({
      error: 'AlarmFired',
      alarm: 'orders-target-5xx-rate',
      at: '2026-03-02T10:09:11.480Z',
      restoredAt: '2026-03-02T10:09:13.900Z',
      msFromAlarmToRestore: 2420,
    });
    expect(data.weights.targetPercent).toEqual([0, 5.01, 25.03, 0, 0]);
    expect(data.events.filter((event) => event.kind === 'alarm')).toHaveLength(1);
  });

  it('judges the delivered split on the whole settled minutes of each step only', async () => {
    const out = join(directory, 'run.html');

    await swing(['report', '--execution', EXECUTION, '--out', out], { now: '2026-03-02T10:30:00.000Z' });

    const [first, second] = reportDataOf(out).steps;
    // 10:00:05-10:05:07: minutes 10:01 to 10:05; the smoke checks of 10:00 are left out with the partial minute.
    expect(first?.delivered).toMatchObject({
      from: '2026-03-02T10:01:00.000Z',
      to: '2026-03-02T10:05:00.000Z',
      requests: { source: 11402, target: 598 },
      verdict: 'as-asked',
    });
    // 10:05:07-10:09:13.9: minutes 10:06 to 10:08, where the target got 18.5 % of the 25 % asked.
    expect(second?.delivered).toMatchObject({
      from: '2026-03-02T10:06:00.000Z',
      to: '2026-03-02T10:09:00.000Z',
      deliveredPercent: 18.49,
      verdict: 'off',
    });
    expect(second?.delivered?.notes?.join(' ')).toMatch(/smoke checks.*per-rule/s);
  });

  it('says not measured while no whole minute of a step has settled', async () => {
    const out = join(directory, 'run.html');

    // Settled by 10:06:30: the second step (from 10:05:07) has no whole settled minute yet.
    await swing(['report', '--execution', EXECUTION, '--out', out], { now: '2026-03-02T10:09:30.000Z' });

    const [first, second] = reportDataOf(out).steps;
    expect(first?.delivered?.verdict).toBe('as-asked');
    expect(second?.delivered).toMatchObject({ verdict: 'not-measured' });
  });

  it('draws per-minute traffic, 5xx and p99 latency of both target groups from one GetMetricData answer', async () => {
    const out = join(directory, 'run.html');

    await swing(['report', '--execution', EXECUTION, '--out', out], { now: '2026-03-02T10:30:00.000Z' });

    const { series } = reportDataOf(out);
    expect(series.resolutionSeconds).toBe(60);
    expect(series.t).toHaveLength(14);
    expect(series.rps.target[7]).toBeCloseTo(557 / 60, 2);
    expect(series.errorPercent.target[9]).toBeCloseTo((60 / 552) * 100, 1);
    expect(series.latencyMs.source.every((value) => value !== null && value > 30)).toBe(true);
    const call = aws.cloudWatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input;
    expect(call?.MetricDataQueries?.map((query) => query.MetricStat?.Metric?.Dimensions)).toContainEqual([
      { Name: 'TargetGroup', Value: 'targetgroup/target-proxy/09e2d6bc24d8a0aa' },
      { Name: 'LoadBalancer', Value: 'app/migration-alb/50dc6c495c0c9188' },
    ]);
  });

  it('refuses an execution that is neither a name nor an execution ARN, calling nothing', async () => {
    const result = await swing([
      'report',
      '--execution',
      'arn:aws:states:us-east-1:123456789012:stateMachine:X',
    ]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--execution');
    expect(aws.sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(0);
  });
});
