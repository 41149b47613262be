import { describe, expect, it } from 'vitest';
import type { RolloutStore, SwingRulesPort } from '#domain/types.ts';
import { currentInvocation } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { freezeAnswerLost, inStaleFreeze, losslessWorld, START } from '#test/support/lossless-world.ts';
import { ALARM } from '#test/support/rollout-world.ts';

/**
 * The other side of review4-stale-freeze: a stale Freeze attempt (its answer lost, its Retry froze) whose
 * CreateRules land after Rollback read and removed the freeze rules, and whose checks between them all come before
 * Rollback recorded the lift: each check sees the freeze standing, so the attempt keeps its rules. Finalize's look
 * after the release (sweepLateFreezeRules) removes them.
 */

describe('A stale Freeze attempt whose rules land between the lift and its record', () => {
  it('leaves no freeze rule once the rollout has released the lock', async () => {
    // The Freeze state's first attempt loses its answer; the reverse replayer drains: the Retry's drain ends at once.
    const run = losslessWorld({ stepFunctions: freezeAnswerLost() });
    const { world, execution } = run;
    run.reverse.drained = true;
    let liftRead: () => void = () => undefined;
    const rollbackRemoved = new Promise<void>((resolve) => {
      liftRead = resolve;
    });
    let staleDone: () => void = () => undefined;
    const staleFinished = new Promise<void>((resolve) => {
      staleDone = resolve;
    });
    const real = world.deps.swingRules as SwingRulesPort;
    const swingRules: SwingRulesPort = Object.assign(Object.create(real), {
      createRule: async (...args: Parameters<SwingRulesPort['createRule']>) => {
        // The stale attempt's second CreateRule lands only once Rollback has removed the freeze it read.
        if (inStaleFreeze() && args[0].name === 'freeze-writes') await rollbackRemoved;
        return real.createRule(...args);
      },
      deleteRule: async (arn: string) => {
        await real.deleteRule(arn);
        if (currentInvocation()?.stateName === 'Rollback') liftRead();
      },
    });
    const store = world.deps.store;
    const heldStore: RolloutStore = Object.assign(Object.create(store), {
      update: async (...args: Parameters<RolloutStore['update']>) => {
        const [, , patch] = args;
        // Rollback records the lift only once the stale attempt has made and checked every rule.
        if (currentInvocation()?.stateName === 'Rollback' && patch.freeze?.liftedAt) await staleFinished;
        const updated = await store.update(...args);
        // The stale attempt's last write: every rule made and checked (each check saw the freeze standing).
        if (inStaleFreeze() && patch.freeze?.frozenAt) staleDone();
        return updated;
      },
    });
    Object.assign(world.deps, { store: heldStore, swingRules });
    await run.inCutoverBake();
    await world.fireAlarm(ALARM);
    await execution.result;
    await execution.idle;

    const record = await world.store.get(LISTENER.listenerArn);
    expect(record?.lockOwner).toBeUndefined();
    expect(world.elb.weights).toEqual(START);
    expect(
      world.elb.swingRules.map((rule) => rule.tags.find((tag) => tag.Key === 'swing:rule')?.Value),
    ).toEqual([]);
  });
});
