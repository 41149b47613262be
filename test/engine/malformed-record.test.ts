import { describe, expect, it } from 'vitest';
import type { RolloutPatch } from '#domain/types.ts';
import { percentToWeights } from '#domain/weights.ts';
import { LocalStepFunctions } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { baking, losingStatusEvents, makeWorld } from '#test/support/rollout-world.ts';

/**
 * Issue 20, defect 9: a record damaged in a field the restore paths read (the starting weights null, 0/0 or
 * missing; the last written weights or a begun write's weights null; the plan's steps gone). Every path that
 * reads it (Rollback, the safety net, the reconciler) halts with RecordMalformed, not a TypeError: it notifies,
 * leaves the listener as it is, frees the lock, and names the operator's way out (`swing rollback --force`).
 */

const START = { source: 999, target: 0 };
const stepFunctions = new LocalStepFunctions({ msPerSecond: 1, retryDelayMs: 1 });
const statusEventsLost = losingStatusEvents();

const CORRUPTIONS: [string, string, RolloutPatch][] = [
  ['startingWeights is null', 'startingWeights', { startingWeights: null } as unknown as RolloutPatch],
  [
    'startingWeights is 0/0',
    'startingWeights',
    { startingWeights: { source: 0, target: 0 } } as unknown as RolloutPatch,
  ],
  // A key patched to undefined is removed from the record.
  [
    'startingWeights is missing',
    'startingWeights',
    { startingWeights: undefined } as unknown as RolloutPatch,
  ],
  ['lastWritten is null', 'lastWritten', { lastWritten: null } as unknown as RolloutPatch],
  ['pendingWeights is null', 'pendingWeights', { pendingWeights: null } as unknown as RolloutPatch],
  ['plan has no steps', 'plan', { plan: { steps: null } } as unknown as RolloutPatch],
];

async function corruptedAtBake(executor: LocalStepFunctions, corruption: RolloutPatch) {
  const world = makeWorld({ starting: START, stepFunctions: executor });
  const execution = world.start({ plan: '10:1000,50:1000,100' });
  await world.until(baking(0), 'bake of step 1');
  await world.store.update(LISTENER.listenerArn, execution.executionArn, corruption);
  return { world, execution };
}

async function expectHaltedLeavingTheListener(world: ReturnType<typeof makeWorld>, field: string) {
  expect(world.elb.writes).toEqual([percentToWeights(10)]);
  expect(world.elb.weights).toEqual(percentToWeights(10));
  expect(await world.lockOwner()).toBeUndefined();
  expect((await world.store.get(LISTENER.listenerArn))?.history.at(-1)).toMatchObject({
    outcome: 'halted',
    reason: { error: 'RecordMalformed', cause: expect.stringContaining('swing rollback --force') },
  });
  expect(world.notifications.at(-1)).toMatchObject({
    outcome: 'halted',
    reason: { error: 'RecordMalformed', cause: expect.stringContaining(field) },
  });
}

describe.each(CORRUPTIONS)('A record whose %s', (_, field, corruption) => {
  it('makes Rollback halt with RecordMalformed, leaving the listener as it is', async () => {
    const { world, execution } = await corruptedAtBake(stepFunctions, corruption);

    await world.fireAlarm();
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED' });
    await expectHaltedLeavingTheListener(world, field);
  });

  it('makes the safety net halt with RecordMalformed for a stopped execution', async () => {
    const { world, execution } = await corruptedAtBake(stepFunctions, corruption);

    execution.stop();

    expect(await execution.result).toMatchObject({ status: 'ABORTED', safetyNet: 'halted-record-malformed' });
    await expectHaltedLeavingTheListener(world, field);
  });

  it('makes the reconciler halt with RecordMalformed once, then find the lock free', async () => {
    const { world, execution } = await corruptedAtBake(statusEventsLost, corruption);

    execution.stop();
    await execution.result;
    const reconciled = await statusEventsLost.reconcile(world.deps);

    expect(reconciled).toMatchObject({ action: 'halted-record-malformed' });
    await expectHaltedLeavingTheListener(world, field);
    expect(await statusEventsLost.reconcile(world.deps)).toEqual({ action: 'free' });
  });
});
