import { describe, expect, it } from 'vitest';
import type { Weights } from '#domain/types.ts';
import { percentToWeights } from '#domain/weights.ts';
import { FakeElbv2 } from '#test/support/fake-aws.ts';
import { baking, listenerWritesSince, makeWorld } from '#test/support/rollout-world.ts';

/**
 * Review 2 of issue 20 (defect 4's fix, "no restore leaves sticky clients on the target"). Preflight refuses a
 * sticky forward, before and after the lock; docs/guarantees.md then calls stickiness turned on during a rollout
 * "a hand change, which Swing does not undo". But nothing after Preflight reads it: the rollout goes on as if
 * the listener were its own, and the alarm's restore rewrites the forward with the stickiness it found
 * (reweighted() keeps ForwardConfig's TargetGroupStickinessConfig). So the restore is written sticky and the
 * clients that reached the target stay there for the stickiness duration, after a rollback reported as done;
 * and a hand change neither halts nor is left untouched.
 */

const START: Weights = { source: 999, target: 0 };

describe('Review 2: stickiness turned on by hand during a bake', () => {
  it('no restore is written sticky (a hand change halts, or the restore turns stickiness off)', async () => {
    const world = makeWorld({ starting: START });
    const execution = world.start({ plan: '10:1000,50:1000,100' });
    await world.until(baking(0), 'bake of step 1');
    expect(world.elb.weights).toEqual(percentToWeights(10));

    // Someone (a console edit, an IaC apply) turns group stickiness on for a day, weights untouched.
    const actions = world.elb.rawActions;
    const forward = actions.find((action) => action.Type === 'forward');
    if (forward?.ForwardConfig) {
      forward.ForwardConfig.TargetGroupStickinessConfig = { Enabled: true, DurationSeconds: 86_400 };
    }
    world.elb.setDefaultActions(actions);
    expect(FakeElbv2.stickyIn(world.elb.rawActions)).toBe(true);
    const handAt = world.elb.log.length;

    // The target then fails.
    await world.fireAlarm();
    const result = await execution.result;

    const writes = listenerWritesSince(world.elb, handAt);
    expect(
      writes.filter((event) => event.kind === 'call' && 'sticky' in event && event.sticky === true),
      `a restore written sticky (the execution ended ${JSON.stringify(result).slice(0, 200)})`,
    ).toEqual([]);
  });
});
