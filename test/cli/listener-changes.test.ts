import {
  DeleteRuleCommand,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { SWING_RULE_SET } from '#domain/swing-rules.ts';
import {
  aws,
  fixture,
  listenerAt,
  mockDeployedStack,
  RUNNING_EXECUTION,
  resetAws,
  runningRecord,
  STACK,
  swing,
} from './harness.ts';

/** The listener at `before` until ModifyListener, then at whatever was written: a listener that obeys. */
function listenerObeying(before: [number, number]) {
  let current = listenerAt(...before);
  aws.elbv2.on(DescribeListenersCommand).callsFake(() => current);
  aws.elbv2.on(ModifyListenerCommand).callsFake((input) => {
    const tuples = input.DefaultActions[0].ForwardConfig.TargetGroups as { Weight: number }[];
    current = listenerAt(tuples[0]!.Weight, tuples[1]!.Weight);
    return {};
  });
}

function writtenWeights() {
  const call = aws.elbv2.commandCalls(ModifyListenerCommand)[0];
  return call?.args[0].input.DefaultActions?.[0]?.ForwardConfig;
}

describe('Command: swing rollback --force', () => {
  beforeEach(() => {
    resetAws();
    mockDeployedStack();
    listenerObeying([749, 250]);
    aws.sfn.on(DescribeExecutionCommand).resolves(fixture('sfn-describe-execution-running'));
  });

  it('refuses without --yes when there is no terminal to ask on: exit 2, no ModifyListener', async () => {
    // Act
    const result = await swing(['rollback', '--force'], { isTTY: false });

    // Assess
    expect(result.code).toBe(2);
    expect(aws.elbv2).not.toReceiveCommand(ModifyListenerCommand);
    expect(result.questions).toHaveLength(0);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('rerun with --yes');
  });

  it('refuses without --force, pointing at swing abort', async () => {
    // Act
    const result = await swing(['rollback', '--yes']);

    // Assess
    expect(result.code).toBe(2);
    expect(aws.elbv2).not.toReceiveCommand(ModifyListenerCommand);
    expect(result.stderr).toContain('pass --force');
    expect(result.stderr).toContain('`swing abort`');
  });

  it('asks on a terminal and writes nothing when the answer is no', async () => {
    // Act
    const result = await swing(['rollback', '--force'], { isTTY: true, answer: false });

    // Assess
    expect(result.code).toBe(1);
    expect(result.questions).toHaveLength(1);
    expect(result.questions[0]).toContain('to   source 999 / target 0 (0.0 % target)');
    expect(result.questions[0]).toContain('were not captured for the source');
    expect(aws.elbv2).not.toReceiveCommand(ModifyListenerCommand);
  });

  it('restores the starting weights directly, stickiness off, after a yes on the terminal', async () => {
    // Prepare
    aws.dynamo.on(UpdateCommand).resolves({ Attributes: runningRecord() });

    // Act
    const result = await swing(['rollback', '--force'], { isTTY: true, answer: true });

    // Assess
    expect(result.code).toBe(0);
    expect(aws.elbv2).toReceiveCommandTimes(ModifyListenerCommand, 1);
    expect(writtenWeights()).toEqual({
      TargetGroups: [
        { TargetGroupArn: STACK.sourceTargetGroupArn, Weight: 999 },
        { TargetGroupArn: STACK.targetTargetGroupArn, Weight: 0 },
      ],
      TargetGroupStickinessConfig: { Enabled: false },
    });
    expect(result.stdout).toContain('Restored listener');
    expect(result.stdout).toContain('still runs and holds the lock: it does not go on, it rolls back');
    // Without --release-lock the lock and the execution are left alone: the record only says what was done, for
    // whoever settles the holder (the rules it finds missing are not a hand change).
    const updates = aws.dynamo.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(updates).toHaveLength(1);
    expect(updates[0]?.UpdateExpression).not.toContain('lockOwner');
    expect(Object.values(updates[0]?.ExpressionAttributeNames ?? {})).toEqual(['forcedRollbackAt', 'status']);
    expect(updates[0]?.UpdateExpression).not.toContain('status');
    expect(Object.values(updates[0]?.ExpressionAttributeValues ?? {})).toContain('2026-03-02T10:11:00.000Z');
    expect(aws.sfn).not.toReceiveCommand(StopExecutionCommand);
  });

  it('with --release-lock stops a running holder and leaves the release to its safety net', async () => {
    // Prepare
    aws.dynamo.on(UpdateCommand).resolves({ Attributes: runningRecord() });

    // Act
    const result = await swing(['rollback', '--force', '--yes', '--release-lock', '--json']);

    // Assess: the reason is recorded for the safety net, the lock is not released under a live task.
    expect(result.code).toBe(0);
    expect(aws.elbv2).toReceiveCommandTimes(ModifyListenerCommand, 1);
    const updates = aws.dynamo.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(updates).toHaveLength(1);
    expect(updates[0]?.ConditionExpression).toContain('lockOwner = :owner');
    expect(updates[0]?.UpdateExpression).not.toContain('REMOVE lockOwner');
    expect(Object.values(updates[0]?.ExpressionAttributeValues ?? {})).toContainEqual(
      expect.objectContaining({ error: 'ForcedRollback' }),
    );
    expect(Object.values(updates[0]?.ExpressionAttributeNames ?? {})).toContain('forcedRollbackAt');
    expect(aws.sfn).toReceiveCommandWith(StopExecutionCommand, {
      executionArn: RUNNING_EXECUTION,
      error: 'ForcedRollback',
    });
    expect(JSON.parse(result.stdout)).toMatchObject({
      written: true,
      released: false,
      stopped: true,
      lockFreesBy: '2026-03-02T10:12:45.000Z',
    });
  });

  it('refuses --release-lock while the safety net still waits out a stopped execution, writing nothing', async () => {
    // Prepare: the holder stopped 20 s ago (the harness clock reads 2026-03-02T10:11:00Z).
    aws.sfn.on(DescribeExecutionCommand).resolves({
      ...fixture('sfn-describe-execution-running'),
      status: 'ABORTED',
      stopDate: new Date('2026-03-02T10:10:40Z'),
    });

    // Act
    const result = await swing(['rollback', '--force', '--yes', '--release-lock']);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'the safety net restores the starting weights and frees the lock by 2026-03-02T10:12:25.000Z',
    );
    expect(aws.elbv2).not.toReceiveCommand(ModifyListenerCommand);
    expect(aws.dynamo).not.toReceiveCommand(UpdateCommand);
  });

  it('releases the lock of an execution that stopped longer ago than the safety net waits', async () => {
    // Prepare
    aws.dynamo.on(UpdateCommand).resolves({ Attributes: runningRecord() });
    aws.sfn.on(DescribeExecutionCommand).resolves({
      ...fixture('sfn-describe-execution-running'),
      status: 'FAILED',
      stopDate: new Date('2026-03-02T10:09:00Z'),
    });

    // Act
    const result = await swing(['rollback', '--force', '--yes', '--release-lock', '--json']);

    // Assess
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ written: true, released: true, stopped: false });
    // Its release starts the quiet period as every release does (no new rollout before a late write can land).
    const release = aws.dynamo
      .commandCalls(UpdateCommand)
      .map((call) => call.args[0].input)
      .find((input) => input.UpdateExpression?.includes('REMOVE lockOwner'));
    const quiet = Object.entries(release?.ExpressionAttributeNames ?? {}).find(
      ([, name]) => name === 'quietUntil',
    );
    // 165 s after now: QUIET_AFTER_RELEASE_SECONDS.
    expect(release?.ExpressionAttributeValues?.[quiet?.[0].replace('#', ':') ?? '']).toBe(
      '2026-03-02T10:13:45.000Z',
    );
    // Recorded first, before the listener is written: the command changes things under the held lock, and the
    // holder ended long ago, so nothing asks that Complete has not decided.
    const first = aws.dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(Object.values(first?.ExpressionAttributeNames ?? {})).toContain('forcedRollbackAt');
    expect(first?.ConditionExpression).not.toContain(':completing');
  });

  it('writes nothing when the listener is already at the starting weights', async () => {
    // Prepare
    aws.dynamo.on(UpdateCommand).resolves({ Attributes: runningRecord() });
    listenerObeying([999, 0]);

    // Act
    const result = await swing(['rollback', '--force', '--yes']);

    // Assess
    expect(result.code).toBe(0);
    expect(aws.elbv2).not.toReceiveCommand(ModifyListenerCommand);
    expect(result.stdout).toContain('already at source 999 / target 0');
    // The running holder is still told to roll back: a step under way may yet land after this command.
    const updates = aws.dynamo.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(updates).toHaveLength(1);
    expect(Object.values(updates[0]?.ExpressionAttributeNames ?? {})).toContain('forcedRollbackAt');
    // Conditional on Complete not having decided (its mark is conditional on no forced rollback).
    expect(updates[0]?.ConditionExpression).toContain('<> :completing');
  });

  it('undoes the last rollout when none is running', async () => {
    // Prepare: the last rollout completed from 1/0 to 0/999; nobody holds the lock.
    const record = runningRecord();
    aws.dynamo.on(GetCommand).resolves({
      Item: { listenerArn: STACK.listenerArn, rollout: record.history[0], history: record.history },
    });
    listenerObeying([0, 999]);

    // Act
    const result = await swing(['rollback', '--force', '--yes']);

    // Assess
    expect(result.code).toBe(0);
    expect(writtenWeights()?.TargetGroups?.map((group) => group.Weight)).toEqual([1, 0]);
    expect(aws.sfn).not.toReceiveCommand(DescribeExecutionCommand);
  });

  it("removes a reads-first rollout's own rules too: the read rules first, writes-to-source, the pins last", async () => {
    // Prepare: a reads-first rollout halted at 50 % of reads (someone changed a rule); nobody holds the lock.
    const record = runningRecord();
    const halted = {
      ...record.history[0],
      traffic: 'reads-first',
      readsWritten: { source: 500, target: 499 },
    };
    aws.dynamo.on(GetCommand).resolves({
      Item: { listenerArn: STACK.listenerArn, rollout: halted, history: [halted] },
    });
    listenerObeying([999, 0]);
    const group = (arn: string, weight: number) => ({ TargetGroupArn: arn, Weight: weight });
    const rules: Rule[] = SWING_RULE_SET.map((spec, index) => ({
      RuleArn: `${STACK.listenerArn.replace(':listener/', ':listener-rule/')}/r${index}`,
      Priority: String(1000 + spec.offset),
      Conditions: [],
      Actions: [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              group(STACK.sourceTargetGroupArn, spec.role === 'reads' ? 500 : 999),
              group(STACK.targetTargetGroupArn, spec.role === 'reads' ? 499 : 0),
            ],
          },
        },
      ],
    }));
    aws.elbv2.on(DescribeRulesCommand).callsFake((input: { RuleArns?: string[] }) => ({
      Rules: input.RuleArns
        ? rules
            .filter((rule) => input.RuleArns?.includes(rule.RuleArn ?? ''))
            .map((rule) => ({
              ...rule,
              Actions: [
                {
                  Type: 'forward',
                  ForwardConfig: {
                    TargetGroups: [
                      group(STACK.sourceTargetGroupArn, 999),
                      group(STACK.targetTargetGroupArn, 0),
                    ],
                  },
                },
              ],
            }))
        : rules,
    }));
    aws.elbv2.on(DescribeTagsCommand).callsFake((input: { ResourceArns: string[] }) => ({
      TagDescriptions: input.ResourceArns.map((arn) => ({
        ResourceArn: arn,
        Tags: [
          { Key: 'swing:owner', Value: halted.executionArn },
          { Key: 'swing:rule', Value: SWING_RULE_SET[Number(arn.split('/r').at(-1))]?.name },
        ],
      })),
    }));
    aws.elbv2.on(ModifyRuleCommand).resolves({});
    aws.elbv2.on(DeleteRuleCommand).resolves({});

    // Act
    const result = await swing(['rollback', '--force', '--yes']);

    // Assess
    expect(result.code, result.stderr).toBe(0);
    const reads = SWING_RULE_SET.filter((spec) => spec.role === 'reads').length;
    // Deleted as they are: a read rule's requests then follow the restored default action.
    expect(aws.elbv2.commandCalls(ModifyRuleCommand)).toHaveLength(0);
    expect(reads).toBeGreaterThan(0);
    const deleted = aws.elbv2.commandCalls(DeleteRuleCommand).map((call) => call.args[0].input.RuleArn);
    expect(deleted).toHaveLength(SWING_RULE_SET.length);
    // The read rules first, then writes-to-source, the pins last: while a read rule routes, they keep scroll
    // contexts and the writes a read pattern would match on the source.
    const roles = deleted.map((arn) => SWING_RULE_SET[Number(String(arn).split('/r').at(-1))]?.role);
    expect(roles).toEqual([
      ...SWING_RULE_SET.filter((spec) => spec.role === 'reads').map(() => 'reads'),
      'writes',
      ...SWING_RULE_SET.filter((spec) => spec.role === 'pin').map(() => 'pin'),
    ]);
    expect(result.stdout).toContain(`Removed the ${SWING_RULE_SET.length} listener rules`);
  });

  it('refuses with exit 3 a restore that would raise the target share, before any question or write', async () => {
    // Prepare: a caller with UpdateItem on the record aimed the starting weights at the target.
    const record = runningRecord();
    aws.dynamo.on(GetCommand).resolves({
      Item: { ...record, rollout: { ...record.rollout!, startingWeights: { source: 0, target: 999 } } },
    });

    // Act
    const result = await swing(['rollback', '--force', '--release-lock'], { isTTY: true, answer: true });

    // Assess
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('a restore never raises the target');
    expect(result.questions).toEqual([]);
    expect(aws.elbv2).not.toReceiveCommand(ModifyListenerCommand);
    expect(aws.dynamo).not.toReceiveCommand(UpdateCommand);
    expect(aws.sfn).not.toReceiveCommand(StopExecutionCommand);
  });

  it.each([
    ['ThrottlingException', 400],
    ['AccessDeniedException', 400],
  ])(
    'refuses --release-lock with exit 4 when the holder status cannot be learned (%s), before any write',
    async (name, httpStatusCode) => {
      // Prepare
      const error = new Error(`${name} from Step Functions`);
      error.name = name;
      Object.assign(error, { $fault: 'client', $metadata: { httpStatusCode } });
      aws.sfn.on(DescribeExecutionCommand).rejects(error);

      // Act
      const result = await swing(['rollback', '--force', '--yes', '--release-lock']);

      // Assess
      expect(result.code).toBe(4);
      expect(result.stderr).toContain(`cannot learn whether execution migrate-orders-3 still runs (${name}`);
      expect(aws.elbv2).not.toReceiveCommand(ModifyListenerCommand);
      expect(aws.dynamo).not.toReceiveCommand(UpdateCommand);
      expect(aws.sfn).not.toReceiveCommand(StopExecutionCommand);
    },
  );

  it('refuses with exit 2 when no rollout was ever recorded', async () => {
    // Prepare
    aws.dynamo.on(GetCommand).resolves({});

    // Act
    const result = await swing(['rollback', '--force', '--yes']);

    // Assess
    expect(result.code).toBe(2);
    expect(aws.elbv2).not.toReceiveCommand(ModifyListenerCommand);
    expect(result.stderr).toContain('swing set-weights --target 0');
  });
});

