import { describe, expect, it } from 'vitest';
import { rollback } from '#domain/engine/rollback.ts';
import { ListenerShapeInvalid } from '#domain/errors.ts';
import { migrationAssistantReverseLimits } from '#domain/lossless.ts';
import { abortRollout } from '#domain/operator.ts';
import { FREEZE_RESPONSE, FREEZE_RULE_SET } from '#domain/swing-rules.ts';
import type { Rollout, SwingRulesPort } from '#domain/types.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { freezeRulesOn, losslessWorld, REVERSE_ALARM, START } from '#test/support/lossless-world.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';
import { ALARM, baking, listenerWritesSince, operatorOf } from '#test/support/rollout-world.ts';

/**
 * A rollback after the write cutover with reverse capture configured, through the real ASL and engine over the
 * fake ELBv2: Freeze answers non-reads with 503, Drain waits for the reverse replayer (its lag alarm's event, or
 * DrainCheck's re-check), Rollback restores only once it drained or its deadline passed, then lifts the freeze.
 */

describe('Lossless rollback after the cutover: freeze, drain, restore, lift', () => {
  it('freezes non-reads with 503, restores only after the reverse lag alarm says drained, then lifts the freeze', async () => {
    const run = losslessWorld();
    await run.inCutoverBake();
    await run.world.fireAlarm(ALARM);
    await run.draining();

    // Frozen: the nine freeze rules, seven answering 503 and two forwarding POST reads as the listener does.
    const frozen = run.world.elb.currentRules.filter((rule) =>
      FREEZE_RULE_SET.some((spec) => rule.tags.some((tag) => tag.Value === spec.name)),
    );
    expect(frozen).toHaveLength(FREEZE_RULE_SET.length);
    const answers = frozen.flatMap((rule) => rule.Actions ?? []).filter((a) => a.Type === 'fixed-response');
    expect(answers).toHaveLength(7);
    expect(answers[0]?.FixedResponseConfig).toEqual({
      StatusCode: '503',
      ContentType: 'application/json',
      MessageBody: FREEZE_RESPONSE.messageBody,
    });
    expect(run.world.elb.weights).not.toEqual(START);
    expect(run.restore.at).toBeUndefined();

    run.reverse.drained = true;
    expect(await run.reverseLagOk()).toBe('released-drain');
    const result = await run.execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'AlarmFired' });
    expect(run.world.elb.weights).toEqual(START);
    expect(run.world.elb.swingRules).toEqual([]);
    const last = await run.finished();
    expect(run.restore.at).toBeGreaterThanOrEqual(Date.parse(last?.freeze?.drainEndedAt ?? ''));
    expect(last?.freeze).toMatchObject({
      drain: 'drained',
      frozenAt: expect.any(String),
      liftedAt: expect.any(String),
    });
    expect(Date.parse(last?.freeze?.liftedAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(last?.freeze?.drainEndedAt ?? ''),
    );
    expect(last?.exposure).toMatchObject({ policy: 'rollback', reverseReplay: 'drained' });
    expect(run.world.notifications.at(-1)).toMatchObject({ exposure: { reverseReplay: 'drained' } });
  });

  it('a lost lag event does not wedge the drain: DrainCheck looks again and restores', async () => {
    const run = losslessWorld();
    await run.inCutoverBake();
    await run.world.fireAlarm(ALARM);
    await run.draining();
    const checks = run.reverse.checks;
    run.reverse.drained = true; // its OK event never comes

    await run.execution.result;
    expect(run.reverse.checks).toBeGreaterThan(checks);
    expect(run.world.elb.weights).toEqual(START);
    expect((await run.finished())?.freeze).toMatchObject({ drain: 'drained' });
  });

  it('restores at the drain deadline, not before, and reports what may not have been replayed', async () => {
    // The engine's clock is real time; the executor's waits are a millisecond a second: a 1 s drain bound.
    const run = losslessWorld({ drainTimeoutSeconds: 1 });
    await run.inCutoverBake();
    await run.world.fireAlarm(ALARM);
    await run.execution.result;

    const last = await run.finished();
    expect(last?.freeze).toMatchObject({ drain: 'timed-out' });
    expect(run.restore.at).toBeGreaterThanOrEqual(Date.parse(last?.freeze?.drainDeadline ?? ''));
    expect(last?.exposure).toMatchObject({
      policy: 'rollback',
      reverseReplay: 'timed-out',
      targetRequests: 40,
    });
    expect(run.world.elb.swingRules).toEqual([]);
  });

  it('an operator abort during the freeze neither ends the drain nor restores early', async () => {
    const run = losslessWorld();
    await run.inCutoverBake();
    await run.world.fireAlarm(ALARM);
    await run.draining();
    await abortRollout(operatorOf(run.world));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(run.restore.at).toBeUndefined();

    run.reverse.drained = true;
    await run.reverseLagOk();
    await run.execution.result;
    expect((await run.finished())?.freeze).toMatchObject({ drain: 'drained' });
    expect(run.world.elb.swingRules).toEqual([]);
  });

  it('a freeze ELBv2 refuses restores at once, with the exposure, and leaves no rule', async () => {
    const run = losslessWorld();
    const real = run.world.deps.swingRules as SwingRulesPort;
    let cutOver = false;
    (run.world.deps as { swingRules: SwingRulesPort }).swingRules = Object.assign(Object.create(real), {
      createRule: async (...args: Parameters<SwingRulesPort['createRule']>) => {
        // Taken after the cutover (whose own brief freeze had it): the rollback's freeze is refused.
        if (cutOver && args[0].name === 'freeze-reads-search')
          throw new ListenerShapeInvalid('priority 1015 is taken');
        return real.createRule(...args);
      },
    });
    await run.inCutoverBake();
    cutOver = true;
    await run.world.fireAlarm(ALARM);
    await run.execution.result;

    const last = await run.finished();
    expect(last?.freeze?.failed).toContain('priority 1015 is taken');
    expect(last?.exposure).toMatchObject({ reverseReplay: 'not-frozen' });
    expect(run.world.elb.weights).toEqual(START);
    expect(freezeRulesOn(run.world)).toEqual([]);
    expect(run.world.elb.swingRules).toEqual([]);
  });

  it('with the hold policy there is no freeze: writes stay on the target', async () => {
    const run = losslessWorld({ afterCutover: 'hold' });
    await run.inCutoverBake();
    await run.world.fireAlarm(ALARM);
    const result = await run.execution.result;
    expect(result).toMatchObject({ status: 'FAILED', error: 'HeldAfterCutover' });
    expect((await run.finished())?.freeze).toBeUndefined();
    expect(freezeRulesOn(run.world)).toEqual([]);
  });

  it('Rollback refuses to restore while the drain is pending (DrainPending), the listener untouched', async () => {
    const run = losslessWorld();
    await run.inCutoverBake();
    const rollout = (await run.world.rollout()) as Rollout;
    const now = new Date();
    await run.world.store.update(LISTENER.listenerArn, rollout.executionArn, {
      freeze: {
        startedAt: now.toISOString(),
        frozenAt: now.toISOString(),
        drainDeadline: new Date(now.getTime() + 3_600_000).toISOString(),
      },
    });
    const before = run.world.elb.weights;
    await expect(rollback(run.world.deps, { executionArn: rollout.executionArn })).rejects.toMatchObject({
      name: 'DrainPending',
    });
    expect(run.world.elb.weights).toEqual(before);
    // Its deadline passed: the safety net of the stopped execution then restores at once.
    await run.world.store.update(LISTENER.listenerArn, rollout.executionArn, {
      freeze: { startedAt: now.toISOString(), frozenAt: now.toISOString(), drainDeadline: now.toISOString() },
    });
    run.execution.stop();
    await run.execution.result;
  });
});

