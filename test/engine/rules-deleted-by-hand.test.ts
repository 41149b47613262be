import { describe, expect, it } from 'vitest';
import { isPinRule } from '#domain/swing-rules.ts';
import type { Weights } from '#domain/types.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';
import { baking, listenerWritesSince } from '#test/support/rollout-world.ts';

/**
 * Issue 20, the red fault-model seed (SWING_FC_SEED=-2147483621): a pin rule of Swing's deleted by hand while
 * a reads-first rollout at 67.3 % of reads is stopped. A rule of Swing's changed or deleted by hand is the
 * operator acting (I4 for rules): whoever notices it (Rollback, the safety net, the reconciler) halts and
 * touches nothing, the read rules included, and the notification names the rules to remove.
 */

const START: Weights = { source: 999, target: 0 };
const replayLagGate = replayLagCutover();

describe('A rule of Swing deleted by hand as the rollout is stopped', () => {
  it('makes the safety net halt, leaving every remaining rule and the listener alone', async () => {
    const world = readsFirstWorld();
    const execution = world.start({ plan: '67.3:1000,100', readsFirst: replayLagGate });
    await world.until(baking(0), 'bake of the first read step');
    const pin = world.elb.swingRules.find((rule) =>
      isPinRule({ name: rule.tags.find((tag) => tag.Key === 'swing:rule')?.Value ?? '' }),
    );
    expect(pin).toBeDefined();
    const left = world.elb.swingRules.filter((rule) => rule.RuleArn !== pin?.RuleArn);

    world.elb.setRuleByHand(pin?.RuleArn ?? '', undefined);
    const handAt = world.elb.log.length;
    execution.stop();
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'ABORTED', safetyNet: 'halted-drift' });
    const writesAfter = listenerWritesSince(world.elb, handAt);
    expect(writesAfter).toEqual([]);
    expect(world.elb.swingRules.map((rule) => rule.RuleArn)).toEqual(left.map((rule) => rule.RuleArn));
    expect(world.elb.weights).toEqual(START);
    expect(await world.lockOwner()).toBeUndefined();
    expect(world.notifications.at(-1)).toMatchObject({
      outcome: 'halted',
      reason: { error: 'WeightsDrifted', cause: expect.stringContaining('were deleted by someone') },
    });
  });
});
