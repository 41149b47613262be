import { DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeListenersCommand,
  type DescribeListenersCommandOutput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ListenerRecord, Rollout } from '#domain/types.ts';
import {
  aws,
  fixture,
  mockDeployedStack,
  RUNNING_EXECUTION,
  resetAws,
  runningRecord,
  STACK,
  swing,
} from './harness.ts';

type ListenersFixture = {
  Listeners: { DefaultActions: { ForwardConfig: { TargetGroups: { Weight: number }[] } }[] }[];
};

function listenerAt(source: number, target: number): DescribeListenersCommandOutput {
  const described = fixture<ListenersFixture>('elbv2-describe-listeners');
  const groups = described.Listeners[0]?.DefaultActions[0]?.ForwardConfig.TargetGroups ?? [];
  groups[0]!.Weight = source;
  groups[1]!.Weight = target;
  return described as unknown as DescribeListenersCommandOutput;
}

/** The record after the running rollout released the lock with `outcome`. */
function releasedRecord(patch: Partial<Rollout>): ListenerRecord {
  const record = runningRecord();
  const rollout = {
    ...record.rollout!,
    taskToken: undefined,
    taskKind: undefined,
    bakeEndsAt: undefined,
    ...patch,
  };
  return { listenerArn: record.listenerArn, rollout, history: [...record.history, rollout] };
}

