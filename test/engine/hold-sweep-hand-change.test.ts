import { describe, expect, it } from 'vitest';
import { reconcile } from '#domain/reconciler.ts';
import { readsFirstWorld } from '#test/support/reads-first-world.ts';
import { baking } from '#test/support/rollout-world.ts';

/**
 * Issue 20, found by the fault model: a hold after the cutover keeps the pins for the scroll keep-alive, and the
 * scheduled reconciler removes them after it. A pin re-weighted by hand in the meantime is the operator's doing:
 * like every other path, the reconciler then leaves the rollout's rules alone (I4), and says so in its log.
 */

const cutoverBaking = (rollout: Parameters<ReturnType<typeof baking>>[0]) =>
  baking(1)(rollout) && rollout?.cutoverAt !== undefined;
const WRITES = ['CreateRule', 'ModifyRule', 'DeleteRule', 'ModifyListener'];

describe('The pins a hold keeps, one of them re-weighted by hand', () => {
  it('are left alone by the reconciler after the keep-alive, touching nothing', async () => {
    const world = readsFirstWorld();
    const execution = world.start({
      plan: '100:1',
      readsFirst: {
        cutoverGate: 'replay-lag',
        cutoverBakeSeconds: 1000,
        scrollKeepAliveSeconds: 60,
        replayWaitSeconds: 80_000,
        afterCutover: 'hold',
      },
    });
    await world.until(cutoverBaking, 'bake of the cutover');
    const pin = world.elb.swingRules[0];
    expect(pin?.RuleArn).toBeDefined();
    // The operator sends half of a pinned path to the target by hand, then an alarm holds the writes there.
    world.elb.setRuleByHand(pin?.RuleArn ?? '', { source: 500, target: 499 });
    const handAt = world.elb.log.length;
    await world.fireAlarm();
    expect(await execution.result).toMatchObject({ status: 'FAILED' });
    const rulesAfterHold = world.elb.swingRules.map((rule) => rule.RuleArn);

    const anHourLater = new Date(Date.now() + 3_600_000);
    const run = await reconcile({
      ...world.deps,
      now: () => anHourLater,
      executions: { describe: async () => ({ status: 'FAILED', stoppedAt: new Date() }) },
    });

    const writesAfter = world.elb.log
      .slice(handAt)
      .filter((event) => event.kind === 'call' && WRITES.includes(event.operation));
    expect(writesAfter, 'no rule write nor ModifyListener after the hand change').toEqual([]);
    expect(run.action).toBe('free');
    expect(world.elb.swingRules.map((rule) => rule.RuleArn)).toEqual(rulesAfterHold);
    expect(rulesAfterHold).toContain(pin?.RuleArn);
  });
});
