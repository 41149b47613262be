import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ListenerRecord } from '#domain/types.ts';
import {
  aws,
  mockDeployedStack,
  RUNNING_EXECUTION,
  resetAws,
  runningRecord,
  STACK,
  swing,
} from './harness.ts';

const TOKEN = runningRecord().rollout!.taskToken!;

/** What UpdateItem with ReturnValues ALL_NEW returns for the operator's request. */
function updatedTo(record: ListenerRecord) {
  return { Attributes: record };
}

function nobodyHolds() {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
}

describe('Command: swing abort', () => {
  beforeEach(() => {
    resetAws();
    mockDeployedStack();
  });

  it("flags the abort and sends SendTaskFailure with error 'Aborted' to the record's task token", async () => {
    // Prepare
    const record = runningRecord();
    aws.dynamo
      .on(UpdateCommand)
      .resolves(updatedTo({ ...record, rollout: { ...record.rollout!, abortRequested: true } }));

    // Act
    const result = await swing(['abort']);

    // Assess
    expect(result.code).toBe(0);
    expect(aws.dynamo).toReceiveCommandWith(UpdateCommand, {
      TableName: STACK.tableName,
      Key: { listenerArn: STACK.listenerArn },
      ConditionExpression: 'attribute_exists(lockOwner)',
    });
    expect(aws.sfn).toReceiveCommandTimes(SendTaskFailureCommand, 1);
    const failure = aws.sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
    expect(failure?.taskToken).toBe(TOKEN);
    expect(failure?.error).toBe('Aborted');
    expect(JSON.parse(failure?.cause ?? '{}').reason).toBe('aborted by cli:alice@laptop');
    expect(result.stdout).toContain('the open bake or gate failed with Aborted: the rollback starts now');
    expect(result.stdout).not.toContain(TOKEN);
  });

  it('only flags the rollout when no bake or gate is open, and says when it takes effect', async () => {
    // Prepare
    const record = runningRecord();
    const { taskToken: _token, taskKind: _kind, ...shifting } = record.rollout!;
    aws.dynamo
      .on(UpdateCommand)
      .resolves(updatedTo({ ...record, rollout: { ...shifting, status: 'shifting' } }));

    // Act
    const result = await swing(['abort', '--json']);

    // Assess
    expect(aws.sfn).not.toReceiveCommand(SendTaskFailureCommand);
    expect(JSON.parse(result.stdout)).toEqual({
      action: 'abort',
      executionArn: RUNNING_EXECUTION,
      delivered: 'flag-only',
    });
  });

  it('says it is too late, exit 1, when the rollout had already verified its final weights', async () => {
    // Prepare
    const record = runningRecord();
    const { taskToken: _token, taskKind: _kind, ...completing } = record.rollout!;
    aws.dynamo
      .on(UpdateCommand)
      .resolves(
        updatedTo({ ...record, rollout: { ...completing, status: 'completing', abortRequested: true } }),
      );

    // Act
    const result = await swing(['abort']);

    // Assess
    expect(result.code).toBe(1);
    expect(aws.sfn).not.toReceiveCommand(SendTaskFailureCommand);
    expect(result.stderr).toContain(
      'had already verified its final weights and is completing: nothing was aborted',
    );
  });

  it('refuses with exit 1 when no rollout holds the listener', async () => {
    // Prepare
    aws.dynamo.on(UpdateCommand).rejects(nobodyHolds());

    // Act
    const result = await swing(['abort']);

    // Assess
    expect(result.code).toBe(1);
    expect(aws.sfn).not.toReceiveCommand(SendTaskFailureCommand);
    expect(result.stderr).toContain('no rollout holds listener');
    expect(result.stderr).toContain('nothing to abort');
  });
});

