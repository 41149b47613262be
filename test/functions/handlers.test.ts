import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type StateValue,
} from '@aws-sdk/client-cloudwatch';
import {
  DescribeExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HANDLER_ENV, LISTENER } from '#test/support/fake-aws.ts';

const alarmEvent = (alarmName: string, value = 'ALARM') => ({
  source: 'aws.cloudwatch',
  'detail-type': 'CloudWatch Alarm State Change',
  time: '2026-11-24T10:00:00Z',
  detail: { alarmName, state: { value, reason: 'Threshold Crossed' } },
});

describe('Lambda entry files', () => {
  const dynamo = mockClient(DynamoDBDocumentClient);
  const sfn = mockClient(SFNClient);
  const cloudWatch = mockClient(CloudWatchClient);

  beforeEach(() => {
    vi.resetModules();
    dynamo.reset();
    sfn.reset();
    cloudWatch.reset();
    for (const [key, value] of Object.entries(HANDLER_ENV)) vi.stubEnv(key, value);
  });
  afterEach(() => vi.unstubAllEnvs());

  it('alarm-event fails the open bake token with AlarmFired', async () => {
    dynamo.on(GetCommand).resolves({
      Item: {
        listenerArn: LISTENER.listenerArn,
        lockOwner: 'arn:aws:states:us-east-1:123456789012:execution:swing:run-1',
        rollout: { taskToken: 'token-123', taskKind: 'bake' },
        history: [],
      },
    });
    sfn.on(SendTaskFailureCommand).resolves({});
    const { handler } = await import('#functions/alarm-event.ts');

    const result = await handler(alarmEvent('swing-target-composite'));

    expect(result).toEqual({ action: 'failed-task' });
    expect(sfn).toReceiveCommandWith(SendTaskFailureCommand, { taskToken: 'token-123', error: 'AlarmFired' });
  });

  it('alarm-event ignores alarms Swing does not watch and OK transitions', async () => {
    const { handler } = await import('#functions/alarm-event.ts');

    expect(await handler(alarmEvent('someone-elses-alarm'))).toEqual({ action: 'not-watched' });
    expect(await handler(alarmEvent('swing-target-composite', 'OK'))).toEqual({ action: 'ignored-state' });
    expect(sfn).not.toReceiveCommand(SendTaskFailureCommand);
  });

  it('refuses a malformed event naming the field, before any call', async () => {
    const { handler } = await import('#functions/alarm-event.ts');

    await expect(handler({ source: 'aws.cloudwatch', detail: {} })).rejects.toMatchObject({
      name: 'ValidationFailed',
      message: expect.stringContaining('detail-type'),
    });
    expect(dynamo.calls()).toHaveLength(0);
  });

  it('safety-net leaves alone a listener whose rollout ended through the state machine', async () => {
    const run1 = 'arn:aws:states:us-east-1:123456789012:execution:swing:run-1';
    dynamo.on(GetCommand).resolves({
      Item: {
        listenerArn: LISTENER.listenerArn,
        history: [{ executionArn: run1, outcome: 'rolled-back' }],
      },
    });
    const { handler } = await import('#functions/safety-net.ts');

    const result = await handler({
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      detail: { executionArn: run1, status: 'ABORTED' },
    });

    expect(result).toEqual({ action: 'nothing-held' });
  });

  it('safety-net asks Step Functions after its wait and leaves a redriven execution to its own paths', async () => {
    const run1 = 'arn:aws:states:us-east-1:123456789012:execution:swing:run-1';
    dynamo.on(GetCommand).resolves({
      Item: {
        listenerArn: LISTENER.listenerArn,
        lockOwner: run1,
        rollout: { executionArn: run1, status: 'baking' },
        history: [],
      },
    });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    const { handler } = await import('#functions/safety-net.ts');

    const result = await handler({
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      time: '2026-11-24T10:00:00Z',
      detail: { executionArn: run1, status: 'FAILED' },
    });

    expect(result).toEqual({ action: 'redriven' });
    expect(sfn).toReceiveCommandWith(DescribeExecutionCommand, { executionArn: run1 });
    expect(dynamo).not.toReceiveCommand(UpdateCommand);
  });

  it('reconciler leaves the lock of a running holder alone, and counts a status it cannot learn', async () => {
    const run1 = 'arn:aws:states:us-east-1:123456789012:execution:swing:run-1';
    dynamo.on(GetCommand).resolves({
      Item: {
        listenerArn: LISTENER.listenerArn,
        lockOwner: run1,
        rollout: { executionArn: run1 },
        history: [],
      },
    });
    dynamo
      .on(UpdateCommand)
      .resolves({ Attributes: { rollout: { executionArn: run1, reconcileFailures: 1 } } });
    sfn.on(DescribeExecutionCommand).resolvesOnce({ status: 'RUNNING' });
    const { handler } = await import('#functions/reconciler.ts');

    expect(await handler({})).toMatchObject({ action: 'holder-running', executionArn: run1 });
    expect(dynamo).not.toReceiveCommand(UpdateCommand);

    const denied = new Error('not authorized to perform: states:DescribeExecution');
    denied.name = 'AccessDeniedException';
    sfn.on(DescribeExecutionCommand).rejects(denied);
    expect(await handler({})).toMatchObject({ action: 'status-unknown', failures: 1 });
    expect(sfn).toReceiveCommandWith(DescribeExecutionCommand, { executionArn: run1 });
  });

  it("check-alarms bounds the delivered-split measure by the invocation's time left: too little, and it is not taken", async () => {
    const run1 = 'arn:aws:states:us-east-1:123456789012:execution:swing:run-1';
    const step = {
      index: 0,
      targetPercent: 50,
      weights: { source: 500, target: 499 },
      startedAt: '2026-11-24T09:00:00.000Z',
    };
    const rollout = {
      executionArn: run1,
      startedAt: '2026-11-24T09:00:00.000Z',
      plan: { steps: [{ targetPercent: 50, bakeSeconds: 600, gate: false }, { targetPercent: 100 }] },
      startingWeights: { source: 999, target: 0 },
      lastWritten: { source: 500, target: 499 },
      stepIndex: 0,
      status: 'baking',
      steps: [step],
    };
    dynamo
      .on(GetCommand)
      .resolves({ Item: { listenerArn: LISTENER.listenerArn, lockOwner: run1, rollout, history: [] } });
    dynamo.on(UpdateCommand).resolves({ Attributes: { rollout } });
    cloudWatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [{ AlarmName: 'swing-target-composite', StateValue: 'OK' as StateValue }],
    });
    const { handler } = await import('#functions/check-alarms.ts');
    const context = { getRemainingTimeInMillis: () => 12_000 } as unknown as Context;

    const cursor = await handler(
      {
        executionArn: run1,
        cursor: {
          index: 0,
          stepCount: 2,
          done: false,
          hold: false,
          gate: { timeoutSeconds: 3600, action: 'rollback' },
        },
        stateEnteredTime: '2026-11-24T09:10:00.000Z',
        retryCount: 0,
      },
      context,
    );

    expect(cursor).toMatchObject({ index: 1, done: false });
    expect(cloudWatch).not.toReceiveCommand(GetMetricDataCommand);
    const written = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input.ExpressionAttributeValues ?? {};
    expect(JSON.stringify(written)).toContain('12 s left in the invocation');
  });

  describe('reads first', () => {
    const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:swing:run-1';
    const LAG_ALARM = 'Swing-replay-lag';
    const waitingForReplay = {
      listenerArn: LISTENER.listenerArn,
      lockOwner: EXECUTION,
      rollout: {
        executionArn: EXECUTION,
        taskToken: 'token-replay',
        taskKind: 'replay',
        status: 'waiting-replay',
      },
      history: [],
    };
    const replayWait = {
      executionArn: EXECUTION,
      index: 1,
      kind: 'replay',
      taskToken: 'token-replay',
      timeoutSeconds: 1800,
      stateEnteredTime: '2026-11-24T10:00:00.000Z',
      retryCount: 0,
    };
    /** The watched alarm is OK; the replay-lag alarm in `lagState`. */
    function alarmsIn(lagState: StateValue) {
      cloudWatch.on(DescribeAlarmsCommand).resolves({
        CompositeAlarms: [{ AlarmName: 'swing-target-composite', StateValue: 'OK' }],
      });
      cloudWatch
        .on(DescribeAlarmsCommand, { AlarmNames: [LAG_ALARM] })
        .resolves({ MetricAlarms: [{ AlarmName: LAG_ALARM, StateValue: lagState }] });
    }

    it("alarm-event releases the step waiting for the replayer when the stack's replay-lag alarm is OK again; its ALARM rolls nothing back", async () => {
      vi.stubEnv('REPLAY_LAG_ALARM', LAG_ALARM);
      vi.stubEnv('REPLAY_LAG_MISSING_DATA', 'lagging');
      dynamo.on(GetCommand).resolves({ Item: waitingForReplay });
      sfn.on(SendTaskSuccessCommand).resolves({});
      const { handler } = await import('#functions/alarm-event.ts');

      expect(await handler(alarmEvent(LAG_ALARM))).toEqual({ action: 'ignored-state' });
      expect(await handler(alarmEvent(LAG_ALARM, 'INSUFFICIENT_DATA'))).toEqual({ action: 'ignored-state' });
      expect(sfn.calls()).toHaveLength(0);
      expect(await handler(alarmEvent(LAG_ALARM, 'OK'))).toEqual({ action: 'released-replay-wait' });
      expect(sfn).toReceiveCommandWith(SendTaskSuccessCommand, { taskToken: 'token-replay' });
      expect(sfn).not.toReceiveCommand(SendTaskFailureCommand);
    });

    it('bake releases a wait for the replayer that caught up before its token was stored', async () => {
      vi.stubEnv('REPLAY_LAG_ALARM', LAG_ALARM);
      dynamo.on(UpdateCommand).resolves({ Attributes: waitingForReplay });
      alarmsIn('OK');
      sfn.on(SendTaskSuccessCommand).resolves({});
      const { handler } = await import('#functions/bake.ts');

      expect(await handler(replayWait)).toEqual({ waiting: false });
      expect(sfn).toReceiveCommandWith(SendTaskSuccessCommand, { taskToken: 'token-replay' });
      expect(cloudWatch).toReceiveCommandWith(DescribeAlarmsCommand, { AlarmNames: [LAG_ALARM] });
    });

    it('bake keeps waiting while the replayer lags, and when the stack has no replay-lag alarm (fail closed)', async () => {
      dynamo.on(UpdateCommand).resolves({ Attributes: waitingForReplay });
      alarmsIn('ALARM');
      vi.stubEnv('REPLAY_LAG_ALARM', LAG_ALARM);
      const lagging = await import('#functions/bake.ts');
      expect(await lagging.handler(replayWait)).toEqual({ waiting: true });

      vi.resetModules();
      vi.stubEnv('REPLAY_LAG_ALARM', undefined);
      alarmsIn('OK');
      const unconfigured = await import('#functions/bake.ts');
      expect(await unconfigured.handler(replayWait)).toEqual({ waiting: true });
      expect(sfn).not.toReceiveCommand(SendTaskSuccessCommand);
    });

    it('preflight fails at load time, naming READS_FIRST_DEFAULTS, when it is not the JSON the stack writes', async () => {
      vi.stubEnv('READS_FIRST_DEFAULTS', 'reads-first');

      await expect(import('#functions/preflight.ts')).rejects.toMatchObject({
        name: 'ValidationFailed',
        message: expect.stringContaining('READS_FIRST_DEFAULTS'),
      });
    });
  });

  it('fails at load time, naming the variable, when the environment is incomplete', async () => {
    vi.stubEnv('TABLE_NAME', '');

    await expect(import('#functions/rollback.ts')).rejects.toMatchObject({
      name: 'ValidationFailed',
      message: expect.stringContaining('TABLE_NAME'),
    });
  });
});
