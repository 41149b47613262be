import { DescribeStacksCommand, type DescribeStacksCommandOutput } from '@aws-sdk/client-cloudformation';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeListenersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  aws,
  fixture,
  listenerAt,
  mockDeployedStack,
  resetAws,
  runningRecord,
  STACK,
  swing,
} from './harness.ts';

const NOW = '2026-03-02T10:11:00.000Z';

/** The recorded stack, plus the output only a front-door stack has. */
function mockFrontDoorStack(frontDoor: boolean): void {
  const stacks = fixture<DescribeStacksCommandOutput>('cloudformation-describe-stacks');
  const stack = stacks.Stacks![0]!;
  const outputs = [
    ...(stack.Outputs ?? []),
    ...(frontDoor ? [{ OutputKey: 'FrontDoorSecurityGroupId', OutputValue: 'sg-0fd00fd00fd00fd00' }] : []),
  ];
  aws.cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [{ ...stack, Outputs: outputs }] });
}

/** Per-minute RequestCount of the two target groups over the window, as CloudWatch answers it. */
function mockRequests(source: number[], target: number[]): void {
  const minute = (i: number) => new Date(new Date(NOW).getTime() - (15 - i) * 60_000);
  aws.cloudWatch.on(GetMetricDataCommand).resolves({
    MetricDataResults: [
      { Id: 'requests_source', Timestamps: source.map((_, i) => minute(i)), Values: source },
      { Id: 'requests_target', Timestamps: target.map((_, i) => minute(i)), Values: target },
    ],
  });
}

const QUIET = /Warning: the front door served (\d+) requests in the last 15 minutes \(fewer than 100\)/;

describe('Command: swing start on a front door (Migration Assistant 3.x on EKS)', () => {
  beforeEach(() => {
    resetAws();
    const record = runningRecord();
    mockDeployedStack({
      listenerArn: STACK.listenerArn,
      rollout: record.history[1]!,
      history: record.history,
    });
    aws.elbv2.on(DescribeListenersCommand).resolves(listenerAt(999, 0));
    aws.sfn
      .on(StartExecutionCommand)
      .resolves({ executionArn: `${STACK.stateMachineArn}:x`, startDate: new Date() });
  });

  it('warns, and still starts, when the front door served fewer than 100 requests in the last 15 minutes', async () => {
    mockFrontDoorStack(true);
    mockRequests([3, 0, 5, 4], [0, 0, 0, 0]);

    const result = await swing(['start', '--plan', 'canary', '--traffic', 'reads-first'], { now: NOW });

    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(QUIET);
    expect(QUIET.exec(result.stderr)?.[1]).toBe('12');
    expect(result.stderr).toContain('docs/migration-assistant.md');
    expect(aws.sfn).toReceiveCommandTimes(StartExecutionCommand, 1);
    const query = aws.cloudWatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
    expect(query.StartTime).toEqual(new Date('2026-03-02T09:56:00.000Z'));
    expect(query.EndTime).toEqual(new Date(NOW));
    expect(query.MetricDataQueries?.map((q) => q.MetricStat?.Metric?.MetricName)).toEqual([
      'RequestCount',
      'RequestCount',
    ]);
  });

  it('says nothing once clients use it (100 requests or more, both target groups counted)', async () => {
    mockFrontDoorStack(true);
    mockRequests([40, 30], [20, 10]);

    const result = await swing(['start', '--plan', 'canary', '--traffic', 'reads-first'], { now: NOW });

    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/front door/);
  });

  it('says it cannot tell when CloudWatch cannot be read, and still starts', async () => {
    mockFrontDoorStack(true);
    aws.cloudWatch.on(GetMetricDataCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: cloudwatch:GetMetricData'), {
        name: 'AccessDenied',
      }),
    );

    const result = await swing(['start', '--plan', 'canary', '--traffic', 'reads-first'], { now: NOW });

    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      /Warning: could not read the front door's request count \(User is not authorized/,
    );
    expect(aws.sfn).toReceiveCommandTimes(StartExecutionCommand, 1);
  });

  it('reads no metric on a stack that is not a front door', async () => {
    mockFrontDoorStack(false);

    const result = await swing(['start', '--plan', 'canary', '--traffic', 'reads-first'], { now: NOW });

    expect(result.code).toBe(0);
    expect(aws.cloudWatch).not.toReceiveCommand(GetMetricDataCommand);
    expect(result.stderr).not.toMatch(/front door/);
  });
});
