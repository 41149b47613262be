import { describe, expect, it, vi } from 'vitest';
import { handleAlarmEvent } from '#domain/engine/alarm-event.ts';
import type { EngineDeps } from '#domain/engine/deps.ts';
import type { ReplayLagVerdict } from '#domain/types.ts';
import { settleWithin, useVirtualClock, virtualClockWorld } from '#test/support/virtual-clock.ts';

/**
 * The wait for the replayer is bounded (replayWaitSeconds, then roll back) whatever EventBridge delivers: the
 * replay-lag alarm's OK event may come late or twice (best effort, at least once), when the replayer lags again.
 */

const LAG_ALARM = 'swing-replay-lag';

describe('The wait for the replayer under late and repeated OK events', () => {
  useVirtualClock();

  it('rolls back once replayWaitSeconds have passed, however many stale OK events released the wait', async () => {
    // Prepare: the replayer lags throughout; the step waits at most 100 s.
    const world = virtualClockWorld();
    (world.deps as { replayLag: EngineDeps['replayLag'] }).replayLag = {
      check: async (): Promise<ReplayLagVerdict> => ({ caughtUp: false, detail: `${LAG_ALARM} is in ALARM` }),
    };
    (world.deps as { replayLagAlarm?: string }).replayLagAlarm = LAG_ALARM;
    const startedAt = Date.now();
    const execution = world.start({
      traffic: 'reads-first',
      plan: '10:1,100:1',
      readsFirst: { cutoverGate: 'manual', replayWaitSeconds: 100 },
    });
    const lateOk = () =>
      handleAlarmEvent(world.deps, {
        source: 'aws.cloudwatch',
        'detail-type': 'CloudWatch Alarm State Change',
        time: new Date(Date.now() - 600_000).toISOString(),
        detail: {
          alarmName: LAG_ALARM,
          state: { value: 'OK', reason: 'an earlier recovery, delivered late' },
        },
      });

    let endedAt: number | undefined;
    void execution.result.then(() => {
      endedAt = Date.now();
    });

    // Act: every 80 s a late (or repeated) OK event of an earlier recovery reaches the alarm-event function.
    for (let round = 0; round < 4; round += 1) {
      await vi.advanceTimersByTimeAsync(80_000);
      if (endedAt === undefined) await lateOk();
    }
    const settled = await settleWithin(execution.result, 600_000, 1000);

    // Assess: the step never went (the replayer lagged), and the rollout rolled back within the bound.
    expect(world.elb.swingRules).toEqual([]);
    expect(settled.value).toMatchObject({ status: 'FAILED', error: 'ReplayLagTimedOut' });
    expect(((endedAt ?? Date.now()) - startedAt) / 1000).toBeLessThan(200);
  });
});