describe('Command: swing status', () => {
  beforeEach(() => {
    resetAws();
    mockDeployedStack();
    aws.sfn.on(DescribeExecutionCommand).resolves(fixture('sfn-describe-execution-running'));
  });

  it('renders the step, the weights read from the listener, the progress bar, the bake left and every alarm', async () => {
    // Act
    const result = await swing(['status']);

    // Assess
    expect(result.code).toBe(0);
    const text = result.stdout;
    expect(text).toMatch(
      /Listener\s+arn:aws:elasticloadbalancing:us-east-1:123456789012:listener\/app\/migration-alb/,
    );
    expect(text).toMatch(/Weights\s+source 749 \/ target 250 \(25\.0 % target\), read from the listener/);
    expect(text).toMatch(/Rollout\s+migrate-orders-3: baking, step 2 of 4, started 11m ago/);
    expect(text).toMatch(/Progress\s+\[#{8}\.{22}\] 25\.0 % to the target; the plan ends at 100 %/);
    // bakeEndsAt 10:15:23, now 10:11:00.
    expect(text).toMatch(/Bake\s+4m23s left of 10m/);
    expect(text).toMatch(/Alarms\s+3 watched, 0 firing/);
    expect(text).toMatch(/OK\s+swing-target-5xx/);
    expect(text).toMatch(/INSUFFICIENT_DATA\s+swing-target-latency-p99/);
    expect(text).toMatch(/OK\s+swing-target-health/);
    expect(text).not.toContain('DRIFT');
    expect(text).not.toContain('STALE LOCK');
  });

  it('shows the split each step really delivered, judged on whole settled minutes, warning where it is off', async () => {
    aws.cloudWatch.on(GetMetricDataCommand).resolves(fixture('cloudwatch-get-metric-data-rollout'));

    const result = await swing(['status']);
    const json = JSON.parse((await swing(['status', '--json'])).stdout);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/step 1: asked 5\.01 %, delivered 4\.98 % of 12000 \(as asked/);
    expect(result.stdout).toMatch(
      /step 2: asked 25\.03 %, delivered 18\.53 % of 6000 \(OFF: the binomial test rejects/,
    );
    expect(json.delivered.map((split: { from: string }) => split.from)).toEqual([
      '2026-03-02T10:01:00.000Z',
      '2026-03-02T10:06:00.000Z',
    ]);
    expect(json.delivered[1].to).toBe('2026-03-02T10:08:00.000Z');
  });

  it('reads the weights from the listener by its exact ARN and the alarms the stack watches', async () => {
    // Act
    await swing(['status']);

    // Assess
    expect(aws.elbv2).toReceiveCommandWith(DescribeListenersCommand, { ListenerArns: [STACK.listenerArn] });
    expect(aws.cloudWatch).toReceiveCommandWith(DescribeAlarmsCommand, {
      AlarmNames: ['swing-target-5xx', 'swing-target-latency-p99', 'swing-target-health'],
    });
    expect(aws.dynamo).toReceiveCommandWith(GetCommand, {
      TableName: STACK.tableName,
      Key: { listenerArn: STACK.listenerArn },
    });
  });

  it('says that real traffic lags the weights while target-group stickiness is on', async () => {
    // Act
    const result = await swing(['status']);

    // Assess
    expect(result.stdout).toMatch(
      /Stickiness\s+on, 1h: clients stay on their target group that long, so real traffic lags/,
    );
  });

  it('says DRIFT loudly when the listener is not at the weights Swing last wrote', async () => {
    // Prepare: someone set 50/50 by hand; Swing last wrote 749/250.
    aws.elbv2.on(DescribeListenersCommand).resolves(listenerAt(1, 1));

    // Act
    const result = await swing(['status']);

    // Assess
    expect(result.stdout).toMatch(
      /DRIFT\s+!! the listener is at source 1 \/ target 1 \(50\.0 % target\) but Swing last wrote source 749 \/ target 250/,
    );
  });

  it('is not drift while the listener shows the write Swing has begun', async () => {
    // Prepare
    const record = runningRecord();
    aws.dynamo.on(GetCommand).resolves({
      Item: { ...record, rollout: { ...record.rollout!, pendingWeights: { source: 499, target: 500 } } },
    });
    aws.elbv2.on(DescribeListenersCommand).resolves(listenerAt(499, 500));

    // Act
    const result = await swing(['status']);

    // Assess
    expect(result.stdout).not.toContain('DRIFT');
    expect(result.stdout).toMatch(/Writing\s+Swing is moving the listener to source 499 \/ target 500/);
  });

  it('says when the reconciler will act for a holder that ended past the safety net, not STALE LOCK', async () => {
    // Prepare: ended 3 min ago (the harness clock reads 2026-03-02T10:11:00Z) and its status event was lost.
    aws.sfn.on(DescribeExecutionCommand).resolves({
      ...fixture('sfn-describe-execution-running'),
      status: 'FAILED',
      stopDate: new Date('2026-03-02T10:08:00Z'),
    });

    // Act
    const text = (await swing(['status'])).stdout;
    const json = JSON.parse((await swing(['status', '--json'])).stdout);

    // Assess: 75 s wait + one 5 min run interval + 30 s for its work and clock skew.
    expect(text).toMatch(
      /Reconciler\s+execution migrate-orders-3 is FAILED and still holds the lock: the reconciler restores the starting weights and frees the lock by 2026-03-02T10:14:45.000Z/,
    );
    expect(text).not.toContain('STALE LOCK');
    expect(json).toMatchObject({
      staleLock: false,
      safetyNetDueAt: null,
      reconcilerDueAt: '2026-03-02T10:14:45.000Z',
    });
  });

  it('flags a stale lock once the reconciler should have freed it', async () => {
    // Prepare
    aws.sfn.on(DescribeExecutionCommand).resolves({
      ...fixture('sfn-describe-execution-running'),
      status: 'FAILED',
      stopDate: new Date('2026-03-02T09:00:00Z'),
    });

    // Act
    const result = await swing(['status']);

    // Assess
    expect(result.stdout).toMatch(
      /STALE LOCK\s+execution migrate-orders-3 is FAILED but still holds the lock, and the reconciler should have freed it by 2026-03-02T09:06:45.000Z/,
    );
    expect(result.stdout).toContain('swing rollback --force --release-lock');
  });

  it('says how many runs in a row the reconciler could not learn the holder status', async () => {
    // Prepare
    const record = runningRecord();
    aws.dynamo
      .on(GetCommand)
      .resolves({ Item: { ...record, rollout: { ...record.rollout!, reconcileFailures: 4 } } });

    // Act
    const text = (await swing(['status'])).stdout;

    // Assess
    expect(text).toMatch(
      /Reconciler\s+could not learn whether execution migrate-orders-3 still runs, 4 runs in a row/,
    );
  });

  it('says when the safety net will have acted for a holder that stopped moments ago, not STALE LOCK', async () => {
    // Prepare: stopped 10 s ago (the harness clock reads 2026-03-02T10:11:00Z).
    aws.sfn.on(DescribeExecutionCommand).resolves({
      ...fixture('sfn-describe-execution-running'),
      status: 'ABORTED',
      stopDate: new Date('2026-03-02T10:10:50Z'),
    });

    // Act
    const text = (await swing(['status'])).stdout;
    const json = JSON.parse((await swing(['status', '--json'])).stdout);

    // Assess
    expect(text).toMatch(
      /Safety net\s+execution migrate-orders-3 is ABORTED: the safety net restores the starting weights and frees the lock by 2026-03-02T10:12:35.000Z/,
    );
    expect(text).not.toContain('STALE LOCK');
    expect(json).toMatchObject({ staleLock: false, safetyNetDueAt: '2026-03-02T10:12:35.000Z' });
  });

  it('shows a gate waiting for promote with the time until it times out', async () => {
    // Prepare
    const record = runningRecord();
    aws.dynamo.on(GetCommand).resolves({
      Item: { ...record, rollout: { ...record.rollout!, status: 'gated', taskKind: 'gate', stepIndex: 2 } },
    });

    // Act
    const result = await swing(['status']);

    // Assess
    expect(result.stdout).toMatch(
      /Gate\s+waiting for `swing promote` \(or `swing abort`\); the gate times out in 4m23s/,
    );
  });

  it('gives scripts JSON with the live weights, drift flag and only a short hash of the task token', async () => {
    // Act
    const result = await swing(['status', '--json']);

    // Assess
    const status = JSON.parse(result.stdout);
    expect(status.weights).toEqual({ source: 749, target: 250 });
    expect(status.targetPercent).toBeCloseTo(25.025, 2);
    expect(status.drift).toBe(false);
    expect(status.running).toBe(true);
    expect(status.step).toEqual({ number: 2, of: 4 });
    expect(status.secondsLeft).toBe(263);
    expect(status.stickinessSeconds).toBe(3600);
    expect(status.rollout.taskTokenHash).toMatch(/^sha256:[0-9a-f]{12}$/);
    expect(result.stdout).not.toContain(runningRecord().rollout?.taskToken);
    expect(result.stdout).not.toContain('"taskToken"');
  });

  it('shows the last rollout and its reason when none is running', async () => {
    // Prepare
    const record = runningRecord();
    const last = record.history[1]!;
    aws.dynamo
      .on(GetCommand)
      .resolves({ Item: { listenerArn: STACK.listenerArn, rollout: last, history: record.history } });
    aws.elbv2.on(DescribeListenersCommand).resolves(listenerAt(999, 0));

    // Act
    const result = await swing(['status']);

    // Assess
    expect(result.stdout).toMatch(/Rollout\s+none running/);
    expect(result.stdout).toMatch(
      /Last\s+migrate-orders-2 rolled-back at 2026-03-01T22:07:41.000Z after 7m41s: AlarmFired:/,
    );
    expect(result.stdout).not.toContain('Changed');
  });

  it('names the listener rules whose traffic the rollout does not swing, running and after it ended', async () => {
    // Prepare
    const record = runningRecord();
    const unswungRules = [
      {
        arn: `${STACK.listenerArn.replace(':listener/', ':listener-rule/')}/1a2b3c4d5e6f7a8b`,
        priority: '5',
        conditions: ['path-pattern /_plugins/_security/*'],
        action: 'fixed-response 403',
      },
    ];
    const rollout = { ...record.rollout!, unswungRules, unswungRuleCount: 1 };
    aws.dynamo.on(GetCommand).resolvesOnce({ Item: { ...record, rollout } });

    // Act
    const running = await swing(['status']);
    aws.dynamo.on(GetCommand).resolves({ Item: releasedRecord({ unswungRules, unswungRuleCount: 1 }) });
    const ended = await swing(['status']);
    const json = JSON.parse((await swing(['status', '--json'])).stdout);

    // Assess
    for (const { stdout } of [running, ended]) {
      expect(stdout).toMatch(/Not swung\s+1 rule of the listener sends what it matches elsewhere/);
      expect(stdout).toContain(
        `priority 5: ${unswungRules[0]?.arn}, path-pattern /_plugins/_security/* -> fixed-response 403`,
      );
    }
    expect(json.rollout.unswungRules).toEqual(unswungRules);
  });

  it('says how to start one when the listener has no record', async () => {
    // Prepare
    aws.dynamo.on(GetCommand).resolves({});

    // Act
    const result = await swing(['status']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /Rollout\s+none recorded for this listener: start one with `swing start --plan canary`/,
    );
  });
});

describe('Command: swing status --watch', () => {
  beforeEach(() => {
    resetAws();
    mockDeployedStack();
    aws.sfn.on(DescribeExecutionCommand).resolves(fixture('sfn-describe-execution-running'));
  });

  it('refreshes until the rollout releases the lock, then prints the outcome and exits 1 for a rollback', async () => {
    // Prepare: two refreshes while baking, then rolled back by an alarm.
    const rolledBack = releasedRecord({
      status: 'rolled-back',
      outcome: 'rolled-back',
      restored: true,
      lastWritten: { source: 999, target: 0 },
      endedAt: '2026-03-02T10:12:30.000Z',
      reason: {
        error: 'AlarmFired',
        cause: 'swing-target-5xx went to ALARM',
        alarm: 'swing-target-5xx',
        at: '2026-03-02T10:12:10.000Z',
      },
    });
    aws.dynamo
      .on(GetCommand)
      .resolvesOnce({ Item: runningRecord() })
      .resolvesOnce({ Item: runningRecord() })
      .resolvesOnce({ Item: runningRecord() })
      .resolves({ Item: rolledBack });

    // Act
    const result = await swing(['status', '--watch', '--interval', '10s']);

    // Assess
    expect(result.code).toBe(1);
    expect(aws.dynamo.commandCalls(GetCommand)).toHaveLength(4);
    expect(result.stdout).toContain('step 2/4 baking, bake 4m23s left');
    expect(result.stdout).toMatch(
      /Rollout migrate-orders-3 ROLLED BACK in 12m30s: AlarmFired: swing-target-5xx went to ALARM \(alarm swing-target-5xx\); starting weights restored/,
    );
    expect(result.stdout).toContain('were not captured for the source');
  });

  it('exits 0 with the final weights when the rollout completes', async () => {
    // Prepare
    const completed = releasedRecord({
      status: 'completed',
      outcome: 'completed',
      lastWritten: { source: 0, target: 999 },
      endedAt: '2026-03-02T10:40:00.000Z',
    });
    aws.dynamo
      .on(GetCommand)
      .resolvesOnce({ Item: runningRecord() })
      .resolvesOnce({ Item: runningRecord() })
      .resolves({ Item: completed });

    // Act
    const result = await swing(['status', '--watch', '--json']);

    // Assess
    expect(result.code).toBe(0);
    const end = JSON.parse(result.stdout);
    expect(end).toMatchObject({ executionArn: RUNNING_EXECUTION, outcome: 'completed', exitCode: 0 });
  });

  it('gives up with exit 5 when the rollout is still running after --max-wait', async () => {
    // Act
    const result = await swing(['status', '--watch', '--interval', '30s', '--max-wait', '1m']);

    // Assess
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('is still running after --max-wait');
    expect(aws.dynamo.commandCalls(GetCommand).length).toBeGreaterThanOrEqual(3);
  });

  it('rejects a bad --interval with exit 2 before calling AWS', async () => {
    // Act
    const result = await swing(['status', '--watch', '--interval', 'soon']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--interval: 'soon' is not a duration");
    expect(result.clientRequests).toBe(0);
  });
});
