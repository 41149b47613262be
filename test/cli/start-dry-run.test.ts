import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeListenersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { beforeEach, describe, expect, it } from 'vitest';
import { LISTENER_CHECKS } from '#cli/commands/start-dry-run.ts';
import { aws, commandsSent, listenerAt, mockDeployedStack, resetAws, STACK, swing } from './harness.ts';

describe('Command: swing start --dry-run', () => {
  beforeEach(() => {
    resetAws();
  });

  it.each([
    ['no-credentials', 'no usable AWS credentials'],
    ['no-region', 'no AWS region configured'],
  ] as const)(
    'with %s, checks the plan and flags, names the checks it skipped, and sends nothing',
    async (machine, why) => {
      // Act
      const text = await swing(
        ['start', '--plan', '5:5m,25:10m,50:10m!,100', '--gate-timeout', '2h', '--dry-run'],
        {
          aws: machine,
        },
      );
      const json = JSON.parse(
        (await swing(['start', '--plan', '5:5m,25:10m,50:10m!,100', '--dry-run', '--json'], { aws: machine }))
          .stdout,
      );

      // Assess
      expect(text.code).toBe(0);
      expect(commandsSent()).toBe(0);
      expect(text.stdout).toContain("Dry run, without AWS: would start the stack's state machine");
      expect(text.stdout).toMatch(/\n3\/4\s+50 %.*promote/);
      expect(text.stdout).toContain('"gate":{"timeoutSeconds":7200}');
      expect(text.stdout).toContain(
        `Not checked (they need the stack and its listener): ${LISTENER_CHECKS.join('; ')}.\nSkipped because ${why}`,
      );
      expect(json).toMatchObject({
        dryRun: true,
        stateMachineArn: null,
        listenerArn: null,
        skipped: LISTENER_CHECKS,
      });
      expect(json.checked).toContain('the plan');
      expect(json.skippedBecause).toContain(why);
      expect(json.input.plan.steps).toHaveLength(4);
    },
  );

  it.each([
    [['--plan', '5:5m,250'], '--plan (step 2 "250")'],
    [['--plan', '5:5m,50', '--traffic', 'reads-first'], '--plan'],
    [['--rehearsal'], '--accept-writes-on-target'],
    [['--gate-action', 'wait'], '--gate-action'],
    [['--listener-arn', 'listener-1'], "--listener-arn is 'listener-1', not an ALB listener ARN"],
  ])(
    'without AWS credentials, refuses %j with exit 2 naming the field, sending nothing',
    async (flags, field) => {
      // Act
      const result = await swing(['start', ...flags, '--dry-run'], { aws: 'no-credentials' });

      // Assess
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(field);
      expect(result.stdout).toBe('');
      expect(commandsSent()).toBe(0);
    },
  );

  it('skips the listener checks, saying so, when the stack does not exist, having only asked for it', async () => {
    // Prepare
    const missing = Object.assign(new Error('Stack with id Swing does not exist'), {
      name: 'ValidationError',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    aws.cloudFormation.on(DescribeStacksCommand).rejects(missing);

    // Act
    const result = await swing(['start', '--plan', 'canary', '--dry-run', '--json']);

    // Assess
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(commandsSent()).toBe(1);
    expect(aws.cloudFormation).toReceiveCommandTimes(DescribeStacksCommand, 1);
    const dryRun = JSON.parse(result.stdout);
    expect(dryRun.skipped).toEqual(LISTENER_CHECKS);
    expect(dryRun.skippedBecause).toContain("stack 'Swing' was not found in this account and region");
  });

  it('makes the listener checks too when the stack can be read, and skips none', async () => {
    // Prepare
    mockDeployedStack({ listenerArn: STACK.listenerArn, history: [] });
    aws.elbv2.on(DescribeListenersCommand).resolves(listenerAt(999, 0));

    // Act
    const result = await swing(['start', '--plan', 'canary', '--dry-run', '--json']);

    // Assess
    expect(result.code).toBe(0);
    const dryRun = JSON.parse(result.stdout);
    expect(dryRun).toMatchObject({ stateMachineArn: STACK.stateMachineArn, skipped: [] });
    expect(dryRun.checked).toEqual(expect.arrayContaining([...LISTENER_CHECKS]));
    expect(dryRun).not.toHaveProperty('skippedBecause');
  });

  it('refuses as a start would when the stack can be read and the listener cannot be swung from this plan', async () => {
    // Prepare: the target already gets 25 %.
    mockDeployedStack({ listenerArn: STACK.listenerArn, history: [] });
    aws.elbv2.on(DescribeListenersCommand).resolves(listenerAt(749, 250));

    // Act
    const result = await swing(['start', '--plan', 'canary', '--dry-run']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--plan (step 1): is 5 % but the target already gets 25.03 %');
  });
});
