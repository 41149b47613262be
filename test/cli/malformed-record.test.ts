import { DescribeListenersCommand, ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ListenerRecord, Rollout } from '#domain/types.ts';
import { aws, fixture, listenerAt, mockDeployedStack, resetAws, runningRecord, swing } from './harness.ts';

/**
 * Issue 20, defect 9, the CLI's side: a record whose starting weights are null, 0/0 or missing. `swing status`
 * says so by name instead of failing on it, and `swing rollback --force`, the way out the halt names, works on
 * it: with no usable starting weights it sends everything to the source (which never raises the target).
 */

const CORRUPTIONS: [string, Record<string, unknown>][] = [
  ['null', { startingWeights: null }],
  ['0/0', { startingWeights: { source: 0, target: 0 } }],
  ['missing', {}],
];

/** The running rollout, halted on its malformed record (lock released), its starting weights corrupted. */
function haltedMalformed(corruption: Record<string, unknown>): ListenerRecord {
  const record = runningRecord();
  const { startingWeights: _dropped, ...rest } = record.rollout as Rollout;
  const rollout = {
    ...rest,
    ...corruption,
    status: 'halted',
    outcome: 'halted',
    restored: false,
    endedAt: '2024-05-14T10:12:00.000Z',
    reason: { error: 'RecordMalformed', cause: 'startingWeights is null', at: '2024-05-14T10:12:00.000Z' },
    taskToken: undefined,
    taskKind: undefined,
  } as unknown as Rollout;
  return { listenerArn: record.listenerArn, rollout, history: [...record.history, rollout] };
}

describe.each(CORRUPTIONS)('A record whose startingWeights is %s', (_, corruption) => {
  beforeEach(() => {
    resetAws();
    mockDeployedStack();
    aws.sfn.on(DescribeExecutionCommand).resolves(fixture('sfn-describe-execution-running'));
    aws.dynamo.on(GetCommand).resolves({ Item: haltedMalformed(corruption) });
    let current = listenerAt(749, 250);
    aws.elbv2.on(DescribeListenersCommand).callsFake(() => current);
    aws.elbv2.on(ModifyListenerCommand).callsFake((input) => {
      const tuples = input.DefaultActions[0].ForwardConfig.TargetGroups as { Weight: number }[];
      current = listenerAt(tuples[0]!.Weight, tuples[1]!.Weight);
      return {};
    });
  });

  it('swing status names it and the way out while the rollout still runs, and exits 0', async () => {
    const record = runningRecord();
    const { startingWeights: _dropped, ...rest } = record.rollout as Rollout;
    aws.dynamo.on(GetCommand).resolves({ Item: { ...record, rollout: { ...rest, ...corruption } } });

    const result = await swing(['status']);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/RECORD\s+RecordMalformed: startingWeights is/);
    expect(result.stdout).toContain('swing rollback --force');
  });

  it('swing rollback --force sends everything to the source, saying why', async () => {
    const result = await swing(['rollback', '--force', '--yes']);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const written = aws.elbv2.commandCalls(ModifyListenerCommand)[0]?.args[0].input.DefaultActions?.[0];
    expect(written?.ForwardConfig?.TargetGroups?.map((group) => group.Weight)).toEqual([999, 0]);
    expect(result.stdout).toContain('no usable starting weights');
  });
});

describe('A running record whose lastWritten is null', () => {
  it('swing status names it and the way out instead of failing, and exits 0', async () => {
    resetAws();
    mockDeployedStack();
    aws.sfn.on(DescribeExecutionCommand).resolves(fixture('sfn-describe-execution-running'));
    aws.elbv2.on(DescribeListenersCommand).resolves(listenerAt(749, 250));
    const record = runningRecord();
    aws.dynamo.on(GetCommand).resolves({
      Item: { ...record, rollout: { ...(record.rollout as Rollout), lastWritten: null } },
    });

    const result = await swing(['status']);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/RECORD\s+RecordMalformed: lastWritten is null/);
    expect(result.stdout).toContain('swing rollback --force');
  });
});
