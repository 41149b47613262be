import { describe, expect, it } from 'vitest';
import type { RolloutPatch } from '#domain/types.ts';
import { percentToWeights } from '#domain/weights.ts';
import { LocalStepFunctions } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { baking, makeWorld } from '#test/support/rollout-world.ts';

/**
 * Issue 20, defect 9: a record whose starting weights are null, 0/0 or missing. Every path that reads them
 * (Rollback, the safety net, the reconciler) halts with RecordMalformed, notifies, leaves the listener as it
 * is, frees the lock, and names the operator's way out (`swing rollback --force`).
 */

const START = { source: 999, target: 0 };
const stepFunctions = new LocalStepFunctions({ msPerSecond: 1, retryDelayMs: 1 });
const losingStatusEvents = new LocalStepFunctions({
  msPerSecond: 1,
  retryDelayMs: 1,
  deliverStatusEvent: () => false,
});

const CORRUPTIONS: [string, RolloutPatch][] = [
  ['null', { startingWeights: null } as unknown as RolloutPatch],
  ['0/0', { startingWeights: { source: 0, target: 0 } } as unknown as RolloutPatch],
  // A key patched to undefined is removed from the record.
  ['missing', { startingWeights: undefined } as unknown as RolloutPatch],
];

async function corruptedAtBake(executor: LocalStepFunctions, corruption: RolloutPatch) {
  const world = makeWorld({ starting: START, stepFunctions: executor });
  const execution = world.start({ plan: '10:1000,50:1000,100' });
  await world.until(baking(0), 'bake of step 1');
  await world.store.update(LISTENER.listenerArn, execution.executionArn, corruption);
  return { world, execution };
}

async function expectHaltedLeavingTheListener(world: ReturnType<typeof makeWorld>) {
  expect(world.elb.writes).toEqual([percentToWeights(10)]);
  expect(world.elb.weights).toEqual(percentToWeights(10));
  expect(await world.lockOwner()).toBeUndefined();
  expect((await world.store.get(LISTENER.listenerArn))?.history.at(-1)).toMatchObject({
    outcome: 'halted',
    reason: { error: 'RecordMalformed', cause: expect.stringContaining('swing rollback --force') },
  });
  expect(world.notifications.at(-1)).toMatchObject({
    outcome: 'halted',
    reason: { error: 'RecordMalformed', cause: expect.stringContaining('startingWeights') },
  });
}

describe.each(CORRUPTIONS)('A record whose startingWeights is %s', (_, corruption) => {
  it('makes Rollback halt with RecordMalformed, leaving the listener as it is', async () => {
    const { world, execution } = await corruptedAtBake(stepFunctions, corruption);

    await world.fireAlarm();
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED' });
    await expectHaltedLeavingTheListener(world);
  });

  it('makes the safety net halt with RecordMalformed for a stopped execution', async () => {
    const { world, execution } = await corruptedAtBake(stepFunctions, corruption);

    execution.stop();

    expect(await execution.result).toMatchObject({ status: 'ABORTED', safetyNet: 'halted-record-malformed' });
    await expectHaltedLeavingTheListener(world);
  });

  it('makes the reconciler halt with RecordMalformed once, then find the lock free', async () => {
    const { world, execution } = await corruptedAtBake(losingStatusEvents, corruption);

    execution.stop();
    await execution.result;
    const reconciled = await losingStatusEvents.reconcile(world.deps);

    expect(reconciled).toMatchObject({ action: 'halted-record-malformed' });
    await expectHaltedLeavingTheListener(world);
    expect(await losingStatusEvents.reconcile(world.deps)).toEqual({ action: 'free' });
  });
});
