import { DescribeStacksCommand, type DescribeStacksCommandOutput } from '@aws-sdk/client-cloudformation';
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

/** The running rollout, in reads-first mode: its read rules at 25 % (step 2 of 4 reads, then the cutover). */
function readsFirstRecord(patch: Partial<Rollout> = {}): ListenerRecord {
  const record = runningRecord();
  const rollout: Rollout = {
    ...record.rollout!,
    traffic: 'reads-first',
    lastWritten: { source: 999, target: 0 },
    readsWritten: { source: 749, target: 250 },
    steps: record.rollout!.steps.map((step) => ({ ...step, kind: 'reads' as const })),
    ...patch,
  };
  return { ...record, rollout };
}

const EXPOSURE = {
  cutoverAt: '2026-03-02T10:30:00.000Z',
  endedAt: '2026-03-02T10:34:10.000Z',
  windowSeconds: 250,
  targetRequests: 1234,
  policy: 'rollback' as const,
};

describe('Command: swing status, reads-first', () => {
  beforeEach(() => {
    resetAws();
    mockDeployedStack();
    aws.sfn.on(DescribeExecutionCommand).resolves(fixture('sfn-describe-execution-running'));
    // The default action (writes) stays all on the source until the cutover.
    aws.elbv2.on(DescribeListenersCommand).resolves(listenerAt(999, 0));
  });

  it('shows the traffic mode, the read share against the write share, and that the cutover is still ahead', async () => {
    // Prepare
    aws.dynamo.on(GetCommand).resolves({ Item: readsFirstRecord() });

    // Act
    const result = await swing(['status']);
    const json = JSON.parse((await swing(['status', '--json'])).stdout);

    // Assess
    expect(result.code).toBe(0);
    const text = result.stdout;
    // 4 read steps, the write cutover and the pins leaving.
    expect(text).toMatch(/Rollout\s+migrate-orders-3: baking, step 2 of 6/);
    expect(text).toMatch(
      /Traffic\s+reads-first: reads move step by step, writes stay on the source until the write cutover/,
    );
    expect(text).toMatch(
      /Reads\s+\[#{8}\.{22}\] 25\.0 % to the target \(Swing's read rules at source 749 \/ target 250/,
    );
    expect(text).toMatch(
      /Writes\s+\[\.{30}\] 0\.0 % to the target \(the default action, read from the listener\)/,
    );
    expect(text).toMatch(
      /Cutover\s+not yet: writes stay on the source \(captured\), so a rollback now loses nothing/,
    );
    expect(text).toMatch(
      /Pins\s+keep scroll, point-in-time, task and cursor reads on the source until after the cutover/,
    );
    expect(text).not.toContain('Progress');
    expect(text).not.toContain('DRIFT');
    expect(json).toMatchObject({
      traffic: 'reads-first',
      planEnd: 'hold',
      reads: { source: 749, target: 250 },
      weights: { source: 999, target: 0 },
      step: { number: 2, of: 6 },
      cutoverAt: null,
      exposure: null,
      waitingForReplay: false,
    });
  });

  it('says WAITING FOR REPLAY while a step waits for the replayer, with the time until it rolls back', async () => {
    // Prepare
    const waiting = readsFirstRecord({ status: 'waiting-replay', taskKind: 'replay' });
    aws.dynamo.on(GetCommand).resolves({ Item: waiting });

    // Act
    const result = await swing(['status']);
    const json = JSON.parse((await swing(['status', '--json'])).stdout);

    // Assess
    expect(result.stdout).toMatch(
      /Replay\s+WAITING FOR REPLAY: the replayer has not caught up with the source; step 2 goes on once it has; it rolls back in 4m23s if it has not/,
    );
    expect(json.waitingForReplay).toBe(true);
  });

  it('says when writes were cut over, that every write since is on the target only', async () => {
    // Prepare
    aws.elbv2.on(DescribeListenersCommand).resolves(listenerAt(0, 999));
    const cutOver = readsFirstRecord({
      stepIndex: 4,
      lastWritten: { source: 0, target: 999 },
      readsWritten: undefined,
      cutoverAt: '2026-03-02T10:08:00.000Z',
    });
    aws.dynamo.on(GetCommand).resolves({ Item: cutOver });

    // Act
    const result = await swing(['status']);

    // Assess
    expect(result.stdout).toMatch(/Rollout\s+migrate-orders-3: baking, step 5 of 6/);
    expect(result.stdout).toMatch(/Reads\s+\[#{30}\] 100\.0 % to the target \(the read rules are gone/);
    expect(result.stdout).toMatch(
      /Cutover\s+writes cut over at 2026-03-02T10:08:00.000Z \(3m ago\): every write since is on the target only; a rollback now leaves them there and reports them \(the write exposure\)/,
    );
    expect(result.stdout).toMatch(
      /Pins\s+keep scroll, point-in-time, task and cursor reads on the source until the cutover has baked; then they go, under alarm watch/,
    );
  });

  it('with reverse capture, says before the cutover what Preflight found: not lossless on AWS, and why', async () => {
    // Prepare: the verdict Preflight records with AWS's reverse replayer (the Migration Assistant's) and its alarm.
    const losslessRollback = {
      lossless: false,
      reverseCapture: true,
      detail: 'reverse capture is configured: ... at most 220 s ...; not proven lossless here: A; B',
      limits: ['A', 'B'],
    };
    aws.dynamo.on(GetCommand).resolves({ Item: readsFirstRecord({ losslessRollback }) });

    // Act
    const result = await swing(['status']);
    const json = JSON.parse((await swing(['status', '--json'])).stdout);

    // Assess
    expect(result.stdout).toMatch(
      /After it\s+a rollback after the cutover is NOT lossless: reverse capture is configured: .* not proven lossless here: A; B/,
    );
    expect(json.losslessRollback).toEqual(losslessRollback);
  });

  it('with reverse capture, says after the cutover that writes are replayed back and a rollback freezes and drains', async () => {
    // Prepare
    aws.elbv2.on(DescribeListenersCommand).resolves(listenerAt(0, 999));
    const cutOver = (losslessRollback: Rollout['losslessRollback']) =>
      readsFirstRecord({
        stepIndex: 4,
        lastWritten: { source: 0, target: 999 },
        readsWritten: undefined,
        cutoverAt: '2026-03-02T10:08:00.000Z',
        ...(losslessRollback ? { losslessRollback } : {}),
      });
    aws.dynamo.on(GetCommand).resolves({
      Item: cutOver({ lossless: false, reverseCapture: true, detail: 'd', limits: ['A', 'B'] }),
    });

    // Act
    const limited = (await swing(['status'])).stdout;
    aws.dynamo.on(GetCommand).resolves({
      Item: cutOver({ lossless: true, reverseCapture: true, detail: 'd' }),
    });
    const exact = (await swing(['status'])).stdout;

    // Assess
    expect(limited).toMatch(
      /Cutover\s+writes cut over at 2026-03-02T10:08:00.000Z \(3m ago\): every write since is on the target, and replayed onto the source by the reverse replayer; a rollback now freezes writes \(503\) until the reverse replayer has put them on the source, or its drain timeout, then restores; not proven lossless: A; B/,
    );
    expect(limited).not.toContain('After it');
    expect(exact).toMatch(/then restores: lossless/);
  });

  describe('after a cutover with reverse capture: the writes the target refused that the source took', () => {
    const verdict = { lossless: false, reverseCapture: true, detail: 'd', limits: ['A', 'B'] };
    const ended = (losslessRollback?: Rollout['losslessRollback']) =>
      readsFirstRecord({
        stepIndex: 4,
        lastWritten: { source: 999, target: 0 },
        readsWritten: undefined,
        cutoverAt: '2026-03-02T10:08:00.000Z',
        endedAt: '2026-03-02T10:10:00.000Z',
        ...(losslessRollback ? { losslessRollback } : {}),
      });
    const withReverseLagAlarm = () => {
      const described = fixture<DescribeStacksCommandOutput>('cloudformation-describe-stacks');
      described.Stacks![0]!.Outputs!.push({ OutputKey: 'ReverseLagAlarm', OutputValue: 'swing-reverse-lag' });
      aws.cloudFormation.on(DescribeStacksCommand).resolves(described);
      aws.cloudWatch.on(DescribeAlarmsCommand, { AlarmNames: ['swing-reverse-lag'] }).resolves({
        MetricAlarms: [
          {
            AlarmName: 'swing-reverse-lag',
            Namespace: 'OpenSearchMigrations',
            MetricName: 'lagBetweenSourceAndTargetRequests',
            Dimensions: [
              { Name: 'OTelLib', Value: 'replayer' },
              { Name: 'qualifier', Value: 'dev-reverse' },
            ],
          },
        ],
      });
    };
    const tupleSeries = (label: string, values: number[]) => ({
      Id: 'refused',
      Label: label,
      Values: values,
    });

    it("counts them from the reverse replayer's tupleComparison: write methods, refused by the target, taken by the source", async () => {
      // Prepare
      withReverseLagAlarm();
      aws.cloudWatch.on(GetMetricDataCommand).resolves({
        MetricDataResults: [
          tupleSeries('POST 500 200', [2, 1]),
          tupleSeries('PUT 400 200', [1]),
          tupleSeries('GET 500 200', [5]), // a read
          tupleSeries('PUT 200 400', [3]), // the source refused a write the target took
          tupleSeries('DELETE 500 500', [4]), // both refused
        ],
      });
      aws.dynamo.on(GetCommand).resolves({ Item: ended(verdict) });

      // Act
      const result = await swing(['status']);
      const json = JSON.parse((await swing(['status', '--json'])).stdout);

      // Assess
      expect(result.stdout).toMatch(
        /Refused writes replayed: 4 writes the target refused \(4xx\/5xx\) the reverse replayer applied to the source \(2xx\) from 2026-03-02T10:08:00.000Z to 2026-03-02T10:11:00.000Z \(POST 3, PUT 1; POST counts failed searches too\)/,
      );
      expect(json.refusedReplays).toMatchObject({ writes: 4, byMethod: { POST: 3, PUT: 1 } });
      const query = aws.cloudWatch
        .commandCalls(GetMetricDataCommand)
        .map((call) => call.args[0].input)
        .find((input) => input.MetricDataQueries?.[0]?.Id === 'refused');
      expect(query?.MetricDataQueries?.[0]?.Expression).toBe(
        "SEARCH('{OpenSearchMigrations,OTelLib,method,qualifier,sourceStatusCode,statusCodesMatch,targetStatusCode} " +
          'MetricName="tupleComparison" qualifier="dev-reverse" statusCodesMatch="false"\', \'Sum\', 60)',
      );
      // From the minute before the cutover to now (10:11), before 15 minutes after the end (10:25).
      expect(query?.StartTime).toEqual(new Date('2026-03-02T10:07:00.000Z'));
      expect(query?.EndTime).toEqual(new Date('2026-03-02T10:11:00.000Z'));
    });

    it('says none were, and says why it could not count', async () => {
      withReverseLagAlarm();
      aws.cloudWatch
        .on(GetMetricDataCommand)
        .resolves({ MetricDataResults: [tupleSeries('PUT 200 400', [3])] });
      aws.dynamo.on(GetCommand).resolves({ Item: ended(verdict) });
      expect((await swing(['status'])).stdout).toContain(
        'Refused writes replayed: no write the target refused was replayed onto the source',
      );

      aws.cloudWatch.on(GetMetricDataCommand).rejects(new Error('AccessDenied: cloudwatch:GetMetricData'));
      expect((await swing(['status'])).stdout).toContain(
        'Refused writes replayed: writes the target refused that the source took: not counted: AccessDenied',
      );

      mockDeployedStack(ended(verdict));
      expect((await swing(['status'])).stdout).toContain(
        'not counted: this stack has no ReverseLagAlarm output to name the reverse replayer',
      );
    });

    it('asks nothing without reverse capture', async () => {
      withReverseLagAlarm();
      aws.dynamo
        .on(GetCommand)
        .resolves({ Item: ended({ lossless: false, reverseCapture: false, detail: 'none' }) });
      const result = await swing(['status']);
      expect(result.stdout).not.toContain('Refused writes replayed');
      const asked = aws.cloudWatch
        .commandCalls(GetMetricDataCommand)
        .filter((call) => call.args[0].input.MetricDataQueries?.[0]?.Id === 'refused');
      expect(asked).toEqual([]);
    });
  });

  it('says when the pins left and that the pinned reads bake on the target under alarm watch', async () => {
    // Prepare: the step after the cutover removed the pins and bakes.
    aws.elbv2.on(DescribeListenersCommand).resolves(listenerAt(0, 999));
    const base = readsFirstRecord();
    const released = readsFirstRecord({
      stepIndex: 5,
      lastWritten: { source: 0, target: 999 },
      readsWritten: undefined,
      cutoverAt: '2026-03-02T10:01:00.000Z',
      steps: [
        ...base.rollout!.steps,
        {
          index: 5,
          targetPercent: 100,
          weights: { source: 0, target: 999 },
          startedAt: '2026-03-02T10:09:00.000Z',
          kind: 'pins',
        },
      ],
    });
    aws.dynamo.on(GetCommand).resolves({ Item: released });

    // Act
    const result = await swing(['status']);

    // Assess
    expect(result.stdout).toMatch(/Rollout\s+migrate-orders-3: baking, step 6 of 6/);
    expect(result.stdout).toMatch(
      /Pins\s+gone since 2026-03-02T10:09:00.000Z: the pinned reads are on the target, baking under alarm watch/,
    );
  });

  it('shows a rehearsal as such: it never cuts writes over', async () => {
    // Prepare
    aws.dynamo.on(GetCommand).resolves({ Item: readsFirstRecord({ planEnd: 'restore' }) });

    // Act
    const result = await swing(['status']);

    // Assess
    expect(result.stdout).toMatch(/Rollout\s+migrate-orders-3: baking, step 2 of 4/);
    expect(result.stdout).toMatch(
      /Traffic\s+reads-first, a rehearsal: it restores its starting weights at its end/,
    );
    expect(result.stdout).toMatch(/Cutover\s+none: a rehearsal never cuts writes over/);
  });

  it('reports the write exposure of the last rollout, rolled back after its cutover', async () => {
    // Prepare
    const ended = releasedRecord({
      traffic: 'reads-first',
      status: 'rolled-back',
      outcome: 'rolled-back',
      restored: true,
      lastWritten: { source: 999, target: 0 },
      cutoverAt: EXPOSURE.cutoverAt,
      exposure: EXPOSURE,
      endedAt: EXPOSURE.endedAt,
    });
    aws.dynamo.on(GetCommand).resolves({ Item: ended });

    // Act
    const result = await swing(['status']);
    const json = JSON.parse((await swing(['status', '--json'])).stdout);

    // Assess
    expect(result.stdout).toMatch(/Cutover\s+writes cut over at 2026-03-02T10:30:00.000Z/);
    expect(result.stdout).toMatch(
      /Exposure\s+write exposure: 4m10s from the cutover \(2026-03-02T10:30:00.000Z\) to the restore \(2026-03-02T10:34:10.000Z\); the target took 1234 requests in it \(RequestCount counts reads too\); every write in it is on the target only/,
    );
    expect(json.exposure).toEqual(EXPOSURE);
    expect(json.rollout.exposure).toEqual(EXPOSURE);
  });

  it('says a sub-second write exposure in milliseconds, not the record\'s rounded "0 s"', async () => {
    // Prepare: the alarm came 480 ms after the cutover, so the record's windowSeconds rounds to 0.
    const exposure = {
      ...EXPOSURE,
      endedAt: '2026-03-02T10:30:00.480Z',
      windowSeconds: 0,
      targetRequests: 41,
    };
    aws.dynamo.on(GetCommand).resolves({
      Item: releasedRecord({ traffic: 'reads-first', outcome: 'rolled-back', exposure }),
    });

    // Act
    const result = await swing(['status']);

    // Assess
    expect(result.stdout).toMatch(
      /Exposure\s+write exposure: 480 ms from the cutover \(2026-03-02T10:30:00.000Z\)/,
    );
    expect(result.stdout).not.toMatch(/exposure: 0s? /);
  });

  it('says the exposure was not measured when the record has no request count, and names a hold as such', async () => {
    // Prepare
    const { targetRequests: _, ...unmeasured } = EXPOSURE;
    aws.dynamo
      .on(GetCommand)
      .resolvesOnce({
        Item: releasedRecord({ traffic: 'reads-first', outcome: 'rolled-back', exposure: unmeasured }),
      })
      .resolves({
        Item: releasedRecord({
          traffic: 'reads-first',
          outcome: 'halted',
          exposure: { ...EXPOSURE, policy: 'hold' },
        }),
      });

    // Act
    const notMeasured = await swing(['status']);
    const held = await swing(['status']);

    // Assess
    expect(notMeasured.stdout).toContain(
      'the requests the target took in it were not measured; every write in it is on the target only',
    );
    expect(held.stdout).toMatch(
      /Exposure\s+writes held on the target: 4m10s from the cutover \(2026-03-02T10:30:00.000Z\) to the hold/,
    );
  });

  it("does not judge a read step's delivered split by RequestCount, which counts writes too", async () => {
    // Prepare
    aws.dynamo.on(GetCommand).resolves({ Item: readsFirstRecord() });
    aws.cloudWatch.on(GetMetricDataCommand).resolves(fixture('cloudwatch-get-metric-data-rollout'));

    // Act
    const result = await swing(['status']);

    // Assess
    expect(result.stdout).toContain('step 1: ');
    expect(result.stdout).toContain('a read step (reads-first)');
    expect(result.stdout).not.toContain('OFF');
  });
});

describe('Command: swing status --watch, reads-first and rehearsals', () => {
  beforeEach(() => {
    resetAws();
    mockDeployedStack();
    aws.sfn.on(DescribeExecutionCommand).resolves(fixture('sfn-describe-execution-running'));
    aws.elbv2.on(DescribeListenersCommand).resolves(listenerAt(999, 0));
  });

  it('prints WAITING FOR REPLAY and the read share on the watch line', async () => {
    // Prepare
    const waiting = readsFirstRecord({ status: 'waiting-replay', taskKind: 'replay' });
    aws.dynamo.on(GetCommand).resolves({ Item: waiting });

    // Act
    const result = await swing(['status', '--watch', '--interval', '30s', '--max-wait', '1m']);

    // Assess
    expect(result.code).toBe(5);
    expect(result.stdout).toContain(
      'step 2/6 WAITING FOR REPLAY, replay 4m23s left; reads source 749 / target 250 (25.0 % target); writes source 999 / target 0',
    );
  });

  it('says a reads-first rollback before the cutover left every write on the source, not that writes were lost', async () => {
    // Prepare
    const rolledBack = releasedRecord({
      ...readsFirstRecord().rollout,
      status: 'rolled-back',
      outcome: 'rolled-back',
      restored: true,
      taskToken: undefined,
      taskKind: undefined,
      readsWritten: undefined,
      endedAt: '2026-03-02T10:12:30.000Z',
      reason: {
        error: 'AlarmFired',
        cause: 'swing-target-5xx went to ALARM',
        at: '2026-03-02T10:12:10.000Z',
      },
    });
    aws.dynamo.on(GetCommand).resolvesOnce({ Item: readsFirstRecord() }).resolves({ Item: rolledBack });

    // Act
    const result = await swing(['status', '--watch']);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('Rollout migrate-orders-3 ROLLED BACK');
    expect(result.stdout).not.toContain('were not captured for the source');
    expect(result.stdout).toContain('it ended before the write cutover, so every write stayed on the source');
  });

  it('ends a rollback after the cutover with its write exposure', async () => {
    // Prepare
    const rolledBack = releasedRecord({
      ...readsFirstRecord().rollout,
      status: 'rolled-back',
      outcome: 'rolled-back',
      restored: true,
      taskToken: undefined,
      taskKind: undefined,
      cutoverAt: EXPOSURE.cutoverAt,
      exposure: EXPOSURE,
      endedAt: EXPOSURE.endedAt,
    });
    aws.dynamo.on(GetCommand).resolvesOnce({ Item: readsFirstRecord() }).resolves({ Item: rolledBack });

    // Act
    const result = await swing(['status', '--watch']);
    aws.dynamo.on(GetCommand).resolvesOnce({ Item: readsFirstRecord() }).resolves({ Item: rolledBack });
    const json = JSON.parse((await swing(['status', '--watch', '--json'])).stdout);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'write exposure: 4m10s from the cutover (2026-03-02T10:30:00.000Z) to the restore (2026-03-02T10:34:10.000Z); the target took 1234 requests in it (RequestCount counts reads too); every write in it is on the target only',
    );
    expect(json.rollout.exposure).toEqual(EXPOSURE);
  });

  it('exits 0 for a rehearsal that ran to its end and restored its starting weights', async () => {
    // Prepare
    const rehearsed = releasedRecord({
      ...readsFirstRecord({ planEnd: 'restore' }).rollout,
      status: 'rehearsed',
      outcome: 'rehearsed',
      restored: true,
      taskToken: undefined,
      taskKind: undefined,
      readsWritten: undefined,
      endedAt: '2026-03-02T10:30:00.000Z',
    });
    aws.dynamo
      .on(GetCommand)
      .resolvesOnce({ Item: readsFirstRecord({ planEnd: 'restore' }) })
      .resolves({ Item: rehearsed });

    // Act
    const result = await swing(['status', '--watch']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'Rehearsal migrate-orders-3 rehearsed in 30m: every step ran, then the starting weights restored (source 999 / target 0',
    );
    expect(result.stdout).toContain('every write stayed on the source');
    expect(result.stdout).not.toContain('HALTED');
  });

  it('says an all-mode rehearsal left the writes the target took on the target only', async () => {
    // Prepare
    const rehearsed = releasedRecord({
      planEnd: 'restore',
      status: 'rehearsed',
      outcome: 'rehearsed',
      restored: true,
      lastWritten: { source: 999, target: 0 },
      endedAt: '2026-03-02T10:30:00.000Z',
    });
    aws.dynamo.on(GetCommand).resolvesOnce({ Item: runningRecord() }).resolves({ Item: rehearsed });

    // Act
    const result = await swing(['status', '--watch']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Rehearsal migrate-orders-3 rehearsed');
    expect(result.stdout).toContain('were not captured for the source');
  });
});
