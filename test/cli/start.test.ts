import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  type DescribeRulesCommandOutput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  aws,
  fixture,
  listenerAt,
  mockDeployedStack,
  resetAws,
  runningRecord,
  STACK,
  swing,
} from './harness.ts';

const STARTED = `${STACK.stateMachineArn.replace(':stateMachine:', ':execution:')}:migrate-orders-4`;

function freeRecord() {
  const record = runningRecord();
  const last = record.history[1]!;
  return { listenerArn: STACK.listenerArn, rollout: last, history: record.history };
}

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

describe('Command: swing start', () => {
  beforeEach(() => {
    resetAws();
    mockDeployedStack(freeRecord());
    // The last rollout was rolled back: all traffic on the source.
    aws.elbv2.on(DescribeListenersCommand).resolves(listenerAt(999, 0));
    aws.sfn
      .on(StartExecutionCommand)
      .resolves({ executionArn: STARTED, startDate: new Date('2026-03-02T11:00:00Z') });
  });

  it('refuses with exit 1 while a rollout holds the listener, naming it and how to watch or abort, and starts nothing', async () => {
    // Prepare
    aws.dynamo.on(GetCommand).resolves({ Item: runningRecord() });

    // Act
    const result = await swing(['start', '--plan', 'canary']);

    // Assess
    expect(result.code).toBe(1);
    expect(aws.sfn).not.toReceiveCommand(StartExecutionCommand);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('is held by rollout migrate-orders-3 (baking, step 2 of 4)');
    expect(result.stderr).toContain('`swing status --watch`');
    expect(result.stderr).toContain('`swing abort`');
  });

  it('starts the state machine from the stack outputs with { plan, requestedBy } and the gate settings', async () => {
    // Act
    const result = await swing([
      'start',
      '--plan',
      '10:5m,50:10m!,100',
      '--name',
      'migrate-orders-4',
      '--gate-timeout',
      '2h',
      '--gate-action',
      'rollback',
    ]);

    // Assess
    expect(result.code).toBe(0);
    expect(aws.cloudFormation).toReceiveCommandWith(DescribeStacksCommand, { StackName: 'Swing' });
    expect(aws.sfn).toReceiveCommandTimes(StartExecutionCommand, 1);
    const input = aws.sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(input?.stateMachineArn).toBe(STACK.stateMachineArn);
    expect(input?.name).toBe('migrate-orders-4');
    expect(JSON.parse(input?.input ?? '')).toEqual({
      plan: {
        steps: [
          { targetPercent: 10, bakeSeconds: 300, gate: false },
          { targetPercent: 50, bakeSeconds: 600, gate: true },
          { targetPercent: 100, bakeSeconds: 0, gate: false },
        ],
      },
      requestedBy: 'cli:alice@laptop',
      gate: { timeoutSeconds: 7200, action: 'rollback' },
    });
    expect(result.stdout).toContain('Started migrate-orders-4');
  });

  it('uses --stack-name and lets flags replace outputs', async () => {
    // Act
    await swing([
      'start',
      '--stack-name',
      'SwingProd',
      '--state-machine-arn',
      'arn:aws:states:eu-west-1:123456789012:stateMachine:Other',
    ]);

    // Assess
    expect(aws.cloudFormation).toReceiveCommandWith(DescribeStacksCommand, { StackName: 'SwingProd' });
    expect(aws.sfn).toReceiveCommandWith(StartExecutionCommand, {
      stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Other',
    });
  });

  it('needs no CloudFormation call when every value comes from a flag', async () => {
    // Act
    const result = await swing([
      'start',
      '--state-machine-arn',
      STACK.stateMachineArn,
      '--table-name',
      STACK.tableName,
      '--listener-arn',
      STACK.listenerArn,
      '--source-target-group-arn',
      STACK.sourceTargetGroupArn,
      '--target-target-group-arn',
      STACK.targetTargetGroupArn,
    ]);

    // Assess
    expect(result.code).toBe(0);
    expect(aws.cloudFormation).not.toReceiveCommand(DescribeStacksCommand);
  });

  it('prints what it would start with --dry-run and starts nothing', async () => {
    // Act
    const result = await swing(['start', '--plan', 'canary', '--dry-run', '--json']);

    // Assess
    expect(result.code).toBe(0);
    expect(aws.sfn).not.toReceiveCommand(StartExecutionCommand);
    const dryRun = JSON.parse(result.stdout);
    expect(dryRun).toMatchObject({
      dryRun: true,
      stateMachineArn: STACK.stateMachineArn,
      listenerArn: STACK.listenerArn,
    });
    expect(dryRun.input.plan.steps).toHaveLength(4);
  });

  it('refuses, as preflight would, a plan that starts below the target share, starting nothing', async () => {
    // Prepare: someone left the target at 25 %.
    aws.elbv2.on(DescribeListenersCommand).resolves(listenerAt(749, 250));

    // Act
    const result = await swing(['start', '--plan', 'canary']);

    // Assess
    expect(result.code).toBe(2);
    expect(aws.sfn).not.toReceiveCommand(StartExecutionCommand);
    expect(result.stderr).toContain('--plan (step 1): is 5 % but the target already gets 25.03 %');
    expect(result.stderr).toContain('Start the plan at 25 % or more');
  });

  it('refuses with exit 1, as preflight would, a listener whose shape it cannot swing, starting nothing', async () => {
    // Prepare
    const reshaped = listenerAt(999, 0);
    (reshaped.Listeners![0]!.DefaultActions as unknown as { Type: string }[])[0]!.Type = 'redirect';
    aws.elbv2.on(DescribeListenersCommand).resolves(reshaped);

    // Act
    const result = await swing(['start', '--plan', 'canary', '--dry-run']);

    // Assess
    expect(result.code).toBe(1);
    expect(aws.sfn).not.toReceiveCommand(StartExecutionCommand);
    expect(result.stderr).toContain('redirect');
  });

  it('refuses with exit 1, as preflight would, a rule that is not Swing’s and forwards to the source group', async () => {
    // Prepare
    const rules = fixture<DescribeRulesCommandOutput>('elbv2-describe-rules').Rules ?? [];
    const toSource = {
      ...rules[1]!,
      RuleArn: `${STACK.listenerArn.replace(':listener/', ':listener-rule/')}/4d5e6f7a8b9c0d1e`,
      Priority: '20',
      Actions: [{ Type: 'forward' as const, Order: 1, TargetGroupArn: STACK.sourceTargetGroupArn }],
    };
    aws.elbv2.on(DescribeRulesCommand).resolves({ Rules: [...rules, toSource] });

    // Act
    const result = await swing(['start', '--plan', 'canary']);

    // Assess
    expect(result.code).toBe(1);
    expect(aws.sfn).not.toReceiveCommand(StartExecutionCommand);
    expect(result.stderr).toContain(`rule ${toSource.RuleArn} (priority 20, host-header`);
  });

  it('names in --dry-run the listener rules whose traffic the rollout would not swing', async () => {
    // Prepare
    aws.elbv2.on(DescribeRulesCommand).resolves(fixture('elbv2-describe-rules'));

    // Act
    const text = await swing(['start', '--plan', 'canary', '--dry-run']);
    const json = JSON.parse((await swing(['start', '--plan', 'canary', '--dry-run', '--json'])).stdout);

    // Assess
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Not swung: 3 rules of the listener send what they match elsewhere');
    expect(text.stdout).toContain('priority 5: ');
    expect(json.unswungRules.map((rule: { priority: string }) => rule.priority)).toEqual(['5', '10', '30']);
  });

  it('rejects a bad plan with exit 2 before any AWS call', async () => {
    // Act
    const result = await swing(['start', '--plan', '50:5m,20']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.clientRequests).toBe(0);
    expect(result.stderr).toContain(
      '--plan (step 2 "20"): percent is 20: must be greater than the previous step\'s 50',
    );
  });

  it.each([
    [['--gate-timeout', '10s'], '--gate-timeout: must be at least 60 s'],
    [
      ['--gate-action', 'wait'],
      "--gate-action: must be 'rollback' (default: a forgotten gate rolls back) or 'promote'",
    ],
    [['--name', 'has spaces'], "--name: is 'has spaces': use 1-80 letters"],
  ])('rejects %j with exit 2 naming the flag', async (flags, message) => {
    // Act
    const result = await swing(['start', ...flags]);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(aws.sfn).not.toReceiveCommand(StartExecutionCommand);
  });

  it('names the missing stack output and the flag that replaces it, exit 2', async () => {
    // Prepare
    aws.cloudFormation.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: 'Swing', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Outputs: [] }],
    });

    // Act
    const result = await swing(['start']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("stack 'Swing' has no output StateMachineArn");
    expect(result.stderr).toContain('pass --state-machine-arn');
  });

  it('says the stack was not found and how to point at it, exit 2', async () => {
    // Prepare
    aws.cloudFormation
      .on(DescribeStacksCommand)
      .rejects(awsError('ValidationError', 'Stack with id Swing does not exist'));

    // Act
    const result = await swing(['start']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("stack 'Swing' was not found");
    expect(result.stderr).toContain('--stack-name and --region');
  });

  it('rejects a malformed ARN flag with exit 2 naming the flag', async () => {
    // Act
    const result = await swing([
      'start',
      '--listener-arn',
      'arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/x',
    ]);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--listener-arn is ');
    expect(result.stderr).toContain('not an ALB listener ARN');
  });

  it('reports a reused execution name as bad input', async () => {
    // Prepare
    aws.sfn.on(StartExecutionCommand).rejects(awsError('ExecutionAlreadyExists', 'Execution Already Exists'));

    // Act
    const result = await swing(['start', '--name', 'migrate-orders-1']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("an execution named 'migrate-orders-1' already exists");
  });

  it('reports access denied as an AWS error (exit 4) in one line', async () => {
    // Prepare
    aws.sfn
      .on(StartExecutionCommand)
      .rejects(
        awsError(
          'AccessDeniedException',
          'User: arn:aws:iam::123456789012:user/bob is not authorized\nto perform: states:StartExecution',
        ),
      );

    // Act
    const result = await swing(['start']);

    // Assess
    expect(result.code).toBe(4);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('access denied');
  });

  it('with --watch, reports a start that preflight refused, with its error, exit 1', async () => {
    // Prepare: the execution never takes the lock; Step Functions says why.
    aws.sfn.on(DescribeExecutionCommand).resolves(fixture('sfn-describe-execution-refused'));

    // Act
    const result = await swing(['start', '--watch']);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'Rollout migrate-orders-4 did not start: AlarmFiring: refusing to start: watched alarms are firing: swing-target-5xx',
    );
    expect(result.stdout).not.toContain('trace');
  });
});
