import {
  CloudWatchClient,
  CloudWatchServiceException,
  DescribeAlarmsCommand,
  type MetricAlarm,
  type StateValue,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchReplayLag } from '#adapters/replay-lag.ts';

const cloudWatch = mockClient(CloudWatchClient);
const client = new CloudWatchClient({ region: 'us-east-1' });
const ALARM = 'swing-replay-lag';
const NO_WAIT = { retryDelayMs: 0 };

function lagAlarm(state: StateValue, reason: string): MetricAlarm {
  return {
    AlarmName: ALARM,
    AlarmArn: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${ALARM}`,
    StateValue: state,
    StateReason: reason,
    MetricName: 'lagBetweenSourceAndTargetRequests',
    Namespace: 'OpenSearchMigrations',
    Dimensions: [
      { Name: 'qualifier', Value: 'dev' },
      { Name: 'OTelLib', Value: 'replayer' },
    ],
    Statistic: 'Maximum',
    Period: 60,
    EvaluationPeriods: 1,
    Threshold: 5000,
    ComparisonOperator: 'GreaterThanThreshold',
  };
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

describe('Class: CloudWatchReplayLag', () => {
  describe('Method: check', () => {
    it('is caught up when the lag alarm is OK, saying what it watches and why it is OK', async () => {
      const reason =
        'Threshold Crossed: 1 datapoint [120.0 (27/11/26 07:00:00)] was not greater than the threshold (5000.0).';
      cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [lagAlarm('OK', reason)] });

      const verdict = await new CloudWatchReplayLag(client, { alarmName: ALARM }).check();

      expect(verdict.caughtUp).toBe(true);
      expect(verdict.detail).toContain(
        `replay-lag alarm ${ALARM} (lagging when Maximum of lagBetweenSourceAndTargetRequests > 5000) is OK`,
      );
      expect(verdict.detail).toContain(reason);
      expect(cloudWatch).toReceiveCommandWith(DescribeAlarmsCommand, {
        AlarmNames: [ALARM],
        AlarmTypes: ['CompositeAlarm', 'MetricAlarm'],
      });
    });

    it('is lagging when the lag alarm is in ALARM, with its state reason', async () => {
      const reason = 'Threshold Crossed: 1 datapoint [91000.0] was greater than the threshold (5000.0).';
      cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [lagAlarm('ALARM', reason)] });

      const verdict = await new CloudWatchReplayLag(client, { alarmName: ALARM }).check();

      // No StateUpdatedTimestamp: nothing dates the state, so its evidence counts as old as can be.
      expect(verdict).toEqual({
        caughtUp: false,
        detail: expect.stringContaining(`is in ALARM: ${reason}`),
        coversUntil: new Date(0).toISOString(),
      });
    });

    it('counts INSUFFICIENT_DATA as lagging by default, saying an idle replayer or wrong dimensions send none', async () => {
      cloudWatch.on(DescribeAlarmsCommand).resolves({
        MetricAlarms: [lagAlarm('INSUFFICIENT_DATA', 'Insufficient Data: 1 datapoint was unknown.')],
      });

      const verdict = await new CloudWatchReplayLag(client, { alarmName: ALARM }).check();

      expect(verdict.caughtUp).toBe(false);
      expect(verdict.detail).toContain('has INSUFFICIENT_DATA');
      expect(verdict.detail).toContain('idle replayer or from wrong dimensions');
      expect(verdict.detail).toContain("the missing-data policy 'lagging' counts it as lagging");
    });

    it('counts INSUFFICIENT_DATA as caught up only when the operator’s policy says so', async () => {
      cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [lagAlarm('INSUFFICIENT_DATA', '')] });

      const verdict = await new CloudWatchReplayLag(client, {
        alarmName: ALARM,
        missingData: 'caught-up',
      }).check();

      expect(verdict.caughtUp).toBe(true);
      expect(verdict.detail).toContain("the missing-data policy 'caught-up' counts it as caught up");
    });

    it('reads a composite alarm too', async () => {
      cloudWatch.on(DescribeAlarmsCommand).resolves({
        CompositeAlarms: [
          { AlarmName: ALARM, StateValue: 'OK', StateReason: 'children OK', AlarmRule: 'ALARM(a)' },
        ],
      });

      const verdict = await new CloudWatchReplayLag(client, { alarmName: ALARM }).check();

      expect(verdict).toEqual({
        caughtUp: true,
        detail: expect.stringContaining('(lagging when a composite alarm) is OK'),
        coversUntil: new Date(0).toISOString(),
      });
    });

    it('is lagging when the alarm does not exist, naming it (fail closed)', async () => {
      cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [], CompositeAlarms: [] });

      const verdict = await new CloudWatchReplayLag(client, { alarmName: ALARM }).check();

      expect(verdict.caughtUp).toBe(false);
      expect(verdict.detail).toContain(`replay-lag alarm ${ALARM}: alarm not found`);
    });

    it('is lagging, saying why, when DescribeAlarms keeps failing (fail closed), and never throws', async () => {
      cloudWatch.on(DescribeAlarmsCommand).rejects(cloudWatchError('Throttling', 400));

      const verdict = await new CloudWatchReplayLag(client, { alarmName: ALARM, ...NO_WAIT }).check();

      expect(verdict.caughtUp).toBe(false);
      expect(verdict.detail).toContain('could not be read (DescribeAlarms failed 3 times: Throttling');
      expect(cloudWatch).toReceiveCommandTimes(DescribeAlarmsCommand, 3);
    });

    it('tries DescribeAlarms again after a failure and goes by the answer', async () => {
      cloudWatch
        .on(DescribeAlarmsCommand)
        .rejectsOnce(cloudWatchError('ServiceUnavailable', 503))
        .resolves({ MetricAlarms: [lagAlarm('OK', 'fine')] });

      const verdict = await new CloudWatchReplayLag(client, { alarmName: ALARM, ...NO_WAIT }).check();

      expect(verdict.caughtUp).toBe(true);
      expect(cloudWatch).toReceiveCommandTimes(DescribeAlarmsCommand, 2);
    });

    it('is lagging when the alarm is in a state this code does not know', async () => {
      cloudWatch
        .on(DescribeAlarmsCommand)
        .resolves({ MetricAlarms: [lagAlarm('SOMETHING_NEW' as StateValue, '')] });

      const verdict = await new CloudWatchReplayLag(client, { alarmName: ALARM }).check();

      expect(verdict.caughtUp).toBe(false);
      expect(verdict.detail).toContain('unknown alarm state SOMETHING_NEW');
    });
  });
});
