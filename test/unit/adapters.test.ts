import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SendTaskFailureCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchAlarms } from '#adapters/alarms.ts';
import { StepFunctionsCallbacks } from '#adapters/callbacks.ts';
import { AlbListener } from '#adapters/listener.ts';
import { DynamoDbRolloutStore } from '#adapters/store-dynamodb.ts';
import type { Rollout } from '#domain/types.ts';
import { FakeCloudWatch, FakeElbv2, LISTENER } from '#test/support/fake-aws.ts';

describe('Class: AlbListener', () => {
  it('keeps stickiness and every other action, changing only the two weights', async () => {
    const elb = new FakeElbv2({ source: 999, target: 0 });
    const actions = elb.rawActions;
    actions[0]!.ForwardConfig!.TargetGroupStickinessConfig = { Enabled: true, DurationSeconds: 300 };
    elb.mock.on(ModifyListenerCommand).resolvesOnce({});
    const listener = new AlbListener(elb.client, LISTENER, { verifyAttempts: 1, verifyDelayMs: 0 });
    (elb as unknown as { actions: unknown }).actions = actions;

    await expect(listener.writeWeights({ source: 899, target: 100 })).rejects.toMatchObject({
      name: 'WeightsNotApplied',
    });

    expect(elb.mock).toReceiveCommandWith(ModifyListenerCommand, {
      ListenerArn: LISTENER.listenerArn,
      DefaultActions: [
        expect.objectContaining({
          Type: 'forward',
          Order: 1,
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: LISTENER.sourceTargetGroupArn, Weight: 899 },
              { TargetGroupArn: LISTENER.targetTargetGroupArn, Weight: 100 },
            ],
            TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 300 },
          },
        }),
      ],
    });
  });

  it('writes, reads back and verifies the weights', async () => {
    const elb = new FakeElbv2({ source: 1, target: 0 });
    const listener = new AlbListener(elb.client, LISTENER, { verifyAttempts: 1, verifyDelayMs: 0 });

    await listener.writeWeights({ source: 499, target: 500 });

    expect(elb.weights).toEqual({ source: 499, target: 500 });
    expect(await listener.readWeights()).toEqual({ source: 499, target: 500 });
  });

  it.each([
    ['a wrong target group', { ...LISTENER, targetTargetGroupArn: `${LISTENER.targetTargetGroupArn}-other` }],
    ['a wrong source group', { ...LISTENER, sourceTargetGroupArn: `${LISTENER.sourceTargetGroupArn}-other` }],
  ])('refuses a listener that forwards to %s, saying what it found', async (_, target) => {
    const elb = new FakeElbv2();
    const listener = new AlbListener(elb.client, target);

    await expect(listener.readWeights()).rejects.toMatchObject({
      name: 'ListenerShapeInvalid',
      message: expect.stringContaining(LISTENER.targetTargetGroupArn),
    });
  });

  it('refuses a missing listener, naming its ARN', async () => {
    const elb = new FakeElbv2();
    const listener = new AlbListener(elb.client, { ...LISTENER, listenerArn: `${LISTENER.listenerArn}0` });

    await expect(listener.readWeights()).rejects.toMatchObject({
      name: 'ListenerShapeInvalid',
      message: expect.stringContaining('not found'),
    });
  });

  it('turns a throttled ModifyListener into TransientFailure for the ASL to retry', async () => {
    const elb = new FakeElbv2();
    elb.throttleModify = 1;
    const listener = new AlbListener(elb.client, LISTENER, { verifyAttempts: 1 });

    await expect(listener.writeWeights({ source: 0, target: 999 })).rejects.toMatchObject({
      name: 'TransientFailure',
    });
    expect(elb.writes).toEqual([]);
  });

  it('counts healthy targets in the target group', async () => {
    const elb = new FakeElbv2();
    elb.healthyTargets = 0;

    expect(await new AlbListener(elb.client, LISTENER).healthyTargetCount()).toBe(0);
  });
});

