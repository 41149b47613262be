import { DescribeStacksCommand, type DescribeStacksCommandOutput } from '@aws-sdk/client-cloudformation';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
} from '@aws-sdk/client-scheduler';
import { beforeEach, describe, expect, it } from 'vitest';
import { instantOf } from '#cli/commands/schedule.ts';
import { DEFAULT_READS_FIRST } from '#domain/reads-first.ts';
import { aws, fixture, mockDeployedStack, resetAws, STACK, swing } from './harness.ts';

const CANARY_STEPS = [
  { targetPercent: 5, bakeSeconds: 300, gate: false },
  { targetPercent: 25, bakeSeconds: 300, gate: false },
  { targetPercent: 50, bakeSeconds: 300, gate: false },
  { targetPercent: 100, bakeSeconds: 0, gate: false },
];

describe('Command: swing schedule add', () => {
  beforeEach(() => {
    resetAws();
    mockDeployedStack();
    aws.scheduler.on(CreateScheduleCommand).resolves({
      ScheduleArn: 'arn:aws:scheduler:us-east-1:123456789012:schedule/swing/saturday-ramp',
    });
  });

  it('creates a recurring cron schedule in the time zone, starting the state machine through the stack role', async () => {
    // Act
    const result = await swing([
      'schedule',
      'add',
      'saturday-ramp',
      '--cron',
      '0 2 ? * SAT *',
      '--timezone',
      'Europe/Berlin',
      '--plan',
      'canary',
    ]);

    // Assess
    expect(result.code).toBe(0);
    expect(aws.scheduler).toReceiveCommandTimes(CreateScheduleCommand, 1);
    const input = aws.scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    expect({ ...input, Target: { ...input?.Target, Input: JSON.parse(input?.Target?.Input ?? '') } }).toEqual(
      {
        Name: 'saturday-ramp',
        GroupName: 'swing',
        ScheduleExpression: 'cron(0 2 ? * SAT *)',
        ScheduleExpressionTimezone: 'Europe/Berlin',
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        Description: 'Swing rollout, plan 5:5m,25:5m,50:5m,100',
        ActionAfterCompletion: 'NONE',
        Target: {
          Arn: STACK.stateMachineArn,
          RoleArn: STACK.schedulerRoleArn,
          Input: { plan: { steps: CANARY_STEPS }, requestedBy: 'schedule:saturday-ramp' },
          RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 900 },
          DeadLetterConfig: { Arn: STACK.scheduleDlqArn },
        },
      },
    );
    expect(result.stdout).toContain(
      'Scheduled saturday-ramp: cron(0 2 ? * SAT *) Europe/Berlin, plan 5:5m,25:5m,50:5m,100',
    );
  });

  it('creates a one-time at() schedule that deletes itself after it ran', async () => {
    // Act
    const result = await swing([
      'schedule',
      'add',
      'night-ramp',
      '--at',
      '2026-12-01T02:00:00',
      '--plan',
      '10:10m!,100',
      '--gate-timeout',
      '30m',
    ]);

    // Assess
    expect(result.code).toBe(0);
    const input = aws.scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    expect(input?.ScheduleExpression).toBe('at(2026-12-01T02:00:00)');
    expect(input?.ScheduleExpressionTimezone).toBe('UTC');
    expect(input?.ActionAfterCompletion).toBe('DELETE');
    expect(JSON.parse(input?.Target?.Input ?? '')).toEqual({
      plan: {
        steps: [
          { targetPercent: 10, bakeSeconds: 600, gate: true },
          { targetPercent: 100, bakeSeconds: 0, gate: false },
        ],
      },
      requestedBy: 'schedule:night-ramp',
      gate: { timeoutSeconds: 1800 },
    });
  });

  it('leaves out the dead-letter queue when the stack exports none, and says so', async () => {
    // Prepare
    const described = fixture<{ Stacks: { Outputs: { OutputKey: string }[] }[] }>(
      'cloudformation-describe-stacks',
    );
    const stack = described.Stacks[0]!;
    stack.Outputs = stack.Outputs.filter((output) => output.OutputKey !== 'ScheduleDlqArn');
    aws.cloudFormation.on(DescribeStacksCommand).resolves(described as DescribeStacksCommandOutput);

    // Act
    const result = await swing([
      'schedule',
      'add',
      'no-dlq',
      '--cron',
      '0 2 ? * SAT *',
      '--schedule-group-name',
      'default',
    ]);

    // Assess
    expect(result.code).toBe(0);
    const input = aws.scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    expect(input?.GroupName).toBe('default');
    expect(input?.Target).not.toHaveProperty('DeadLetterConfig');
    expect(result.stdout).toContain('The stack exports no ScheduleDlqArn');
  });

  it.each([
    [['--cron', '0 2 * * SAT *'], "--cron: sets both day-of-month and day-of-week: put '?' in one of them"],
    [['--cron', '0 2 * *'], '--cron: has 4 fields'],
    [['--at', '2026-02-30T02:00:00'], "--at: is '2026-02-30T02:00:00': write a real local date-time"],
    [['--at', '2025-01-01T02:00:00'], '--at: is 2025-01-01T02:00:00 UTC, which is in the past'],
    [['--at', '2026-12-01T02:00:00', '--cron', '0 2 ? * SAT *'], '--at/--cron: give exactly one'],
    [[], '--at/--cron: give exactly one'],
    [
      ['--cron', '0 2 ? * SAT *', '--timezone', 'Mars/Olympus'],
      "--timezone: is 'Mars/Olympus', not an IANA time zone",
    ],
    [['--cron', '0 2 ? * SAT *', '--plan', '50,20'], '--plan (step 2 "20")'],
  ])('rejects %j with exit 2 before any AWS call', async (flags, message) => {
    // Act
    const result = await swing(['schedule', 'add', 'ramp', ...flags]);

    // Assess
    expect(result.code).toBe(2);
    expect(result.clientRequests).toBe(0);
    expect(result.stderr).toContain(message);
  });

  it('creates a nightly reads-first rehearsal whose execution input carries traffic and then: restore', async () => {
    // Act: 5 % of reads for 30 minutes every night, then back.
    const result = await swing([
      'schedule',
      'add',
      'nightly-reads',
      '--cron',
      '0 3 * * ? *',
      '--plan',
      '5:30m',
      '--traffic',
      'reads-first',
      '--rehearsal',
    ]);

    // Assess
    expect(result.code).toBe(0);
    const input = aws.scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    const executionInput = JSON.parse(input?.Target?.Input ?? '');
    expect(executionInput).toMatchObject({
      plan: { steps: [{ targetPercent: 5, bakeSeconds: 1800, gate: false }] },
      requestedBy: 'schedule:nightly-reads',
      traffic: 'reads-first',
    });
    expect(executionInput.then).toBe('restore');
    expect(executionInput).not.toHaveProperty('acceptWritesOnTarget');
    expect(input?.Description).toBe('Swing rehearsal, plan 5:30m, traffic reads-first');
    expect(result.stdout).toContain(
      'traffic reads-first, a rehearsal (restores its starting weights at its end)',
    );
    expect(result.stderr).toBe('');
  });

  it('passes an all-mode rehearsal the operator accepted, warning that its writes stay on the target', async () => {
    // Act
    const result = await swing([
      'schedule',
      'add',
      'nightly-all',
      '--cron',
      '0 3 * * ? *',
      '--plan',
      '5:30m',
      '--traffic',
      'all',
      '--rehearsal',
      '--accept-writes-on-target',
    ]);

    // Assess
    expect(result.code).toBe(0);
    const input = aws.scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    expect(JSON.parse(input?.Target?.Input ?? '')).toMatchObject({
      traffic: 'all',
      acceptWritesOnTarget: true,
    });
    expect(result.stderr).toContain('every write the target takes stays on the target only');
  });

  it.each([[['--traffic', 'all']], [[]]])(
    'refuses an all-mode rehearsal without --accept-writes-on-target, exit 2, creating nothing (%j)',
    async (flags) => {
      // Act
      const result = await swing([
        'schedule',
        'add',
        'nightly',
        '--cron',
        '0 3 * * ? *',
        '--plan',
        '5:30m',
        '--rehearsal',
        ...flags,
      ]);

      // Assess
      // With --traffic before any AWS call; without, once the stack's outputs name no other mode.
      expect(result.code).toBe(2);
      if (flags.length > 0) expect(result.clientRequests).toBe(0);
      expect(aws.scheduler).not.toReceiveCommand(CreateScheduleCommand);
      expect(result.stderr).toContain('--accept-writes-on-target: is not set: a rehearsal in all mode');
      expect(result.stderr).toContain('Use traffic reads-first');
    },
  );

  it("checks a rehearsal without --traffic in the stack's default mode: reads-first needs no consent", async () => {
    // Prepare
    const described = fixture<DescribeStacksCommandOutput>('cloudformation-describe-stacks');
    described.Stacks![0]!.Outputs!.push({
      OutputKey: 'ReadsFirstDefaults',
      OutputValue: JSON.stringify({ traffic: 'reads-first', settings: DEFAULT_READS_FIRST }),
    });
    aws.cloudFormation.on(DescribeStacksCommand).resolves(described);

    // Act
    const result = await swing([
      'schedule',
      'add',
      'nightly',
      '--cron',
      '0 3 * * ? *',
      '--plan',
      '5:30m',
      '--rehearsal',
    ]);

    // Assess
    expect(result.code).toBe(0);
    const input = JSON.parse(
      aws.scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input.Target?.Input ?? '',
    );
    expect(input).not.toHaveProperty('traffic');
    expect(input.then).toBe('restore');
    expect(result.stderr).toBe('');
  });

  it('refuses a reads-first rollout schedule whose reads stop short of 100, exit 2, creating nothing', async () => {
    // Act
    const result = await swing([
      'schedule',
      'add',
      'ramp',
      '--cron',
      '0 3 * * ? *',
      '--plan',
      '5:30m,50',
      '--traffic',
      'reads-first',
    ]);

    // Assess
    expect(result.code).toBe(2);
    expect(aws.scheduler).not.toReceiveCommand(CreateScheduleCommand);
    expect(result.stderr).toContain('--plan (step 2): is 50: in reads-first mode the reads must reach 100');
  });

  it('rejects a schedule name Scheduler would refuse', async () => {
    // Act
    const result = await swing(['schedule', 'add', 'my ramp!', '--cron', '0 2 ? * SAT *']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("name: is 'my ramp!': use 1-64 letters, digits");
  });

  it('reports a name already taken as bad input', async () => {
    // Prepare
    aws.scheduler
      .on(CreateScheduleCommand)
      .rejects(
        Object.assign(new Error('Schedule already exists.'), { name: 'ConflictException', $metadata: {} }),
      );

    // Act
    const result = await swing(['schedule', 'add', 'saturday-ramp', '--cron', '0 2 ? * SAT *']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('`swing schedule rm saturday-ramp`');
  });
});

describe('Function: instantOf', () => {
  it('reads a wall-clock time in its time zone, across daylight saving time', () => {
    expect(instantOf('2026-12-01T02:00:00', 'Europe/Berlin').toISOString()).toBe('2026-12-01T01:00:00.000Z');
    expect(instantOf('2026-07-01T02:00:00', 'Europe/Berlin').toISOString()).toBe('2026-07-01T00:00:00.000Z');
    expect(instantOf('2026-07-01T02:00:00', 'America/New_York').toISOString()).toBe(
      '2026-07-01T06:00:00.000Z',
    );
    expect(instantOf('2026-07-01T02:00:00', 'UTC').toISOString()).toBe('2026-07-01T02:00:00.000Z');
  });
});

describe('Command: swing schedule list / rm', () => {
  const ours = {
    Name: 'saturday-ramp',
    GroupName: 'swing',
    State: 'ENABLED' as const,
    Target: { Arn: STACK.stateMachineArn },
  };
  const foreign = {
    Name: 'nightly-report',
    GroupName: 'swing',
    State: 'ENABLED' as const,
    Target: { Arn: 'arn:aws:lambda:us-east-1:123456789012:function:report' },
  };

  beforeEach(() => {
    resetAws();
    mockDeployedStack();
    aws.scheduler
      .on(ListSchedulesCommand)
      .resolvesOnce({ Schedules: [foreign], NextToken: 'page-2' })
      .resolves({ Schedules: [ours] });
    aws.scheduler.on(GetScheduleCommand, { Name: 'saturday-ramp' }).resolves({
      ...ours,
      ScheduleExpression: 'cron(0 2 ? * SAT *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      Target: {
        Arn: STACK.stateMachineArn,
        RoleArn: STACK.schedulerRoleArn,
        Input: JSON.stringify({ plan: 'canary', requestedBy: 'schedule:saturday-ramp' }),
      },
    });
    aws.scheduler.on(GetScheduleCommand, { Name: 'nightly-report' }).resolves({
      ...foreign,
      Target: { Arn: foreign.Target.Arn, RoleArn: 'arn:aws:iam::123456789012:role/report' },
    });
  });

  it('lists only the schedules that start this state machine, across pages', async () => {
    // Act
    const result = await swing(['schedule', 'list']);

    // Assess
    expect(result.code).toBe(0);
    expect(aws.scheduler).toReceiveCommandTimes(ListSchedulesCommand, 2);
    expect(aws.scheduler).toReceiveCommandWith(ListSchedulesCommand, {
      GroupName: 'swing',
      NextToken: 'page-2',
    });
    expect(result.stdout).toMatch(
      /saturday-ramp\s+ENABLED\s+cron\(0 2 \? \* SAT \*\)\s+Europe\/Berlin\s+5:5m,25:5m,50:5m,100/,
    );
    expect(result.stdout).not.toContain('nightly-report');
    expect(result.stdout).toMatch(/TIMEZONE\s+PLAN\s+TRAFFIC\n/);
    expect(result.stdout).toMatch(/saturday-ramp\s+.*5:5m,25:5m,50:5m,100\s+default\n/);
  });

  it("shows a rehearsal schedule's traffic mode and restore, in text and JSON", async () => {
    // Prepare
    aws.scheduler.on(GetScheduleCommand, { Name: 'saturday-ramp' }).resolves({
      ...ours,
      ScheduleExpression: 'cron(0 3 * * ? *)',
      Target: {
        Arn: STACK.stateMachineArn,
        RoleArn: STACK.schedulerRoleArn,
        Input: '{"plan":"5:30m","traffic":"reads-first","then":"restore"}',
      },
    });

    // Act
    const result = await swing(['schedule', 'list']);
    const json = JSON.parse((await swing(['schedule', 'list', '--json'])).stdout);

    // Assess
    expect(result.stdout).toMatch(/saturday-ramp\s+.*5:30m\s+reads-first, restore\n/);
    expect(json[0]).toMatchObject({ plan: '5:30m', traffic: 'reads-first', planEnd: 'restore' });
  });

  it("deletes a schedule of Swing's", async () => {
    // Act
    const result = await swing(['schedule', 'rm', 'saturday-ramp']);

    // Assess
    expect(result.code).toBe(0);
    expect(aws.scheduler).toReceiveCommandWith(DeleteScheduleCommand, {
      Name: 'saturday-ramp',
      GroupName: 'swing',
    });
  });

  it('refuses to delete a schedule that does not start this state machine', async () => {
    // Act
    const result = await swing(['schedule', 'rm', 'nightly-report']);

    // Assess
    expect(result.code).toBe(2);
    expect(aws.scheduler).not.toReceiveCommand(DeleteScheduleCommand);
    expect(result.stderr).toContain("it is not Swing's");
  });

  it('says when there is no such schedule', async () => {
    // Prepare
    aws.scheduler.on(GetScheduleCommand, { Name: 'gone' }).rejects(
      Object.assign(new Error('Schedule gone does not exist.'), {
        name: 'ResourceNotFoundException',
        $metadata: {},
      }),
    );

    // Act
    const result = await swing(['schedule', 'rm', 'gone']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("no schedule named 'gone' in group swing");
  });
});
