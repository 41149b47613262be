import { describe, expect, it } from 'vitest';
import { safetyNet } from '#domain/engine/safety-net.ts';
import { SETTLER_FREEZE_LEASE_MS } from '#domain/engine/settle-freeze.ts';
import { ListenerShapeInvalid, TransientFailure } from '#domain/errors.ts';
import { FREEZE_RULE_SET } from '#domain/swing-rules.ts';
import type { RolloutPatch, SwingRulesPort, Weights } from '#domain/types.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { freezeRulesOn, losslessWorld, START } from '#test/support/lossless-world.ts';
import { ALARM } from '#test/support/rollout-world.ts';

/**
 * Issue 22, lossless after the cutover when the execution ends outside its rollback path: stopped, failed or timed
 * out after the write cutover, with reverse capture configured, the safety net (or the reconciler, when the status
 * event was lost) freezes writes as Freeze would, waits for the reverse replayer, then restores and lifts the
 * freeze. Through the real ASL and engine over the fake ELBv2; the settlers' drain polls are shortened.
 */

type Run = ReturnType<typeof losslessWorld>;

/** Shortens the settlers' 2 s polls of the reverse lag; `maxDrainWaitMs` as an invocation's time would be. */
function settlerTiming(run: Run, maxDrainWaitMs?: number): void {
  Object.assign(run.world.deps, {
    sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.min(ms, 10))),
    ...(maxDrainWaitMs === undefined ? {} : { maxDrainWaitMs }),
  });
}

/**
 * Watches the listener: when every freeze rule stands (and how many were created in all, by anyone), and, with
 * `drainAfterMs`, drains the reverse replayer that long after the freeze stood.
 */
function watchFreeze(run: Run, drainAfterMs?: number) {
  const seen: { frozenAt?: number; drainedAt?: number; created: number } = { created: 0 };
  const onRuleWrite = run.world.elb.onRuleWrite;
  const frozen = () => {
    if (seen.frozenAt !== undefined || freezeRulesOn(run.world).length < FREEZE_RULE_SET.length) return;
    seen.frozenAt = Date.now();
    if (drainAfterMs === undefined) return;
    setTimeout(() => {
      seen.drainedAt = Date.now();
      run.reverse.drained = true;
    }, drainAfterMs);
  };
  // Called before each rule write lands: the freeze stands once its last rule has.
  run.world.elb.onRuleWrite = (rule, weights) => {
    onRuleWrite?.(rule, weights);
    const isNew = !run.world.elb.currentRules.some((current) => current.RuleArn === rule.RuleArn);
    const freezePriority = FREEZE_RULE_SET.some((spec) => String(1000 + spec.offset) === rule.Priority);
    if (isNew && freezePriority) seen.created += 1;
    queueMicrotask(frozen);
  };
  return { seen, stop: () => undefined };
}