describe('Before the cutover, Preflight says whether a rollback after it would be lossless', () => {
  it('lossless with reverse capture configured and its lag alarm readable', async () => {
    const run = losslessWorld();
    await run.inCutoverBake();
    expect((await run.world.rollout())?.losslessRollback).toMatchObject({
      lossless: true,
      reverseCapture: true,
      detail: expect.stringContaining('at most 600 s'),
    });
    // Stopped after the cutover, the safety net freezes writes and waits for the drain: over at once here.
    run.reverse.drained = true;
    run.execution.stop();
    await run.execution.result;
  });

  it("not lossless where its replayer or signal has limits (AWS's), and still freezes and drains", async () => {
    const limits = migrationAssistantReverseLimits('lagging');
    const run = losslessWorld({ limits });
    await run.inCutoverBake();
    const verdict = (await run.world.rollout())?.losslessRollback;
    expect(verdict).toMatchObject({ lossless: false, reverseCapture: true, limits });
    expect(verdict?.detail).toContain(
      'freezes writes (503) until the reverse replayer has drained, at most 600 s',
    );
    expect(verdict?.detail).toContain('not proven lossless here: the reverse lag alarm measures');
    expect(verdict?.detail).toContain('a write the target refused');
    // A verdict short of lossless changes nothing of the rollback: it freezes, waits for the drain, then restores.
    await run.world.fireAlarm(ALARM);
    await run.draining();
    expect(run.restore.at).toBeUndefined();
    run.reverse.drained = true;
    await run.reverseLagOk();
    await run.execution.result;
    expect((await run.finished())?.freeze).toMatchObject({ drain: 'drained' });
    expect(run.world.elb.swingRules).toEqual([]);
  });

  it('not lossless when its lag alarm cannot be read, nor without reverse capture', async () => {
    // The safety net of the stop below freezes writes and waits out the drain's (1 s) deadline.
    const run = losslessWorld({ alarmReadable: false, drainTimeoutSeconds: 1 });
    await run.inCutoverBake();
    expect((await run.world.rollout())?.losslessRollback).toMatchObject({
      lossless: false,
      reverseCapture: true,
      detail: expect.stringContaining('cannot be read'),
    });
    run.execution.stop();
    await run.execution.result;

    const plain = readsFirstWorld();
    const execution = plain.start({
      plan: '100:1',
      readsFirst: { ...replayLagCutover(), cutoverBakeSeconds: 80_000 },
    });
    await plain.until((rollout) => baking(1)(rollout), 'the cutover bake');
    expect((await plain.rollout())?.losslessRollback).toMatchObject({
      lossless: false,
      reverseCapture: false,
      detail: expect.stringContaining('no reverse capture'),
    });
    execution.stop();
    await execution.result;
  });

  it('refuses, writing nothing, when a priority the freeze needs is taken', async () => {
    const world = readsFirstWorld();
    Object.assign(world.deps, {
      reverseCapture: { lagAlarm: REVERSE_ALARM, missingData: 'lagging', drainTimeoutSeconds: 60 },
    });
    world.elb.setRules([
      {
        RuleArn: `${LISTENER.listenerArn.replace(':listener/', ':listener-rule/')}/f0reign`,
        Priority: '1015',
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/admin/*'] } }],
        Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '403' } }],
        IsDefault: false,
      },
    ]);
    const before = world.elb.log.length;
    const result = await world.start({ plan: '10,100' }).result;
    expect(result).toMatchObject({ status: 'FAILED', error: 'ListenerShapeInvalid' });
    expect(result.status === 'FAILED' ? result.cause : '').toMatch(
      /priorities Swing needs \(1000-1021\) are taken/,
    );
    expect(listenerWritesSince(world.elb, before)).toEqual([]);
  });
});

describe('Other ends of a rollout after a freeze', () => {
  it('the safety net of a rollout stopped during the drain waits for the drain, restores, and lifts the freeze', async () => {
    const run = losslessWorld({ drainTimeoutSeconds: 1 });
    await run.inCutoverBake();
    await run.world.fireAlarm(ALARM);
    await run.draining();
    run.execution.stop();
    const result = await run.execution.result;

    expect(result).toMatchObject({ status: 'ABORTED', safetyNet: 'restored' });
    const last = await run.finished();
    expect(last?.freeze).toMatchObject({ drain: 'timed-out', liftedAt: expect.any(String) });
    expect(run.restore.at).toBeGreaterThanOrEqual(Date.parse(last?.freeze?.drainDeadline ?? ''));
    expect(last?.exposure).toMatchObject({ reverseReplay: 'timed-out' });
    expect(run.world.elb.swingRules).toEqual([]);
    expect(run.world.elb.weights).toEqual(START);
  });
});
