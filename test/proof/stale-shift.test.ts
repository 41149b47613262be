import { describe, expect, it, vi } from 'vitest';
import type { ListenerPort, Weights } from '#domain/types.ts';
import type { InvocationCall } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { baking } from '#test/support/rollout-world.ts';
import { settleWithin, useVirtualClock, virtualClockWorld } from '#test/support/virtual-clock.ts';

/**
 * A ShiftWeights attempt whose answer is lost runs on (Lambda does not stop it), and its Retry runs the step.
 * If the first attempt stalls inside ModifyListener (SDK retries on throttling) after its checks passed, its
 * write lands after the Rollback restored the listener; ELBv2 has no conditional write to refuse it. Rollback
 * outlasts such an attempt (the function's timeout) before it releases, and restores again (found by an
 * adversarial review: before, the listener stayed at the step's weights under alarm, the lock free).
 */
/** ShiftWeights' first attempt loses its answer at 100 ms, and its Retry runs the step while it runs on. */
const lostFirstShift = (call: InvocationCall) =>
  call.stateName === 'ShiftWeights' && call.retryCount === 0 ? { answerLostAfterMs: 100 } : undefined;

describe('A ShiftWeights attempt that outlives its lost answer', () => {
  useVirtualClock();

  it('cannot leave the listener raised after a rollback: Rollback waits it out and restores again', async () => {
    // Prepare: ShiftWeights' first answer is lost at 100 ms and its Retry writes 10 %; the first attempt's
    // ModifyListener is throttled and lands 3 s later, after the alarm fired and Rollback restored.
    const world = virtualClockWorld(lostFirstShift);
    const listener = world.deps.listener;
    let writes = 0;
    (world.deps as { listener: ListenerPort }).listener = Object.assign(Object.create(listener), {
      writeWeights: async (weights: Weights) => {
        writes += 1;
        if (writes === 1) await new Promise((resolve) => setTimeout(resolve, 3000));
        return listener.writeWeights(weights);
      },
    });
    (world.deps as { staleShiftWindowMs?: number }).staleShiftWindowMs = 5000;
    const execution = world.start({ plan: '10:600,100' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(baking(0)(await world.rollout())).toBe(true);

    // Act: the alarm fires during the bake; the stale write lands while Rollback waits.
    expect(await world.fireAlarm()).toBe('failed-task');
    const result = (await settleWithin(execution.result, 60_000, 100)).value;
    await vi.advanceTimersByTimeAsync(10_000);

    // Assess: restored at the end, lock free, and the lock was not freed before the stale write landed.
    expect(result).toMatchObject({ status: 'FAILED', error: 'AlarmFired' });
    expect(writes).toBeGreaterThanOrEqual(3);
    expect(world.elb.weights).toEqual({ source: 1, target: 0 });
    expect((await world.store.get(LISTENER.listenerArn))?.lockOwner).toBeUndefined();
  });

  it('restores, not halts, when a stale write of an earlier step lands after the next step shifted', async () => {
    // Prepare: step 0 (no bake) loses its first answer; that attempt's 10 % lands 3 s late, after step 1's 20 %.
    let writes = 0;
    const world = virtualClockWorld((call: InvocationCall) =>
      call.stateName === 'ShiftWeights' && call.retryCount === 0 && writes === 0
        ? { answerLostAfterMs: 100 }
        : undefined,
    );
    const listener = world.deps.listener;
    (world.deps as { listener: ListenerPort }).listener = Object.assign(Object.create(listener), {
      writeWeights: async (weights: Weights) => {
        writes += 1;
        if (writes === 1) await new Promise((resolve) => setTimeout(resolve, 3000));
        return listener.writeWeights(weights);
      },
    });
    (world.deps as { staleShiftWindowMs?: number }).staleShiftWindowMs = 5000;
    const execution = world.start({ plan: '10:0,20:600,100' });
    await vi.advanceTimersByTimeAsync(4000);
    expect(baking(1)(await world.rollout())).toBe(true);

    // Act
    await world.fireAlarm();
    const result = (await settleWithin(execution.result, 60_000, 100)).value;
    await vi.advanceTimersByTimeAsync(10_000);

    // Assess: rolled back (the stale step is Swing's own write), not halted as a hand change.
    expect(result).toMatchObject({ status: 'FAILED', error: 'AlarmFired' });
    expect(world.elb.weights).toEqual({ source: 1, target: 0 });
    expect((await world.store.get(LISTENER.listenerArn))?.lockOwner).toBeUndefined();
  });

  it('still sees a stale write sent just inside the window that DescribeListeners shows only later', async () => {
    // Prepare: the stale 10 % is sent 50 ms before the window closes and reads back 500 ms after it lands.
    const world = virtualClockWorld(lostFirstShift);
    const listener = world.deps.listener;
    let writes = 0;
    let laggingUntil = 0;
    let shownBefore: Weights | undefined;
    (world.deps as { listener: ListenerPort }).listener = Object.assign(Object.create(listener), {
      writeWeights: async (weights: Weights) => {
        writes += 1;
        if (writes === 1) {
          await new Promise((resolve) => setTimeout(resolve, 4950));
          shownBefore = await listener.readWeights();
          laggingUntil = Date.now() + 500;
        }
        return listener.writeWeights(weights).catch(() => undefined);
      },
      readWeights: async () =>
        Date.now() < laggingUntil && shownBefore ? shownBefore : listener.readWeights(),
    });
    (world.deps as { staleShiftWindowMs?: number }).staleShiftWindowMs = 5000;
    const execution = world.start({ plan: '10:600,100' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(baking(0)(await world.rollout())).toBe(true);

    // Act
    await world.fireAlarm();
    await settleWithin(execution.result, 60_000, 100);
    await vi.advanceTimersByTimeAsync(10_000);

    // Assess
    expect(world.elb.weights).toEqual({ source: 1, target: 0 });
    expect((await world.store.get(LISTENER.listenerArn))?.lockOwner).toBeUndefined();
  });
});
