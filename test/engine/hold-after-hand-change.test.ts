import { describe, expect, it } from 'vitest';
import { settleEndedExecution } from '#domain/engine/safety-net.ts';
import type { Rollout, Weights } from '#domain/types.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';
import { ALARM, baking, listenerWritesSince } from '#test/support/rollout-world.ts';

/**
 * Issue 20 (the fault-model seed SWING_FC_SEED=1057644474): weights changed by hand during the write
 * cutover's bake, then an alarm (or a failure) under the `hold` policy. The hold path (Rollback's
 * holdAfterCutover, the safety net's holdEndedExecution) checks only Swing's rules for drift, never the default
 * action's weights: it removes any read rule still there (see cutover-rules-after-hand-change.test.ts for how one is) and
 * halts as "held after the cutover: writes stay on the target", which is false: the operator moved them. I4 says
 * Swing halts on a hand change, touches nothing, and says so (WeightsDrifted).
 */

const replayLagGate = replayLagCutover({
  cutoverBakeSeconds: 1000,
  scrollKeepAliveSeconds: 3600,
  afterCutover: 'hold',
});
const BY_HAND: Weights = { source: 500, target: 499 };

describe('a hold after the cutover over weights changed by hand', () => {
  it('Rollback (alarm in the cutover bake) halts for the hand change and says so, touching nothing', async () => {
    const world = readsFirstWorld();
    const execution = world.start({ plan: '50:1,100:1', readsFirst: replayLagGate });
    await world.until(baking(2), 'bake of the cutover');
    const rulesBefore = world.elb.swingRules.map((rule) => rule.RuleArn);
    world.elb.setByHand(BY_HAND);
    const handAt = world.elb.log.length;
    await world.fireAlarm(ALARM);
    const result = await execution.result;

    const writesAfter = listenerWritesSince(world.elb, handAt);
    expect(world.elb.weights).toEqual(BY_HAND);
    expect(writesAfter, 'no rule write nor ModifyListener after the hand change').toEqual([]);
    expect(world.elb.swingRules.map((rule) => rule.RuleArn)).toEqual(rulesBefore);
    // Halted for the hand change, and said so: not "held: writes stay on the target" (they do not).
    expect(result).toMatchObject({ status: 'FAILED', error: 'WeightsDrifted' });
    expect(world.notifications.at(-1)?.reason?.cause).toContain('by hand');
  });

  it('the safety net (execution failed in the cutover bake) halts for the hand change and says so, touching nothing', async () => {
    const world = readsFirstWorld();
    const execution = world.start({ plan: '50:1,100:1', readsFirst: replayLagGate });
    await world.until(baking(2), 'bake of the cutover');
    const rulesBefore = world.elb.swingRules.map((rule) => rule.RuleArn);
    world.elb.setByHand(BY_HAND);
    const handAt = world.elb.log.length;
    // The execution failed outside its catch paths (not an abort: the hold policy governs what no operator
    // decided), as the safety net (or the reconciler) is told.
    const rollout = (await world.store.get(LISTENER.listenerArn))?.rollout;
    expect(rollout).toBeDefined();
    const action = await settleEndedExecution(world.deps, rollout as Rollout, {
      executionArn: execution.executionArn,
      status: 'FAILED',
      at: new Date().toISOString(),
    });
    execution.stop();
    await execution.result;

    expect(world.notifications.at(-1)?.reason?.cause, 'the notification names the hand change').toContain(
      'by hand',
    );
    expect(action).toBe('halted-drift');
    const writesAfter = listenerWritesSince(world.elb, handAt);
    expect(world.elb.weights).toEqual(BY_HAND);
    expect(writesAfter, 'no rule write nor ModifyListener after the hand change').toEqual([]);
    expect(world.elb.swingRules.map((rule) => rule.RuleArn)).toEqual(rulesBefore);
  });
});
