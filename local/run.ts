import { writeFileSync } from 'node:fs';
import { HttpSmokeTester } from '#adapters/smoke.ts';
import { MemoryRolloutStore } from '#adapters/store-memory.ts';
import { renderReportHtml } from '#cli/report/html.ts';
import type { DeliveredSplit } from '#domain/delivered-split.ts';
import { abortRollout } from '#domain/operator.ts';
import { type EngineDeps, handleAlarmEvent } from '#domain/rollout.ts';
import { parseSmokeConfig } from '#domain/smoke-config.ts';
import type { ListenerPort, Notification, Plan, Rollout, Weights } from '#domain/types.ts';
import { sameWeights, weightsToPercent } from '#domain/weights.ts';
import { type AlbTotals, startLocalAlb } from './alb.ts';
import { startClusterStandIn } from './clusters.ts';
import { type ExecutionResult, LocalStepFunctions } from './executor.ts';
import { defaultLocalAlarms, LocalAlarms } from './local-alarms.ts';
import { LocalListener } from './local-listener.ts';
import type { LocalOptions } from './options.ts';
import { localReportData } from './report.ts';
import { LocalTimeline, type TimelineData } from './timeline.ts';
import type { TrafficCounts } from './traffic.ts';
import { startTraffic } from './traffic.ts';
import { LiveView } from './view.ts';

export const LOCAL_LISTENER_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/swing-local/0000000000000000/0000000000009200';

export const EXIT = { completed: 0, rolledBack: 1, badInput: 2, haltedOrInternal: 3 } as const;

export interface StepSummary {
  /** 0-based index in the plan. */
  readonly index: number;
  readonly percent: number;
  readonly weights: Weights;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly requests: { source: number; target: number };
  readonly errors: { source: number; target: number };
  /** The requests the weighted listener routed from this step's write to the next, judged against its weights. */
  readonly delivered: DeliveredSplit;
  readonly gate: boolean;
}

export interface LocalSummary {
  readonly outcome: 'completed' | 'rolled-back' | 'halted' | 'failed';
  readonly error?: string;
  readonly finalWeights: Weights;
  readonly startingWeights: Weights;
  readonly steps: StepSummary[];
  readonly rollback?: {
    reason: string;
    cause: string;
    alarm?: string;
    /** When the alarm fired or the abort came, ISO 8601. */
    at?: string;
    /** When the starting weights were written back, ISO 8601. */
    restoredAt?: string;
    msFromAlarmToRestore?: number;
  };
  readonly stateTransitions: number;
  readonly clientRequests: {
    sent: number;
    ok: number;
    failed: number;
    failedByCluster: Record<string, number>;
    /** Failures no cluster explains (not a 5xx the cluster sent): must stay 0, a weight change never fails a request. */
    failedBySwitching: number;
  };
  readonly startedAt: string;
  readonly endedAt: string;
  readonly durationMs: number;
  readonly plan: Plan;
  /** Per-second series and the events of the run: what the live view and the report draw. */
  readonly timeline: TimelineData;
}

export interface LocalIo {
  readonly stdout: (text: string) => void;
  readonly isTTY: boolean;
}

interface Write {
  readonly at: number;
  readonly weights: Weights;
  /** The 9200 listener's counts when the write took effect: step boundaries for the per-step figures. */
  readonly totals: AlbTotals['weighted'];
}

/**
 * The local mode: stand-in clusters behind a local ALB with real HTTP traffic, and the real state machine
 * and engine driving the weights. Nothing here talks to AWS.
 */
