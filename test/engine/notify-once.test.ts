import { describe, expect, it } from 'vitest';
import { abortRollout } from '#domain/operator.ts';
import { baking, failingReleases, makeWorld, operatorOf } from '#test/support/rollout-world.ts';

/**
 * Issue 20: Complete's release failing for good sent a `completed` notification per attempt (12 seen: Complete's
 * 11 attempts and the safety net's). A rollout sends one outcome notification, whoever finishes it.
 */
describe('One outcome notification per rollout', () => {
  it("sends one `completed` notification when Complete's release keeps failing and the safety net finishes it", async () => {
    // Prepare: every release by Complete fails (DynamoDB refusing the item, say); the safety net's succeeds.
    const world = makeWorld();
    const releases = failingReleases(world.store, (final) => final.status === 'completed', 11);

    // Act
    const result = await world.start({ plan: '100' }).result;

    // Assess: Complete failed for good, the safety net finished the rollout as completed, and said so once.
    expect(result).toMatchObject({ status: 'FAILED', error: 'CompleteFailed', safetyNet: 'completed' });
    expect(releases.failed).toBe(11);
    expect(world.notifications.map((notification) => notification.outcome)).toEqual(['completed']);
    expect(await world.lockOwner()).toBeUndefined();
  });

  it('sends one `rolled-back` notification when the release after a rollback keeps failing', async () => {
    const world = makeWorld();
    const releases = failingReleases(world.store, (final) => final.status === 'rolled-back', 11);

    const execution = world.start({ plan: '10:200,100' });
    await world.until(baking(0), 'first bake');

    await abortRollout(operatorOf(world), 'test');
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', safetyNet: 'already-restored' });
    expect(releases.failed).toBe(11);
    expect(world.notifications.map((notification) => notification.outcome)).toEqual(['rolled-back']);
    expect(await world.lockOwner()).toBeUndefined();
  });
});
