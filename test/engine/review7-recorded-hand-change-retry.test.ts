import { describe, expect, it } from 'vitest';
import { isPinRule } from '#domain/swing-rules.ts';
import type { RolloutStore, SwingRulesPort } from '#domain/types.ts';
import { currentInvocation, LocalStepFunctions } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { holdingCalls } from '#test/support/held-calls.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';
import { ALARM, baking, listenerWritesSince } from '#test/support/rollout-world.ts';

/**
 * Review 7 (after ae0cfb4): a Rollback Retry that reads the record after its first attempt recorded a hand change
 * (rolling-back, reason WeightsDrifted) takes that recorded reason for the reason its rollback began
 * (`rollout.reason ?? reasonFrom(error)`).
 *
 * AWS sequence (both cases): a reads-first rollout bakes its first read step; an alarm rolls it back. Rollback's
 * first attempt finds a rule of Swing's changed by hand, records rolling-back with WeightsDrifted in one write
 * (ae0cfb4) and throws; Step Functions loses that answer (Lambda.ServiceException) and retries. The Retry's first
 * read (GetItem) comes after that write.
 *
 * 1. The hand change is still there (a pin deleted): the Retry halts too, but records the hand change a second
 *    time over the first (handChangeReason(found, reason) with reason = the recorded WeightsDrifted): Halt's
 *    notification reads "rules pin-scroll-pit of Swing's were deleted by someone ... Then WeightsDrifted: listener
 *    ...: rules pin-scroll-pit of Swing's were deleted by someone ... Then AlarmFired: ...". Each further lost
 *    answer nests it once more; at 2000 characters the alarm the rollback began for is cut off. ae0cfb4's own
 *    test/engine/twin-rollback-rules.test.ts third case sends exactly this notification (its regex matches it).
 *    Suggested fix: take the recorded reason as the rollback's own only when it is not a found hand change, or
 *    keep the reason the rollback began for in a field of its own.
 *
 * 2. The operator undid the change before the Retry looked (a read rule re-weighted by hand, then put back at what
 *    Swing wrote): the record says rolling-back with WeightsDrifted, a hand change Swing found, yet the Retry finds
 *    nothing changed and rolls back: it removes every rule (13 rule writes after the hand change) and RolledBack
 *    notifies `rolled-back` with WeightsDrifted as the reason ("so Swing halts and leaves them alone"). I4 (for
 *    rules, expectReadsFirst; for weights, expectDriftLeftAlone: no write after the first hand change, the live
 *    rollout ends halted). Pre-existing in kind (before ae0cfb4 the record said AlarmFired and the Retry could not
 *    know), but since ae0cfb4 the record does say a hand change was found. Suggested fix: Rollback halts (throws
 *    WeightsDrifted, writing nothing) when the record it reads at its start is rolling-back with a found hand
 *    change (the reasons removingOwnRules names), as every later attempt of a halting rollback should.
 */

const inRollback = (retryCount: number) => () => {
  const call = currentInvocation();
  return call?.stateName === 'Rollback' && call.retryCount === retryCount;
};

async function until(check: () => boolean | Promise<boolean>, what: string) {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** The first Rollback attempt's answer lost; its DescribeRules and its Retry's first GetItem held. */
async function retryAfterRecordedHandChange() {
  const world = readsFirstWorld({
    stepFunctions: new LocalStepFunctions({
      msPerSecond: 1,
      retryDelayMs: 1,
      invocations: (call) =>
        call.stateName === 'Rollback' && call.retryCount === 0 ? { answerLostAfterMs: 0 } : undefined,
    }),
  });
  const firstRules = holdingCalls(world.deps.swingRules as SwingRulesPort, 'readSwingRules', inRollback(0));
  const retryRecord = holdingCalls(world.deps.store as RolloutStore, 'get', inRollback(1));
  Object.assign(world.deps, { swingRules: firstRules.port, store: retryRecord.port });
  const execution = world.start({ plan: '67.3:1000,100', readsFirst: replayLagCutover() });
  await world.until(baking(0), 'bake of the first read step');
  await world.fireAlarm(ALARM);
  await until(() => firstRules.stalled && retryRecord.stalled, 'first attempt in DescribeRules, Retry held');
  const ruleNamed = (test: (name: string) => boolean) =>
    world.elb.swingRules.find((rule) => test(rule.tags.find((tag) => tag.Key === 'swing:rule')?.Value ?? ''));
  const recorded = async () =>
    (await world.store.get(LISTENER.listenerArn))?.rollout?.reason?.error === 'WeightsDrifted';
  return { world, execution, firstRules, retryRecord, ruleNamed, recorded };
}

describe('A Rollback Retry reading the hand change its first attempt recorded', () => {
  it('names the hand change once in the halt it reports', async () => {
    const { world, execution, firstRules, retryRecord, ruleNamed, recorded } =
      await retryAfterRecordedHandChange();
    const pin = ruleNamed((name) => isPinRule({ name }));
    world.elb.setRuleByHand(pin?.RuleArn ?? '', undefined);
    firstRules.release();
    await until(recorded, 'the first attempt recorded the hand change');
    retryRecord.release();
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'WeightsDrifted' });
    const reason = world.notifications.at(-1)?.reason;
    expect(reason).toMatchObject({ error: 'WeightsDrifted' });
    expect(reason?.cause.match(/were deleted by someone/g)?.length).toBe(1);
    expect(reason?.cause).toMatch(/Then AlarmFired: /);
    expect(reason?.cause).not.toMatch(/Then WeightsDrifted/);
  });

  it('halts, writing nothing, when the hand change it recorded was undone before the Retry looked', async () => {
    const { world, execution, firstRules, retryRecord, ruleNamed, recorded } =
      await retryAfterRecordedHandChange();
    const reads = ruleNamed((name) => name === 'reads-search');
    expect(reads).toBeDefined();
    const swings = world.elb.ruleWeights(reads ?? {});
    const handAt = world.elb.log.length;
    world.elb.setRuleByHand(reads?.RuleArn ?? '', { source: 500, target: 499 });
    firstRules.release();
    await until(recorded, 'the first attempt recorded the hand change');
    // The operator puts the rule back at what Swing wrote.
    world.elb.setRuleByHand(reads?.RuleArn ?? '', swings);
    retryRecord.release();
    await execution.result;

    expect.soft(listenerWritesSince(world.elb, handAt)).toEqual([]);
    expect.soft(world.notifications.at(-1)).toMatchObject({
      outcome: 'halted',
      reason: { error: 'WeightsDrifted' },
    });
    expect.soft(world.elb.swingRules.length).toBe(13);
  });
});
