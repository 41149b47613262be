import { describe, expect, it } from 'vitest';
import { isPinRule } from '#domain/swing-rules.ts';
import type { SwingRulesPort } from '#domain/types.ts';
import { currentInvocation, LocalStepFunctions } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { holdingCalls } from '#test/support/held-calls.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';
import { ALARM, baking, listenerWritesSince } from '#test/support/rollout-world.ts';

/**
 * Two attempts of one Rollback before the write cutover: the first attempt's answer is lost
 * (Lambda.ServiceException), so its Retry runs beside it. The Retry read the record (still baking) before the
 * first attempt recorded rolling-back, and its DescribeRules answered after the first attempt had removed every
 * rule of Swing's: it took its twin's removal for a hand deletion and halted (WeightsDrifted "rules ... of
 * Swing's were deleted by someone"), a halt for a hand change nobody made (the fault model's
 * SWING_FC_SEED=-911252601 SWING_FC_PATH=124:67:0:0:1:2:3:4:3:4:3:3:6:3:3:4). A rule deleted by hand before the
 * rollback still halts it, whichever attempt notices first.
 */

const START = { source: 999, target: 0 };

const rollbackLosesItsFirstAnswer = () =>
  new LocalStepFunctions({
    msPerSecond: 1,
    retryDelayMs: 1,
    invocations: (call) =>
      call.stateName === 'Rollback' && call.retryCount === 0 ? { answerLostAfterMs: 0 } : undefined,
  });

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

/**
 * A reads-first rollout baking its first read step, its Rollback's first attempt answer lost; the Retry's
 * DescribeRules held (`retryRules`) and the first attempt's held until the Retry is in its own (`firstRules`).
 */
async function twinRollbacks() {
  const world = readsFirstWorld({ stepFunctions: rollbackLosesItsFirstAnswer() });
  const real = world.deps.swingRules as SwingRulesPort;
  const retryRules = holdingCalls(real, 'readSwingRules', inRollback(1));
  const firstRules = holdingCalls(retryRules.port, 'readSwingRules', inRollback(0));
  Object.assign(world.deps, { swingRules: firstRules.port });
  const execution = world.start({ plan: '67.3:1000,100', readsFirst: replayLagCutover() });
  await world.until(baking(0), 'bake of the first read step');
  return { world, execution, retryRules, firstRules };
}

describe('Twin Rollback attempts before the write cutover', () => {
  it("takes the rules its twin removed for Swing's own and ends rolled back, not halted", async () => {
    const { world, execution, retryRules, firstRules } = await twinRollbacks();

    // Both attempts read the record before either recorded rolling-back.
    await world.fireAlarm(ALARM);
    await until(() => retryRules.stalled && firstRules.stalled, 'both attempts in DescribeRules');
    firstRules.release();
    // The first attempt restores and removes every rule; then the Retry's DescribeRules answers.
    await until(async () => (await world.rollout())?.restored === true, 'the first attempt restored');
    expect(world.elb.swingRules).toEqual([]);
    retryRules.release();
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'AlarmFired' });
    expect(world.elb.weights).toEqual(START);
    expect(world.elb.swingRules).toEqual([]);
    expect(await world.lockOwner()).toBeUndefined();
    expect(world.notifications.at(-1)).toMatchObject({
      outcome: 'rolled-back',
      reason: { error: 'AlarmFired' },
    });
  });

  it('still halts on a rule deleted by hand before the rollback, leaving the rest alone', async () => {
    const { world, execution, retryRules, firstRules } = await twinRollbacks();
    const pin = world.elb.swingRules.find((rule) =>
      isPinRule({ name: rule.tags.find((tag) => tag.Key === 'swing:rule')?.Value ?? '' }),
    );
    expect(pin).toBeDefined();
    const left = world.elb.swingRules.filter((rule) => rule.RuleArn !== pin?.RuleArn);
    world.elb.setRuleByHand(pin?.RuleArn ?? '', undefined);
    const handAt = world.elb.log.length;

    // The first attempt finds the hand deletion and records rolling-back before it halts; the Retry reads the
    // rules (and the record) after that write.
    await world.fireAlarm(ALARM);
    await until(() => retryRules.stalled && firstRules.stalled, 'both attempts in DescribeRules');
    firstRules.release();
    await until(
      async () => (await world.store.get(LISTENER.listenerArn))?.rollout?.status !== 'baking',
      'the first attempt recorded its rollback',
    );
    retryRules.release();
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'WeightsDrifted' });
    expect(listenerWritesSince(world.elb, handAt)).toEqual([]);
    expect(world.elb.swingRules.map((rule) => rule.RuleArn)).toEqual(left.map((rule) => rule.RuleArn));
    expect(world.elb.weights).toEqual(START);
    expect(await world.lockOwner()).toBeUndefined();
    expect(world.notifications.at(-1)).toMatchObject({
      outcome: 'halted',
      reason: {
        error: 'WeightsDrifted',
        cause: expect.stringMatching(/were deleted by someone.* Then AlarmFired/),
      },
    });
  });

  it('halts when the Retry reads the record after the first attempt recorded its rollback over a hand deletion', async () => {
    const { world, execution, retryRules, firstRules } = await twinRollbacks();
    // The Retry's first call, its read of the record, waits until the first attempt has recorded rolling-back.
    const retryRecord = holdingCalls(world.store, 'get', inRollback(1));
    Object.assign(world.deps, { store: retryRecord.port });
    const pin = world.elb.swingRules.find((rule) =>
      isPinRule({ name: rule.tags.find((tag) => tag.Key === 'swing:rule')?.Value ?? '' }),
    );
    const left = world.elb.swingRules.filter((rule) => rule.RuleArn !== pin?.RuleArn);
    world.elb.setRuleByHand(pin?.RuleArn ?? '', undefined);
    const handAt = world.elb.log.length;

    await world.fireAlarm(ALARM);
    await until(
      () => retryRecord.stalled && firstRules.stalled,
      'the Retry held, the first attempt in DescribeRules',
    );
    firstRules.release();
    await until(
      async () => (await world.store.get(LISTENER.listenerArn))?.rollout?.status !== 'baking',
      'the first attempt recorded its rollback',
    );
    retryRecord.release();
    retryRules.release();
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'WeightsDrifted' });
    expect(listenerWritesSince(world.elb, handAt)).toEqual([]);
    expect(world.elb.swingRules.map((rule) => rule.RuleArn)).toEqual(left.map((rule) => rule.RuleArn));
    expect(await world.lockOwner()).toBeUndefined();
    expect(world.notifications.at(-1)).toMatchObject({
      outcome: 'halted',
      reason: {
        error: 'WeightsDrifted',
        cause: expect.stringMatching(/were deleted by someone.* Then AlarmFired/),
      },
    });
  });
});
