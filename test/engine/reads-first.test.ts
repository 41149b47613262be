import type { Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { judgeDeliveredSplit } from '#domain/delivered-split.ts';
import { promoteGate } from '#domain/operator.ts';
import { DEFAULT_TRAFFIC } from '#domain/reads-first.ts';
import { SWING_RULE_SET } from '#domain/swing-rules.ts';
import type { StepRecord, Weights } from '#domain/types.ts';
import { percentToWeights } from '#domain/weights.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { REHEARSAL, readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';
import { ALARM, baking, gated, listenerWritesSince, operatorOf } from '#test/support/rollout-world.ts';

/**
 * Reads first, writes last, through the real ASL and the real engine over the fake ELBv2 (rules included)
 * and the real rules adapter: the default action (writes) never moves before the cutover, the read rules
 * carry each step, and whatever ends the rollout, no rule of Swing's is left.
 */

const START: Weights = { source: 999, target: 0 };

const replayLagGate = replayLagCutover();

describe('Reads-first: reads ramp on rules of Swing, writes move last', () => {
  it('moves the read rules step by step, never the default action until the cutover, and leaves no rule', async () => {
    const world = readsFirstWorld();
    const measured: number[] = [];
    const deps = {
      ...world.deps,
      measureDeliveredSplit: async (step: StepRecord) => {
        measured.push(step.index);
        return judgeDeliveredSplit({ weights: step.weights, requests: { source: 0, target: 100 } });
      },
    };
    const readShares: Weights[] = [];
    const defaultWritesAtEachStep: number[] = [];
    world.store.onUpdate = (_arn, patch) => {
      if (patch.readsWritten) {
        readShares.push(patch.readsWritten);
        defaultWritesAtEachStep.push(world.elb.writes.length);
      }
    };

    const result = await world.sfn.start(deps, {
      traffic: 'reads-first',
      plan: '10:1,50:1,100:1',
      readsFirst: replayLagGate,
    }).result;

    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expect(readShares).toEqual([10, 50, 100].map(percentToWeights));
    // No ModifyListener before the cutover: every write stayed on the source (I8).
    expect(defaultWritesAtEachStep).toEqual([0, 0, 0]);
    expect(world.elb.writes).toEqual([percentToWeights(100)]);
    expect(world.elb.swingRules).toEqual([]);
    const finished = (await world.store.get(LISTENER.listenerArn))?.history.at(-1);
    expect(finished).toMatchObject({ outcome: 'completed', traffic: 'reads-first' });
    expect(finished?.cutoverAt).toBeDefined();
    expect(finished?.steps.map((step) => step.kind)).toEqual(['reads', 'reads', 'reads', 'cutover', 'pins']);
    // RequestCount, writes included, cannot judge a read step's share: only the cutover and the pins' step are.
    expect(measured).toEqual([3, 4]);
    expect(world.readIncreasesUnderAlarm).toEqual([]);
  });

  it('creates the pins before the read rules, at the planned priorities, tagged as its own', async () => {
    const world = readsFirstWorld();
    const execution = world.start({ plan: '10:1000,100', readsFirst: { basePriority: 40 } });

    await world.until(baking(0), 'bake of the first read step');
    const created = world.elb.log.filter(
      (event) => event.kind === 'call' && event.operation === 'CreateRule',
    );
    const rules = world.elb.swingRules;
    expect(created).toHaveLength(SWING_RULE_SET.length);
    expect(rules.map((rule) => rule.Priority)).toEqual(
      SWING_RULE_SET.map((spec) => String(40 + spec.offset)),
    );
    const names = rules.map((rule) => rule.tags.find((tag) => tag.Key === 'swing:rule')?.Value);
    expect(names).toEqual(SWING_RULE_SET.map((spec) => spec.name));
    expect(rules.every((rule) => rule.tags.some((tag) => tag.Value === execution.executionArn))).toBe(true);
    const pins = rules.filter((rule) =>
      String(rule.tags.find((tag) => tag.Key === 'swing:rule')?.Value).startsWith('pin'),
    );
    expect(pins.map((rule) => world.elb.ruleWeights(rule))).toEqual(
      pins.map(() => ({ source: 999, target: 0 })),
    );
    execution.stop();
    await execution.result;
  });

  it('holds the write cutover behind its own gate; promote cuts writes over', async () => {
    const world = readsFirstWorld();
    const execution = world.start({
      plan: '50:1,100:1',
      readsFirst: { cutoverGate: 'manual', cutoverBakeSeconds: 1, scrollKeepAliveSeconds: 1 },
    });

    await world.until(gated(1), 'the cutover gate after the last read step');
    expect(world.elb.writes).toEqual([]);
    await promoteGate(operatorOf(world));
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expect(world.elb.weights).toEqual(percentToWeights(100));
    expect(world.elb.swingRules).toEqual([]);
  });

  it('rolls back a failing read step: the reads go back, the rules go, the default action is never written', async () => {
    const world = readsFirstWorld();
    const execution = world.start({ plan: '10:1000,50:1000,100', readsFirst: replayLagGate });

    await world.until(baking(1), 'bake of the 50 % read step');
    await world.fireAlarm(ALARM);
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'AlarmFired' });
    expect(world.elb.writes).toEqual([]);
    expect(world.elb.weights).toEqual(START);
    expect(world.elb.swingRules).toEqual([]);
    const finished = (await world.store.get(LISTENER.listenerArn))?.history.at(-1);
    expect(finished).toMatchObject({ outcome: 'rolled-back', restored: true });
    expect(finished?.exposure).toBeUndefined();
    expect(world.readIncreasesUnderAlarm).toEqual([]);
  });

  it('after the cutover, rolls back by policy and reports the write exposure (window and target requests)', async () => {
    const world = readsFirstWorld({ targetRequests: 1234 });
    const execution = world.start({
      plan: '100:1',
      readsFirst: { ...replayLagGate, cutoverBakeSeconds: 1000, afterCutover: 'rollback' },
    });

    await world.until(
      (rollout) => baking(1)(rollout) && rollout?.cutoverAt !== undefined,
      'bake of the cutover',
    );
    await world.fireAlarm(ALARM);
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'AlarmFired' });
    expect(world.elb.weights).toEqual(START);
    expect(world.elb.swingRules).toEqual([]);
    const finished = (await world.store.get(LISTENER.listenerArn))?.history.at(-1);
    expect(finished?.exposure).toMatchObject({ policy: 'rollback', targetRequests: 1234 });
    expect(finished?.exposure?.cutoverAt).toBe(finished?.cutoverAt);
    expect(world.notifications.at(-1)).toMatchObject({
      outcome: 'rolled-back',
      exposure: { policy: 'rollback', targetRequests: 1234 },
    });
  });

  it('the pins leave in a step of their own after the cutover’s bake, baked under alarm watch: an alarm then rolls back as after the cutover', async () => {
    const world = readsFirstWorld({ targetRequests: 77 });
    const pins = SWING_RULE_SET.filter((spec) => spec.role === 'pin').length;
    const execution = world.start({
      plan: '100:1',
      readsFirst: { ...replayLagGate, cutoverBakeSeconds: 1000, afterCutover: 'rollback' },
    });

    await world.until(
      (rollout) => baking(1)(rollout) && rollout?.cutoverAt !== undefined,
      'bake of the cutover',
    );
    // During the cutover's bake the pins still keep contexts on the source.
    expect(world.elb.swingRules).toHaveLength(pins);
    await world.until(baking(2), 'bake of the pins leaving');
    expect(world.elb.swingRules).toEqual([]);
    await world.fireAlarm(ALARM);
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'AlarmFired' });
    expect(world.elb.weights).toEqual(START);
    const finished = (await world.store.get(LISTENER.listenerArn))?.history.at(-1);
    expect(finished?.steps.map((step) => step.kind)).toEqual(['reads', 'cutover', 'pins']);
    expect(finished?.exposure).toMatchObject({ policy: 'rollback', targetRequests: 77 });
  });

  it('with the hold policy, an alarm in the pins’ bake keeps writes and pinned reads on the target and halts with the exposure', async () => {
    const world = readsFirstWorld();
    const execution = world.start({
      plan: '100:1',
      readsFirst: { ...replayLagGate, cutoverBakeSeconds: 1000, afterCutover: 'hold' },
    });

    await world.until(baking(2), 'bake of the pins leaving');
    await world.fireAlarm(ALARM);
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'HeldAfterCutover' });
    expect(world.elb.weights).toEqual(percentToWeights(100));
    expect(world.elb.swingRules).toEqual([]);
    const finished = (await world.store.get(LISTENER.listenerArn))?.history.at(-1);
    expect(finished).toMatchObject({ outcome: 'halted', exposure: { policy: 'hold' } });
    expect(finished?.steps.map((step) => step.kind)).toEqual(['reads', 'cutover', 'pins']);
  });

  it('does not remove the pins while a watched alarm fires (its event lost): it rolls back as after the cutover', async () => {
    const world = readsFirstWorld();
    // The alarm goes to ALARM as the cutover's bake ends clean, and its event never arrives.
    world.store.onUpdate = (_arn, patch) => {
      if (
        patch.status === 'shifting' &&
        patch.steps?.some((step) => step.kind === 'cutover' && step.bakedAt)
      ) {
        world.cloudWatch.set(ALARM, 'ALARM');
      }
    };
    const pinsWhenRestored: number[] = [];
    world.elb.onModify = (weights) => {
      if (weights.target === 0) pinsWhenRestored.push(world.elb.swingRules.length);
    };
    const execution = world.start({
      plan: '100:1',
      readsFirst: { ...replayLagGate, cutoverBakeSeconds: 1, afterCutover: 'rollback' },
    });
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'AlarmFiring' });
    // The pins were still there when the default action was restored: they never sent reads to the target.
    expect(pinsWhenRestored).toEqual([SWING_RULE_SET.filter((spec) => spec.role === 'pin').length]);
    expect(world.elb.weights).toEqual(START);
    expect(world.elb.swingRules).toEqual([]);
    const finished = (await world.store.get(LISTENER.listenerArn))?.history.at(-1);
    expect(finished?.steps.map((step) => step.kind)).toEqual(['reads', 'cutover']);
    expect(finished?.reason?.cause).toContain('not raising the pinned reads');
    expect(finished?.exposure).toMatchObject({ policy: 'rollback' });
  });

  it('after the cutover, with the hold policy, keeps writes on the target and halts with the exposure', async () => {
    const world = readsFirstWorld();
    const execution = world.start({
      plan: '100:1',
      readsFirst: {
        ...replayLagGate,
        cutoverBakeSeconds: 1000,
        scrollKeepAliveSeconds: 3600,
        afterCutover: 'hold',
      },
    });

    await world.until((rollout) => baking(1)(rollout), 'bake of the cutover');
    await world.fireAlarm(ALARM);
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'HeldAfterCutover' });
    expect(world.elb.weights).toEqual(percentToWeights(100));
    const finished = (await world.store.get(LISTENER.listenerArn))?.history.at(-1);
    expect(finished).toMatchObject({ outcome: 'halted', exposure: { policy: 'hold' } });
    // The read rules went at the cutover; the pins stay until the scroll keep-alive ends (the reconciler's).
    const left = world.elb.swingRules.map((rule) => rule.tags.find((tag) => tag.Key === 'swing:rule')?.Value);
    expect(left.every((name) => String(name).startsWith('pin'))).toBe(true);
  });

  it('an operator abort after the cutover rolls back even with the hold policy', async () => {
    const world = readsFirstWorld();
    const execution = world.start({
      plan: '100:1',
      readsFirst: { ...replayLagGate, cutoverBakeSeconds: 1000, afterCutover: 'hold' },
    });
    await world.until(baking(1), 'bake of the cutover');
    const { abortRollout } = await import('#domain/operator.ts');
    await abortRollout(operatorOf(world));
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'Aborted' });
    expect(world.elb.weights).toEqual(START);
    expect(world.elb.swingRules).toEqual([]);
  });

  it('waits for the replayer before a read step, writing nothing, and goes on when the lag alarm returns to OK', async () => {
    let lagging = false;
    const world = readsFirstWorld({ lagging: () => lagging });
    // The replayer falls behind once the first read step is written.
    world.store.onUpdate = (_arn, patch) => {
      if (patch.readsWritten) lagging = true;
    };
    const execution = world.start({ plan: '10:1,50:1,100:1', readsFirst: replayLagGate });

    const waiting = await world.until(
      (rollout) =>
        rollout?.status === 'waiting-replay' && rollout.taskKind === 'replay' && !!rollout.taskToken,
      'the wait for the replayer before step 2',
    );
    expect(waiting?.stepIndex).toBe(1);
    expect(waiting?.readsWritten).toEqual(percentToWeights(10));
    const readShares = world.elb.swingRules
      .filter((rule) => rule.tags.some((tag) => String(tag.Value).startsWith('reads-')))
      .map((rule) => world.elb.ruleWeights(rule));
    expect(readShares.every((weights) => weights.target === percentToWeights(10).target)).toBe(true);
    expect(await world.lagEvent('ALARM')).toBe('ignored-state');
    world.store.onUpdate = undefined;
    lagging = false;
    expect(await world.lagEvent('OK')).toBe('released-replay-wait');

    expect(await execution.result).toMatchObject({ status: 'SUCCEEDED' });
    expect(world.elb.swingRules).toEqual([]);
  });

  it('rolls back, saying why, when the replayer does not catch up before the wait times out', async () => {
    const world = readsFirstWorld({ lagging: () => true });
    const result = await world.start({
      plan: '10:1,100:1',
      readsFirst: { ...replayLagGate, replayWaitSeconds: 2 },
    }).result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'ReplayLagTimedOut' });
    expect(world.elb.writes).toEqual([]);
    expect(world.elb.swingRules).toEqual([]);
  });

  it('a rehearsal ramps reads, restores, and ends rehearsed with every step in the history', async () => {
    const world = readsFirstWorld();
    const result = await world.start({ plan: '5:1,20:1', ...REHEARSAL }).result;

    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expect(world.elb.writes).toEqual([]);
    expect(world.elb.weights).toEqual(START);
    expect(world.elb.swingRules).toEqual([]);
    const finished = (await world.store.get(LISTENER.listenerArn))?.history.at(-1);
    expect(finished).toMatchObject({ outcome: 'rehearsed', planEnd: 'restore', restored: true });
    expect(finished?.steps.map((step) => step.targetPercent)).toEqual([5, 20]);
    expect(world.notifications.at(-1)).toMatchObject({ outcome: 'rehearsed' });
  });

  it('halts on a read rule re-weighted by hand and touches nothing', async () => {
    const world = readsFirstWorld();
    const execution = world.start({ plan: '10:1000,50:1,100:1', readsFirst: replayLagGate });
    await world.until(baking(0), 'bake of the first read step');
    const readRule = world.elb.swingRules.find((rule) =>
      rule.tags.some((tag) => tag.Value === 'reads-get-head'),
    );
    world.elb.setRuleByHand(readRule?.RuleArn ?? '', { source: 1, target: 1 });
    const before = world.elb.log.length;
    const { abortRollout } = await import('#domain/operator.ts');
    await abortRollout(operatorOf(world));
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'WeightsDrifted' });
    const writes = listenerWritesSince(world.elb, before);
    expect(writes).toEqual([]);
    expect(world.elb.swingRules).toHaveLength(SWING_RULE_SET.length);
  });

  it('the safety net removes the rules of a stopped rollout', async () => {
    const world = readsFirstWorld();
    const execution = world.start({ plan: '10:1000,100', readsFirst: replayLagGate });
    await world.until(baking(0), 'bake of the first read step');

    execution.stop();
    const result = await execution.result;

    expect(result.status).toBe('ABORTED');
    expect(world.elb.swingRules).toEqual([]);
    expect(world.elb.weights).toEqual(START);
    expect(await world.lockOwner()).toBeUndefined();
  });
});

