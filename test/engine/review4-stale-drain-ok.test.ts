import type { MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cloudWatchClient } from '#clients/cloudwatch.ts';
import { reverseReplayFromEnvironment } from '#clients/replay-lag.ts';
import type { EngineDeps } from '#domain/engine/deps.ts';
import type { ReverseReplayPort } from '#domain/types.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';
import { ALARM, baking } from '#test/support/rollout-world.ts';

/**
 * Review 4 (issue 22): the drain's own checks (Drain's opening check, DrainCheck, the settlers' awaitDrain) take
 * the reverse lag alarm's current state, OK, as "drained", however old that state is. A CloudWatch alarm's state
 * is the verdict of its last evaluation, over periods that ended before it (one minute by default, published a
 * minute or two late): an alarm that has been OK since before the freeze says nothing about the writes the
 * target took in the seconds before it, which the reverse replayer may still hold. The alarm-event handler
 * already refuses such an OK ("an OK from before the freeze releases nothing"); the checks do not. So on AWS a
 * rollback after the cutover, with a reverse replayer that was keeping up, restores the moment Drain opens, and
 * reports `reverseReplay: drained` ("nothing is on the target only") while writes are still queued to the source:
 * replayed after the restore, they land over clients' newer writes there.
 */

const REVERSE_ALARM = 'swing-reverse-lag';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Review 4: the drain judged on an alarm state from before the freeze', () => {
  it('does not count a reverse lag alarm OK since before the freeze as drained', async () => {
    // Prepare: the real reverse-lag port the functions build (REVERSE_LAG_ALARM), over DescribeAlarms answering
    // as CloudWatch does: OK since an hour ago, its last evaluated datapoint from two minutes before the rollout.
    const okSince = new Date(Date.now() - 3_600_000);
    const lastDatapoint = new Date(Date.now() - 120_000);
    const alarm: MetricAlarm = {
      AlarmName: REVERSE_ALARM,
      StateValue: 'OK',
      StateUpdatedTimestamp: okSince,
      StateReason: `Threshold Crossed: 1 datapoint [0.4 (${lastDatapoint.toISOString()})] was not greater than the threshold (1.0).`,
      StateReasonData: JSON.stringify({
        version: '1.0',
        queryDate: new Date(lastDatapoint.getTime() + 60_000).toISOString(),
        startDate: lastDatapoint.toISOString(),
        statistic: 'Maximum',
        period: 60,
        recentDatapoints: [0.4],
        threshold: 1,
        evaluatedDatapoints: [{ timestamp: lastDatapoint.toISOString(), sampleCount: 12, value: 0.4 }],
      }),
      MetricName: 'lagBetweenSourceAndTargetRequests',
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 1,
    };
    vi.spyOn(cloudWatchClient, 'send').mockImplementation(async () => ({
      MetricAlarms: [alarm],
      CompositeAlarms: [],
    }));
    const reverseReplay = reverseReplayFromEnvironment({
      REVERSE_LAG_ALARM: REVERSE_ALARM,
      REVERSE_DRAIN_TIMEOUT_SECONDS: '5',
    }) as ReverseReplayPort;
    const world = readsFirstWorld({ targetRequests: 40 });
    Object.assign(world.deps, {
      reverseCapture: { lagAlarm: REVERSE_ALARM, missingData: 'lagging', drainTimeoutSeconds: 1 },
      reverseReplay,
    } satisfies Partial<EngineDeps>);
    const restore: { at?: number } = {};
    const onModify = world.elb.onModify;
    world.elb.onModify = (weights) => {
      onModify?.(weights);
      if (weights.target === 0) restore.at = Date.now();
    };
    const execution = world.start({
      plan: '100:1',
      readsFirst: { ...replayLagCutover(), cutoverBakeSeconds: 80_000, afterCutover: 'rollback' },
    });
    await world.until(
      (rollout) => baking(1)(rollout) && rollout?.cutoverAt !== undefined,
      'the cutover bake',
    );

    // Act: an alarm in the cutover's bake rolls back; writes freeze. No evaluation of the reverse lag alarm
    // happens after the freeze (the next one is up to a period away), so nothing says the replayer drained.
    await world.fireAlarm(ALARM);
    await execution.result;

    // Assess: no restore before the drain or its deadline, and never "drained" on evidence from before the freeze.
    const last = (await world.store.get(LISTENER.listenerArn))?.history.at(-1);
    expect(last?.freeze?.frozenAt).toBeDefined();
    expect(last?.freeze?.drain).toBe('timed-out');
    expect(restore.at).toBeGreaterThanOrEqual(Date.parse(last?.freeze?.drainDeadline ?? ''));
    expect(last?.exposure).toMatchObject({ reverseReplay: 'timed-out', targetRequests: 40 });
  });
});