export async function runLocal(
  options: LocalOptions,
  io: LocalIo,
  tuning: { msPerSecond?: number; alarmIntervalMs?: number } = {},
): Promise<{ exitCode: number; summary: LocalSummary }> {
  const startedAt = Date.now();
  const random = seeded(options.seed ?? 42);
  const source = options.upstreamSource ? undefined : await startClusterStandIn({ name: 'source', port: 0 });
  const target = options.upstreamTarget ? undefined : await startClusterStandIn({ name: 'target', port: 0 });
  const alb = await startLocalAlb({
    portBase: options.portBase,
    sourceUrl: options.upstreamSource ?? source!.url,
    targetUrl: options.upstreamTarget ?? target!.url,
    random,
  });
  alb.setWeights({ source: 1, target: 0 });
  const startingWeights = alb.getWeights();
  const timeline = new LocalTimeline(alb);
  timeline.recordWeights(startingWeights);
  timeline.start();

  const store = new MemoryRolloutStore();
  const sfn = new LocalStepFunctions({ msPerSecond: tuning.msPerSecond ?? 1000, retryDelayMs: 50 });
  const notifications: Notification[] = [];
  const writes: Write[] = [];
  // Like an ALB health check: straight to the target, not through a listener (so not in its metrics).
  const baseListener = new LocalListener(
    {
      getWeights: () => alb.getWeights(),
      setWeights: (weights) => {
        alb.setWeights(weights);
        timeline.recordWeights(weights);
      },
    },
    `${options.upstreamTarget ?? target?.url}/`,
  );
  const listener: ListenerPort = {
    readWeights: () => baseListener.readWeights(),
    healthyTargetCount: () => baseListener.healthyTargetCount(),
    stickinessSeconds: () => baseListener.stickinessSeconds(),
    writeWeights: async (weights) => {
      await baseListener.writeWeights(weights);
      writes.push({ at: Date.now(), weights, totals: alb.totals().weighted });
    },
  };
  const alarmDefinitions = defaultLocalAlarms();
  const alarms = new LocalAlarms(alb, alarmDefinitions);
  const deps: EngineDeps = {
    listenerArn: LOCAL_LISTENER_ARN,
    watchedAlarms: alarmDefinitions.map((alarm) => alarm.name),
    listener,
    // The local ALB stand-in has no listener rules: all of its traffic follows the weights.
    listenerRules: { readRules: async () => [] },
    alarms,
    store,
    callbacks: sfn,
    smoke: new HttpSmokeTester(
      parseSmokeConfig({
        sourceEndpoint: `http://127.0.0.1:${alb.ports.source}`,
        targetEndpoint: `http://127.0.0.1:${alb.ports.target}`,
        timeoutMs: 2000,
      }),
      {},
    ),
    notifier: { notify: async (notification) => void notifications.push(notification) },
    log: { info: () => {}, warn: () => {}, error: () => {} },
    now: () => new Date(),
    measureDeliveredSplit: async (step) => timeline.splitUntilNow(step),
  };

  let firstAlarmAt: number | undefined;
  alarms.onStateChange = (event) => {
    if (event.detail.state.value === 'ALARM') firstAlarmAt ??= Date.now();
    timeline.recordAlarm({
      alarm: event.detail.alarmName,
      state: event.detail.state.value,
      previous: event.detail.previousState.value,
      reason: event.detail.state.reason,
      at: event.detail.state.timestamp,
    });
    // The same handler EventBridge would invoke in AWS, with the same event shape.
    void handleAlarmEvent(deps, event).catch(() => {});
  };
  alarms.start(tuning.alarmIntervalMs ?? 200);

  const traffic = startTraffic({
    url: `http://127.0.0.1:${alb.ports.weighted}`,
    ratePerSecond: options.rate,
    writeRatio: options.writeRatio,
    random,
  });

  const execution = sfn.start(
    deps,
    { plan: options.planSpec, requestedBy: 'swing local' },
    { name: 'local' },
  );
  const view = new LiveView(io, options.json, options.plan);
  let aborted = false;
  const watcher = setInterval(() => {
    void (async () => {
      const weights = alb.getWeights();
      const share = weightsToPercent(weights);
      if (options.targetErrors && share >= options.targetErrors.atPercent && share > 0) {
        target?.setFault({ errorRate: options.targetErrors.rate });
      }
      if (options.targetLatency && share >= options.targetLatency.atPercent && share > 0) {
        target?.setFault({ latencyMs: options.targetLatency.ms });
      }
      const rollout = (await store.get(LOCAL_LISTENER_ARN))?.rollout;
      timeline.recordPhase(rollout);
      if (
        options.abortAt !== undefined &&
        !aborted &&
        share >= options.abortAt &&
        rollout?.status === 'baking'
      ) {
        aborted = true;
        await abortRollout(
          { listenerArn: LOCAL_LISTENER_ARN, store, callbacks: sfn },
          'swing local --abort-at',
        );
      }
      view.render({ rollout, weights, alb, alarms: await alarms.evaluate(), traffic: traffic.counts() });
    })().catch(() => {});
  }, 100);

  let result: ExecutionResult;
  try {
    result = await execution.result;
  } finally {
    clearInterval(watcher);
    alarms.stop();
  }
  // Let the clients see the final weights for a moment, then stop and count.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const clients = await traffic.stop();
  const record = await store.get(LOCAL_LISTENER_ARN);
  const rollout = record?.history.at(-1) ?? record?.rollout;
  timeline.recordPhase(rollout);
  timeline.stop();
  const summary = summarize({
    result,
    rollout,
    startingWeights,
    finalWeights: alb.getWeights(),
    writes,
    firstAlarmAt,
    transitions: execution.transitions(),
    clients,
    startedAt,
    endTotals: alb.totals().weighted,
    plan: options.plan,
    timeline,
  });
  if (options.report) writeFileSync(options.report, renderReportHtml(localReportData(summary)));
  view.finish(summary);
  await alb.close();
  await source?.close();
  await target?.close();
  const exitCode =
    summary.outcome === 'completed'
      ? EXIT.completed
      : summary.outcome === 'rolled-back'
        ? EXIT.rolledBack
        : EXIT.haltedOrInternal;
  return { exitCode, summary };
}

