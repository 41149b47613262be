import { describe, expect, it } from 'vitest';
import type { EngineDeps } from '#domain/engine/deps.ts';
import { SAFETY_NET_WAIT_SECONDS } from '#domain/engine/safety-net.ts';
import { SHIFT_WEIGHTS_TIMEOUT_SECONDS } from '#domain/engine/stale-shift-window.ts';
import { QUIET_AFTER_RELEASE_SECONDS } from '#domain/quiet.ts';
import type { Weights } from '#domain/types.ts';
import { percentToWeights } from '#domain/weights.ts';
import { currentInvocation, LocalStepFunctions } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { ALARM, baking, makeWorld } from '#test/support/rollout-world.ts';

/**
 * Review of issue 20 (fencing, a0c6cf1): every record write of an attempt is fenced, but Rollback's listener write
 * is not, and nothing waits out a Rollback attempt before the lock is released. On AWS a retried Lambda overlaps
 * the attempt it retries (the attempt's answer was lost: Lambda.ServiceException, Retry), and an attempt may stall
 * inside one AWS call (a throttled ModifyListener, SDK retries: up to 21 s, the function's timeout 60 s). The retry
 * restores, RolledBack releases the lock, a new rollout takes it and shifts; then the stale attempt's
 * ModifyListener of the old starting weights lands over the new rollout (I3, I4: a rollout that does not hold the
 * lock writes the listener; the new one then halts on "drift" blamed on a hand change).
 *
 * The fix is a quiet period after each release (quiet.ts): no rollout takes the lock until every attempt of the
 * last one has ended (on AWS, its function timeout; here the stalled attempt is let go within the period, as a
 * Lambda is stopped at its timeout).
 */

const START: Weights = { source: 999, target: 0 };

describe('Review: a stale Rollback attempt', () => {
  it('writes nothing on the listener once the lock was released and a new rollout holds it', async () => {
    // Rollback's first attempt loses its answer at once (its Retry overlaps it), and stalls in its ModifyListener.
    const stepFunctions = new LocalStepFunctions({
      msPerSecond: 1,
      retryDelayMs: 1,
      // As on AWS: the status event does not wait for the execution's Lambdas to end.
      statusEventTiming: 'at-once',
      invocations: (call) =>
        call.stateName === 'Rollback' && call.retryCount === 0 ? { answerLostAfterMs: 1 } : undefined,
    });
    const world = makeWorld({ starting: START, stepFunctions });
    let releaseStall: () => void = () => undefined;
    const stalled = new Promise<void>((resolve) => {
      releaseStall = resolve;
    });
    let staleAttemptStalled = false;
    const real = world.deps.listener;
    const listener: EngineDeps['listener'] = new Proxy(real, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property !== 'writeWeights') return typeof value === 'function' ? value.bind(target) : value;
        return async (weights: Weights) => {
          const call = currentInvocation();
          if (call?.stateName === 'Rollback' && call.retryCount === 0 && !staleAttemptStalled) {
            staleAttemptStalled = true;
            await stalled;
          }
          return real.writeWeights(weights);
        };
      },
    });
    // The engine's clock, which the test moves past the quiet period (the executor's timers run on their own).
    let clockAheadMs = 0;
    const deps: EngineDeps = {
      ...world.deps,
      listener,
      now: () => new Date(Date.now() + clockAheadMs),
      quietAfterReleaseMs: QUIET_AFTER_RELEASE_SECONDS * 1000,
    };

    const first = world.sfn.start(deps, { plan: '10:1000,50:1000,100' });
    await world.until(baking(0), 'bake of step 1 (first rollout)');
    await world.fireAlarm(ALARM);
    expect(await first.result).toMatchObject({ status: 'FAILED' });
    expect(staleAttemptStalled).toBe(true);
    expect(world.elb.weights).toEqual(START);
    expect(await world.lockOwner()).toBeUndefined();
    const quietUntil = (await world.store.get(LISTENER.listenerArn))?.rollout?.quietUntil;
    expect(quietUntil).toBeDefined();

    // The incident is over; the operator starts again at once, with the same plan: refused, naming when.
    world.cloudWatch.set(ALARM, 'OK');
    const tooSoon = world.sfn.start(deps, { plan: '10:1000,50:1000,100' });
    expect(await tooSoon.result).toMatchObject({ status: 'FAILED', error: 'ListenerQuiet' });
    expect(world.notifications.at(-1)).toMatchObject({
      outcome: 'refused',
      reason: { error: 'ListenerQuiet', cause: expect.stringContaining(`quiet until ${quietUntil}`) },
    });
    expect(world.elb.weights).toEqual(START);

    // The first rollout's stale Rollback attempt comes back within the quiet period (on AWS, its Lambda is
    // stopped at its timeout, which the period outlasts).
    releaseStall();
    await first.idle;
    const writesBefore = world.elb.writes.length;

    // After the quiet period the operator starts again.
    clockAheadMs = QUIET_AFTER_RELEASE_SECONDS * 1000 + 1000;
    expect(deps.now().toISOString() > (quietUntil ?? '')).toBe(true);
    const second = world.sfn.start(deps, { plan: '10:1000,50:1000,100' });
    await world.until(
      (rollout) => rollout?.executionArn === second.executionArn && baking(0)(rollout),
      'bake of step 1 (second rollout)',
    );
    expect(world.elb.weights).toEqual(percentToWeights(10));
    // The new rollout, left alone, completes: every write since it started is its own.
    expect(await second.result).toMatchObject({ status: 'SUCCEEDED' });
    expect(
      world.elb.writes.slice(writesBefore),
      'no ModifyListener by an execution that no longer holds the lock',
    ).toEqual([percentToWeights(10), percentToWeights(50), percentToWeights(100)]);
  });
});

describe('The quiet period', () => {
  it("outlasts every attempt that may still act after a release: Rollback's timeout, and the safety net's wait", () => {
    expect(QUIET_AFTER_RELEASE_SECONDS).toBeGreaterThan(SHIFT_WEIGHTS_TIMEOUT_SECONDS * 2);
    expect(QUIET_AFTER_RELEASE_SECONDS).toBeGreaterThanOrEqual(SAFETY_NET_WAIT_SECONDS);
  });
});
