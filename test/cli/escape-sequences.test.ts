import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ListenerRecord, Rollout } from '#domain/types.ts';
import { describeEvent } from '#local/view.ts';
import { aws, fixture, mockDeployedStack, resetAws, runningRecord, swing } from './harness.ts';

/**
 * Issue 20, defect 10: alarm state reasons, rule names and conditions, execution names and notification text
 * come from outside Swing. Printed as text, none of their control characters reaches the terminal (an escape
 * sequence could erase the DRIFT or ROLLED BACK lines and draw fake weights); `--json` keeps them as they are.
 */

/** Erase the line above, then draw weights that are not the listener's. */
const FORGED = '\u001b[1A\u001b[2K\rWeights  source 999 / target 0\u0007\u009b2J\u202e';
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this test is for.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;

type AlarmsFixture = {
  MetricAlarms: { StateReason?: string }[];
  CompositeAlarms: { StateReason?: string }[];
};

function withoutStyling(text: string): string {
  // Swing's own emphasis (loud) is the one escape sequence allowed: bold red, then reset.
  return text.split('\u001b[1;31m').join('').split('\u001b[0m').join('');
}

describe('Text from outside Swing reaches the terminal without control characters', () => {
  beforeEach(() => {
    resetAws();
    mockDeployedStack();
    aws.sfn.on(DescribeExecutionCommand).resolves(fixture('sfn-describe-execution-running'));
  });

  it('swing status strips them from alarm reasons, rule text and the reason, on a terminal too; --json keeps them', async () => {
    const alarms = fixture<AlarmsFixture>('cloudwatch-describe-alarms');
    for (const alarm of [...alarms.MetricAlarms, ...alarms.CompositeAlarms])
      alarm.StateReason = `5xx ${FORGED}`;
    aws.cloudWatch.on(DescribeAlarmsCommand).resolves(alarms as never);
    const record = runningRecord();
    const rollout = {
      ...(record.rollout as Rollout),
      unswungRules: [
        {
          arn: `rule${FORGED}`,
          priority: 5,
          conditions: [`path-pattern ${FORGED}`],
          action: `fixed ${FORGED}`,
        },
      ],
      unswungRuleCount: 1,
    };
    aws.dynamo.on(GetCommand).resolves({ Item: { ...record, rollout } });

    const text = await swing(['status'], { isTTY: true });
    const json = await swing(['status', '--json']);

    expect(text.code).toBe(0);
    expect(withoutStyling(text.stdout)).not.toMatch(CONTROL);
    expect(text.stdout).toContain('5xx');
    expect(json.stdout).toContain('\\u001b[1A');
  });

  it('swing status strips them from the reason and the execution name of the last rollout', async () => {
    const record = runningRecord();
    const rollout = {
      ...(record.rollout as Rollout),
      executionArn: `${(record.rollout as Rollout).executionArn}${FORGED}`,
      status: 'rolled-back',
      outcome: 'rolled-back',
      restored: true,
      endedAt: '2026-03-02T10:12:00.000Z',
      reason: { error: 'AlarmFired', cause: `alarm ${FORGED}`, at: '2026-03-02T10:12:00.000Z' },
    } as Rollout;
    const released: ListenerRecord = { listenerArn: record.listenerArn, rollout, history: [rollout] };
    aws.dynamo.on(GetCommand).resolves({ Item: released });

    const status = await swing(['status']);
    const history = await swing(['history']);

    expect(status.code).toBe(0);
    expect(status.stdout).not.toMatch(CONTROL);
    expect(status.stdout).toContain('AlarmFired');
    expect(history.code).toBe(0);
    expect(history.stdout).not.toMatch(CONTROL);
  });

  it('the live view strips them from an alarm reason and a rollback reason', () => {
    const alarm = describeEvent(
      {
        kind: 'alarm',
        at: '2026-03-02T10:12:00.000Z',
        alarm: `swing-target-5xx${FORGED}`,
        previous: 'OK',
        state: 'ALARM',
        reason: `Threshold Crossed ${FORGED}`,
      } as never,
      { keys: false },
    );
    const halted = describeEvent(
      {
        kind: 'phase',
        at: '2026-03-02T10:12:00.000Z',
        status: 'halted',
        stepIndex: 0,
        steps: 2,
        reason: { error: 'WeightsDrifted', cause: `rule ${FORGED}`, at: '2026-03-02T10:12:00.000Z' },
      } as never,
      { keys: false },
    );

    expect(alarm.text).not.toMatch(CONTROL);
    expect(alarm.text).toContain('Threshold Crossed');
    expect(halted.text).not.toMatch(CONTROL);
    expect(halted.text).toContain('HALTED: WeightsDrifted: rule');
  });
});
