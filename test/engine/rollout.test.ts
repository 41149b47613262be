import { describe, expect, it } from 'vitest';
import { judgeDeliveredSplit } from '#domain/delivered-split.ts';
import { handleAlarmEvent } from '#domain/engine/alarm-event.ts';
import { abortRollout, pauseRollout, promoteGate, resumeRollout } from '#domain/operator.ts';
import { resolvePlan } from '#domain/plan.ts';
import type { StepRecord } from '#domain/types.ts';
import { percentToWeights } from '#domain/weights.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import {
  ALARM,
  alarmStateChange,
  baking,
  gated,
  makeWorld,
  operatorOf,
  paused,
  refusalOnly,
} from '#test/support/rollout-world.ts';

const START = { source: 1, target: 0 };
describe('State machine: rollout.asl.json with the real engine', () => {
  it('writes the weights in plan order, ends at 0/999 and releases the lock', async () => {
    const world = makeWorld();
    const spec = '5:30,25:30,50:30,100';

    const execution = world.start({ plan: spec });
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    const expected = resolvePlan(spec).steps.map((step) => percentToWeights(step.targetPercent));
    expect(world.elb.writes).toEqual(expected);
    expect(world.elb.weights).toEqual({ source: 0, target: 999 });
    expect(await world.lockOwner()).toBeUndefined();
    const record = await world.store.get(LISTENER.listenerArn);
    expect(record?.history.at(-1)).toMatchObject({
      outcome: 'completed',
      executionArn: execution.executionArn,
    });
    expect(world.notifications).toMatchObject([
      { outcome: 'completed', finalWeights: { source: 0, target: 999 } },
    ]);
    expect(world.increasesUnderAlarm).toEqual([]);
  });

  it('records the delivered split measured after each bake in its step record; a failed measure changes nothing else', async () => {
    const world = makeWorld();
    const measured: Array<{ index: number; until: Date }> = [];
    const deps = {
      ...world.deps,
      measureDeliveredSplit: async (step: StepRecord, until: Date) => {
        measured.push({ index: step.index, until });
        if (step.index === 1) throw new Error('GetMetricData throttled');
        return judgeDeliveredSplit({ weights: step.weights, requests: { source: 700, target: 300 } });
      },
    };

    const result = await world.sfn.start(deps, { plan: '50:1,75:1,100' }).result;

    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expect(measured.map((call) => call.index)).toEqual([0, 1, 2]);
    const steps = (await world.store.get(LISTENER.listenerArn))?.history.at(-1)?.steps ?? [];
    expect(steps[0]?.delivered).toMatchObject({ askedPercent: 50.05, deliveredPercent: 30, verdict: 'off' });
    expect(steps[0]?.bakedAt).toBe(measured[0]?.until.toISOString());
    expect(steps[1]?.delivered).toMatchObject({
      verdict: 'not-measured',
      notes: [expect.stringContaining('GetMetricData throttled')],
    });
    expect(steps[1]?.bakedAt).toBeDefined();
    expect(steps[2]?.delivered).toMatchObject({ askedPercent: 100, verdict: 'off' });
  });

  it('costs the same transitions whatever the bake time (no polling loop)', async () => {
    const short = makeWorld({ msPerSecond: 0.01 });
    const long = makeWorld({ msPerSecond: 0.001 });

    const a = short.start({ plan: '10:60,50:60,100:60' });
    const b = long.start({ plan: '10:3600,50:3600,100:3600' });
    await Promise.all([a.result, b.result]);

    expect(a.transitions()).toBe(b.transitions());
    // Preflight, SmokeTest, 4 per step (shift, bake, after-bake, choice), Complete, Succeeded.
    expect(a.transitions()).toBe(2 + 4 * 3 + 2);
  });

  it('changes no weight when the smoke test fails, and fails with SmokeTestFailed', async () => {
    const world = makeWorld({
      smoke: {
        ok: false,
        results: [
          { name: 'GET /_cluster/health', path: 'target', ok: false, detail: 'status red', durationMs: 3 },
        ],
      },
    });

    const result = await world.start({ plan: 'canary' }).result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'SmokeTestFailed' });
    expect(world.elb.writes).toEqual([]);
    expect(world.elb.weights).toEqual(START);
    expect(await world.lockOwner()).toBeUndefined();
  });

  it('restores the starting weights when an alarm fires mid-bake, failing with AlarmFired', async () => {
    const world = makeWorld({ starting: { source: 19, target: 1 } });
    const execution = world.start({ plan: '10:1000,50:1000,100' });
    await world.until(baking(1), 'bake of step 2');

    const action = await world.fireAlarm();
    const result = await execution.result;

    expect(action).toBe('failed-task');
    expect(result).toMatchObject({ status: 'FAILED', error: 'AlarmFired' });
    expect(world.elb.weights).toEqual({ source: 19, target: 1 });
    expect(world.elb.writes.at(-1)).toEqual({ source: 19, target: 1 });
    expect(await world.lockOwner()).toBeUndefined();
    const last = (await world.store.get(LISTENER.listenerArn))?.history.at(-1);
    expect(last).toMatchObject({
      outcome: 'rolled-back',
      restored: true,
      reason: { error: 'AlarmFired', alarm: ALARM },
    });
    expect(world.notifications.at(-1)).toMatchObject({ outcome: 'rolled-back', reason: { alarm: ALARM } });
  });

  it('ignores an alarm event older than the rollout (a late delivery from before it), and fails the bake on a current one', async () => {
    const world = makeWorld();
    const execution = world.start({ plan: '10:1000,100' });
    const opened = await world.until(baking(0), 'first bake');
    // EventBridge retries an undeliverable event for up to an hour: this one is from before the rollout.
    const before = new Date(Date.parse(opened!.startedAt) - 10 * 60_000).toISOString();
    const late = alarmStateChange(ALARM, 'ALARM', 'Threshold Crossed: an earlier incident');
    const stale = {
      ...late,
      time: before,
      detail: { ...late.detail, state: { ...late.detail.state, timestamp: before } },
    };

    expect(await handleAlarmEvent(world.deps, stale)).toBe('before-rollout');
    expect(await world.rollout()).toMatchObject({ status: 'baking', taskToken: opened!.taskToken });

    expect(await world.fireAlarm()).toBe('failed-task');
    expect(await execution.result).toMatchObject({ status: 'FAILED', error: 'AlarmFired' });
    expect(world.elb.weights).toEqual(START);
  });

  it.each([
    ['firing', 'failed-task', 'FAILED'],
    ['not-firing', 'ignored-state', undefined],
  ] as const)(
    'with the %s policy, an alarm event for INSUFFICIENT_DATA is %s',
    async (policy, action, status) => {
      const world = makeWorld();
      const execution = world.start({ plan: '10:1000,100' });
      await world.until(baking(0), 'first bake');

      expect(await world.fireAlarm(ALARM, 'INSUFFICIENT_DATA', policy)).toBe(action);

      if (status) {
        expect(await execution.result).toMatchObject({ status, error: 'AlarmFired' });
        expect(world.elb.weights).toEqual(START);
      } else {
        expect((await world.rollout())?.taskKind).toBe('bake');
        execution.stop();
        await execution.result;
      }
    },
  );

  it('refuses to start while a watched alarm is already in ALARM, writing nothing but its refusal', async () => {
    const world = makeWorld();
    world.cloudWatch.set(ALARM, 'ALARM');

    const execution = world.start({ plan: 'canary' });
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'AlarmFiring' });
    expect(world.elb.writes).toEqual([]);
    expect(await world.store.get(LISTENER.listenerArn)).toEqual(refusalOnly(execution.executionArn));
  });

  it('makes no increase when an alarm is in ALARM before a step, and rolls back', async () => {
    const world = makeWorld();
    const execution = world.start({ plan: '10:1000,50:1000,100' });
    await world.until(baking(0), 'bake of step 1');

    // CloudWatch says ALARM but the event never arrives: the after-bake check must still catch it.
    world.cloudWatch.set(ALARM, 'ALARM');
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'AlarmFiring' });
    expect(world.elb.writes).toEqual([percentToWeights(10), START]);
    expect(world.increasesUnderAlarm).toEqual([]);
    expect(world.elb.weights).toEqual(START);
  });

  it('halts on drift and never writes after the hand change', async () => {
    const world = makeWorld();
    const execution = world.start({ plan: '10:500,50:500,100' });
    await world.until(baking(0), 'bake of step 1');

    world.elb.setByHand({ source: 500, target: 500 });
    const writesBefore = world.elb.writes.length;
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'WeightsDrifted' });
    expect(world.elb.writes.length).toBe(writesBefore);
    expect(world.elb.weights).toEqual({ source: 500, target: 500 });
    expect(await world.lockOwner()).toBeUndefined();
    expect((await world.store.get(LISTENER.listenerArn))?.history.at(-1)).toMatchObject({
      outcome: 'halted',
    });
  });

  it('halts without writing when someone reshapes the listener by hand mid-rollout', async () => {
    const world = makeWorld();
    const execution = world.start({ plan: '10:500,50:500,100' });
    await world.until(baking(0), 'bake of step 1');

    world.elb.setDefaultActions([
      {
        Type: 'fixed-response',
        Order: 1,
        FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain' },
      },
    ]);
    const writesBefore = world.elb.writes.length;
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'ListenerShapeInvalid' });
    expect(world.elb.writes.length).toBe(writesBefore);
    expect(await world.lockOwner()).toBeUndefined();
    expect((await world.store.get(LISTENER.listenerArn))?.history.at(-1)).toMatchObject({
      outcome: 'halted',
    });
  });

  it('halts instead of completing when the weights are changed by hand during the last bake', async () => {
    const world = makeWorld();
    const execution = world.start({ plan: '10:5,100:500' });
    await world.until(baking(1), 'last bake');

    world.elb.setByHand({ source: 500, target: 500 });
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'WeightsDrifted' });
    expect(world.elb.weights).toEqual({ source: 500, target: 500 });
    expect((await world.store.get(LISTENER.listenerArn))?.history.at(-1)).toMatchObject({
      outcome: 'halted',
    });
  });

  it('releases the lock through the safety net when a stopped rollout finds the listener reshaped', async () => {
    const world = makeWorld();
    const execution = world.start({ plan: '10:1000,100' });
    await world.until(baking(0), 'first bake');

    world.elb.setDefaultActions([
      {
        Type: 'fixed-response',
        Order: 1,
        FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain' },
      },
    ]);
    execution.stop();

    expect(await execution.result).toMatchObject({ status: 'ABORTED', safetyNet: 'halted-drift' });
    expect(await world.lockOwner()).toBeUndefined();
  });

  it('rolls back when an operator aborts during a bake', async () => {
    const world = makeWorld();
    const execution = world.start({ plan: '10:1000,50:1000,100' });
    await world.until(baking(1), 'bake of step 2');

    const abort = await abortRollout(operatorOf(world), 'test');
    const result = await execution.result;

    expect(abort).toEqual({ executionArn: execution.executionArn, delivered: 'task-failed' });
    expect(result).toMatchObject({ status: 'FAILED', error: 'Aborted' });
    expect(world.elb.weights).toEqual(START);
    expect(await world.lockOwner()).toBeUndefined();
  });

  it('rolls back on an abort that arrives after the last bake, when no task is open to fail', async () => {
    const world = makeWorld();
    const execution = world.start({ plan: '10:200,100' });
    await world.until(baking(1), 'last bake');
    // The abort lands while AfterBake of the last step runs: the bake token is spent, only the flag remains.
    let abort: Promise<unknown> | undefined;
    world.store.onUpdate = (_, patch) => {
      if (patch.taskToken === undefined && 'taskToken' in patch && !abort)
        abort = abortRollout(operatorOf(world));
    };

    const result = await execution.result;

    expect(await abort).toMatchObject({ delivered: 'flag-only' });
    expect(result).toMatchObject({ status: 'FAILED', error: 'Aborted' });
    expect(world.elb.weights).toEqual(START);
    expect((await world.store.get(LISTENER.listenerArn))?.history.at(-1)).toMatchObject({
      outcome: 'rolled-back',
    });
  });

  it('holds at the end of the bake after a pause, and goes on when resumed', async () => {
    const world = makeWorld();
    const execution = world.start({ plan: '10:200,50:200,100' });
    await world.until(baking(0), 'first bake');

    expect(await pauseRollout(operatorOf(world))).toMatchObject({
      delivered: 'flag-only',
      holds: 'after-this-bake',
    });
    const held = await world.until(paused(0), 'the hold after step 1');

    expect(world.elb.weights).toEqual(percentToWeights(10));
    expect(held?.pauseRequested).toBe(true);
    expect(await resumeRollout(operatorOf(world))).toMatchObject({ delivered: 'task-succeeded' });
    expect(await execution.result).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('keeps a pause that arrives while AfterBake decides: the next step does not start', async () => {
    const world = makeWorld();
    // Evaluations since the first bake opened: the bake's own check, then AfterBake's, which has already read
    // the record (no pause yet) when the pause lands.
    let sinceBakeOpened: number | undefined;
    world.store.onUpdate = (_, patch, rollout) => {
      if (patch.taskKind === 'bake' && rollout.stepIndex === 0) sinceBakeOpened = 0;
    };
    const evaluate = world.deps.alarms.evaluate.bind(world.deps.alarms);
    world.deps.alarms.evaluate = async () => {
      if (sinceBakeOpened !== undefined && ++sinceBakeOpened === 2) await pauseRollout(operatorOf(world));
      return evaluate();
    };
    const execution = world.start({ plan: '10:200,100' });

    const held = await world.until(paused(0), 'the hold before the last step');

    expect(sinceBakeOpened).toBeGreaterThanOrEqual(2);
    expect(held?.status).toBe('paused');
    expect(world.elb.weights).toEqual(percentToWeights(10));
    await promoteGate(operatorOf(world));
    expect(await execution.result).toMatchObject({ status: 'SUCCEEDED' });
    expect(world.elb.weights).toEqual(percentToWeights(100));
  });

  it('holds before completing when paused during the last bake, and completes when resumed', async () => {
    const world = makeWorld();
    const execution = world.start({ plan: '10:5,100:200' });
    await world.until(baking(1), 'last bake');

    await pauseRollout(operatorOf(world));
    await world.until(paused(1), 'the hold before Complete');

    expect((await world.rollout())?.status).toBe('paused');
    expect(await world.lockOwner()).toBe(execution.executionArn);
    await resumeRollout(operatorOf(world));
    expect(await execution.result).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('holds at a manual gate until promoted, then completes', async () => {
    const world = makeWorld();
    const execution = world.start({ plan: '10:5,50:5!,100' });
    const atGate = await world.until(gated(1), 'gate after step 2');

    expect(world.elb.weights).toEqual(percentToWeights(50));
    expect(atGate?.status).toBe('gated');
    await promoteGate(operatorOf(world));
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expect(world.elb.weights).toEqual({ source: 0, target: 999 });
    expect(execution.transitions()).toBe(2 + 4 * 3 + 2 + 2);
  });

  it('rolls back when an operator aborts at a gate', async () => {
    const world = makeWorld();
    const execution = world.start({ plan: '10:5!,50:5,100' });
    await world.until(gated(0), 'gate after step 1');

    await abortRollout(operatorOf(world));
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'Aborted' });
    expect(world.elb.weights).toEqual(START);
  });

  it('rolls back a forgotten gate when its timeout action is rollback', async () => {
    const world = makeWorld({ msPerSecond: 0.05 });

    const result = await world.start({ plan: '10:5!,100', gate: { timeoutSeconds: 120 } }).result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'GateTimedOut' });
    expect(world.elb.weights).toEqual(START);
  });

  it('promotes a forgotten gate when its timeout action is promote', async () => {
    const world = makeWorld({ msPerSecond: 0.05 });

    const result = await world.start({ plan: '10:5!,100', gate: { timeoutSeconds: 120, action: 'promote' } })
      .result;

    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expect(world.elb.weights).toEqual({ source: 0, target: 999 });
  });

  it('rolls back a pause that times out, even when the gate timeout action is promote', async () => {
    const world = makeWorld({ msPerSecond: 0.05 });
    const execution = world.start({ plan: '10:2000,100', gate: { timeoutSeconds: 120, action: 'promote' } });
    await world.until(baking(0), 'first bake');

    await pauseRollout(operatorOf(world));
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'GateTimedOut' });
    expect(result.status === 'FAILED' && result.cause).toContain('pause');
    expect(world.elb.weights).toEqual(START);
    expect(world.elb.writes).not.toContainEqual({ source: 0, target: 999 });
  });

  it('retries a throttled ModifyListener and completes', async () => {
    const world = makeWorld();
    world.elb.throttleModify = 2;

    const result = await world.start({ plan: '50:5,100' }).result;

    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expect(world.elb.writes).toEqual([percentToWeights(50), percentToWeights(100)]);
    expect(
      world.elb.mock.calls().filter((call) => call.args[0].constructor.name === 'ModifyListenerCommand'),
    ).toHaveLength(4);
  });

  it('keeps retrying the rollback until the listener is restored', async () => {
    const world = makeWorld();
    const execution = world.start({ plan: '10:1000,50:1000,100' });
    await world.until(baking(1), 'bake of step 2');

    world.elb.throttleModify = 2;
    await world.fireAlarm();
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'AlarmFired' });
    expect(world.elb.weights).toEqual(START);
    expect(world.elb.throttleModify).toBe(0);
    expect(await world.lockOwner()).toBeUndefined();
  });

  it('refuses a second rollout on the same listener with RolloutLocked, and it writes nothing', async () => {
    const world = makeWorld();
    const first = world.start({ plan: '10:500,100' }, 'first');
    await world.until(baking(0), 'first rollout baking');
    const writesBefore = world.elb.writes.length;

    const second = await world.start({ plan: '90' }, 'second').result;

    expect(second).toMatchObject({ status: 'FAILED', error: 'RolloutLocked' });
    expect(world.elb.writes.length).toBe(writesBefore);
    expect(await world.lockOwner()).toBe(first.executionArn);
    expect(await first.result).toMatchObject({ status: 'SUCCEEDED' });
    expect(world.elb.writes).toEqual([percentToWeights(10), percentToWeights(100)]);
  });

  it('restores the listener through the safety net when the execution is stopped from outside', async () => {
    const world = makeWorld();
    const execution = world.start({ plan: '10:1000,50:1000,100' });
    await world.until(baking(1), 'bake of step 2');

    execution.stop();
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'ABORTED', safetyNet: 'restored' });
    expect(world.elb.weights).toEqual(START);
    expect(await world.lockOwner()).toBeUndefined();
    expect((await world.store.get(LISTENER.listenerArn))?.history.at(-1)).toMatchObject({
      outcome: 'rolled-back',
      reason: { error: 'ExecutionAborted' },
    });
  });

  it('re-reads the listener before the safety net retries a throttled restore, leaving a hand change alone', async () => {
    const world = makeWorld();
    const execution = world.start({ plan: '10:1000,50:1000,100' });
    await world.until(baking(1), 'bake of step 2');
    // The restore is throttled, and an operator sets the weights by hand while it is in flight.
    world.elb.throttleModify = 1;
    world.elb.beforeCall = (operation) => {
      if (operation === 'ModifyListener' && world.elb.throttleModify === 1)
        world.elb.setByHand({ source: 3, target: 7 });
    };

    execution.stop();

    expect(await execution.result).toMatchObject({ status: 'ABORTED', safetyNet: 'halted-drift' });
    expect(world.elb.weights).toEqual({ source: 3, target: 7 });
    expect(await world.lockOwner()).toBeUndefined();
  });

  it('refuses a plan that starts below the target share, so that no rollback can raise it under alarm', async () => {
    const world = makeWorld({ starting: percentToWeights(50) });

    const execution = world.start({ plan: 'canary' });
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'ValidationFailed' });
    expect(result.status === 'FAILED' && result.cause).toContain(
      'plan.steps[0].targetPercent: is 5 % but the target already gets 50.05 %',
    );
    expect(result.status === 'FAILED' && result.cause).toContain('Start the plan at 50 % or more');
    expect(world.elb.writes).toEqual([]);
    expect(await world.store.get(LISTENER.listenerArn)).toEqual(refusalOnly(execution.executionArn));
    expect(await world.start({ plan: '50:1,100' }).result).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('names the lowest first step it accepts over hand-set weights, and accepts it', async () => {
    const world = makeWorld({ starting: { source: 10, target: 90 } });

    const refused = await world.start({ plan: '90,100' }).result;
    const accepted = await world.start({ plan: '90.1:1,100' }).result;

    expect(refused.status === 'FAILED' && refused.cause).toContain('Start the plan at 90.1 % or more');
    expect(accepted).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('refuses an invalid plan before any write, naming the field', async () => {
    const world = makeWorld();

    const result = await world.start({ plan: '50,25' }).result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'ValidationFailed' });
    expect(result.status === 'FAILED' && result.cause).toMatch(/plan/);
    expect(world.elb.writes).toEqual([]);
    expect(await world.store.get(LISTENER.listenerArn)).toBeUndefined();
  });

  it('reports a refused start with who asked and why, so that an unwatched schedule is not refused in silence', async () => {
    const world = makeWorld();
    const first = world.start({ plan: '10:1000,100' });
    await world.until(baking(0), 'first bake');

    const refused = await world.start({ plan: 'canary', requestedBy: 'schedule:tuesday-canary' }).result;

    expect(refused).toMatchObject({ status: 'FAILED', error: 'RolloutLocked' });
    expect(world.notifications).toEqual([
      {
        outcome: 'refused',
        listenerArn: LISTENER.listenerArn,
        executionArn: expect.stringContaining(':execution:'),
        requestedBy: 'schedule:tuesday-canary',
        reason: expect.objectContaining({
          error: 'RolloutLocked',
          cause: expect.stringContaining(first.executionArn),
        }),
      },
    ]);
    first.stop();
    await first.result;
  });

  it('notifies a start that fails in Preflight with a platform error as refused, carrying the error', async () => {
    const world = makeWorld();
    world.elb.beforeCall = (operation) => {
      if (operation !== 'DescribeListeners') return;
      throw Object.assign(
        new Error(
          'User: arn:aws:sts::123456789012:assumed-role/preflight is not authorized to perform: DescribeListeners',
        ),
        { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 } },
      );
    };

    const execution = world.start({ plan: 'canary', requestedBy: 'schedule:nightly' });
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'AccessDenied' });
    expect(world.notifications).toEqual([
      {
        outcome: 'refused',
        listenerArn: LISTENER.listenerArn,
        executionArn: expect.stringContaining(':execution:'),
        requestedBy: 'schedule:nightly',
        reason: expect.objectContaining({
          error: 'AccessDenied',
          cause: expect.stringContaining('is not authorized to perform: DescribeListeners'),
        }),
      },
    ]);
    expect(world.elb.writes).toEqual([]);
    expect(await world.store.get(LISTENER.listenerArn)).toEqual(refusalOnly(execution.executionArn));
  });

  it('notifies a Preflight that failed after taking the lock as refused, and releases the lock', async () => {
    const world = makeWorld();
    const acquire = world.store.acquire.bind(world.store);
    world.store.acquire = async (...args) => {
      await acquire(...args);
      throw Object.assign(new Error('Task timed out after 30.00 seconds'), { name: 'Sandbox.Timedout' });
    };

    const result = await world.start({ plan: 'canary' }).result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'Sandbox.Timedout' });
    expect(world.notifications[0]).toMatchObject({
      outcome: 'refused',
      reason: { error: 'Sandbox.Timedout', cause: 'Task timed out after 30.00 seconds' },
    });
    expect(world.elb.writes).toEqual([]);
    expect(world.elb.weights).toEqual(START);
    expect(await world.lockOwner()).toBeUndefined();
  });

  it('still refuses, with the same error, when the refusal cannot be reported', async () => {
    const world = makeWorld();
    const deps = {
      ...world.deps,
      notifier: {
        notify: async () => {
          throw new Error('SNS is down');
        },
      },
    };

    const result = await world.sfn.start(deps, { plan: '50,25' }).result;

    expect(result).toMatchObject({ status: 'FAILED', error: 'ValidationFailed' });
    expect(world.elb.writes).toEqual([]);
  });
});
