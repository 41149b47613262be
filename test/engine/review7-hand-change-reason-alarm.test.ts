import { describe, expect, it } from 'vitest';
import { isPinRule } from '#domain/swing-rules.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';
import { ALARM, baking } from '#test/support/rollout-world.ts';

/**
 * Review 7 (after ae0cfb4): the reason Rollback records for a hand change it found (handChangeReason) keeps the
 * alarm's text in its cause but drops the reason's own fields: `alarm` (the alarm the rollback began for) and `at`
 * (when it fired, replaced by the time of Rollback's write). The hold path's hand-change reason (rollback.ts, under
 * afterCutover: hold) spreads the reason and keeps both; `swing history` prints "(alarm NAME)" from `alarm`, the
 * report's events and the local summary place the alarm from `alarm` and `at` (cli/commands/history.ts,
 * cli/report/from-execution.ts, local/summarize.ts). Before ae0cfb4 the halt's reason was the alarm's own, with both.
 *
 * Sequence (no race needed): a reads-first rollout bakes its first read step; a pin is deleted by hand; an alarm
 * fires; Rollback finds the deletion, records it with rolling-back and halts.
 *
 * Suggested fix: build the reason as the hold path does ({ ...reason, error, cause }), so `alarm` and `at` stay.
 */

describe("The hand change Rollback found, in the halt's reason", () => {
  it('keeps the alarm the rollback began for', async () => {
    const world = readsFirstWorld();
    const execution = world.start({ plan: '67.3:1000,100', readsFirst: replayLagCutover() });
    await world.until(baking(0), 'bake of the first read step');
    const pin = world.elb.swingRules.find((rule) =>
      isPinRule({ name: rule.tags.find((tag) => tag.Key === 'swing:rule')?.Value ?? '' }),
    );
    world.elb.setRuleByHand(pin?.RuleArn ?? '', undefined);
    await world.fireAlarm(ALARM);
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'WeightsDrifted' });
    const reason = world.notifications.at(-1)?.reason;
    expect(reason).toMatchObject({
      error: 'WeightsDrifted',
      cause: expect.stringMatching(/Then AlarmFired/),
    });
    expect(reason?.alarm).toBe(ALARM);
  });
});
