import { describe, expect, it } from 'vitest';
import { isPinRule } from '#domain/swing-rules.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';
import {
  ALARM,
  baking,
  failingReleases,
  listenerWritesSince,
  throttledRelease,
} from '#test/support/rollout-world.ts';

/**
 * Review 7 (after ae0cfb4): the safety net settling a holder whose Rollback recorded a found hand change
 * (rolling-back, WeightsDrifted) and whose Halt then failed for good (its release refused 11 times: DynamoDB
 * throttling the item, as notify-once.test.ts draws it), so the execution ended FAILED holding the lock.
 *
 * 1. (holds) A pin deleted by hand: the safety net reads the rules and then the record (rolling-back with
 *    WeightsDrifted excuses no missing rule, removingOwnRules) and halts, leaving the 12 rules.
 * 2. (broken) A read rule re-weighted by hand, found by Rollback (recorded), then put back at Swing's weights by
 *    the operator before the safety net looks: the safety net finds the rules as Swing left them and the default
 *    action at the starting weights, so it removes every rule (writes after the hand change) and records the
 *    rollout rolled back with the hand change as its reason. I4 for rules (no rule write after a hand change Swing
 *    can see; here Swing saw it and recorded it). AWS: Halt's 11 attempts fail over minutes of throttling; the
 *    operator undoing the change meanwhile is an ordinary reaction to Swing's `halted` notification, sent before
 *    Halt's release. Suggested fix: as for Rollback (review7-recorded-hand-change-retry.test.ts), a settler that
 *    reads rolling-back with a found hand change (the reasons removingOwnRules names) halts and writes nothing.
 */

/** Halt's release refused 11 times; `onRefused` runs at each refusal (the operator acting meanwhile). */
async function haltThatNeverReleases(onRefused: () => void = () => {}) {
  const world = readsFirstWorld();
  const releases = failingReleases(
    world.store,
    (final) => final.status === 'halted' && final.restored === undefined,
    11,
    () => {
      onRefused();
      return throttledRelease();
    },
  );
  const execution = world.start({ plan: '67.3:1000,100', readsFirst: replayLagCutover() });
  await world.until(baking(0), 'bake of the first read step');
  const ruleNamed = (test: (name: string) => boolean) =>
    world.elb.swingRules.find((rule) => test(rule.tags.find((tag) => tag.Key === 'swing:rule')?.Value ?? ''));
  return { world, execution, releases, ruleNamed };
}

describe('The safety net after a Rollback that recorded a hand change and a Halt that never released', () => {
  it('halts on a pin still deleted by hand, leaving the other rules', async () => {
    const { world, execution, releases, ruleNamed } = await haltThatNeverReleases();
    const pin = ruleNamed((name) => isPinRule({ name }));
    world.elb.setRuleByHand(pin?.RuleArn ?? '', undefined);
    const handAt = world.elb.log.length;
    await world.fireAlarm(ALARM);
    const result = await execution.result;

    expect(releases.failed).toBe(11);
    expect(result).toMatchObject({ status: 'FAILED' });
    expect(listenerWritesSince(world.elb, handAt)).toEqual([]);
    expect(world.elb.swingRules.length).toBe(12);
    const record = await world.store.get(LISTENER.listenerArn);
    expect(record?.lockOwner).toBeUndefined();
    expect(record?.history.at(-1)).toMatchObject({ outcome: 'halted', reason: { error: 'WeightsDrifted' } });
  });

  it('halts, writing nothing, when the operator put the re-weighted rule back before the safety net looked', async () => {
    let undo = () => {};
    const { world, execution, releases, ruleNamed } = await haltThatNeverReleases(() => undo());
    const reads = ruleNamed((name) => name === 'reads-search');
    expect(reads).toBeDefined();
    const swings = world.elb.ruleWeights(reads ?? {});
    const handAt = world.elb.log.length;
    world.elb.setRuleByHand(reads?.RuleArn ?? '', { source: 500, target: 499 });
    // Once Halt has notified `halted` (before its release), the operator puts the rule back at Swing's weights.
    undo = () => {
      world.elb.setRuleByHand(reads?.RuleArn ?? '', swings);
      undo = () => {};
    };
    await world.fireAlarm(ALARM);
    const result = await execution.result;

    expect(releases.failed).toBe(11);
    expect(result).toMatchObject({ status: 'FAILED', error: 'TransientFailure' });
    expect(world.notifications[0]).toMatchObject({ outcome: 'halted', reason: { error: 'WeightsDrifted' } });
    expect.soft(listenerWritesSince(world.elb, handAt)).toEqual([]);
    expect.soft(world.elb.swingRules.length).toBe(13);
    const record = await world.store.get(LISTENER.listenerArn);
    expect
      .soft(record?.history.at(-1))
      .toMatchObject({ outcome: 'halted', reason: { error: 'WeightsDrifted' } });
  });
});
