import { describe, expect, it } from 'vitest';
import { preflight } from '#domain/engine/preflight.ts';
import { shiftWeights } from '#domain/engine/shift-weights.ts';
import type { SwingRulesPort } from '#domain/types.ts';
import { percentToWeights } from '#domain/weights.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';

/**
 * A read step's Retry judged the rules against the record it read before an earlier attempt of the same step
 * wrote them: the first attempt's answer was lost, its Retry read the record (no read share recorded) and
 * stalled; the first attempt went on, marked its write pending, created the rules and recorded them; the Retry
 * then found read rules at the step's share, "Swing last wrote nothing", and halted for a hand change nobody
 * made (the fault model's SWING_FC_SEED=1 SWING_FC_PATH=267:55:0:1:1:1:1:1:1:1:4:3:4:6:6:6:6:6:6:6:6).
 */
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:swing:stale-step-rules';

describe('A read step whose earlier attempt wrote the rules after this attempt read the record', () => {
  it('takes them for its own and goes on instead of halting for a hand change', async () => {
    const world = readsFirstWorld();
    await preflight(world.deps, {
      executionArn: EXECUTION,
      input: { plan: '10:1000,100', traffic: 'reads-first', readsFirst: replayLagCutover() },
    });
    const real = world.deps.swingRules as SwingRulesPort;
    let retryReading: () => void = () => undefined;
    const retryReads = new Promise<void>((resolve) => {
      retryReading = resolve;
    });
    let firstDone: () => void = () => undefined;
    const firstWrote = new Promise<void>((resolve) => {
      firstDone = resolve;
    });
    const stalledRules = new Proxy(real, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property !== 'readSwingRules') return typeof value === 'function' ? value.bind(target) : value;
        return async () => {
          retryReading();
          await firstWrote;
          return real.readSwingRules();
        };
      },
    });
    const enteredTime = new Date(Date.now() - 1000).toISOString();
    // The Retry has read the record; its DescribeRules answers after the first attempt is done.
    const retry = shiftWeights(
      { ...world.deps, swingRules: stalledRules },
      { executionArn: EXECUTION, index: 0, stateEnteredTime: enteredTime, retryCount: 1 },
    );
    await retryReads;
    await shiftWeights(world.deps, {
      executionArn: EXECUTION,
      index: 0,
      stateEnteredTime: enteredTime,
      retryCount: 0,
    });
    const rulesByFirst = world.elb.swingRules.length;
    expect(rulesByFirst).toBeGreaterThan(0);
    firstDone();

    await expect(retry).resolves.toMatchObject({ index: 0, weights: percentToWeights(10) });
    expect(world.elb.swingRules.length).toBe(rulesByFirst);
    const record = await world.store.get(world.deps.listenerArn);
    expect(record?.lockOwner).toBe(EXECUTION);
    expect(record?.rollout?.readsWritten).toEqual(percentToWeights(10));
  });
});