describe('Reads-first preflight refusals change nothing', () => {
  const refusedWith = async (
    world: ReturnType<typeof readsFirstWorld>,
    input: Record<string, unknown>,
    error: string,
    text: RegExp,
  ) => {
    const before = world.elb.log.length;
    const result = await world.start(input).result;
    expect(result).toMatchObject({ status: 'FAILED', error });
    expect(result.status === 'FAILED' ? result.cause : '').toMatch(text);
    const writes = listenerWritesSince(world.elb, before);
    expect(writes).toEqual([]);
    expect(await world.lockOwner()).toBeUndefined();
  };
  const foreignRule = (priority: string): Rule => ({
    RuleArn: `${LISTENER.listenerArn.replace(':listener/', ':listener-rule/')}/f0reign${priority}`,
    Priority: priority,
    Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/admin/*'] } }],
    Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '403' } }],
    IsDefault: false,
  });

  it('refuses while the default action sends anything to the target, naming swing set-weights --target 0', async () => {
    const world = readsFirstWorld();
    world.elb.setByHand({ source: 990, target: 9 });
    await refusedWith(world, { plan: '10,100' }, 'ListenerShapeInvalid', /swing set-weights --target 0/);
  });

  it('refuses when a priority Swing needs is taken', async () => {
    const world = readsFirstWorld();
    world.elb.setRules([foreignRule('1003')]);
    await refusedWith(
      world,
      { plan: '10,100' },
      'ListenerShapeInvalid',
      /priorities Swing needs \(1000-1021\) are taken/,
    );
  });

  it('refuses when another rule is evaluated after Swing’s, whose rules would shadow it', async () => {
    const world = readsFirstWorld();
    world.elb.setRules([foreignRule('5000')]);
    await refusedWith(world, { plan: '10,100' }, 'ListenerShapeInvalid', /evaluated after Swing's/);
  });

  it('runs beside an operator’s rule evaluated before Swing’s, which keeps its place and its answer', async () => {
    const world = readsFirstWorld();
    const operators = foreignRule('5');
    world.elb.setRules([operators]);

    const result = await world.sfn.start(world.deps, {
      traffic: 'reads-first',
      plan: '50:1,100:1',
      readsFirst: replayLagGate,
    }).result;

    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expect(world.elb.currentRules).toEqual([{ ...operators, tags: [] }]);
  });

  it('refuses when rules of Swing are left from an earlier rollout', async () => {
    const world = readsFirstWorld();
    const left = { ...foreignRule('2000'), Actions: [] };
    world.elb.setRules([left], {
      [left.RuleArn ?? '']: [
        { Key: 'swing:owner', Value: 'arn:aws:states:us-east-1:123456789012:execution:swing:old' },
        { Key: 'swing:rule', Value: 'reads-get-head' },
      ],
    });
    await refusedWith(world, { plan: '10,100' }, 'ListenerShapeInvalid', /still on the listener/);
  });

  it('refuses reads-first at once when the stack has no replay-lag check, instead of waiting for one', async () => {
    const world = readsFirstWorld();
    const before = world.elb.log.length;
    const result = await world.sfn.start(
      { ...world.deps, trafficDefaults: { ...DEFAULT_TRAFFIC, replayLagCheck: false } },
      { plan: '10,100', traffic: 'reads-first' },
    ).result;
    expect(result).toMatchObject({ status: 'FAILED', error: 'ValidationFailed' });
    expect(result.status === 'FAILED' ? result.cause : '').toMatch(/replayLag\.qualifier/);
    expect(
      world.elb.log
        .slice(before)
        .filter(
          (event) =>
            event.kind === 'call' &&
            event.operation !== 'DescribeListeners' &&
            event.operation !== 'DescribeRules' &&
            event.operation !== 'DescribeTags',
        ),
    ).toEqual([]);
    expect(await world.lockOwner()).toBeUndefined();
  });

  it('refuses a reads-first plan whose reads stop short of 100 before the cutover', async () => {
    const world = readsFirstWorld();
    await refusedWith(
      world,
      { plan: '10,50' },
      'ValidationFailed',
      /must reach 100 before the write cutover/,
    );
  });

  it('refuses a rehearsal in all mode unless writes left on the target are accepted', async () => {
    const world = readsFirstWorld();
    await refusedWith(
      world,
      { plan: '10:1', traffic: 'all', ...REHEARSAL },
      'ValidationFailed',
      /acceptWritesOnTarget/,
    );
    const accepted = await world.start({
      plan: '10:1',
      traffic: 'all',
      ...REHEARSAL,
      acceptWritesOnTarget: true,
    }).result;
    expect(accepted).toMatchObject({ status: 'SUCCEEDED' });
    expect(world.elb.weights).toEqual(START);
    expect((await world.store.get(LISTENER.listenerArn))?.history.at(-1)).toMatchObject({
      outcome: 'rehearsed',
    });
  });
});
