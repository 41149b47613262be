import { describe, expect, it } from 'vitest';
import { reconcile } from '#domain/reconciler.ts';
import type { Weights } from '#domain/types.ts';
import { percentToWeights } from '#domain/weights.ts';
import { compileConditions, firstMatchingRule, parseRequest } from '#local/alb-rules.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';
import { baking } from '#test/support/rollout-world.ts';

/**
 * An adversarial review of reads-first: each test stages an AWS behaviour (an execution stopped or failed
 * outside the catch paths, a late or repeated replay-lag event) against a guarantee of issue 11.
 */

const START: Weights = { source: 999, target: 0 };

/** Which cluster the weighted listener sends a request to, by ALB's rule evaluation: certain, or a weighted split. */
function clusterOf(world: ReturnType<typeof readsFirstWorld>, method: string, url: string): string {
  const rules = world.elb.currentRules.map((rule) => ({
    priority: Number(rule.Priority),
    matches: compileConditions(rule.Conditions ?? []),
    weights: world.elb.ruleWeights(rule),
  }));
  const rule = firstMatchingRule(rules, parseRequest({ method, url, headers: {} }));
  const weights = rule?.weights ?? world.elb.weights;
  return weights.target === 0 ? 'source' : weights.source === 0 ? 'target' : 'split';
}

const cutoverBaking = (rollout: Parameters<ReturnType<typeof baking>>[0]) =>
  baking(1)(rollout) && rollout?.cutoverAt !== undefined;

const autoCutover = replayLagCutover({ cutoverBakeSeconds: 1000 });

describe('Review: a rollout ended outside its catch paths after the write cutover', () => {
  it('reports the write exposure when the safety net restores a stopped rollout after the cutover', async () => {
    // Prepare: writes are cut over and the cutover bakes.
    const world = readsFirstWorld({ targetRequests: 777 });
    const execution = world.start({
      plan: '100:1',
      readsFirst: { ...autoCutover, afterCutover: 'rollback' },
    });
    await world.until(cutoverBaking, 'bake of the cutover');

    // Act: the execution is stopped (StopExecution, an execution timeout): the safety net settles it.
    execution.stop();
    expect((await execution.result).status).toBe('ABORTED');

    // Assess: the writes the target took since the cutover are lost to the source; that must not be silent.
    expect(world.elb.weights).toEqual(START);
    const finished = (await world.store.get(LISTENER.listenerArn))?.history.at(-1);
    expect(finished?.cutoverAt).toBeDefined();
    expect(finished?.exposure).toMatchObject({ policy: 'rollback', targetRequests: 777 });
    expect(world.notifications.at(-1)).toMatchObject({ exposure: { targetRequests: 777 } });
  });

  it('keeps writes on the target, as the hold policy says, when Complete fails for good after the cutover', async () => {
    // Prepare: the hold policy (data first); Complete cannot record its decision (the store throttles it
    // past its retries), so the execution fails outside the catch paths (CompleteFailed) with the lock held.
    const world = readsFirstWorld({ targetRequests: 5 });
    const update = world.store.update.bind(world.store);
    world.store.update = async (arn, owner, patch, fence) => {
      if (patch.status === 'completing') throw new Error('ProvisionedThroughputExceededException');
      return update(arn, owner, patch, fence);
    };
    const result = await world.start({
      plan: '100:1',
      readsFirst: { ...autoCutover, cutoverBakeSeconds: 1, afterCutover: 'hold' },
    }).result;

    // Assess: a failure after the cutover follows the policy: the safety net must not send clients back to
    // a source that misses every write since the cutover (nor do it without the exposure report).
    expect(result).toMatchObject({ status: 'FAILED', error: 'CompleteFailed' });
    expect(world.elb.weights).toEqual(percentToWeights(100));
    const finished = (await world.store.get(LISTENER.listenerArn))?.history.at(-1);
    expect(finished).toMatchObject({ outcome: 'halted', exposure: { policy: 'hold', targetRequests: 5 } });
  });
});

