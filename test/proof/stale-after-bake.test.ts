import { describe, expect, it, vi } from 'vitest';
import type { DeliveredSplit } from '#domain/delivered-split.ts';
import type { EngineDeps } from '#domain/engine/deps.ts';
import { abortRollout } from '#domain/operator.ts';
import type { Rollout } from '#domain/types.ts';
import { percentToWeights } from '#domain/weights.ts';
import type { InvocationCall } from '#local/executor.ts';
import { operatorOf } from '#test/support/rollout-world.ts';
import { settleWithin, useVirtualClock, virtualClockWorld } from '#test/support/virtual-clock.ts';

/**
 * Issue 20, defect 3: an AfterBake attempt whose answer was lost stalls (a throttled GetMetricData) and wakes
 * after the next ShiftWeights wrote its step and before the next Bake stored its token. Every record write of
 * an attempt is fenced against every later attempt of any state, so the stale attempt writes nothing and the
 * next bake is reachable by an alarm and an abort. On the virtual clock: the order of events is the plan's.
 */

/** AfterBake's first attempt of step 1 loses its answer at once; the step-2 Bake starts 500 ms late (a cold start). */
const lostAfterBakeThenColdBake = (call: InvocationCall) => {
  if (call.stateName === 'AfterBake' && call.retryCount === 0 && afterBakes++ === 0) {
    return { answerLostAfterMs: 0 };
  }
  if (call.stateName === 'Bake' && bakes++ === 1) return { startDelayMs: 500 };
  return undefined;
};
let afterBakes = 0;
let bakes = 0;

/**
 * A world in which the first delivered-split measure (the stale AfterBake attempt's) stalls until the next
 * step has been written (status `baking` at step 2), as a throttled GetMetricData would.
 */
function stalledAfterBakeWorld() {
  afterBakes = 0;
  bakes = 0;
  const world = virtualClockWorld(lostAfterBakeThenColdBake);
  let wake: (() => void) | undefined;
  const nextStepWritten = new Promise<void>((resolve) => {
    wake = resolve;
  });
  world.store.onUpdate = (_executionArn, _patch, rollout: Rollout) => {
    if (rollout.status === 'baking' && rollout.stepIndex === 1) wake?.();
  };
  let measures = 0;
  const measureDeliveredSplit: EngineDeps['measureDeliveredSplit'] = async () => {
    measures += 1;
    if (measures === 1) await nextStepWritten;
    return { askedPercent: 50, verdict: 'not-measured', level: 0.001 } satisfies DeliveredSplit;
  };
  (world.deps as { measureDeliveredSplit?: EngineDeps['measureDeliveredSplit'] }).measureDeliveredSplit =
    measureDeliveredSplit;
  return world;
}

describe('Stale AfterBake: an attempt whose answer was lost stalls past the next shift', () => {
  useVirtualClock();

  it('cannot hide the next bake token: an alarm event still rolls back at once', async () => {
    // Prepare: step 1 bakes 1 s; its AfterBake's first attempt stalls until step 2 (600 s bake) is written.
    const world = stalledAfterBakeWorld();
    const execution = world.start({ plan: '10:1,50:600,100' });
    await vi.advanceTimersByTimeAsync(3000);
    expect(world.elb.weights).toEqual(percentToWeights(50));

    // Act: the alarm fires during the second bake.
    const action = await world.fireAlarm();
    const { value: result, atMs } = await settleWithin(execution.result, 700_000);

    // Assess: the event failed the open token, and the rollback did not wait out the 600 s bake.
    expect(action).toBe('failed-task');
    expect(result).toMatchObject({ status: 'FAILED', error: 'AlarmFired' });
    expect(atMs).toBeLessThan(1000);
    expect(world.elb.weights).toEqual({ source: 1, target: 0 });
  });

  it('cannot hide the next bake token: `swing abort` still rolls back at once', async () => {
    const world = stalledAfterBakeWorld();
    const execution = world.start({ plan: '10:1,50:600,100' });
    await vi.advanceTimersByTimeAsync(3000);

    const abort = await abortRollout(operatorOf(world), 'test');
    const { value: result, atMs } = await settleWithin(execution.result, 700_000);

    expect(abort.delivered).toBe('task-failed');
    expect(result).toMatchObject({ status: 'FAILED', error: 'Aborted' });
    expect(atMs).toBeLessThan(1000);
  });
});
