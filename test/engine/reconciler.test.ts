import { describe, expect, it } from 'vitest';
import { type ReconcilerDeps, reconcile } from '#domain/reconciler.ts';
import type { ExecutionStatusPort, Weights } from '#domain/types.ts';
import { percentToWeights } from '#domain/weights.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { baking, listenerWritesSince, losingStatusEvents, makeWorld } from '#test/support/rollout-world.ts';

/**
 * EventBridge delivers execution-status events best effort: these rollouts end outside the catch paths with
 * that event lost, so no safety net runs and only the scheduled reconciler can settle the lock. Each test
 * calls the reconciler as its schedule would, against the real ASL run by the local executor.
 */

const START: Weights = { source: 999, target: 0 };
// One executor for the file (building one validates the ASL, which costs more than these rollouts); it
// loses every execution-status event.
const stepFunctions = losingStatusEvents();

/**
 * A rollout stopped from outside during the bake of step 2 (50 %), its status event lost. Step 1 bakes one
 * second (a millisecond here), so that reaching step 2 takes no real time; step 2 bakes long enough to act in.
 */
async function stoppedWithLostEvent() {
  const world = makeWorld({ starting: START, stepFunctions });
  const execution = world.start({ plan: '10:1,50:1000,100' });
  await world.until(baking(1), 'bake of step 2');
  return { world, execution };
}

const failingDescribe = (name = 'ThrottlingException'): ExecutionStatusPort => ({
  describe: async () => {
    const error = new Error('Rate exceeded');
    error.name = name;
    throw error;
  },
});

