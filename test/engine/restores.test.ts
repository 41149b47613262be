import { describe, expect, it } from 'vitest';
import { preflight } from '#domain/engine/preflight.ts';
import type { RolloutPatch, Weights } from '#domain/types.ts';
import { percentToWeights } from '#domain/weights.ts';
import { LocalStepFunctions } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import {
  actingAfterFirstRead,
  baking,
  failingReleases,
  HOLDER,
  holdListener,
  makeWorld,
} from '#test/support/rollout-world.ts';
import { loadDefinition, localFunctionArn } from '../../statemachine/definition.ts';

/**
 * I7's last sentence: a restore never raises the target's share, whatever the record says (issue 10, 2.3);
 * and a rollout Complete had decided is never rolled back (2.5).
 */

const START: Weights = { source: 999, target: 0 };
const ALL_TARGET: Weights = { source: 0, target: 999 };
const stepFunctions = new LocalStepFunctions({ msPerSecond: 1, retryDelayMs: 1 });

/** A caller with only UpdateItem on the record (what `swing abort` needs) aims the restore at the target. */
async function tamperStartingWeights(world: ReturnType<typeof makeWorld>, executionArn: string) {
  await world.store.update(LISTENER.listenerArn, executionArn, {
    startingWeights: ALL_TARGET,
  } as RolloutPatch);
}

describe('A restore never raises the target share', () => {
  it('Rollback halts with RestoreRaisesTarget and writes nothing when the record aims it at the target', async () => {
    const world = makeWorld({ starting: START, stepFunctions });
    const execution = world.start({ plan: '10:1000,50:1000,100' });
    await world.until(baking(0), 'bake of step 1');
    await tamperStartingWeights(world, execution.executionArn);

    await world.fireAlarm();
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'RestoreRaisesTarget' });
    expect(world.elb.writes).toEqual([percentToWeights(10)]);
    expect(world.elb.weights).toEqual(percentToWeights(10));
    expect(world.increasesUnderAlarm).toEqual([]);
    expect(await world.lockOwner()).toBeUndefined();
    expect((await world.store.get(LISTENER.listenerArn))?.history.at(-1)).toMatchObject({
      outcome: 'halted',
      reason: { error: 'RestoreRaisesTarget' },
    });
  });

  it('the safety net halts instead of raising the target share, and frees the lock', async () => {
    const world = makeWorld({ starting: START, stepFunctions });
    const execution = world.start({ plan: '10:1000,50:1000,100' });
    await world.until(baking(0), 'bake of step 1');
    await tamperStartingWeights(world, execution.executionArn);

    execution.stop();

    expect(await execution.result).toMatchObject({
      status: 'ABORTED',
      safetyNet: 'halted-restore-raises-target',
    });
    expect(world.elb.weights).toEqual(percentToWeights(10));
    expect(await world.lockOwner()).toBeUndefined();
    expect(world.notifications.at(-1)).toMatchObject({
      outcome: 'halted',
      reason: { error: 'RestoreRaisesTarget' },
    });
  });

  it('Preflight checks the share again on weights read after it took the lock', async () => {
    // Another rollout holds the listener at 50 % when this start reads it, and releases before the acquire.
    const world = makeWorld({ starting: percentToWeights(50), stepFunctions });
    await holdListener(world.store, {
      startingWeights: START,
      lastWritten: percentToWeights(50),
      step: { targetPercent: 50, bakeSeconds: 0 },
    });
    const starting = 'arn:aws:states:us-east-1:000000000000:execution:swing-rollout:late-start';
    const listener = actingAfterFirstRead(world.deps.listener, () =>
      world.store.release(LISTENER.listenerArn, HOLDER, { outcome: 'completed' }),
    );

    const started = preflight(
      { ...world.deps, listener },
      { executionArn: starting, input: { plan: 'canary' } },
    );

    await expect(started).rejects.toMatchObject({
      name: 'ValidationFailed',
      message: expect.stringContaining('is 5 % but the target already gets 50.05 %'),
    });
    expect(await world.lockOwner()).toBeUndefined();
    expect(world.elb.writes).toEqual([]);
  });
});

describe('A rollout marked completing is never rolled back', () => {
  /** Attempts of the Complete task: its first, plus the retries of its catch-all Retry. */
  function completeAttempts(): number {
    const { States } = loadDefinition(localFunctionArn) as {
      States: { Complete: { Retry: { ErrorEquals: string[]; MaxAttempts: number }[] } };
    };
    const retry = States.Complete.Retry.find((rule) => rule.ErrorEquals.includes('States.ALL'));
    return 1 + (retry?.MaxAttempts ?? 0);
  }

  it('ends in a state the ASL names, and the safety net finishes it as completed', async () => {
    const world = makeWorld({ starting: START, stepFunctions });
    // Complete verifies the final weights and marks the rollout completing; then every one of its attempts
    // fails to release (the table is unreachable). By the time the safety net runs, the table answers.
    const releases = failingReleases(
      world.store,
      (final) => final.outcome === 'completed',
      completeAttempts(),
      () => new Error('DynamoDB is unreachable'),
    );

    const ended = await world.start({ plan: '10:0,100' }).result;

    expect(releases.failed).toBe(completeAttempts());
    expect(ended).toMatchObject({ status: 'FAILED', error: 'CompleteFailed', safetyNet: 'completed' });
    expect(world.elb.weights).toEqual(ALL_TARGET);
    expect(await world.lockOwner()).toBeUndefined();
    expect((await world.store.get(LISTENER.listenerArn))?.history.at(-1)).toMatchObject({
      outcome: 'completed',
      status: 'completed',
    });
    expect(world.notifications.at(-1)).toMatchObject({ outcome: 'completed', finalWeights: ALL_TARGET });
  });
});