describe('A rollout that ends outside its rollback path after the cutover is settled with a freeze', () => {
  it('stopped in the cutover bake: the safety net freezes writes, restores only once drained, then lifts the freeze', async () => {
    const run = losslessWorld();
    settlerTiming(run);
    await run.inCutoverBake();
    const watch = watchFreeze(run, 60);
    run.execution.stop();
    const result = await run.execution.result;
    watch.stop();

    expect(result).toMatchObject({ status: 'ABORTED', safetyNet: 'restored' });
    expect(watch.seen.frozenAt, 'every freeze rule stood before the restore').toBeDefined();
    expect(run.restore.at).toBeGreaterThanOrEqual(watch.seen.drainedAt ?? Number.POSITIVE_INFINITY);
    const last = await run.finished();
    expect(last?.freeze).toMatchObject({
      frozenAt: expect.any(String),
      drain: 'drained',
      liftedAt: expect.any(String),
    });
    expect(last?.exposure).toMatchObject({ policy: 'rollback', reverseReplay: 'drained' });
    expect(run.world.notifications.at(-1)).toMatchObject({
      outcome: 'rolled-back',
      exposure: { reverseReplay: 'drained' },
    });
    expect(run.world.elb.swingRules).toEqual([]);
    expect(run.world.elb.weights).toEqual(START);
  });

  it('a drain longer than the invocation leaves the freeze and the lock; the reconciler restores once drained', async () => {
    const run = losslessWorld();
    settlerTiming(run, 30);
    await run.inCutoverBake();
    const watch = watchFreeze(run);
    run.execution.stop();
    // The safety net's invocation ran out of time: DrainPending fails it (Lambda retries it, the reconciler runs).
    await expect(run.execution.result).rejects.toMatchObject({ name: 'DrainPending' });
    watch.stop();

    expect(watch.seen.frozenAt).toBeDefined();
    expect(freezeRulesOn(run.world)).toHaveLength(FREEZE_RULE_SET.length);
    expect(run.world.elb.weights).not.toEqual(START);
    expect(run.restore.at).toBeUndefined();
    const held = await run.world.rollout();
    expect(await run.world.lockOwner()).toBe(run.execution.executionArn);
    expect(held).toMatchObject({ status: 'rolling-back', freeze: { frozenAt: expect.any(String) } });
    expect(held?.freeze?.drainEndedAt).toBeUndefined();

    // A run before the drain restores nothing either.
    await expect(run.world.sfn.reconcile(run.world.deps)).rejects.toMatchObject({ name: 'DrainPending' });
    expect(run.restore.at).toBeUndefined();

    run.reverse.drained = true;
    const drainedAt = Date.now();
    const reconciled = await run.world.sfn.reconcile(run.world.deps);

    expect(reconciled).toMatchObject({ action: 'restored', holderStatus: 'ABORTED' });
    expect(run.restore.at).toBeGreaterThanOrEqual(drainedAt);
    const last = await run.finished();
    expect(last?.freeze).toMatchObject({
      frozenAt: held?.freeze?.frozenAt,
      drain: 'drained',
      liftedAt: expect.any(String),
    });
    expect(last?.exposure).toMatchObject({ reverseReplay: 'drained' });
    expect(run.world.elb.swingRules).toEqual([]);
    expect(run.world.elb.weights).toEqual(START);
    expect(await run.world.lockOwner()).toBeUndefined();
  });

  it('a replayer that never drains: the freeze holds until its deadline, then the restore reports timed-out', async () => {
    const run = losslessWorld({ drainTimeoutSeconds: 1 });
    settlerTiming(run);
    await run.inCutoverBake();
    const watch = watchFreeze(run);
    run.execution.stop();
    await run.execution.result;
    watch.stop();

    const last = await run.finished();
    expect(last?.freeze).toMatchObject({ drain: 'timed-out', liftedAt: expect.any(String) });
    expect(run.restore.at).toBeGreaterThanOrEqual(Date.parse(last?.freeze?.drainDeadline ?? ''));
    expect(Date.parse(last?.freeze?.drainDeadline ?? '')).toBeGreaterThanOrEqual(watch.seen.frozenAt ?? 0);
    expect(last?.exposure).toMatchObject({ reverseReplay: 'timed-out', targetRequests: 40 });
    expect(run.world.elb.swingRules).toEqual([]);
  });

  it('with the hold policy a stop is an operator decision: frozen, drained and restored', async () => {
    const run = losslessWorld({ afterCutover: 'hold' });
    settlerTiming(run);
    await run.inCutoverBake();
    const watch = watchFreeze(run, 20);
    run.execution.stop();
    const result = await run.execution.result;
    watch.stop();

    expect(result).toMatchObject({ status: 'ABORTED', safetyNet: 'restored' });
    expect(watch.seen.frozenAt).toBeDefined();
    expect((await run.finished())?.exposure).toMatchObject({ policy: 'rollback', reverseReplay: 'drained' });
    expect(run.world.elb.weights).toEqual(START);
  });

  it('with the hold policy an execution that failed by itself is held: no freeze', async () => {
    // A short drain bound: a wrong freeze ends soon, and the assertions say so.
    const run = losslessWorld({ afterCutover: 'hold', drainTimeoutSeconds: 1 });
    settlerTiming(run);
    await run.inCutoverBake();
    const watch = watchFreeze(run);
    // Its status event says FAILED (a Lambda failing for good); the bake it was in goes nowhere after.
    const action = await safetyNet(run.world.deps, {
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      detail: { executionArn: run.execution.executionArn, status: 'FAILED' },
    });
    watch.stop();
    run.execution.stop();
    await run.execution.result;

    expect(action).toBe('held-after-cutover');
    expect(watch.seen.created).toBe(0);
    expect((await run.finished())?.freeze).toBeUndefined();
    expect(run.world.elb.weights).not.toEqual(START);
  });

  it('weights changed by hand after the cutover: the settler halts and never freezes (I4)', async () => {
    const run = losslessWorld({ drainTimeoutSeconds: 1 });
    settlerTiming(run);
    await run.inCutoverBake();
    const byHand: Weights = { source: 500, target: 499 };
    run.world.elb.setByHand(byHand);
    const watch = watchFreeze(run);
    run.execution.stop();
    const result = await run.execution.result;
    watch.stop();

    expect(result).toMatchObject({ status: 'ABORTED', safetyNet: 'halted-drift' });
    expect(watch.seen.created).toBe(0);
    expect(run.world.elb.weights).toEqual(byHand);
    expect(freezeRulesOn(run.world)).toEqual([]);
    expect((await run.world.store.get(LISTENER.listenerArn))?.history.at(-1)?.outcome).toBe('halted');
  });

  it('twin settlers: one makes the freeze; the other creates no rule, even after the first restored', async () => {
    const run = losslessWorld({ drainTimeoutSeconds: 1 });
    settlerTiming(run);
    await run.inCutoverBake();
    const real = run.world.deps.swingRules as SwingRulesPort;
    // Twin A's freeze is slow, then ELBv2 refuses one of its rules: A restores at once, without a drain.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const rulesOfA: SwingRulesPort = Object.assign(Object.create(real), {
      createRule: async (...args: Parameters<SwingRulesPort['createRule']>) => {
        await held;
        if (args[0].name === 'freeze-reads-lookups') throw new ListenerShapeInvalid('priority 1016 is taken');
        return real.createRule(...args);
      },
    });
    const createdByB: string[] = [];
    const rulesOfB: SwingRulesPort = Object.assign(Object.create(real), {
      createRule: async (...args: Parameters<SwingRulesPort['createRule']>) => {
        createdByB.push(args[0].name);
        return real.createRule(...args);
      },
    });
    const event = {
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      detail: { executionArn: run.execution.executionArn, status: 'ABORTED' },
    };
    const twinA = safetyNet({ ...run.world.deps, swingRules: rulesOfA }, event);
    await run.world.until((rollout) => rollout?.freeze?.startedAt !== undefined, 'A began its freeze');
    // B reads the freeze A began, not made yet.
    const twinB = safetyNet({ ...run.world.deps, swingRules: rulesOfB }, event);
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    const actions = [await twinA, await twinB];
    run.execution.stop();
    await run.execution.result;

    expect(actions[0]).toBe('restored');
    expect(['restored', 'nothing-held']).toContain(actions[1]);
    expect(createdByB, 'the twin created no rule beside the freeze A claimed').toEqual([]);
    expect(run.world.elb.swingRules).toEqual([]);
    expect(run.world.elb.weights).toEqual(START);
    const last = await run.finished();
    expect(last?.freeze?.failed).toContain('priority 1016 is taken');
    expect(last?.exposure).toMatchObject({ reverseReplay: 'not-frozen' });
  });

  it('a record damaged during the drain: the settler halts on it and lifts the freeze (I9)', async () => {
    const run = losslessWorld({ drainTimeoutSeconds: 1 });
    settlerTiming(run);
    await run.inCutoverBake();
    await run.world.fireAlarm(ALARM);
    await run.draining();
    expect(freezeRulesOn(run.world)).toHaveLength(FREEZE_RULE_SET.length);
    await run.world.store.update(LISTENER.listenerArn, run.execution.executionArn, {
      plan: { steps: null },
    } as unknown as RolloutPatch);
    run.execution.stop();
    const result = await run.execution.result;

    expect(result).toMatchObject({ status: 'ABORTED', safetyNet: 'halted-record-malformed' });
    expect(freezeRulesOn(run.world)).toEqual([]);
    expect(run.world.elb.weights).not.toEqual(START);
  });

  it('a listener reshaped by hand after the cutover: the settler halts, makes no freeze and frees the lock (I4)', async () => {
    const run = losslessWorld({ drainTimeoutSeconds: 1 });
    settlerTiming(run);
    await run.inCutoverBake();
    run.world.elb.setDefaultActions([
      { Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain' } },
    ]);
    const watch = watchFreeze(run);
    run.execution.stop();
    const result = await run.execution.result;
    watch.stop();

    expect(result).toMatchObject({ status: 'ABORTED', safetyNet: 'halted-drift' });
    expect(watch.seen.created).toBe(0);
    expect(await run.world.lockOwner()).toBeUndefined();
  });

  it('a freeze another settler began is waited for, never made beside it; once its maker is gone, it is claimed anew', async () => {
    const run = losslessWorld({ drainTimeoutSeconds: 1 });
    settlerTiming(run, 30);
    await run.inCutoverBake();
    const { executionArn } = run.execution;
    // A settler began the freeze just now (it is still creating its rules, as far as the record tells).
    const begun = new Date().toISOString();
    await run.world.store.update(LISTENER.listenerArn, executionArn, {
      status: 'rolling-back',
      freeze: { startedAt: begun, drainDeadline: begun },
    });
    const watch = watchFreeze(run);
    run.execution.stop();
    await expect(run.execution.result).rejects.toMatchObject({ name: 'DrainPending' });
    expect(watch.seen.created, 'no rule beside a freeze in the making').toBe(0);
    expect(run.restore.at).toBeUndefined();

    // Its maker is gone (longer ago than any settler runs): the reconciler claims it and makes it.
    const abandoned = new Date(Date.now() - SETTLER_FREEZE_LEASE_MS - 1000).toISOString();
    await run.world.store.update(LISTENER.listenerArn, executionArn, {
      freeze: { startedAt: abandoned, drainDeadline: abandoned },
    });
    run.reverse.drained = true;
    const reconciled = await run.world.sfn.reconcile(run.world.deps);
    watch.stop();

    expect(reconciled).toMatchObject({ action: 'restored' });
    expect(watch.seen.frozenAt, 'every freeze rule stood before the restore').toBeDefined();
    expect(run.restore.at).toBeGreaterThanOrEqual(watch.seen.frozenAt ?? Number.POSITIVE_INFINITY);
    const last = await run.finished();
    expect(Date.parse(last?.freeze?.startedAt ?? '')).toBeGreaterThan(Date.parse(abandoned));
    expect(last?.freeze).toMatchObject({ drain: 'drained', liftedAt: expect.any(String) });
    expect(run.world.elb.swingRules).toEqual([]);
    expect(run.world.elb.weights).toEqual(START);
  });

  it('a throttled CreateRule in the settler freeze is tried again within the invocation, as the restore is', async () => {
    const run = losslessWorld();
    settlerTiming(run);
    await run.inCutoverBake();
    const real = run.world.deps.swingRules as SwingRulesPort;
    let throttles = 2;
    (run.world.deps as { swingRules: SwingRulesPort }).swingRules = Object.assign(Object.create(real), {
      createRule: async (...args: Parameters<SwingRulesPort['createRule']>) => {
        if (args[0].name === 'freeze-methods' && throttles > 0) {
          throttles -= 1;
          throw new TransientFailure('CreateRule: Throttling: Rate exceeded');
        }
        return real.createRule(...args);
      },
    });
    const watch = watchFreeze(run, 20);
    run.execution.stop();
    const result = await run.execution.result;

    expect(throttles).toBe(0);
    expect(result).toMatchObject({ status: 'ABORTED', safetyNet: 'restored' });
    expect(run.restore.at).toBeGreaterThanOrEqual(watch.seen.drainedAt ?? Number.POSITIVE_INFINITY);
    expect((await run.finished())?.exposure).toMatchObject({ reverseReplay: 'drained' });
    expect(run.world.elb.swingRules).toEqual([]);
  });
});