describe('Command: swing promote', () => {
  beforeEach(() => {
    resetAws();
    mockDeployedStack();
  });

  it('passes the gate with SendTaskSuccess to the gate token', async () => {
    // Prepare
    const record = runningRecord();
    aws.dynamo.on(GetCommand).resolves({
      Item: { ...record, rollout: { ...record.rollout!, status: 'gated', taskKind: 'gate' } },
    });

    // Act
    const result = await swing(['promote']);

    // Assess
    expect(result.code).toBe(0);
    expect(aws.sfn).toReceiveCommandWith(SendTaskSuccessCommand, { taskToken: TOKEN });
    expect(result.stdout).toContain('the gate was passed');
  });

  it('says that passing the gate before the write cutover of a reads-first rollout cuts writes over', async () => {
    // Prepare: the last read step (of 4) waits at the cutover's manual gate.
    const record = runningRecord();
    aws.dynamo.on(GetCommand).resolves({
      Item: {
        ...record,
        rollout: {
          ...record.rollout!,
          traffic: 'reads-first',
          status: 'gated',
          taskKind: 'gate',
          stepIndex: 3,
        },
      },
    });

    // Act
    const result = await swing(['promote']);
    const json = JSON.parse((await swing(['promote', '--json'])).stdout);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'Writes cut over next: from then on every write the target takes is on the target only',
    );
    expect(json.cutsWritesOver).toBe(true);
  });

  it('refuses with exit 1 while the rollout bakes rather than waits at a gate', async () => {
    // Act
    const result = await swing(['promote']);

    // Assess
    expect(result.code).toBe(1);
    expect(aws.sfn).not.toReceiveCommand(SendTaskSuccessCommand);
    expect(result.stderr).toContain('is baking, not waiting at a gate');
  });
});

describe('Command: swing pause / resume', () => {
  beforeEach(() => {
    resetAws();
    mockDeployedStack();
  });

  it('pause sets pauseRequested on the lock holder and sends no callback', async () => {
    // Prepare
    const record = runningRecord();
    aws.dynamo
      .on(UpdateCommand)
      .resolves(updatedTo({ ...record, rollout: { ...record.rollout!, pauseRequested: true } }));

    // Act
    const result = await swing(['pause']);

    // Assess
    expect(result.code).toBe(0);
    const update = aws.dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(Object.values(update?.ExpressionAttributeNames ?? {})).toEqual(['pauseRequested']);
    expect(Object.values(update?.ExpressionAttributeValues ?? {})).toEqual([true]);
    expect(aws.sfn.calls()).toHaveLength(0);
    expect(result.stdout).toContain(
      'a step is under way: it goes on to the end of its bake (alarms still watched), then the rollout holds ' +
        'before the next step',
    );
  });

  it.each([
    ['shifting', {}, 'before-next-step', 'the next step does not start'],
    ['gated', { taskKind: 'gate' }, 'at-gate', 'should the gate time out, it does not go on'],
    ['paused', { taskKind: 'pause' }, 'already-paused', 'already holds for a pause'],
    ['completing', {}, 'too-late', 'there is nothing left to hold'],
  ] as const)('pause says when it takes effect: %s', async (status, task, holds, said) => {
    // Prepare: the record as the pause request left it.
    const record = runningRecord();
    const { taskToken: _token, taskKind: _kind, ...rollout } = record.rollout!;
    aws.dynamo.on(UpdateCommand).resolves(
      updatedTo({
        ...record,
        rollout: { ...rollout, ...task, ...('taskKind' in task ? { taskToken: TOKEN } : {}), status },
      }),
    );

    // Act
    const human = await swing(['pause']);
    const json = JSON.parse((await swing(['pause', '--json'])).stdout);

    // Assess
    expect(human.stdout).toContain(said);
    expect(json).toMatchObject({ action: 'pause', delivered: 'flag-only', holds });
  });

  it('resume passes the hold a pause created', async () => {
    // Prepare
    const record = runningRecord();
    const held = {
      ...record,
      rollout: { ...record.rollout!, status: 'paused' as const, taskKind: 'pause' as const },
    };
    aws.dynamo.on(UpdateCommand).resolves(updatedTo(held));
    aws.dynamo.on(GetCommand).resolves({ Item: held });

    // Act
    const result = await swing(['resume']);

    // Assess
    expect(result.code).toBe(0);
    expect(aws.sfn).toReceiveCommandWith(SendTaskSuccessCommand, { taskToken: TOKEN });
    expect(result.stdout).toContain('the pause ended: the rollout continues');
  });

  it('resume does not pass a gate (the write cutover gate included): it says only promote does', async () => {
    // Prepare: issue 20, defect 5: the last read step of a reads-first rollout waits at the cutover gate.
    const record = runningRecord();
    const atCutoverGate = {
      ...record,
      rollout: {
        ...record.rollout!,
        traffic: 'reads-first' as const,
        status: 'gated' as const,
        taskKind: 'gate' as const,
        stepIndex: 3,
      },
    };
    aws.dynamo.on(UpdateCommand).resolves(updatedTo(atCutoverGate));
    aws.dynamo.on(GetCommand).resolves({ Item: atCutoverGate });

    // Act
    const result = await swing(['resume']);

    // Assess
    expect(result.code).toBe(0);
    expect(aws.sfn).not.toReceiveCommand(SendTaskSuccessCommand);
    expect(result.stdout).toContain('still waits at its gate, which only `swing promote` passes');
  });
});