/** A small deterministic PRNG (mulberry32) so a seed reproduces the traffic split. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function summarize(input: {
  result: ExecutionResult;
  rollout: Rollout | undefined;
  startingWeights: Weights;
  finalWeights: Weights;
  writes: Write[];
  firstAlarmAt: number | undefined;
  transitions: number;
  clients: TrafficCounts;
  startedAt: number;
  endTotals: AlbTotals['weighted'];
  plan: Plan;
  timeline: LocalTimeline;
}): LocalSummary {
  const { result, rollout, writes } = input;
  const outcome: LocalSummary['outcome'] =
    result.status === 'SUCCEEDED' ? 'completed' : (rollout?.outcome ?? 'failed');
  // Each step runs from its write to the next write (the next step, or the restore) or to the end.
  const delivered = input.timeline.stepSplits(rollout?.steps ?? []);
  const steps: StepSummary[] = (rollout?.steps ?? []).map((step, position) => {
    const at = writes.findIndex(
      (write) => write.at >= Date.parse(step.startedAt) - 5 && sameWeights(write.weights, step.weights),
    );
    const from = writes[at]?.totals;
    const to = writes[at + 1]?.totals ?? input.endTotals;
    const delta = (group: 'source' | 'target', key: 'requests' | 'errors5xx') =>
      from ? to[group][key] - from[group][key] : 0;
    const endedAt = writes[at + 1] ? new Date(writes[at + 1]!.at).toISOString() : rollout?.endedAt;
    return {
      index: step.index,
      percent: step.targetPercent,
      weights: step.weights,
      startedAt: step.startedAt,
      ...(endedAt ? { endedAt } : {}),
      requests: { source: delta('source', 'requests'), target: delta('target', 'requests') },
      errors: { source: delta('source', 'errors5xx'), target: delta('target', 'errors5xx') },
      delivered: delivered[position]!,
      gate: input.plan.steps[step.index]?.gate ?? false,
    };
  });
  const reason = rollout?.reason;
  const restoredAt = outcome === 'rolled-back' ? writes.at(-1)?.at : undefined;
  const alarmAt = reason?.alarm ? Date.parse(reason.at) : input.firstAlarmAt;
  const clients = input.clients;
  const explained = Object.entries(clients.failedByCluster)
    .filter(([cluster]) => cluster !== 'unknown')
    .reduce((sum, [, count]) => sum + count, 0);
  return {
    outcome,
    ...(result.status === 'FAILED' ? { error: result.error } : {}),
    finalWeights: input.finalWeights,
    startingWeights: input.startingWeights,
    steps,
    ...(reason && outcome !== 'completed'
      ? {
          rollback: {
            reason: reason.error,
            cause: reason.cause,
            ...(reason.alarm ? { alarm: reason.alarm } : {}),
            at: reason.at,
            ...(restoredAt !== undefined ? { restoredAt: new Date(restoredAt).toISOString() } : {}),
            ...(restoredAt !== undefined && alarmAt !== undefined && reason.alarm
              ? { msFromAlarmToRestore: Math.max(0, restoredAt - alarmAt) }
              : {}),
          },
        }
      : {}),
    stateTransitions: input.transitions,
    clientRequests: {
      sent: clients.sent,
      ok: clients.ok,
      failed: clients.failed,
      failedByCluster: clients.failedByCluster,
      failedBySwitching: clients.failed - explained,
    },
    startedAt: new Date(input.startedAt).toISOString(),
    endedAt: new Date().toISOString(),
    durationMs: Date.now() - input.startedAt,
    plan: input.plan,
    timeline: input.timeline.data(),
  };
}
