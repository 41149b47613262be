import { describe, expect, it, vi } from 'vitest';
import type { AlarmEvaluation, AlarmPort } from '#domain/types.ts';
import type { InvocationCall } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { baking } from '#test/support/rollout-world.ts';
import { settleWithin, useVirtualClock, virtualClockWorld } from '#test/support/virtual-clock.ts';

/**
 * A Preflight attempt whose answer is lost runs on (Lambda does not stop it), and the Retry's attempt takes the
 * lock and starts the rollout. When the first attempt wakes up, its acquire must write nothing: before the fix it
 * passed the "same owner" condition and replaced the running rollout (its bake token, lastWritten, steps), so an
 * alarm found no open task and the bake ran on under alarm (found by an adversarial review). Virtual clock.
 */
describe('A Preflight attempt that outlives its lost answer', () => {
  useVirtualClock();

  it('leaves the running rollout alone, so an alarm during its bake still rolls back at once', async () => {
    // Prepare: Preflight's first answer is lost at 100 ms and its Retry runs the rollout; the first attempt's
    // DescribeAlarms is throttled by the SDK and returns 3 s later, then it tries to take the lock.
    const lostFirstPreflight = (call: InvocationCall) =>
      call.stateName === 'Preflight' && call.retryCount === 0 ? { answerLostAfterMs: 100 } : undefined;
    const world = virtualClockWorld(lostFirstPreflight);
    const alarms = world.deps.alarms;
    let evaluations = 0;
    (world.deps as { alarms: AlarmPort }).alarms = {
      evaluate: async (): Promise<AlarmEvaluation> => {
        evaluations += 1;
        if (evaluations === 1) await new Promise((resolve) => setTimeout(resolve, 3000));
        return alarms.evaluate();
      },
    } as AlarmPort;
    const execution = world.start({ plan: '10:600,100' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(baking(0)(await world.rollout())).toBe(true);
    const before = await world.rollout();

    // Act: the stale attempt wakes up and reaches the acquire; then the alarm fires mid-bake.
    await vi.advanceTimersByTimeAsync(3000);
    const after = await world.rollout();
    const action = await world.fireAlarm();
    const result = (await settleWithin(execution.result, 60_000, 100)).value;

    // Assess
    expect(after).toEqual(before);
    expect(action).toBe('failed-task');
    expect(result).toMatchObject({ status: 'FAILED', error: 'AlarmFired' });
    expect(world.elb.weights).toEqual({ source: 1, target: 0 });
    expect((await world.store.get(LISTENER.listenerArn))?.lockOwner).toBeUndefined();
  });
});
