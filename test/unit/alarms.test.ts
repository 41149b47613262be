import {
  CloudWatchClient,
  CloudWatchServiceException,
  type CompositeAlarm,
  DescribeAlarmsCommand,
  type DescribeAlarmsCommandInput,
  type MetricAlarm,
  type StateValue,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { alarmStatusFrom, CloudWatchAlarms, MISSING_ALARM_REASON } from '#adapters/alarms.ts';
import type { InsufficientDataPolicy } from '#domain/types.ts';

const cloudWatch = mockClient(CloudWatchClient);
const client = new CloudWatchClient({ region: 'us-east-1' });
const NO_WAIT = { retryDelayMs: 0 };

function metricAlarm(name: string, state: StateValue, reason = `Threshold Crossed: ${name} is ${state}`) {
  return {
    AlarmName: name,
    AlarmArn: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`,
    StateValue: state,
    StateReason: reason,
    StateUpdatedTimestamp: new Date('2026-11-24T10:00:00Z'),
    MetricName: 'HTTPCode_Target_5XX_Count',
    Namespace: 'AWS/ApplicationELB',
    Statistic: 'Sum',
    Period: 60,
    EvaluationPeriods: 1,
    Threshold: 5,
    ComparisonOperator: 'GreaterThanThreshold',
    ActionsEnabled: true,
  } satisfies MetricAlarm;
}

function compositeAlarm(name: string, state: StateValue) {
  return {
    AlarmName: name,
    AlarmArn: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`,
    AlarmRule: 'ALARM("target-5xx") OR ALARM("target-latency")',
    StateValue: state,
    StateReason: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:target-5xx transitioned to ${state}`,
    ActionsEnabled: true,
  } satisfies CompositeAlarm;
}

function cloudWatchError(name: string, httpStatusCode: number): Error {
  return new CloudWatchServiceException({
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
    message: `${name} from CloudWatch`,
  });
}

beforeEach(() => {
  cloudWatch.reset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('Class: CloudWatchAlarms', () => {
  describe('Method: evaluate', () => {
    it('makes no call and reports nothing firing when no alarm is watched', async () => {
      // Act
      const result = await new CloudWatchAlarms(client, { alarmNames: [] }).evaluate();

      // Assess
      expect(result).toEqual({ alarms: [], firing: [] });
      expect(cloudWatch.calls()).toHaveLength(0);
    });

    it('asks for metric and composite alarms by name, at most 100 names a call, reporting in watched order', async () => {
      // Prepare: CloudWatch answers in its own order (reversed here).
      const names = Array.from({ length: 150 }, (_, i) => `alarm-${String(i).padStart(3, '0')}`);
      cloudWatch.on(DescribeAlarmsCommand).callsFake((input: DescribeAlarmsCommandInput) => ({
        MetricAlarms: [...(input.AlarmNames ?? [])]
          .reverse()
          .map((name) => metricAlarm(name, name === 'alarm-120' ? 'ALARM' : 'OK')),
        CompositeAlarms: [],
      }));

      // Act
      const result = await new CloudWatchAlarms(client, { alarmNames: names }).evaluate();

      // Assess
      expect(cloudWatch).toReceiveCommandTimes(DescribeAlarmsCommand, 2);
      expect(cloudWatch).toReceiveNthCommandWith(DescribeAlarmsCommand, 1, {
        AlarmNames: names.slice(0, 100),
        AlarmTypes: ['CompositeAlarm', 'MetricAlarm'],
      });
      expect(cloudWatch).toReceiveNthCommandWith(DescribeAlarmsCommand, 2, {
        AlarmNames: names.slice(100),
        AlarmTypes: ['CompositeAlarm', 'MetricAlarm'],
      });
      expect(result.alarms.map((alarm) => alarm.name)).toEqual(names);
      expect(result.firing).toEqual([
        { name: 'alarm-120', state: 'ALARM', reason: 'Threshold Crossed: alarm-120 is ALARM', firing: true },
      ]);
    });

    it('follows NextToken until the last page, finding composite alarms on any page', async () => {
      // Prepare
      cloudWatch
        .on(DescribeAlarmsCommand)
        .resolvesOnce({ MetricAlarms: [metricAlarm('target-5xx', 'OK')], NextToken: 'page-2' })
        .resolvesOnce({ CompositeAlarms: [compositeAlarm('target-health', 'ALARM')] });

      // Act
      const result = await new CloudWatchAlarms(client, {
        alarmNames: ['target-5xx', 'target-health'],
      }).evaluate();

      // Assess
      expect(cloudWatch).toReceiveCommandTimes(DescribeAlarmsCommand, 2);
      expect(cloudWatch).toReceiveNthCommandWith(DescribeAlarmsCommand, 2, {
        AlarmNames: ['target-5xx', 'target-health'],
        NextToken: 'page-2',
      });
      expect(result.alarms).toMatchObject([
        { name: 'target-5xx', state: 'OK', firing: false },
        { name: 'target-health', state: 'ALARM', firing: true },
      ]);
      expect(result.firing.map((alarm) => alarm.name)).toEqual(['target-health']);
    });

    it.each([
      ['ALARM', undefined, true],
      ['ALARM', 'not-firing', true],
      ['ALARM', 'firing', true],
      ['OK', undefined, false],
      ['OK', 'not-firing', false],
      ['OK', 'firing', false],
      ['INSUFFICIENT_DATA', undefined, false],
      ['INSUFFICIENT_DATA', 'not-firing', false],
      ['INSUFFICIENT_DATA', 'firing', true],
    ] satisfies [StateValue, InsufficientDataPolicy | undefined, boolean][])(
      'judges %s under the INSUFFICIENT_DATA policy %s as firing: %s',
      async (state, policy, firing) => {
        // Prepare
        const reason = `Threshold Crossed: 1 datapoint [9.0] was greater than the threshold (5.0) (${state})`;
        cloudWatch
          .on(DescribeAlarmsCommand)
          .resolves({ MetricAlarms: [metricAlarm('target-5xx', state, reason)] });

        // Act
        const result = await new CloudWatchAlarms(client, {
          alarmNames: ['target-5xx'],
          insufficientData: policy,
        }).evaluate();

        // Assess
        expect(result.alarms).toEqual([{ name: 'target-5xx', state, reason, firing }]);
        expect(result.firing).toHaveLength(firing ? 1 : 0);
      },
    );

    it('fails closed on a watched alarm CloudWatch does not know: missing and firing', async () => {
      // Prepare
      cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [metricAlarm('target-5xx', 'OK')] });

      // Act
      const result = await new CloudWatchAlarms(client, {
        alarmNames: ['target-5xx', 'target-5xxx'],
      }).evaluate();

      // Assess
      expect(result.firing).toEqual([
        { name: 'target-5xxx', state: 'MISSING', reason: MISSING_ALARM_REASON, firing: true },
      ]);
      expect(MISSING_ALARM_REASON).toBe('alarm not found: check the name or remove it from the watch list');
    });

    it('fails closed when CloudWatch cannot be read after every try: each alarm unreadable and firing', async () => {
      // Prepare
      cloudWatch.on(DescribeAlarmsCommand).rejects(cloudWatchError('InternalServiceError', 500));

      // Act
      const result = await new CloudWatchAlarms(client, {
        alarmNames: ['target-5xx', 'target-latency'],
        ...NO_WAIT,
      }).evaluate();

      // Assess
      expect(cloudWatch).toReceiveCommandTimes(DescribeAlarmsCommand, 3);
      expect(result.alarms).toEqual(result.firing);
      expect(result.firing).toEqual(
        ['target-5xx', 'target-latency'].map((name) => ({
          name,
          state: 'UNREADABLE',
          reason: expect.stringContaining('InternalServiceError'),
          firing: true,
        })),
      );
    });

    it('fails closed on an error no retry fixes too, after the configured number of tries', async () => {
      // Prepare
      cloudWatch.on(DescribeAlarmsCommand).rejects(cloudWatchError('AccessDenied', 403));

      // Act
      const result = await new CloudWatchAlarms(client, {
        alarmNames: ['target-5xx'],
        attempts: 2,
        ...NO_WAIT,
      }).evaluate();

      // Assess
      expect(cloudWatch).toReceiveCommandTimes(DescribeAlarmsCommand, 2);
      expect(result.firing).toMatchObject([
        { name: 'target-5xx', state: 'UNREADABLE', reason: expect.stringContaining('AccessDenied') },
      ]);
    });

    it('counts a failure on a later page as unreadable rather than judging half the answer', async () => {
      // Prepare
      cloudWatch
        .on(DescribeAlarmsCommand)
        .resolvesOnce({ MetricAlarms: [metricAlarm('target-5xx', 'OK')], NextToken: 'page-2' })
        .rejects(cloudWatchError('Throttling', 400));

      // Act
      const result = await new CloudWatchAlarms(client, {
        alarmNames: ['target-5xx', 'target-health'],
        attempts: 1,
        ...NO_WAIT,
      }).evaluate();

      // Assess
      expect(result.alarms.map((alarm) => alarm.state)).toEqual(['UNREADABLE', 'UNREADABLE']);
      expect(result.firing).toHaveLength(2);
    });

    it('reads the real states once a retry gets through', async () => {
      // Prepare
      cloudWatch
        .on(DescribeAlarmsCommand)
        .rejectsOnce(cloudWatchError('Throttling', 400))
        .resolves({ MetricAlarms: [metricAlarm('target-5xx', 'OK')] });

      // Act
      const result = await new CloudWatchAlarms(client, {
        alarmNames: ['target-5xx'],
        ...NO_WAIT,
      }).evaluate();

      // Assess
      expect(cloudWatch).toReceiveCommandTimes(DescribeAlarmsCommand, 2);
      expect(result.firing).toEqual([]);
    });

    it('waits retryDelayMs between tries', async () => {
      // Prepare
      vi.useFakeTimers();
      cloudWatch
        .on(DescribeAlarmsCommand)
        .rejectsOnce(cloudWatchError('Throttling', 400))
        .resolves({ MetricAlarms: [metricAlarm('target-5xx', 'OK')] });

      // Act
      const evaluation = new CloudWatchAlarms(client, {
        alarmNames: ['target-5xx'],
        retryDelayMs: 1000,
      }).evaluate();
      await vi.advanceTimersByTimeAsync(999);
      const callsBeforeDelay = cloudWatch.commandCalls(DescribeAlarmsCommand).length;
      await vi.advanceTimersByTimeAsync(1);

      // Assess
      expect(callsBeforeDelay).toBe(1);
      expect((await evaluation).firing).toEqual([]);
      expect(cloudWatch).toReceiveCommandTimes(DescribeAlarmsCommand, 2);
    });

    it('asks once for a name watched twice, and reports it where it was watched', async () => {
      // Prepare
      cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [metricAlarm('target-5xx', 'ALARM')] });

      // Act
      const result = await new CloudWatchAlarms(client, {
        alarmNames: ['target-5xx', 'target-5xx'],
      }).evaluate();

      // Assess
      expect(cloudWatch).toReceiveCommandWith(DescribeAlarmsCommand, { AlarmNames: ['target-5xx'] });
      expect(result.alarms).toHaveLength(2);
    });
  });
});

describe('Function: alarmStatusFrom', () => {
  it.each([
    ['ALARM', 'not-firing', true],
    ['OK', 'firing', false],
    ['INSUFFICIENT_DATA', 'not-firing', false],
    ['INSUFFICIENT_DATA', 'firing', true],
  ] satisfies [StateValue, InsufficientDataPolicy, boolean][])(
    'judges %s under policy %s as firing: %s, keeping the reason',
    (state, policy, firing) => {
      expect(alarmStatusFrom('local-5xx', state, '3 of 40 requests failed', policy)).toEqual({
        name: 'local-5xx',
        state,
        reason: '3 of 40 requests failed',
        firing,
      });
    },
  );

  it.each([['PENDING'], [undefined]])('treats an unknown state %s as unreadable and firing', (state) => {
    const status = alarmStatusFrom('local-5xx', state, 'odd', 'not-firing');

    expect(status).toMatchObject({ name: 'local-5xx', state: 'UNREADABLE', firing: true });
    expect(status.reason).toContain('treated as firing');
  });
});
