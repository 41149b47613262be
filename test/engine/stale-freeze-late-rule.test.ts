import { describe, expect, it } from 'vitest';
import type { EngineDeps } from '#domain/engine/deps.ts';
import type { ReplayLagVerdict, RolloutStore, SwingRulesPort, Weights } from '#domain/types.ts';
import { currentInvocation, LocalStepFunctions } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { LAG_ALARM, replayLagCutover } from '#test/support/reads-first-world.ts';
import { ALARM, baking, makeWorld } from '#test/support/rollout-world.ts';

/**
 * The other side of review4-stale-freeze: a stale Freeze attempt (its answer lost, its Retry froze) whose
 * CreateRules land after Rollback read and removed the freeze rules, and whose checks between them all come before
 * Rollback recorded the lift: each check sees the freeze standing, so the attempt keeps its rules. Finalize's look
 * after the release (sweepLateFreezeRules) removes them.
 */

const START: Weights = { source: 999, target: 0 };

const isStale = () => {
  const call = currentInvocation();
  return call?.stateName === 'Freeze' && call.retryCount === 0;
};

describe('A stale Freeze attempt whose rules land between the lift and its record', () => {
  it('leaves no freeze rule once the rollout has released the lock', async () => {
    const sfn = new LocalStepFunctions({
      msPerSecond: 1,
      retryDelayMs: 1,
      invocations: (call) =>
        call.stateName === 'Freeze' && call.retryCount === 0 ? { answerLostAfterMs: 20 } : undefined,
    });
    const world = makeWorld({ starting: START, stepFunctions: sfn });
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
        if (isStale() && args[0].name === 'freeze-writes') await rollbackRemoved;
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
        if (isStale() && patch.freeze?.frozenAt) staleDone();
        return updated;
      },
    });
    const deps: EngineDeps = {
      ...world.deps,
      store: heldStore,
      swingRules,
      replayLag: {
        check: async (): Promise<ReplayLagVerdict> => ({ caughtUp: true, detail: `${LAG_ALARM} is OK` }),
      },
      targetRequests: { countBetween: async () => 40 },
      replayLagAlarm: LAG_ALARM,
      reverseCapture: { lagAlarm: 'swing-reverse-lag', missingData: 'lagging', drainTimeoutSeconds: 600 },
      reverseReplay: { check: async () => ({ drained: true, detail: 'swing-reverse-lag is OK' }) },
    };
    const execution = world.sfn.start(deps, {
      traffic: 'reads-first',
      plan: '100:1',
      readsFirst: { ...replayLagCutover(), cutoverBakeSeconds: 80_000, afterCutover: 'rollback' },
    });
    await world.until(
      (rollout) => baking(1)(rollout) && rollout?.cutoverAt !== undefined,
      'the cutover bake',
    );
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