describe('Class: CloudWatchAlarms', () => {
  it('asks for at most 100 names per call and reports each watched alarm in order', async () => {
    const names = Array.from({ length: 150 }, (_, i) => `alarm-${i}`);
    const cloudWatch = new FakeCloudWatch(names);
    cloudWatch.set('alarm-120', 'ALARM');

    const result = await new CloudWatchAlarms(cloudWatch.client, { alarmNames: names }).evaluate();

    expect(
      cloudWatch.mock
        .commandCalls(DescribeAlarmsCommand)
        .map((call) => call.args[0].input.AlarmNames?.length),
    ).toEqual([100, 50]);
    expect(result.alarms.map((alarm) => alarm.name)).toEqual(names);
    expect(result.firing.map((alarm) => alarm.name)).toEqual(['alarm-120']);
  });

  it.each([
    ['not-firing', false],
    ['firing', true],
  ] as const)('treats INSUFFICIENT_DATA per policy %s', async (policy, firing) => {
    const cloudWatch = new FakeCloudWatch(['a']);
    cloudWatch.set('a', 'INSUFFICIENT_DATA');

    const result = await new CloudWatchAlarms(cloudWatch.client, {
      alarmNames: ['a'],
      insufficientData: policy,
    }).evaluate();

    expect(result.firing.length > 0).toBe(firing);
  });

  it('fails closed: an unreadable or missing alarm counts as firing', async () => {
    const cloudWatch = new FakeCloudWatch(['a']);
    cloudWatch.failDescribe = 5;

    const unreadable = await new CloudWatchAlarms(cloudWatch.client, {
      alarmNames: ['a'],
      attempts: 2,
      retryDelayMs: 0,
    }).evaluate();
    cloudWatch.failDescribe = 0;
    const missing = await new CloudWatchAlarms(cloudWatch.client, { alarmNames: ['typo'] }).evaluate();

    expect(unreadable.firing).toMatchObject([{ name: 'a', state: 'UNREADABLE' }]);
    expect(cloudWatch.describeCalls).toBe(3);
    expect(missing.firing).toMatchObject([{ name: 'typo', state: 'MISSING' }]);
  });
});

describe('Class: DynamoDbRolloutStore', () => {
  const dynamo = mockClient(DynamoDBDocumentClient);
  const store = new DynamoDbRolloutStore(dynamo as unknown as DynamoDBDocumentClient, 'swing');
  const rollout = {
    executionArn: 'arn:aws:states:us-east-1:123456789012:execution:swing:b',
    startedAt: '2026-11-24T00:00:00Z',
    plan: { steps: [{ targetPercent: 100, bakeSeconds: 0, gate: false }] },
    startingWeights: { source: 1, target: 0 },
    lastWritten: { source: 1, target: 0 },
    stepIndex: 0,
    status: 'smoke-testing',
    steps: [],
  } satisfies Rollout;

  beforeEach(() => dynamo.reset());

  it('takes the lock with a conditional write, never a read', async () => {
    dynamo.on(UpdateCommand).resolves({});

    await store.acquire(LISTENER.listenerArn, rollout);

    expect(dynamo).toReceiveCommandWith(UpdateCommand, {
      Key: { listenerArn: LISTENER.listenerArn },
      ConditionExpression: 'attribute_not_exists(lockOwner) OR lockOwner = :owner',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(dynamo.calls()).toHaveLength(1);
  });

  it('names the holder when the conditional write fails', async () => {
    const holder = 'arn:aws:states:us-east-1:123456789012:execution:swing:a';
    dynamo.on(UpdateCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        Item: { lockOwner: { S: holder } },
      }),
    );

    await expect(store.acquire(LISTENER.listenerArn, rollout)).rejects.toMatchObject({
      name: 'RolloutLocked',
      holder,
      message: expect.stringContaining(holder),
    });
  });

  it('conditions every update on still holding the lock, removing keys set to undefined', async () => {
    dynamo.on(UpdateCommand).resolves({ Attributes: { rollout } });

    await store.update(LISTENER.listenerArn, rollout.executionArn, {
      status: 'baking',
      taskToken: undefined,
    });

    expect(dynamo).toReceiveCommandWith(UpdateCommand, {
      UpdateExpression: 'SET rollout.#p0 = :p0 REMOVE rollout.#p1',
      ConditionExpression: 'lockOwner = :owner',
      ExpressionAttributeNames: { '#p0': 'status', '#p1': 'taskToken' },
      ExpressionAttributeValues: { ':p0': 'baking', ':owner': rollout.executionArn },
    });
  });

  it('reports LockLost when the lock is gone', async () => {
    dynamo
      .on(UpdateCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );

    await expect(
      store.update(LISTENER.listenerArn, rollout.executionArn, { status: 'baking' }),
    ).rejects.toMatchObject({
      name: 'LockLost',
    });
  });
});

describe('Class: StepFunctionsCallbacks', () => {
  const sfn = mockClient(SFNClient);
  beforeEach(() => sfn.reset());

  it('sends the failure to the token, and calls a finished token stale rather than an error', async () => {
    const stale = new Error('Task Timed Out');
    stale.name = 'TaskTimedOut';
    sfn.on(SendTaskFailureCommand).resolvesOnce({}).rejectsOnce(stale);
    const callbacks = new StepFunctionsCallbacks(new SFNClient({ region: 'us-east-1' }));

    expect(await callbacks.fail('token-1', 'AlarmFired', '{"alarm":"a"}')).toBe('sent');
    expect(await callbacks.fail('token-2', 'AlarmFired', '{}')).toBe('stale');
    expect(sfn).toReceiveCommandWith(SendTaskFailureCommand, { taskToken: 'token-1', error: 'AlarmFired' });
  });
});
