import { describe, expect, it } from 'vitest';
import { preflight } from '#domain/engine/preflight.ts';
import { safetyNet } from '#domain/engine/safety-net.ts';
import { shiftWeights } from '#domain/engine/shift-weights.ts';
import { reconcile } from '#domain/reconciler.ts';
import type { Weights } from '#domain/types.ts';
import { percentToWeights } from '#domain/weights.ts';
import { makeWorld } from '#test/support/rollout-world.ts';

/**
 * Review 3 of issue 20: Step Functions' RedriveExecution during the safety net's wait.
 *
 * A Standard execution that ended FAILED, ABORTED or TIMED_OUT can be redriven (RedriveExecution, the console's
 * "Redrive" button) for 14 days: it runs again, SAME execution ARN, from the state that did not succeed, with a new
 * $$.State.EnteredTime (so its fence is newer than every earlier attempt). The safety net sleeps 75 s after the
 * stop (waitOutInFlightTasks), then re-reads only the RECORD: it never asks Step Functions whether the execution
 * runs again (the reconciler does, and treats RUNNING/PENDING_REDRIVE as running). The wait outlasts tasks started
 * BEFORE the stop; a redriven task starts after it.
 *
 * Sequence:
 *  1. All-mode rollout 0 -> 10 % -> 50 %: step 1 (10 %) written; the execution fails outside the catch paths
 *     (or is stopped) at T while entering step 2. The status event starts the safety net, which sleeps till T+75 s.
 *  2. At about T+70 s an operator redrives the execution. Its ShiftWeights for step 2 reads the lock (still held
 *     by this very ARN), passes its fenced pending write, and its ModifyListener is throttled (SDK retries, within
 *     its 30 s timeout).
 *  3. At T+75 s the safety net acts: the listener is at step 1 (lastWritten): it restores 0 % and releases.
 *  4. The redriven ModifyListener lands: 50 % to the target. Its record write finds the lock gone (LockLost) ->
 *     Halt -> nothing held -> FAILED again; that status event's safety net finds the lock not held: nothing-held.
 *     The reconciler sees a free lock and sweeps rules only.
 *
 * Breaks I1/I7 (every execution ends with the listener at its starting weights, the safety net restores): the
 * listener stays at 50 % to the target with no lock and nobody to restore it; the quiet period only keeps a new
 * rollout out. How sure AWS allows it: redrive of FAILED/ABORTED/TIMED_OUT Standard executions is documented, keeps
 * the execution ARN, and does not stop the pending async safety-net invocation; needs a human redrive within the
 * 75 s and a slow ModifyListener (or the redriven task starting at ~T+75 s).
 */
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:swing:redriven';

describe('Review 3: the execution redriven while its safety net waits', () => {
  it('leaves the listener at the starting weights once the lock is free', async () => {
    const world = makeWorld({ starting: { source: 999, target: 0 } });
    const start: Weights = world.elb.weights;
    await preflight(world.deps, { executionArn: EXECUTION, input: { plan: '10:60,50:60' } });
    const t0 = new Date(Date.now() - 60_000).toISOString();
    await shiftWeights(world.deps, {
      executionArn: EXECUTION,
      index: 0,
      stateEnteredTime: t0,
      retryCount: 0,
    });
    expect(world.elb.weights).toEqual(percentToWeights(10));

    // 2. The redriven ShiftWeights of step 2, its ModifyListener throttled until released.
    let releaseThrottle: () => void = () => undefined;
    const throttle = new Promise<void>((resolve) => {
      releaseThrottle = resolve;
    });
    let redriveStalled = false;
    const slowListener = {
      ...world.deps.listener,
      readWeights: () => world.deps.listener.readWeights(),
      healthyTargetCount: () => world.deps.listener.healthyTargetCount(),
      stickinessSeconds: () => world.deps.listener.stickinessSeconds(),
      writeWeights: async (weights: Weights) => {
        redriveStalled = true;
        await throttle;
        return world.deps.listener.writeWeights(weights);
      },
    };
    let redriven: Promise<unknown> | undefined;

    // 1. + 3. The safety net for the stop at T; during its wait (the sleep) the operator redrives.
    const stoppedAt = new Date();
    const action = await safetyNet(
      {
        ...world.deps,
        waitAfterStopMs: 75_000,
        // Step Functions: the redrive runs the same ARN again.
        executions: {
          describe: async () => (redriven ? { status: 'RUNNING' } : { status: 'FAILED', stoppedAt }),
        },
        sleep: async () => {
          redriven = shiftWeights(
            { ...world.deps, listener: slowListener },
            { executionArn: EXECUTION, index: 1, stateEnteredTime: new Date().toISOString(), retryCount: 0 },
          ).catch((error: unknown) => error);
          await world.until(() => redriveStalled, "the redriven step's ModifyListener under way");
        },
      },
      {
        source: 'aws.states',
        'detail-type': 'Step Functions Execution Status Change',
        time: stoppedAt.toISOString(),
        detail: { executionArn: EXECUTION, status: 'FAILED' },
      },
    );
    // The fix: after its wait the safety net asks Step Functions, finds the execution running again and leaves it
    // to its own paths (it restored and released under the redriven step before).
    expect(action).toBe('redriven');
    expect(await world.lockOwner()).toBe(EXECUTION);

    // 4. The throttled ModifyListener lands under the lock it still holds; the redriven execution then fails
    // again and, its status event lost, the reconciler settles it.
    releaseThrottle();
    await redriven;
    const later = new Date(Date.now() + 3_600_000);
    const run = await reconcile({
      ...world.deps,
      now: () => later,
      executions: { describe: async () => ({ status: 'FAILED', stoppedAt: new Date() }) },
    });

    const lock = await world.lockOwner();
    expect(
      { listener: world.elb.weights, lockHeld: lock !== undefined },
      `reconciler: ${run.action}; with the lock free, the listener must be back at the starting weights`,
    ).toEqual({ listener: start, lockHeld: false });
  });

  it('leaves an execution redriven and ended again to the safety net of its later end', async () => {
    const world = makeWorld({ starting: { source: 999, target: 0 } });
    await preflight(world.deps, { executionArn: EXECUTION, input: { plan: '10:60,50:60' } });
    await shiftWeights(world.deps, { executionArn: EXECUTION, index: 0, retryCount: 0 });
    const firstStop = new Date(Date.now() - 80_000);
    const event = (at: Date) => ({
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      time: at.toISOString(),
      detail: { executionArn: EXECUTION, status: 'FAILED' },
    });
    // Redriven, then failed again 10 s before now: its tasks may still act for 65 s.
    const laterStop = new Date(Date.now() - 10_000);
    const executions = { describe: async () => ({ status: 'FAILED' as const, stoppedAt: laterStop }) };
    const first = await safetyNet({ ...world.deps, waitAfterStopMs: 75_000, executions }, event(firstStop));
    expect(first).toBe('redriven');
    expect(world.elb.weights).toEqual(percentToWeights(10));
    // The later end's own event: its safety net waits 75 s after it, then restores.
    const second = await safetyNet(
      { ...world.deps, waitAfterStopMs: 75_000, sleep: async () => {}, executions },
      event(laterStop),
    );
    expect(second).toBe('restored');
    expect(world.elb.weights).toEqual({ source: 999, target: 0 });
    expect(await world.lockOwner()).toBeUndefined();
  });
});
