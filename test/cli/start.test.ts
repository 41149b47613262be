import { DescribeStacksCommand, type DescribeStacksCommandOutput } from '@aws-sdk/client-cloudformation';
import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  type DescribeRulesCommandOutput,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_READS_FIRST } from '#domain/reads-first.ts';
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

  it("refuses with exit 1 within the last rollout's quiet period, naming when it may start, and starts nothing", async () => {
    // The last rollout released the lock at 10:10:30; its attempts may act until 10:11:45 (the harness: 10:11).
    const record = freeRecord();
    aws.dynamo.on(GetCommand).resolves({
      Item: { ...record, rollout: { ...record.rollout, quietUntil: '2026-03-02T10:11:45.000Z' } },
    });

    const result = await swing(['start', '--plan', 'canary']);

    expect(result.code).toBe(1);
    expect(aws.sfn).not.toReceiveCommand(StartExecutionCommand);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('is quiet until 2026-03-02T10:11:45.000Z');
    expect(result.stderr).toContain('(in 45 s)');
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
    // Beside the all-mode warning, which every start in all mode prints.
    const errors = result.stderr
      .trim()
      .split('\n')
      .filter((line) => !line.startsWith('Warning: '));
    expect(errors).toHaveLength(1);
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

  describe('traffic modes', () => {
    function sentInput() {
      const input = aws.sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input;
      return JSON.parse(input ?? '{}');
    }

    it('starts a reads-first rollout with its traffic and reads-first overrides in the execution input, and no all-mode warning', async () => {
      // Act
      const result = await swing([
        'start',
        '--plan',
        '5:5m,100',
        '--traffic',
        'reads-first',
        '--cutover-gate',
        'replay-lag',
        '--after-cutover',
        'hold',
        '--scroll-keep-alive',
        '10m',
      ]);

      // Assess
      expect(result.code).toBe(0);
      expect(sentInput()).toEqual({
        plan: expect.any(Object),
        requestedBy: 'cli:alice@laptop',
        traffic: 'reads-first',
        readsFirst: { cutoverGate: 'replay-lag', afterCutover: 'hold', scrollKeepAliveSeconds: 600 },
      });
      expect(result.stderr).toBe('');
      expect(result.stdout).toContain('Plan 5:5m,100, traffic reads-first');
    });

    it("omits the traffic fields without the flags, so that the stack's default applies, and warns on one line", async () => {
      // Act
      const result = await swing(['start', '--plan', 'canary']);

      // Assess
      expect(result.code).toBe(0);
      expect(Object.keys(sentInput()).sort()).toEqual(['plan', 'requestedBy']);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain("Warning: traffic is the stack's default");
      expect(result.stderr).toContain('--traffic reads-first');
    });

    it('warns in all mode that writes sent to the target are not captured and stay there only if rolled back', async () => {
      // Act
      const result = await swing(['start', '--plan', 'canary', '--traffic', 'all', '--json']);

      // Assess
      expect(result.code).toBe(0);
      expect(sentInput().traffic).toBe('all');
      expect(JSON.parse(result.stdout).input.traffic).toBe('all');
      expect(result.stderr.trim()).toBe(
        'Warning: traffic all: writes the listener sends to the target are not captured for the source, and ' +
          'they stay on the target only if the rollout is rolled back; --traffic reads-first ramps reads ' +
          'first and cuts writes over last',
      );
    });

    it.each([[['--traffic', 'all']], [[]]])(
      'refuses an all-mode rehearsal without --accept-writes-on-target with exit 2, starting nothing (%j)',
      async (flags) => {
        // Act
        const result = await swing(['start', '--plan', '5:30m', '--rehearsal', ...flags]);

        // Assess: with --traffic before any AWS call; without, once the stack's outputs name no other mode.
        expect(result.code).toBe(2);
        if (flags.length > 0) expect(result.clientRequests).toBe(0);
        expect(aws.sfn).not.toReceiveCommand(StartExecutionCommand);
        expect(result.stderr).toContain(
          '--accept-writes-on-target: is not set: a rehearsal in all mode sends writes to the target, and they ' +
            'stay there (the source never gets them) after the restore. Use traffic reads-first',
        );
      },
    );

    it('starts an all-mode rehearsal the operator accepted, with then: restore, and says the writes stay on the target', async () => {
      // Act
      const result = await swing([
        'start',
        '--plan',
        '5:30m',
        '--traffic',
        'all',
        '--rehearsal',
        '--accept-writes-on-target',
      ]);

      // Assess
      expect(result.code).toBe(0);
      expect(sentInput()).toMatchObject({ traffic: 'all', acceptWritesOnTarget: true });
      expect(sentInput().then).toBe('restore');
      expect(result.stderr).toContain('every write the target takes stays on the target only');
    });

    it('starts a reads-first rehearsal with then: restore and no consent needed', async () => {
      // Act
      const result = await swing(['start', '--plan', '5:30m', '--traffic', 'reads-first', '--rehearsal']);

      // Assess
      expect(result.code).toBe(0);
      expect(sentInput().traffic).toBe('reads-first');
      expect(sentInput().then).toBe('restore');
      expect(sentInput()).not.toHaveProperty('acceptWritesOnTarget');
      expect(result.stdout).toContain('a rehearsal (restores its starting weights at its end)');
    });

    it('refuses with exit 1 a reads-first start while the default action sends anything to the target, starting nothing', async () => {
      // Prepare: 1 % of everything (writes too) already goes to the target.
      aws.elbv2.on(DescribeListenersCommand).resolves(listenerAt(989, 10));

      // Act
      const result = await swing(['start', '--plan', '5:5m,100', '--traffic', 'reads-first']);

      // Assess
      expect(result.code).toBe(1);
      expect(aws.sfn).not.toReceiveCommand(StartExecutionCommand);
      expect(result.stderr).toContain('in reads-first mode the writes stay on the source until the cutover');
      expect(result.stderr).toContain('swing set-weights --target 0');
    });

    it('refuses with exit 1 a reads-first start whose rules would shadow other rules, naming them, starting nothing', async () => {
      // Prepare: the operator's rules at priorities 5, 10 and 30, and one more at 5000, after Swing's default 1000.
      const described = fixture<{ Rules: Rule[] }>('elbv2-describe-rules');
      const late = {
        ...described.Rules[0],
        RuleArn: `${described.Rules[0]?.RuleArn}-late`,
        Priority: '5000',
      };
      aws.elbv2.on(DescribeRulesCommand).resolves({ ...described, Rules: [...described.Rules, late] });

      // Act
      const byDefault = await swing(['start', '--plan', '5:5m,100', '--traffic', 'reads-first']);
      const byFlag = await swing([
        'start',
        '--plan',
        '5:5m,100',
        '--traffic',
        'reads-first',
        '--rule-priority',
        '20',
        '--dry-run',
      ]);

      // Assess
      expect(byDefault.code).toBe(1);
      expect(byFlag.code).toBe(1);
      expect(aws.sfn).not.toReceiveCommand(StartExecutionCommand);
      expect(byDefault.stderr).toContain('reads-first cannot start on listener');
      expect(byDefault.stderr).toContain("rules of someone else's are evaluated after Swing's");
      expect(byDefault.stderr).toContain('-late (priority 5000');
      expect(byDefault.stderr).toContain("checked at Swing's default rulePriority 1000");
      expect(byFlag.stderr).toContain('choose a rulePriority above theirs (5001 or more)');
      expect(byFlag.stderr).toContain('give those rules priorities below 20');
      expect(byFlag.stderr).not.toContain("Swing's default rulePriority");
    });

    it('starts reads-first on a listener whose other rules all come before Swing’s', async () => {
      // Prepare: the operator's rules at priorities 5, 10 and 30; Swing's default 1000 comes after them.
      aws.elbv2.on(DescribeRulesCommand).resolves(fixture('elbv2-describe-rules'));

      // Act
      const result = await swing(['start', '--plan', '5:5m,100', '--traffic', 'reads-first', '--dry-run']);

      // Assess
      expect(result.stderr).not.toContain('reads-first cannot start');
      expect(result.code).toBe(0);
    });

    it('shows the traffic mode, the cutover line and the input in a reads-first --dry-run', async () => {
      // Act
      const text = await swing(['start', '--plan', '10:5m,100', '--traffic', 'reads-first', '--dry-run']);
      const json = JSON.parse(
        (await swing(['start', '--plan', '10:5m,100', '--traffic', 'reads-first', '--dry-run', '--json']))
          .stdout,
      );

      // Assess
      expect(text.code).toBe(0);
      expect(aws.sfn).not.toReceiveCommand(StartExecutionCommand);
      expect(text.stdout).toContain('Traffic: reads-first\n');
      expect(text.stdout).toMatch(/\n3\/4 cutover\s+100 % writes\s+0\/999\s+10m\s+promote/);
      expect(text.stdout).toContain('"traffic":"reads-first"');
      expect(json).toMatchObject({ dryRun: true, traffic: 'reads-first', input: { traffic: 'reads-first' } });
      expect(json).not.toHaveProperty('warning');
    });

    it('shows the all-mode warning in the --dry-run output itself', async () => {
      // Act
      const text = await swing(['start', '--plan', 'canary', '--traffic', 'all', '--dry-run']);
      const json = JSON.parse(
        (await swing(['start', '--plan', 'canary', '--traffic', 'all', '--dry-run', '--json'])).stdout,
      );

      // Assess
      expect(text.stdout).toContain('Warning: traffic all: writes the listener sends to the target');
      expect(json.warning).toContain('are not captured for the source');
    });
  });

  describe("the stack's default traffic mode (its ReadsFirstDefaults output)", () => {
    function stackDefaults(value: string, replayLagAlarm: string | null = 'Swing-replay-lag'): void {
      const described = fixture<DescribeStacksCommandOutput>('cloudformation-describe-stacks');
      described.Stacks![0]!.Outputs!.push({ OutputKey: 'ReadsFirstDefaults', OutputValue: value });
      if (replayLagAlarm) {
        described.Stacks![0]!.Outputs!.push({ OutputKey: 'ReplayLagAlarm', OutputValue: replayLagAlarm });
      }
      aws.cloudFormation.on(DescribeStacksCommand).resolves(described);
    }
    const readsFirstStack = (basePriority = 1000) =>
      JSON.stringify({
        traffic: 'reads-first',
        settings: { ...DEFAULT_READS_FIRST, basePriority, cutoverGate: 'replay-lag' },
      });

    it('starts a rehearsal without --traffic on a reads-first stack: no consent needed, no warning, the field left to the stack', async () => {
      // Prepare
      stackDefaults(readsFirstStack());

      // Act
      const result = await swing(['start', '--plan', '5:30m', '--rehearsal']);

      // Assess
      expect(result.code).toBe(0);
      const input = JSON.parse(aws.sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}');
      expect(input).not.toHaveProperty('traffic');
      expect(input.then).toBe('restore');
      expect(result.stderr).toBe('');
      expect(result.stdout).toContain("traffic reads-first (the stack's default), a rehearsal");
    });

    it("applies the reads-first preflight without --traffic, at the stack's rule priority", async () => {
      // Prepare
      // Swing's 22 priorities from 8 end at 29: the rule at 30 is evaluated after them.
      stackDefaults(readsFirstStack(8));
      aws.elbv2.on(DescribeRulesCommand).resolves(fixture('elbv2-describe-rules'));

      // Act
      const result = await swing(['start', '--plan', '5:5m,100']);

      // Assess
      expect(result.code).toBe(1);
      expect(aws.sfn).not.toReceiveCommand(StartExecutionCommand);
      expect(result.stderr).toContain('choose a rulePriority above theirs (31 or more)');
      expect(result.stderr).not.toContain("Swing's default rulePriority");
    });

    it("shows the stack's cutover settings in a dry run", async () => {
      // Prepare
      stackDefaults(readsFirstStack());

      // Act
      const result = await swing(['start', '--plan', '10:5m,100', '--dry-run']);

      // Assess
      expect(result.stdout).toContain("Traffic: reads-first (the stack's default)\n");
      expect(result.stdout).toMatch(/\n3\/4 cutover\s+100 % writes\s+0\/999\s+10m\s+replay-lag/);
      expect(result.stdout).not.toContain("Swing's defaults under your flags");
    });

    it('says the all-mode warning comes from the stack when the stack says all', async () => {
      // Prepare
      stackDefaults(JSON.stringify({ traffic: 'all', settings: DEFAULT_READS_FIRST }));

      // Act
      const result = await swing(['start', '--plan', 'canary']);

      // Assess
      expect(result.code).toBe(0);
      expect(result.stderr).toContain(
        "Warning: traffic all (the stack's default): writes the listener sends",
      );
    });

    it('refuses with exit 1 a reads-first start on a stack with no replay-lag alarm, whose steps could never go on', async () => {
      // Prepare: a stack version that exports its defaults, and no ReplayLagAlarm: it has none.
      stackDefaults(readsFirstStack(), null);

      // Act
      const byDefault = await swing(['start', '--plan', '5:5m,100']);
      const byFlag = await swing(['start', '--plan', '5:5m,100', '--traffic', 'reads-first']);
      const allMode = await swing(['start', '--plan', '5:5m,100', '--traffic', 'all']);

      // Assess
      for (const result of [byDefault, byFlag]) {
        expect(result.code).toBe(1);
        expect(result.stderr).toContain('this stack has no replay-lag alarm (no ReplayLagAlarm output)');
        expect(result.stderr).toContain('roll back after 30m');
        expect(result.stderr).toContain('Set replayLag.qualifier');
      }
      expect(allMode.code).toBe(0);
      expect(aws.sfn).toReceiveCommandTimes(StartExecutionCommand, 1);
    });

    it('names a malformed ReadsFirstDefaults output, exit 2, starting nothing', async () => {
      // Prepare
      stackDefaults('{"traffic":"sideways"}');

      // Act
      const result = await swing(['start', '--plan', 'canary']);

      // Assess
      expect(result.code).toBe(2);
      expect(aws.sfn).not.toReceiveCommand(StartExecutionCommand);
      expect(result.stderr).toContain("stack 'Swing' output ReadsFirstDefaults");
      expect(result.stderr).toContain('pass --reads-first-defaults or fix the stack');
    });
  });
});