describe('Reconciler: a lock whose holder ended and whose status event was lost', () => {
  it('restores the starting weights and frees the lock when the stop event never arrives', async () => {
    const { world, execution } = await stoppedWithLostEvent();

    execution.stop();
    const result = await execution.result;
    // Without the event nothing else acts: the lock is still held by an execution that no longer runs.
    expect(result).toMatchObject({ status: 'ABORTED', statusEventLost: true });
    expect(result.safetyNet).toBeUndefined();
    expect(await world.lockOwner()).toBe(execution.executionArn);
    expect(world.elb.weights).toEqual(percentToWeights(50));

    const reconciled = await world.sfn.reconcile(world.deps);

    expect(reconciled).toMatchObject({ action: 'restored', holderStatus: 'ABORTED' });
    expect(world.elb.weights).toEqual(START);
    expect(await world.lockOwner()).toBeUndefined();
    expect((await world.store.get(LISTENER.listenerArn))?.history.at(-1)).toMatchObject({
      executionArn: execution.executionArn,
      outcome: 'rolled-back',
      restored: true,
      reason: { error: 'ExecutionAborted' },
    });
    expect(world.notifications.at(-1)).toMatchObject({ outcome: 'rolled-back' });
    expect(await world.sfn.reconcile(world.deps)).toEqual({ action: 'free' });
  });

  it('halts, leaving a hand change alone, and frees the lock when the stop event never arrives', async () => {
    const { world, execution } = await stoppedWithLostEvent();
    world.elb.setByHand({ source: 3, target: 7 });

    execution.stop();
    await execution.result;
    const reconciled = await world.sfn.reconcile(world.deps);

    expect(reconciled).toMatchObject({ action: 'halted-drift' });
    expect(world.elb.weights).toEqual({ source: 3, target: 7 });
    expect(await world.lockOwner()).toBeUndefined();
    expect((await world.store.get(LISTENER.listenerArn))?.history.at(-1)).toMatchObject({
      outcome: 'halted',
    });
  });

  it('halts on a hand change its Rollback found and recorded, even undone since, writing nothing', async () => {
    const { world, execution } = await stoppedWithLostEvent();
    execution.stop();
    await execution.result;
    // What a Rollback that found a hand change records (rolling-back, WeightsDrifted) before its Halt; the operator
    // has put the listener back at Swing's weights since, and the execution ended without releasing the lock.
    const found = {
      error: 'WeightsDrifted',
      cause: 'listener was set to 30/70 by hand. Then AlarmFired: alarm fired',
      alarm: 'swing-alarm',
      at: '2026-12-07T18:00:00.000Z',
    };
    await world.store.update(LISTENER.listenerArn, execution.executionArn, {
      status: 'rolling-back',
      reason: found,
    });
    const writes = world.elb.log.length;

    expect(await world.sfn.reconcile(world.deps)).toMatchObject({ action: 'halted-drift' });
    expect(listenerWritesSince(world.elb, writes)).toEqual([]);
    expect(world.elb.weights).toEqual(percentToWeights(50));
    expect(await world.lockOwner()).toBeUndefined();
    expect((await world.store.get(LISTENER.listenerArn))?.history.at(-1)).toMatchObject({
      outcome: 'halted',
      reason: found,
    });
    expect(world.notifications.at(-1)).toMatchObject({ outcome: 'halted', reason: found });
  });

  it('leaves a running holder alone', async () => {
    const { world, execution } = await stoppedWithLostEvent();
    const writes = world.elb.writes.length;

    expect(await world.sfn.reconcile(world.deps)).toMatchObject({
      action: 'holder-running',
      holderStatus: 'RUNNING',
    });
    expect(world.elb.writes).toHaveLength(writes);
    expect(await world.lockOwner()).toBe(execution.executionArn);
    execution.stop();
    await execution.result;
  });

  it('waits out the tasks of a holder that ended moments ago, as the safety net does, and acts on a later run', async () => {
    const { world, execution } = await stoppedWithLostEvent();
    execution.stop();
    await execution.result;
    let now = Date.now();
    const deps: ReconcilerDeps = {
      ...world.deps,
      executions: world.sfn,
      waitAfterStopMs: 75_000,
      now: () => new Date(now),
    };

    expect(await reconcile(deps)).toMatchObject({ action: 'holder-just-ended' });
    expect(await world.lockOwner()).toBe(execution.executionArn);
    expect(world.elb.weights).toEqual(percentToWeights(50));

    now += 75_000;
    expect(await reconcile(deps)).toMatchObject({ action: 'restored' });
    expect(world.elb.weights).toEqual(START);
    expect(await world.lockOwner()).toBeUndefined();
  });

  it('leaves the lock when it cannot learn the holder status, counts the runs and notifies once after three', async () => {
    const { world, execution } = await stoppedWithLostEvent();
    execution.stop();
    await execution.result;
    const deps: ReconcilerDeps = { ...world.deps, executions: failingDescribe('AccessDeniedException') };

    const runs = [];
    for (let run = 0; run < 4; run += 1) runs.push(await reconcile(deps));

    expect(runs.map((run) => [run.action, run.failures])).toEqual([
      ['status-unknown', 1],
      ['status-unknown', 2],
      ['status-unknown', 3],
      ['status-unknown', 4],
    ]);
    expect(await world.lockOwner()).toBe(execution.executionArn);
    expect(world.elb.weights).toEqual(percentToWeights(50));
    expect((await world.rollout())?.reconcileFailures).toBe(4);
    const stuck = world.notifications.filter((notification) => notification.outcome === 'stuck');
    expect(stuck).toHaveLength(1);
    expect(stuck[0]).toMatchObject({
      executionArn: execution.executionArn,
      reason: { error: 'AccessDeniedException' },
    });
    expect(stuck[0]?.reason?.cause).toContain('3 runs in a row');

    // Once the status can be read again, the count is cleared and the lock settled.
    expect(await world.sfn.reconcile(world.deps)).toMatchObject({ action: 'restored' });
    expect(await world.lockOwner()).toBeUndefined();
    expect((await world.store.get(LISTENER.listenerArn))?.history.at(-1)?.reconcileFailures).toBeUndefined();
  });

  it('does nothing when no lock is held', async () => {
    const world = makeWorld({ starting: START, stepFunctions });

    expect(await reconcile({ ...world.deps, executions: failingDescribe() })).toEqual({ action: 'free' });
    expect(world.elb.writes).toEqual([]);
    expect(world.notifications).toEqual([]);
  });
});