describe('Command: swing set-weights', () => {
  beforeEach(() => {
    resetAws();
    mockDeployedStack();
    listenerObeying([749, 250]);
  });

  it('refuses with exit 1 while a rollout holds the listener and writes nothing', async () => {
    // Act
    const result = await swing(['set-weights', '--target', '0']);

    // Assess
    expect(result.code).toBe(1);
    expect(aws.elbv2).not.toReceiveCommand(ModifyListenerCommand);
    expect(result.stderr).toContain('is held by rollout migrate-orders-3');
    expect(result.stderr).toContain('--force');
  });

  it('writes percentToWeights(N) with --force and warns that the rollout will halt on drift', async () => {
    // Act
    const result = await swing(['set-weights', '--target', '10', '--force']);

    // Assess
    expect(result.code).toBe(0);
    expect(writtenWeights()?.TargetGroups?.map((group) => group.Weight)).toEqual([899, 100]);
    expect(result.stderr).toContain('sees this change as drift and halts');
    expect(result.stdout).toContain('Set listener');
  });

  it('writes when the listener is free, and refuses to raise the target with no healthy target', async () => {
    // Prepare
    aws.dynamo.on(GetCommand).resolves({});
    aws.elbv2.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });

    // Act
    const lowered = await swing(['set-weights', '--target', '12.5']);
    const raised = await swing(['set-weights', '--target', '60']);

    // Assess
    expect(lowered.code).toBe(0);
    expect(raised.code).toBe(1);
    expect(raised.stderr).toContain('has no healthy target');
    expect(aws.elbv2).toReceiveCommandTimes(ModifyListenerCommand, 1);
    expect(writtenWeights()?.TargetGroups?.map((group) => group.Weight)).toEqual([874, 125]);
  });

  it.each(['101', '-1', 'half', '12.25'])(
    'rejects --target %s with exit 2 before any AWS call',
    async (value) => {
      // Act
      const result = await swing(['set-weights', '--target', value]);

      // Assess
      expect(result.code).toBe(2);
      expect(result.clientRequests).toBe(0);
      expect(result.stderr).toContain('--target: ');
    },
  );
});
