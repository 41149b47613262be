import { describe, expect, it } from 'vitest';
import { TransientFailure } from '#domain/errors.ts';
import type { RolloutPatch } from '#domain/types.ts';
import { LocalStepFunctions } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { baking, failingReleases, losingStatusEvents, makeWorld } from '#test/support/rollout-world.ts';

/**
 * Issue 20, defects the fault model found after defect 9's fix: a halt on a malformed record notifies once,
 * whoever halts and however often it is tried.
 */

const statusEventsLost = losingStatusEvents();

describe('A halt on a malformed record', () => {
  it('notifies once when the reconciler must try it twice (its first release failed)', async () => {
    const world = makeWorld({ stepFunctions: statusEventsLost });
    const execution = world.start({ plan: '10:1000,50:1000,100' });
    await world.until(baking(0), 'bake of step 1');
    await world.store.update(LISTENER.listenerArn, execution.executionArn, {
      startingWeights: null,
    } as unknown as RolloutPatch);
    execution.stop();
    await execution.result;
    const releases = failingReleases(world.store, (final) => final.status === 'halted', 1);

    await expect(statusEventsLost.reconcile(world.deps)).rejects.toThrow(TransientFailure);
    expect(await statusEventsLost.reconcile(world.deps)).toMatchObject({
      action: 'halted-record-malformed',
    });

    expect(releases.failed).toBe(1);
    expect(await world.lockOwner()).toBeUndefined();
    expect(world.notifications.map((notification) => notification.outcome)).toEqual(['halted']);
    expect(world.notifications[0]).toMatchObject({ reason: { error: 'RecordMalformed' } });
  });
});

describe('Complete on a malformed record', () => {
  it('halts at once with RecordMalformed (no retries, no CompleteFailed left to the safety net)', async () => {
    const completes: number[] = [];
    const stepFunctions = new LocalStepFunctions({
      msPerSecond: 1,
      retryDelayMs: 1,
      invocations: (call) => {
        if (call.stateName === 'Complete') completes.push(call.retryCount);
        return undefined;
      },
    });
    const world = makeWorld({ stepFunctions });
    const execution = world.start({ plan: '50:1,100:1000' });
    await world.until(baking(1), 'bake of the last step');
    await world.store.update(LISTENER.listenerArn, execution.executionArn, {
      lastWritten: null,
    } as unknown as RolloutPatch);

    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED' });
    // The Halt state released the lock: the safety net finds nothing to settle.
    expect(result).toMatchObject({ error: 'RecordMalformed', safetyNet: 'nothing-held' });
    expect(completes).toEqual([0]);
    expect(await world.lockOwner()).toBeUndefined();
    expect((await world.store.get(LISTENER.listenerArn))?.history.at(-1)).toMatchObject({
      outcome: 'halted',
      reason: { error: 'RecordMalformed', cause: expect.stringContaining('swing rollback --force') },
    });
    expect(world.notifications.map((notification) => notification.outcome)).toEqual(['halted']);
    expect(world.elb.weights).toEqual({ source: 0, target: 999 });
  });
});

describe("Preflight's check after the lock on a malformed record", () => {
  it('halts with RecordMalformed and notifies once (not refused and halted), writing nothing', async () => {
    const world = makeWorld();
    const acquire = world.store.acquire.bind(world.store);
    world.store.acquire = async (listenerArn, rollout) => {
      const taken = await acquire(listenerArn, rollout);
      // Damaged between the lock's write and the check that reads it back (an edit by hand, a bad migration).
      await world.store.update(listenerArn, rollout.executionArn, {
        startingWeights: null,
      } as unknown as RolloutPatch);
      return taken;
    };

    const result = await world.start({ plan: '10:1000,100' }).result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'RecordMalformed' });
    expect(world.notifications).toHaveLength(1);
    expect(world.notifications[0]).toMatchObject({
      outcome: 'halted',
      reason: { error: 'RecordMalformed', cause: expect.stringContaining('startingWeights is null') },
    });
    expect(world.elb.writes).toEqual([]);
    expect(await world.lockOwner()).toBeUndefined();
    expect((await world.store.get(LISTENER.listenerArn))?.history.at(-1)).toMatchObject({
      outcome: 'halted',
    });
  });
});
