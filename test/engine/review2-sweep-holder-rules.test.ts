import { describe, expect, it } from 'vitest';
import { reconcile } from '#domain/reconciler.ts';
import type { SwingRulesPort } from '#domain/types.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';
import { baking } from '#test/support/rollout-world.ts';

/**
 * Review 2 of issue 20 (the reconciler's sweep, 130fbb1): sweepLeftoverRules removes Swing's rules "only while
 * nobody holds the lock", but it decides that from the record read at the start of the run, then lists the
 * listener's rules later. A run that read the lock free and then stalled (a throttled DescribeRules or
 * DescribeTags, SDK retries, within its 60 s timeout) lists the rules of a rollout that took the lock meanwhile.
 * Their owner is in no finished rollout of the stale record, so no check applies (not halted, no drift known, no
 * cutover, so no pin kept) and every one of them is deleted: the holder's read rules and its pins, by a function
 * that holds no lock (I3/I9), and the holder then halts on a "hand change" nobody made (I4).
 */

describe('Review 2: a reconciler run that read the lock free, then stalled', () => {
  it('deletes none of the rules of the rollout that took the lock meanwhile', async () => {
    const world = readsFirstWorld();
    const real = world.deps.swingRules as SwingRulesPort;
    let release: () => void = () => undefined;
    const stall = new Promise<void>((resolve) => {
      release = resolve;
    });
    let listing = false;
    const stallingRules = new Proxy(real, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property !== 'readSwingRules') return typeof value === 'function' ? value.bind(target) : value;
        return async () => {
          listing = true;
          await stall;
          return real.readSwingRules();
        };
      },
    });

    // The scheduled run reads the record (nobody holds the lock) and stalls listing the rules.
    const run = reconcile({
      ...world.deps,
      swingRules: stallingRules,
      executions: { describe: async () => ({ status: 'RUNNING' }) },
    });
    await world.until(() => listing, 'the reconciler listing the rules');

    // Meanwhile a reads-first rollout takes the lock and moves half of the reads with its rules.
    const execution = world.start({ plan: '50:80000,100', readsFirst: replayLagCutover() });
    await world.until(baking(0), 'bake of the first read step').catch(async (error) => {
      throw new Error(`${error}; execution: ${JSON.stringify(await execution.result)}`);
    });
    expect(await world.lockOwner()).toBe(execution.executionArn);
    const holderRules = world.elb.swingRules.map((rule) => rule.RuleArn);
    expect(holderRules.length).toBeGreaterThan(0);

    release();
    await run;
    const rulesAfterSweep = world.elb.swingRules.map((rule) => rule.RuleArn);

    // The target then fails: an alarm must roll the rollout back without a human.
    await world.fireAlarm();
    const result = await execution.result;
    const outcome = (await world.store.get(world.deps.listenerArn))?.rollout?.outcome;

    expect(
      rulesAfterSweep,
      "the lock holder's rules, deleted by a reconciler run that holds no lock",
    ).toEqual(holderRules);
    expect(outcome, `ended ${JSON.stringify(result)}`).toBe('rolled-back');
  });
});
