import type { MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cloudWatchClient } from '#clients/cloudwatch.ts';
import { reverseReplayFromEnvironment } from '#clients/replay-lag.ts';
import { handleAlarmEvent } from '#domain/engine/alarm-event.ts';
import type { EngineDeps } from '#domain/engine/deps.ts';
import type { ReverseReplayPort } from '#domain/types.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { losslessWorld, REVERSE_ALARM } from '#test/support/lossless-world.ts';
import { ALARM } from '#test/support/rollout-world.ts';

/**
 * Review 5 (issue 22, after 970845f): the drain dates an OK by the END of the newest period its evaluation judged
 * (alarm-evidence.ts newestEvaluatedEnd; the OK event in alarm-event.ts releaseDrain, and the DescribeAlarms
 * reading's coversUntil), and counts it as drained when that end is at or after the freeze. But a CloudWatch
 * datapoint is the statistic (Maximum) of the samples whose timestamps fall anywhere in the period: a period that
 * began before the freeze and ended after it may hold only samples taken before the freeze. The Migration
 * Assistant's replayer publishes through OpenTelemetry, whose periodic exporter sends every 60 s: one sample per
 * one-minute period, taken at any phase of it. AWS sequence: the reverse replayer was behind (lag alarm in ALARM);
 * it catches up and publishes lag 0.4 s at frozenAt - 50 s (the period [frozenAt - 50 s, frozenAt + 10 s) holds
 * that one sample); the target takes a burst of writes from frozenAt - 40 s on, which the replayer is still
 * applying at the freeze; the alarm evaluates that period and goes to OK after the freeze (its event and
 * DescribeAlarms both say: newest datapoint at frozenAt - 50 s, sampleCount 1, 0.4). The rollback records
 * `reverseReplay: drained` ("nothing is on the target only") and restores while the burst is still queued to the
 * source: replayed after the restore, it lands over the clients' newer writes there. Only a period that began at
 * or after the freeze holds samples from after it (and a lag <= 1 s then says what the source took before the
 * freeze is applied, give or take the threshold): the evidence's date is the newest period's START.
 */

afterEach(() => {
  vi.restoreAllMocks();
});

/** StateReasonData of an OK whose newest evaluated period (one sample) started at `newest`. */
function reasonData(newest: Date): string {
  return JSON.stringify({
    version: '1.0',
    queryDate: new Date().toISOString(),
    startDate: newest.toISOString(),
    statistic: 'Maximum',
    period: 60,
    recentDatapoints: [0.4],
    threshold: 1,
    evaluatedDatapoints: [{ timestamp: newest.toISOString(), sampleCount: 1, value: 0.4 }],
  });
}

describe('Review 5: an OK whose newest period began before the freeze', () => {
  it('is not counted as drained by the drain checks (DescribeAlarms)', async () => {
    // Prepare: the real reverse-lag port over DescribeAlarms: in ALARM until the freeze; after it, OK since now,
    // having judged the one-minute period that began 50 s before the freeze (one sample, from before it).
    const lossless = losslessWorld({ drainTimeoutSeconds: 1 });
    const { world } = lossless;
    vi.spyOn(cloudWatchClient, 'send').mockImplementation(async () => {
      const frozenAt = (await world.store.get(LISTENER.listenerArn))?.rollout?.freeze?.frozenAt;
      const alarm: MetricAlarm = {
        AlarmName: REVERSE_ALARM,
        MetricName: 'lagBetweenSourceAndTargetRequests',
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanThreshold',
        ...(frozenAt
          ? {
              StateValue: 'OK',
              // As CloudWatch would date it: after that period ended and its datapoint arrived (the test's own
              // clock runs faster than CloudWatch's; only the reason data dates the evidence).
              StateUpdatedTimestamp: new Date(Date.parse(frozenAt) + 70_000),
              StateReasonData: reasonData(new Date(Date.parse(frozenAt) - 50_000)),
            }
          : { StateValue: 'ALARM', StateUpdatedTimestamp: new Date(Date.now() - 600_000) }),
      };
      return { MetricAlarms: [alarm], CompositeAlarms: [] };
    });
    Object.assign(world.deps, {
      reverseReplay: reverseReplayFromEnvironment({
        REVERSE_LAG_ALARM: REVERSE_ALARM,
        REVERSE_DRAIN_TIMEOUT_SECONDS: '5',
      }) as ReverseReplayPort,
    } satisfies Partial<EngineDeps>);
    await lossless.inCutoverBake();

    // Act: an alarm in the cutover's bake rolls back; writes freeze; the reverse lag alarm reads OK as above.
    await world.fireAlarm(ALARM);
    await lossless.execution.result;

    // Assess: no evidence from after the freeze, so no `drained`; the restore waits for the deadline.
    const last = await lossless.finished();
    expect(last?.freeze?.frozenAt).toBeDefined();
    expect(last?.freeze?.drain).toBe('timed-out');
    expect(lossless.restore.at).toBeGreaterThanOrEqual(Date.parse(last?.freeze?.drainDeadline ?? ''));
    expect(last?.exposure).toMatchObject({ reverseReplay: 'timed-out' });
  });

  it('releases no Drain by its OK event', async () => {
    // Prepare: the rollback froze and Drain waits (the reverse replayer's check says lagging all along).
    const lossless = losslessWorld({ drainTimeoutSeconds: 3 });
    const { world } = lossless;
    await lossless.inCutoverBake();
    await world.fireAlarm(ALARM);
    await lossless.draining();
    const frozenAt = (await world.store.get(LISTENER.listenerArn))?.rollout?.freeze?.frozenAt ?? '';

    // Act: the lag alarm's OK event, after the freeze, whose newest period began 50 s before the freeze.
    const action = await handleAlarmEvent(world.deps, {
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      time: new Date().toISOString(),
      detail: {
        alarmName: REVERSE_ALARM,
        state: {
          value: 'OK',
          timestamp: new Date().toISOString(),
          reasonData: reasonData(new Date(Date.parse(frozenAt) - 50_000)),
        },
      },
    });

    // Assess: nothing released; the rollback still waits, writes frozen, nothing restored.
    expect(action).toBe('ignored-state');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(lossless.restore.at).toBeUndefined();
    expect((await world.store.get(LISTENER.listenerArn))?.rollout?.freeze?.drain).toBeUndefined();
    await lossless.execution.result;
    expect((await lossless.finished())?.freeze?.drain).toBe('timed-out');
  });
});
