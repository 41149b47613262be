import { describe, expect, it } from 'vitest';
import { isPinRule } from '#domain/swing-rules.ts';
import type { RolloutStore, SwingRulesPort } from '#domain/types.ts';
import { currentInvocation, LocalStepFunctions } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { holdingCalls } from '#test/support/held-calls.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';
import { ALARM, baking, listenerWritesSince } from '#test/support/rollout-world.ts';

/**
 * Review 7 (after ae0cfb4): the WeightsDrifted reason a Rollback attempt records with rolling-back is overwritten
 * by its stale twin's own rolling-back write, which then removes the rules left after the hand deletion, and Halt
 * reports the alarm, not the hand change.
 *
 * AWS sequence: a reads-first rollout bakes its first read step (before the write cutover); an alarm rolls it back.
 * Rollback's first attempt reads the record (baking), the listener and the rules (all there), then its rolling-back
 * UpdateItem stalls (DynamoDB throttling, the SDK's retries); Step Functions loses its answer
 * (Lambda.ServiceException while it runs on) and retries. The operator deletes a pin by hand. The Retry reads the
 * record (still baking), finds the pin gone, reads the record again (still baking: no twin removal), records
 * rolling-back with WeightsDrifted (ae0cfb4) and throws: Halt. Before Halt's GetItem, the first attempt's stalled
 * UpdateItem lands: status rolling-back, reason AlarmFired, unconditionally over the Retry's WeightsDrifted (the
 * write has no condition but the lock). Halt reads the record: it notifies `halted` with AlarmFired, naming no hand
 * change, and the first attempt (it judged the rules before the deletion) goes on removing every rule left.
 *
 * Broken: "A rule of Swing's changed or deleted by hand halts every path, which then touches nothing", notifying
 * WeightsDrifted naming the rules (docs/guarantees.md); I4 for rules as expectReadsFirst checks it (no rule write
 * after the hand deletion). Unlike ELBv2's read-then-write window, this one has a DynamoDB write in it that could
 * refuse: the hand change was recorded before the stale attempt's rolling-back write. Present before ae0cfb4 too
 * (the Retry's write then said AlarmFired), but ae0cfb4's removingOwnRules relies on WeightsDrifted staying in the
 * record, and any later rolling-back write (this one, a twin safety net's none) puts rolling-back back without it.
 *
 * Suggested fix: make Rollback's rolling-back write conditional on the record not already carrying a found hand
 * change (reason WeightsDrifted or RecordMalformed with rolling-back: a guard on the store's update, as
 * notCompleting); refused, the attempt throws WeightsDrifted and removes nothing. That closes this window (the
 * Retry's write came first) and keeps Halt's reason the hand change.
 */

const inRollback = (retryCount: number) => () => {
  const call = currentInvocation();
  return call?.stateName === 'Rollback' && call.retryCount === retryCount;
};
const inHalt = () => currentInvocation()?.stateName === 'Halt';

async function until(check: () => boolean | Promise<boolean>, what: string) {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('A stale Rollback attempt beside a Retry that found a hand deletion', () => {
  it('does not overwrite the recorded hand change, nor remove the rules left after it', async () => {
    const world = readsFirstWorld({
      stepFunctions: new LocalStepFunctions({
        msPerSecond: 1,
        retryDelayMs: 1,
        invocations: (call) =>
          call.stateName === 'Rollback' && call.retryCount === 0 ? { answerLostAfterMs: 0 } : undefined,
      }),
    });
    const real = world.deps.swingRules as SwingRulesPort;
    const retryRules = holdingCalls(real, 'readSwingRules', inRollback(1));
    const realStore = world.deps.store as RolloutStore;
    // The first attempt's first record write (rolling-back) stalls; Halt's record read waits for the test.
    const firstWrite = holdingCalls(realStore, 'update', inRollback(0));
    // Whether the first attempt's held write has come back, landed or refused.
    let staleWriteDone = false;
    const settling: RolloutStore = Object.assign(Object.create(firstWrite.port), {
      update: async (...args: Parameters<RolloutStore['update']>) => {
        const stale = inRollback(0)();
        try {
          return await firstWrite.port.update(...args);
        } finally {
          if (stale) staleWriteDone = true;
        }
      },
    });
    const haltRead = holdingCalls(settling, 'get', inHalt);
    Object.assign(world.deps, { swingRules: retryRules.port, store: haltRead.port });
    const execution = world.start({ plan: '67.3:1000,100', readsFirst: replayLagCutover() });
    await world.until(baking(0), 'bake of the first read step');

    await world.fireAlarm(ALARM);
    await until(
      () => firstWrite.stalled && retryRules.stalled,
      'first attempt writing, Retry in DescribeRules',
    );
    // Every rule was there when the first attempt read them. Now a pin goes by hand.
    const pin = world.elb.swingRules.find((rule) =>
      isPinRule({ name: rule.tags.find((tag) => tag.Key === 'swing:rule')?.Value ?? '' }),
    );
    expect(pin).toBeDefined();
    const left = world.elb.swingRules.filter((rule) => rule.RuleArn !== pin?.RuleArn);
    world.elb.setRuleByHand(pin?.RuleArn ?? '', undefined);
    const handAt = world.elb.log.length;

    retryRules.release();
    const record = async () => (await world.store.get(LISTENER.listenerArn))?.rollout;
    await until(
      async () => (await record())?.reason?.error === 'WeightsDrifted',
      'the Retry recorded the hand change',
    );
    await until(() => haltRead.stalled, 'Halt reading the record');
    // The first attempt's stalled write lands before Halt's read.
    firstWrite.release();
    await until(() => staleWriteDone, 'the stale write landed or was refused');
    haltRead.release();
    const result = await execution.result;
    // Let the first attempt (its answer lost) finish whatever it does.
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect(result).toMatchObject({ status: 'FAILED', error: 'WeightsDrifted' });
    expect.soft(world.notifications.at(-1)).toMatchObject({
      outcome: 'halted',
      reason: { error: 'WeightsDrifted', cause: expect.stringMatching(/were deleted by someone/) },
    });
    expect.soft(listenerWritesSince(world.elb, handAt)).toEqual([]);
    expect(world.elb.swingRules.map((rule) => rule.RuleArn)).toEqual(left.map((rule) => rule.RuleArn));
  });
});
