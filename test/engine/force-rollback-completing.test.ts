import { describe, expect, it } from 'vitest';
import { preflight } from '#domain/engine/preflight.ts';
import { shiftWeights } from '#domain/engine/shift-weights.ts';
import { forceRollback } from '#domain/force-rollback.ts';
import { reconcile } from '#domain/reconciler.ts';
import { percentToWeights } from '#domain/weights.ts';
import { forceRollbackDeps, holderExecutions } from '#test/support/forced-rollback.ts';
import { makeWorld } from '#test/support/rollout-world.ts';

/**
 * `swing rollback --force` on a rollout Complete has marked `completing` (it verified the final weights): while
 * the holder may still finish it, the command refuses, as `swing abort` does; once the holder has ended (Complete
 * failed for good), it restores, and whoever settles the lock records a rollback, not a completed rollout.
 */
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:swing:completing';

async function completingWorld() {
  const world = makeWorld({ starting: percentToWeights(0) });
  await preflight(world.deps, { executionArn: EXECUTION, input: { plan: '100:1' } });
  await shiftWeights(world.deps, { executionArn: EXECUTION, index: 0 });
  await world.store.update(world.deps.listenerArn, EXECUTION, { status: 'completing' });
  return world;
}

describe('swing rollback --force on a rollout Complete marked completing', () => {
  it('refuses while the holder may still finish it, changing nothing', async () => {
    const world = await completingWorld();

    const result = await forceRollback(
      forceRollbackDeps(world, { executions: holderExecutions('RUNNING') }),
      { releaseLock: false },
    );

    expect(result).toMatchObject({ kind: 'refused', why: 'completing' });
    expect(world.elb.weights).toEqual(percentToWeights(100));
    expect((await world.store.get(world.deps.listenerArn))?.rollout?.forcedRollbackAt).toBeUndefined();
  });

  it('restores once the holder has ended, and the reconciler records a rollback, not a completion', async () => {
    const world = await completingWorld();
    const endedAt = new Date(Date.now() - 180_000);
    const deps = forceRollbackDeps(world, { executions: holderExecutions('FAILED', endedAt) });

    const result = await forceRollback(deps, { releaseLock: false });
    const run = await reconcile({ ...world.deps, executions: deps.executions, waitAfterStopMs: 75_000 });

    expect(result).toMatchObject({ kind: 'done' });
    expect(world.elb.weights).toEqual(percentToWeights(0));
    const last = (await world.store.get(world.deps.listenerArn))?.history.at(-1);
    expect({ action: run.action, outcome: last?.outcome }).toMatchObject({
      action: expect.stringMatching(/restored/),
      outcome: 'rolled-back',
    });
    expect(world.notifications.map((notification) => notification.outcome)).toEqual(['rolled-back']);
  });
});
