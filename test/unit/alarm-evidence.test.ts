import { CloudWatchClient, DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchReplayLag } from '#adapters/replay-lag.ts';
import { CLOUDWATCH_EVALUATION_DELAY_SECONDS, stateCoversUntil } from '#domain/alarm-evidence.ts';
import { handleAlarmEvent } from '#domain/engine/alarm-event.ts';
import { reverseVerdict } from '#domain/engine/drain.ts';
import { silentLog } from '#domain/log.ts';
import type { ReverseReplayVerdict } from '#domain/types.ts';

const cloudWatch = mockClient(CloudWatchClient);
const client = new CloudWatchClient({ region: 'us-east-1' });
const ALARM = 'swing-reverse-lag';
const NOW = new Date('2026-12-07T12:00:00Z');
const at = (secondsFromNow: number) => new Date(NOW.getTime() + secondsFromNow * 1000);

/** StateReasonData as CloudWatch writes it: the newest evaluated datapoint starts at `newest`. */
function reasonData(newest: Date): string {
  return JSON.stringify({
    version: '1.0',
    period: 60,
    threshold: 1,
    evaluatedDatapoints: [{ timestamp: newest.toISOString(), sampleCount: 4, value: 0.2 }],
  });
}

function okAlarm(since: Date, newest: Date): MetricAlarm {
  return {
    AlarmName: ALARM,
    StateValue: 'OK',
    StateReason: 'Threshold Crossed: 1 datapoint [0.2] was not greater than the threshold (1.0).',
    StateUpdatedTimestamp: since,
    StateReasonData: reasonData(newest),
    MetricName: 'lagBetweenSourceAndTargetRequests',
    Statistic: 'Maximum',
    Period: 60,
    EvaluationPeriods: 2,
    Threshold: 1,
    ComparisonOperator: 'GreaterThanThreshold',
  };
}

beforeEach(() => {
  cloudWatch.reset();
});

describe('Function: stateCoversUntil', () => {
  it('dates a recent transition by the start of the newest period it judged, not by when it happened', () => {
    // OK since 10 s ago, judging the minute that started 100 s ago: a sample of that minute may be 100 s old.
    expect(stateCoversUntil({ stateUpdatedAt: at(-10), reasonData: reasonData(at(-100)) }, NOW)).toEqual(
      at(-100),
    );
  });

  it("dates a state that has stood past the window and CloudWatch's delay by now less them", () => {
    const evidence = {
      stateUpdatedAt: at(-3600),
      reasonData: reasonData(at(-3700)),
      periodSeconds: 60,
      evaluationPeriods: 2,
    };
    expect(stateCoversUntil(evidence, NOW)).toEqual(at(-(120 + CLOUDWATCH_EVALUATION_DELAY_SECONDS)));
  });

  it('takes a composite alarm (no period) at its transition only', () => {
    expect(stateCoversUntil({ stateUpdatedAt: at(-3600) }, NOW)).toEqual(at(-3600));
  });
});

describe('The CloudWatch reverse lag reading', () => {
  it('says until when an OK since an hour ago speaks: the window and the delay before now', async () => {
    cloudWatch
      .on(DescribeAlarmsCommand)
      .resolves({ MetricAlarms: [okAlarm(at(-3600), at(-3700))], CompositeAlarms: [] });
    const verdict = await new CloudWatchReplayLag(client, { alarmName: ALARM, now: () => NOW }).check();
    expect(verdict).toMatchObject({
      caughtUp: true,
      coversUntil: at(-(120 + CLOUDWATCH_EVALUATION_DELAY_SECONDS)).toISOString(),
    });
  });
});

describe('Function: reverseVerdict (the drain)', () => {
  const port = (verdict: ReverseReplayVerdict) => ({
    reverseReplay: { check: async () => verdict },
    log: silentLog,
  });
  const frozenAt = at(-30).toISOString();

  it('does not count an OK whose evidence ends before the freeze as drained, saying why', async () => {
    const verdict = await reverseVerdict(
      port({ drained: true, detail: `${ALARM} is OK`, coversUntil: at(-60).toISOString() }),
      frozenAt,
    );
    expect(verdict.drained).toBe(false);
    expect(verdict.detail).toContain(`before the freeze at ${frozenAt}`);
  });

  it('counts an OK whose evidence reaches the freeze, and an exact port (no coversUntil)', async () => {
    const dated = { drained: true, detail: 'OK', coversUntil: at(-20).toISOString() };
    expect((await reverseVerdict(port(dated), frozenAt)).drained).toBe(true);
    expect((await reverseVerdict(port({ drained: true, detail: 'empty' }), frozenAt)).drained).toBe(true);
  });
});

describe('Function: handleAlarmEvent (the reverse lag alarm)', () => {
  it('releases no Drain with an OK after the freeze that judged only periods before it', async () => {
    const sent: unknown[] = [];
    const rollout = { taskToken: 'token', taskKind: 'drain', freeze: { frozenAt: at(-30).toISOString() } };
    const deps = {
      listenerArn: 'listener',
      watchedAlarms: [],
      store: { get: async () => ({ lockOwner: 'execution', rollout }) },
      callbacks: {
        succeed: async (...args: unknown[]) => {
          sent.push(args);
          return 'sent' as const;
        },
      },
      log: silentLog,
      reverseCapture: { lagAlarm: ALARM, missingData: 'lagging' as const, drainTimeoutSeconds: 60 },
    } as unknown as Parameters<typeof handleAlarmEvent>[0];
    const event = (newest: Date) => ({
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      detail: {
        alarmName: ALARM,
        state: { value: 'OK', timestamp: at(-5).toISOString(), reasonData: reasonData(newest) },
      },
    });
    // Its newest minute started 100 s ago (ended 40 s ago, before the freeze): nothing released.
    expect(await handleAlarmEvent(deps, event(at(-100)))).toBe('ignored-state');
    // Started 50 s ago, before the freeze (ended 10 s ago, after it): its samples may all predate the freeze.
    expect(await handleAlarmEvent(deps, event(at(-50)))).toBe('ignored-state');
    // Started 20 s ago, after the freeze: released.
    expect(await handleAlarmEvent(deps, event(at(-20)))).toBe('released-drain');
    expect(sent).toHaveLength(1);
  });
});
