import { describe, expect, it, vi } from 'vitest';
import { abortRollout, promoteGate } from '#domain/operator.ts';
import { percentToWeights } from '#domain/weights.ts';
import type { InvocationCall } from '#local/executor.ts';
import { operatorOf } from '#test/support/rollout-world.ts';
import { settleWithin, useVirtualClock, virtualClockWorld } from '#test/support/virtual-clock.ts';

/**
 * Issue 10, defect 2.1: on AWS a bake's timeout races its invocation, and an invocation that outlives it runs
 * on. These tests run the real ASL on the executor's faithful race, on a virtual clock (fake timers: the
 * executor's seconds are real seconds, which cost nothing), so the order of events is the plan's, not the
 * machine's load.
 */

/** The first bake's invocation starts 3 s late (a cold start): after its 1 s timeout, and after the next bake opened. */
const slowFirstBake = (call: InvocationCall) =>
  call.stateName === 'Bake' && call.retryCount === 0 && call.n === 4 ? { startDelayMs: 3000 } : undefined;

describe('Stale bake token: a bake invocation that outlives its timeout', () => {
  useVirtualClock();

  const start = (plan: string, invocations = slowFirstBake) => {
    const world = virtualClockWorld(invocations);
    return { world, execution: world.start({ plan }) };
  };

  it('cannot store its dead token over the next bake, so an alarm event still rolls back at once', async () => {
    // Prepare: step 1 bakes 1 s (timed out at 1 s); step 2 bakes 600 s from about 1 s; the stale first bake
    // invocation runs at 3 s.
    const { world, execution } = start('10:1,50:600,100');
    await vi.advanceTimersByTimeAsync(4000);
    expect(world.elb.weights).toEqual(percentToWeights(50));

    // Act: the alarm fires during the second bake.
    const action = await world.fireAlarm();
    const { value: result, atMs } = await settleWithin(execution.result, 700_000);

    // Assess: the event failed the open token, and the rollback did not wait for the 600 s bake.
    expect(action).toBe('failed-task');
    expect(result).toMatchObject({ status: 'FAILED', error: 'AlarmFired' });
    expect(atMs).toBeLessThan(1000);
    expect(world.elb.weights).toEqual({ source: 1, target: 0 });
  });

  it('cannot store its dead token over the next bake, so `swing abort` still rolls back at once', async () => {
    const { world, execution } = start('10:1,50:600,100');
    await vi.advanceTimersByTimeAsync(4000);

    const abort = await abortRollout(operatorOf(world), 'test');
    const { value: result, atMs } = await settleWithin(execution.result, 700_000);

    expect(abort.delivered).toBe('task-failed');
    expect(result).toMatchObject({ status: 'FAILED', error: 'Aborted' });
    expect(atMs).toBeLessThan(1000);
  });

  it("cannot store a retried attempt's dead token over the live one (same step, same status)", async () => {
    // Prepare: the first bake attempt's answer is lost at 100 ms (Lambda.ServiceException) while it still
    // starts up; the Retry's second attempt stores its token at about 200 ms; the first one runs at 500 ms.
    const { world, execution } = start('10:600,100', (call) =>
      call.stateName === 'Bake' && call.retryCount === 0
        ? { startDelayMs: 500, answerLostAfterMs: 100 }
        : undefined,
    );
    await vi.advanceTimersByTimeAsync(1000);

    const action = await world.fireAlarm();
    const { value: result, atMs } = await settleWithin(execution.result, 700_000);

    expect(action).toBe('failed-task');
    expect(result).toMatchObject({ status: 'FAILED', error: 'AlarmFired' });
    expect(atMs).toBeLessThan(1000);
  });

  it('cannot let a stale AfterBake attempt (its answer lost) clear the gate that opened since', async () => {
    // Prepare: AfterBake's first answer is lost at once; its Retry decides to hold and the gate opens at about
    // 1.1 s; the first attempt, started 500 ms late, runs at 1.5 s.
    const { world, execution } = start('10:1!,100', (call) =>
      call.stateName === 'AfterBake' && call.retryCount === 0
        ? { startDelayMs: 500, answerLostAfterMs: 0 }
        : undefined,
    );
    await vi.advanceTimersByTimeAsync(2000);

    const promoted = await promoteGate(operatorOf(world));
    const { value: result } = await settleWithin(execution.result, 700_000);

    expect(promoted.delivered).toBe('task-succeeded');
    expect(result).toMatchObject({ status: 'SUCCEEDED' });
  });
});