describe('Review: a write cutover that never happened', () => {
  it('neither holds nor reports a write exposure when the cutover ModifyListener was refused', async () => {
    // Prepare: the hold policy; ELBv2 refuses the cutover's ModifyListener (an error no retry is meant for),
    // so the default action, writes included, never leaves the source.
    const world = readsFirstWorld({ targetRequests: 42 });
    world.elb.failModify = 1;
    const result = await world.start({
      plan: '100:1',
      readsFirst: { ...autoCutover, cutoverBakeSeconds: 1, afterCutover: 'hold' },
    }).result;

    // Assess: nothing was cut over, so nothing is held on the target and no exposure is reported: the rollout
    // rolls back (reads-first loses nothing before the cutover) and leaves no rule.
    expect(world.elb.writes).toEqual([]);
    expect(world.elb.weights).toEqual(START);
    const finished = (await world.store.get(LISTENER.listenerArn))?.history.at(-1);
    expect(result.status === 'FAILED' ? result.error : result.status).not.toBe('HeldAfterCutover');
    expect(finished?.exposure).toBeUndefined();
    expect(world.elb.swingRules).toEqual([]);
  });
});

describe('Review: the pins at the end of a rollout', () => {
  it('does not remove the pins (raising the target share of pinned reads to 100 %) while a watched alarm fires', async () => {
    // Prepare: the cutover baked cleanly; the alarm fires just after AfterBake's last check, before Complete.
    // Its event finds no task open to fail (AfterBake closed the bake's).
    const world = readsFirstWorld();
    world.store.onUpdate = (_arn, patch, rollout) => {
      if ('bakeEndsAt' in patch && patch.status === 'shifting' && rollout.cutoverAt !== undefined) {
        world.cloudWatch.set('swing-target-composite', 'ALARM');
        void world.fireAlarm();
      }
    };
    const execution = world.start({
      plan: '100:1',
      readsFirst: { ...autoCutover, cutoverBakeSeconds: 1, scrollKeepAliveSeconds: 1 },
    });
    await execution.result;

    // Assess: an index-less search (pinned to the source until now) must not move to the target under alarm.
    expect(world.cloudWatch.firing()).not.toEqual([]);
    expect(clusterOf(world, 'POST', '/_search')).toBe('source');
  });
});

describe('Review: contexts the rule set does not see', () => {
  it('keeps on the source a search within a point in time sent to /_search/ (OpenSearch serves it as /_search)', async () => {
    const world = readsFirstWorld();
    const execution = world.start({ plan: '50:1000,100', readsFirst: { cutoverGate: 'manual' } });
    await world.until(baking(0), 'bake of the 50 % read step');

    const routes = {
      pitSearch: clusterOf(world, 'POST', '/_search'),
      pitSearchTrailingSlash: clusterOf(world, 'POST', '/_search/'),
    };
    execution.stop();
    await execution.result;

    expect(routes).toEqual({ pitSearch: 'source', pitSearchTrailingSlash: 'source' });
  });

  it('continues an asynchronous search on the cluster that runs it (submitted by POST, fetched by GET)', async () => {
    const world = readsFirstWorld();
    const execution = world.start({ plan: '50:1000,100', readsFirst: { cutoverGate: 'manual' } });
    await world.until(baking(0), 'bake of the 50 % read step');

    const routes = {
      submitted: clusterOf(world, 'POST', '/_plugins/_asynchronous_search?index=logs'),
      fetched: clusterOf(world, 'GET', '/_plugins/_asynchronous_search/FklfVlU4eFdIUTh1Q1hyM3ZnT19fUVEgdW'),
    };
    execution.stop();
    await execution.result;

    expect(routes).toEqual({ submitted: 'source', fetched: 'source' });
  });
});

describe('Review: the pins a hold keeps', () => {
  it('are swept by the reconciler once the scroll keep-alive has passed (the documented exception to I9)', async () => {
    // Prepare: the hold policy; an alarm after the cutover holds the writes on the target and halts.
    const world = readsFirstWorld();
    const execution = world.start({
      plan: '100:1',
      readsFirst: { ...autoCutover, scrollKeepAliveSeconds: 60, afterCutover: 'hold' },
    });
    await world.until(cutoverBaking, 'bake of the cutover');
    await world.fireAlarm();
    expect(await execution.result).toMatchObject({ status: 'FAILED', error: 'HeldAfterCutover' });
    expect(world.elb.swingRules).not.toEqual([]);

    // Act: the scheduled reconciler runs an hour later, the lock free.
    const anHourLater = new Date(Date.now() + 3_600_000);
    const run = await reconcile({
      ...world.deps,
      now: () => anHourLater,
      executions: { describe: async () => ({ status: 'FAILED', stoppedAt: new Date() }) },
    });

    // Assess: nothing of Swing's is left.
    expect(run.action).toBe('swept-rules');
    expect(world.elb.swingRules).toEqual([]);
  });
});
