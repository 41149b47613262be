import { describe, expect, it } from 'vitest';
import type { EngineDeps } from '#domain/engine/deps.ts';
import type { Weights } from '#domain/types.ts';
import { percentToWeights } from '#domain/weights.ts';
import { currentInvocation, type LocalStepFunctions } from '#local/executor.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';
import { listenerWritesSince } from '#test/support/rollout-world.ts';

/**
 * The write cutover's ShiftWeights removes the read rules after its ModifyListener on the premise that "the read
 * rules send what the default action now sends". A stall between those two AWS calls (here the fenced record
 * write that records the cutover, throttled; on AWS up to the function's timeout) lets an operator change the
 * default action meanwhile. Swing must then halt for the hand change and delete no rule (I4: Swing writes
 * nothing more, rules included, once the listener was changed by hand). ELBv2 has no conditional write, so a
 * stall inside the DeleteRule call itself stays out of reach: the check runs as late as Swing can make it.
 */

const BY_HAND: Weights = { source: 999, target: 0 };

describe('the cutover stalls between its ModifyListener and its rule removal', () => {
  it('deletes no rule of Swing after the operator changed the default action by hand, and halts for it', async () => {
    const world = readsFirstWorld();
    let release: () => void = () => undefined;
    const stall = new Promise<void>((resolve) => {
      release = resolve;
    });
    let stalled = false;
    const realStore = world.deps.store;
    const store: EngineDeps['store'] = new Proxy(realStore, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property !== 'update') return typeof value === 'function' ? value.bind(target) : value;
        return async (...args: Parameters<EngineDeps['store']['update']>) => {
          // The record write that says the cutover's ModifyListener landed: the last step before the removal.
          const patch = args[2];
          if (
            currentInvocation()?.stateName === 'ShiftWeights' &&
            patch.cutoverAt !== undefined &&
            !stalled
          ) {
            stalled = true;
            await stall;
          }
          return realStore.update(...args);
        };
      },
    });
    const deps: EngineDeps = { ...world.deps, store };
    const stepFunctions = world.sfn as LocalStepFunctions;
    const execution = stepFunctions.start(deps, {
      traffic: 'reads-first',
      plan: '50:1,100:1',
      readsFirst: replayLagCutover({
        cutoverBakeSeconds: 1000,
        scrollKeepAliveSeconds: 3600,
        afterCutover: 'hold',
      }),
    });
    const deadline = Date.now() + 10_000;
    while (!stalled && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
    expect(stalled, 'the cutover reached its record write').toBe(true);
    expect(world.elb.weights).toEqual(percentToWeights(100));
    const rulesBefore = world.elb.swingRules.map((rule) => rule.RuleArn);
    expect(rulesBefore.length, 'the read rules are still there').toBeGreaterThan(0);

    // The operator, seeing the cutover go wrong, sends writes back to the source by hand.
    world.elb.setByHand(BY_HAND);
    const handAt = world.elb.log.length;
    release();
    const result = await execution.result;

    const writesAfter = listenerWritesSince(world.elb, handAt);
    expect(writesAfter, 'no rule write nor ModifyListener after the hand change').toEqual([]);
    expect(world.elb.weights).toEqual(BY_HAND);
    expect(world.elb.swingRules.map((rule) => rule.RuleArn)).toEqual(rulesBefore);
    expect(result).toMatchObject({ status: 'FAILED', error: 'WeightsDrifted' });
  });
});