describe('Command: swing history', () => {
  beforeEach(() => {
    resetAws();
    mockDeployedStack();
  });

  it('lists finished rollouts newest first with outcome, duration and reason', async () => {
    // Act
    const result = await swing(['history']);

    // Assess
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^ENDED\s+OUTCOME\s+TRAFFIC\s+REACHED\s+DURATION\s+EXECUTION\s+PLAN\s+DELIVERED SPLIT\s+REASON$/,
    );
    expect(lines[1]).toMatch(
      /rolled-back\s+all\s+\d+ %\s+7m41s\s+migrate-orders-2\s+5:5m,25:10m,50:10m!,100\s+2 not measured\s+AlarmFired: swing-target-5xx/,
    );
    expect(lines[2]).toMatch(/completed\s+all\s+100 %\s+40s\s+migrate-orders-1\s+100/);
    expect(result.stdout).toContain('Running now: migrate-orders-3');
  });

  it('shows the traffic mode, a rehearsal, and the write exposure of a rollout rolled back after its cutover', async () => {
    // Prepare
    const record = runningRecord();
    const exposure = {
      cutoverAt: '2026-03-02T09:30:00.000Z',
      endedAt: '2026-03-02T09:32:05.000Z',
      windowSeconds: 125,
      targetRequests: 980,
      policy: 'rollback' as const,
    };
    const base = record.history[1]!;
    const rolledBack = {
      ...base,
      executionArn: base.executionArn.replace('migrate-orders-2', 'migrate-orders-4'),
      traffic: 'reads-first' as const,
      cutoverAt: exposure.cutoverAt,
      exposure,
      endedAt: exposure.endedAt,
    };
    const rehearsed = {
      ...base,
      executionArn: base.executionArn.replace('migrate-orders-2', 'migrate-orders-5'),
      traffic: 'reads-first' as const,
      planEnd: 'restore' as const,
      outcome: 'rehearsed' as const,
      status: 'rehearsed' as const,
      reason: undefined,
      endedAt: '2026-03-02T09:50:00.000Z',
    };
    aws.dynamo.on(GetCommand).resolves({
      Item: { ...record, history: [...record.history, rolledBack, rehearsed] },
    });

    // Act
    const result = await swing(['history']);
    const json = JSON.parse((await swing(['history', '--json'])).stdout);

    // Assess
    const lines = result.stdout.trim().split('\n');
    expect(lines[1]).toMatch(/rehearsed\s+reads-first, restore\s+.*migrate-orders-5/);
    expect(lines[2]).toMatch(/rolled-back\s+reads-first\s+.*migrate-orders-4/);
    expect(lines[3]).toMatch(/rolled-back\s+all\s+.*migrate-orders-2/);
    expect(result.stdout).toContain(
      'migrate-orders-4: write exposure: 2m5s from the cutover (2026-03-02T09:30:00.000Z) to the restore ' +
        '(2026-03-02T09:32:05.000Z); the target took 980 requests in it (RequestCount counts reads too); ' +
        'every write in it is on the target only',
    );
    expect(json.rollouts[0]).toMatchObject({
      traffic: 'reads-first',
      planEnd: 'restore',
      outcome: 'rehearsed',
      exposure: null,
    });
    expect(json.rollouts[1]).toMatchObject({
      traffic: 'reads-first',
      exposure,
      cutoverAt: exposure.cutoverAt,
    });
    expect(json.rollouts[2]).toMatchObject({ traffic: 'all', planEnd: 'hold' });
  });

  it('honours --limit and gives durations in --json', async () => {
    // Act
    const result = await swing(['history', '--limit', '1', '--json']);

    // Assess
    const history = JSON.parse(result.stdout);
    expect(history.rollouts).toHaveLength(1);
    expect(history.rollouts[0]).toMatchObject({ outcome: 'rolled-back', durationSeconds: 461 });
  });
});
