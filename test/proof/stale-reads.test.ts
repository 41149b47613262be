import { describe, expect, it, vi } from 'vitest';
import type { SwingRulesPort, Weights } from '#domain/types.ts';
import type { InvocationCall } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { baking } from '#test/support/rollout-world.ts';
import { settleWithin, useVirtualClock, virtualClockWorld } from '#test/support/virtual-clock.ts';

/**
 * Reads-first under the stale-attempt semantics of test/proof/stale-shift.test.ts: a ShiftWeights attempt whose
 * answer is lost runs on, and its ModifyRule lands after its Retry moved on (ELBv2 has no conditional write).
 */

const START: Weights = { source: 999, target: 0 };

describe('A read step whose stale attempt lands after the next step', () => {
  useVirtualClock();

  it("rolls the reads back on an alarm (Swing's own stale ModifyRule is not drift) and leaves no rule", async () => {
    // Prepare: step 2 (20 %) loses its first answer; that attempt's ModifyRule is throttled and lands 3 s later,
    // after step 3 (50 %) re-weighted the read rules.
    let shifts = 0;
    const world = virtualClockWorld((call: InvocationCall) => {
      if (call.stateName !== 'ShiftWeights' || call.retryCount !== 0) return undefined;
      shifts += 1;
      return shifts === 2 ? { answerLostAfterMs: 100 } : undefined;
    });
    world.elb.setByHand(START);
    const rules = world.deps.swingRules as SwingRulesPort;
    let modifies = 0;
    (world.deps as { swingRules: SwingRulesPort }).swingRules = Object.assign(Object.create(rules), {
      setRuleWeights: async (arn: string, weights: Weights) => {
        modifies += 1;
        if (modifies === 1) await new Promise((resolve) => setTimeout(resolve, 3000));
        return rules.setRuleWeights(arn, weights);
      },
    });
    (world.deps as { staleShiftWindowMs?: number }).staleShiftWindowMs = 5000;
    const execution = world.start({
      traffic: 'reads-first',
      plan: '10:0,20:0,50:600,100',
      readsFirst: { cutoverGate: 'manual' },
    });
    await vi.advanceTimersByTimeAsync(4000);
    expect(baking(2)(await world.rollout())).toBe(true);

    // Act: the alarm fires during the 50 % bake.
    await world.fireAlarm();
    const result = (await settleWithin(execution.result, 60_000, 100)).value;
    await vi.advanceTimersByTimeAsync(10_000);

    // Assess: rolled back, not halted as a hand change: the reads are off the failing target, no rule is left.
    expect(result).toMatchObject({ status: 'FAILED', error: 'AlarmFired' });
    expect(world.elb.swingRules.map((rule) => world.elb.ruleWeights(rule))).toEqual([]);
    expect(world.elb.weights).toEqual(START);
    expect((await world.store.get(LISTENER.listenerArn))?.lockOwner).toBeUndefined();
  });
});

describe('Rules that DescribeRules does not show yet', () => {
  useVirtualClock();

  it('an alarm right after the first read step rolls the reads back and leaves no rule, though DescribeRules lags', async () => {
    // Prepare: DescribeRules (and DescribeTags) show a rule only 2 s after CreateRule; the alarm fires as the
    // first read step's bake opens.
    const world = virtualClockWorld();
    world.elb.setByHand(START);
    const rules = world.deps.swingRules as SwingRulesPort;
    const createdAt = new Map<string, number>();
    (world.deps as { swingRules: SwingRulesPort }).swingRules = Object.assign(Object.create(rules), {
      createRule: async (...args: Parameters<SwingRulesPort['createRule']>) => {
        const arn = await rules.createRule(...args);
        createdAt.set(arn, Date.now());
        return arn;
      },
      readSwingRules: async () =>
        (await rules.readSwingRules()).filter((rule) => Date.now() - (createdAt.get(rule.arn) ?? 0) >= 2000),
    });
    world.store.onUpdate = (_arn, patch) => {
      if (patch.taskKind === 'bake') void world.fireAlarm();
    };
    const execution = world.start({
      traffic: 'reads-first',
      plan: '10:600,100',
      readsFirst: { cutoverGate: 'manual' },
    });

    // Act
    const result = (await settleWithin(execution.result, 60_000, 100)).value;
    await vi.advanceTimersByTimeAsync(10_000);

    // Assess: rolled back, not halted as if someone had deleted Swing's rules; nothing of Swing's is left.
    expect(result).toMatchObject({ status: 'FAILED', error: 'AlarmFired' });
    expect(world.elb.swingRules.map((rule) => world.elb.ruleWeights(rule))).toEqual([]);
    expect((await world.store.get(LISTENER.listenerArn))?.lockOwner).toBeUndefined();
  });
});
