import { writeFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { HttpSmokeTester } from '#adapters/smoke.ts';
import { MemoryRolloutStore } from '#adapters/store-memory.ts';
import type { EngineDeps } from '#domain/engine/deps.ts';
import { handleAlarmEvent } from '#domain/rollout.ts';
import { parseSmokeConfig } from '#domain/smoke-config.ts';
import type {
  ListenerPort,
  Notification,
  ReplayLagVerdict,
  Rollout,
  SwingRulesPort,
  Weights,
} from '#domain/types.ts';
import { sameWeights, weightsToPercent } from '#domain/weights.ts';
import { renderReportHtml } from '#report/html.ts';
import { LOCAL_ALB_ARNS, type LocalAlbOptions, startLocalAlb } from './alb.ts';
import { type CaptureProxy, startCaptureProxy } from './capture-proxy.ts';
import { seedDocuments, startClientTraffic } from './client-traffic.ts';
import { type ClusterStandIn, startClusterStandIn } from './clusters.ts';
import { directWrites, measureDivergence } from './divergence.ts';
import { type LocalEvent, ObservedRolloutStore, observedSmokeTester } from './events.ts';
import { type ExecutionResult, LocalStepFunctions } from './executor.ts';
import { GatePromotions, operatorAct } from './gate-promotion.ts';
import { defaultLocalAlarms, LocalAlarms } from './local-alarms.ts';
import { LocalListener } from './local-listener.ts';
import { LocalListenerRules, localSwingRules } from './local-listener-rules.ts';
import type { LocalOptions } from './options.ts';
import { localReportData } from './report.ts';
import { TargetRequestKinds } from './request-kinds.ts';
import { observeReadRuleWrites } from './step-splits.ts';
import { summarize, targetWritesAround, type Write } from './summarize.ts';
import { allModeWarning } from './summary-text.ts';
import { LocalTimeline } from './timeline.ts';
import { LiveView } from './view.ts';

export const LOCAL_LISTENER_ARN = LOCAL_ALB_ARNS.listener;

import {
  EXIT,
  LOCAL_INITIAL_DOCUMENTS,
  type LocalDivergence,
  type LocalIo,
  type LocalSummary,
} from './summary.ts';

export type { LocalDivergence, LocalIo, LocalSummary, StepSummary, TerminalSize } from './summary.ts';
// The run's callers (local/main.ts, the CLI, the tests) find its results where they always did.
export { EXIT, LOCAL_INITIAL_DOCUMENTS };

interface Closable {
  close(): Promise<void>;
}

/**
 * The stand-ins, the source path's capture proxy (with its replayer onto the target) and the local ALB,
 * closed in reverse order if a later one fails to start. With upstream clusters there is no capture proxy:
 * the ALB forwards to them as given.
 */
async function startServers(
  options: LocalOptions,
  random: () => number,
  started: Closable[],
  onRouted: LocalAlbOptions['onRouted'],
) {
  const documents = seedDocuments(LOCAL_INITIAL_DOCUMENTS);
  const source = options.upstreamSource
    ? undefined
    : await startClusterStandIn({ name: 'source', port: 0, documents });
  if (source) started.push(source);
  const target = options.upstreamTarget
    ? undefined
    : await startClusterStandIn({ name: 'target', port: 0, documents });
  if (target) started.push(target);
  const proxy =
    source && target
      ? await startCaptureProxy({
          sourceUrl: source.url,
          targetUrl: target.url,
          replayLagMs: options.replayLagMs,
        })
      : undefined;
  if (proxy) started.push(proxy);
  const alb = await startLocalAlb({
    portBase: options.portBase,
    sourceUrl: options.upstreamSource ?? proxy!.url,
    targetUrl: options.upstreamTarget ?? target!.url,
    random,
    onRouted,
  });
  started.push(alb);
  return { source, target, proxy, alb };
}

/**
 * Lets the replayer catch up, then compares the stand-ins' documents. The target's injected faults end first:
 * the measure is of where the run's writes went, not of how long a failing target keeps the replayer behind.
 */
export async function measureLocalDivergence(
  source: ClusterStandIn,
  target: ClusterStandIn,
  proxy: CaptureProxy,
  rollout: Pick<Rollout, 'traffic' | 'cutoverStartedAt' | 'cutoverAt'> | undefined,
): Promise<LocalDivergence> {
  target.setFault({ errorRate: 0, latencyMs: 0 });
  const drained = await proxy.drain(15_000 + 4 * proxy.replayLagMs);
  const replay = proxy.stats();
  const direct = directWrites(target);
  // The cutover's ModifyListener comes after cutoverStartedAt is recorded: a write the target took before
  // that instant reached it while writes were meant to be all-source (I8).
  const cutoverStartedAt = rollout?.cutoverStartedAt ?? rollout?.cutoverAt;
  const beforeCutover =
    rollout?.traffic === 'reads-first'
      ? directWrites(target, cutoverStartedAt ? { to: Date.parse(cutoverStartedAt) } : {}).length
      : undefined;
  return {
    ...measureDivergence(source, target),
    targetDirectWrites: direct.length,
    ...(direct[0] ? { firstTargetDirectWriteAt: new Date(direct[0].at).toISOString() } : {}),
    ...(beforeCutover !== undefined ? { targetDirectWritesBeforeCutover: beforeCutover } : {}),
    replay: {
      lagMs: proxy.replayLagMs,
      drained,
      captured: replay.captured,
      replayed: replay.replayed,
      pending: replay.pending,
      failed: replay.failed,
      maxLagMs: replay.maxLagMs,
    },
  };
}

async function closeAll(started: Closable[]): Promise<void> {
  for (const server of [...started].reverse()) await server.close().catch(() => {});
}

/** True when the error (or one it wraps) says a port was already taken. */
export function isPortInUse(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth += 1) {
    if ((current as { code?: unknown }).code === 'EADDRINUSE') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * The local mode: stand-in clusters behind a local ALB with real HTTP traffic, and the real state machine
 * and engine driving the weights. Nothing here talks to AWS.
 */
export async function runLocal(
  options: LocalOptions,
  io: LocalIo,
  tuning: { msPerSecond?: number; alarmIntervalMs?: number } = {},
): Promise<{ exitCode: number; summary: LocalSummary; events: readonly LocalEvent[] }> {
  const startedAt = Date.now();
  const random = seeded(options.seed ?? 42);
  const started: Closable[] = [];
  const targetKinds = new TargetRequestKinds();
  let servers: Awaited<ReturnType<typeof startServers>>;
  try {
    servers = await startServers(options, random, started, targetKinds.onRouted);
  } catch (error) {
    // Nothing may be left listening: an open server would keep the process alive after the error.
    await closeAll(started);
    throw error;
  }
  const { source, target, proxy, alb } = servers;
  alb.setWeights({ source: 1, target: 0 });
  const startingWeights = alb.getWeights();
  const timeline = new LocalTimeline(alb, Date.now, () => targetKinds.counts());
  const view = new LiveView({
    io,
    json: options.json,
    plan: options.plan,
    log: timeline,
    traffic: options.traffic,
    ...(options.promoteAt !== undefined ? { promoteAt: options.promoteAt } : {}),
  });
  view.notice(allModeWarning(options));
  timeline.recordWeights(startingWeights);
  timeline.start();

  // The one record of the run's events: the view draws them as they come, --json and the report carry them.
  const log = timeline;
  const store = new ObservedRolloutStore(new MemoryRolloutStore(), log);
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
  // Reads-first moves read rules, not the default action: each step's read share is a write of the run too.
  const baseRules = localSwingRules(observeReadRuleWrites(alb, (write) => timeline.recordRuleWrite(write)));
  const recordReads = (weights: Weights) => {
    const last = writes.at(-1);
    if (last && sameWeights(last.weights, weights) && Date.now() - last.at < 1000) return;
    writes.push({ at: Date.now(), weights, totals: alb.totals().weighted });
  };
  const swingRules: SwingRulesPort = {
    readSwingRules: () => baseRules.readSwingRules(),
    createRule: async (spec, priority, weights, owner) => {
      const arn = await baseRules.createRule(spec, priority, weights, owner);
      if (spec.role === 'reads') recordReads(weights);
      return arn;
    },
    setRuleWeights: async (arn, weights) => {
      await baseRules.setRuleWeights(arn, weights);
      recordReads(weights);
    },
    deleteRule: (arn) => baseRules.deleteRule(arn),
  };
  // The source path's replayer has caught up while no captured write has waited much longer than its lag.
  const replayCaughtUp = (): ReplayLagVerdict => {
    if (!proxy) return { caughtUp: true, detail: 'no replayer here: upstream clusters' };
    const oldest = proxy.stats().oldestPendingMs;
    const limit = replayThresholdMs(proxy.replayLagMs);
    return oldest <= limit
      ? { caughtUp: true, detail: `oldest pending write ${oldest} ms, at most ${limit} ms` }
      : { caughtUp: false, detail: `oldest pending write ${oldest} ms, above ${limit} ms` };
  };
  const alarmDefinitions = defaultLocalAlarms(options.alarms);
  const alarms = new LocalAlarms(alb, alarmDefinitions);
  const deps: EngineDeps = {
    listenerArn: LOCAL_LISTENER_ARN,
    watchedAlarms: alarmDefinitions.map((alarm) => alarm.name),
    listener,
    listenerRules: new LocalListenerRules(alb),
    swingRules,
    replayLag: { check: async () => replayCaughtUp() },
    replayLagAlarm: LOCAL_REPLAY_LAG_ALARM,
    // As the target group's RequestCount: every request the target took in the window, reads included.
    targetRequests: { countBetween: async (from, to) => timeline.targetRequestsBetween(from, to) },
    alarms,
    store,
    callbacks: sfn,
    smoke: observedSmokeTester(
      new HttpSmokeTester(
        parseSmokeConfig({
          sourceEndpoint: `http://127.0.0.1:${alb.ports.source}`,
          targetEndpoint: `http://127.0.0.1:${alb.ports.target}`,
          timeoutMs: 2000,
        }),
        {},
      ),
      log,
    ),
    notifier: { notify: async (notification) => void notifications.push(notification) },
    log: { info: () => {}, warn: () => {}, error: () => {} },
    now: () => new Date(),
    measureDeliveredSplit: async (step) => timeline.splitUntilNow(step),
  };
  const operator = { listenerArn: LOCAL_LISTENER_ARN, store, callbacks: sfn };

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
  // The replay-lag alarm, as CloudWatch would run it: its state changes go to the same handler.
  let replayState: 'OK' | 'ALARM' = 'OK';
  const replayWatch = setInterval(() => {
    const { caughtUp, detail } = replayCaughtUp();
    const state = caughtUp ? 'OK' : 'ALARM';
    if (state === replayState) return;
    replayState = state;
    void handleAlarmEvent(deps, {
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      time: new Date().toISOString(),
      detail: { alarmName: LOCAL_REPLAY_LAG_ALARM, state: { value: state, reason: detail } },
    }).catch(() => {});
  }, tuning.alarmIntervalMs ?? 200);

  // Faults that start "at 0 %" are there from the start, so the smoke test of the target path meets them.
  const faults = { errors: false, latency: false };
  const applyFaults = (share: number, cutOver = false) => {
    const errors = options.targetErrors;
    const reached = (fault: { atPercent: number; atCutover?: boolean }) =>
      fault.atCutover ? cutOver : fault.atPercent === 0 || (share > 0 && share >= fault.atPercent);
    if (errors && !faults.errors && reached(errors)) {
      faults.errors = true;
      target?.setFault({ errorRate: errors.rate });
      log.record({
        kind: 'fault',
        detail: `the target stand-in now answers ${errors.rate * 100} % of requests with 503 (--target-errors)`,
      });
    }
    const latency = options.targetLatency;
    if (latency && !faults.latency && reached(latency)) {
      faults.latency = true;
      target?.setFault({ latencyMs: latency.ms });
      log.record({
        kind: 'fault',
        detail: `the target stand-in now answers ${latency.ms} ms late (--target-latency)`,
      });
    }
  };
  applyFaults(0);

  const traffic = startClientTraffic({
    url: `http://127.0.0.1:${alb.ports.weighted}`,
    ratePerSecond: options.rate,
    writeRatio: options.writeRatio,
    initialDocuments: LOCAL_INITIAL_DOCUMENTS,
    random,
  });

  const execution = sfn.start(deps, executionInput(options), { name: 'local' });

  const act = operatorAct(operator, log);
  let aborted = false;
  const promoted = new GatePromotions((by) => act('promote', by));
  const onKey = (key: string) => {
    void (async () => {
      const rollout = (await store.get(LOCAL_LISTENER_ARN))?.rollout;
      const lower = key.toLowerCase();
      if (lower === 'p' && rollout?.status === 'gated') {
        await promoted.request(rollout.stepIndex, "key 'p'");
      } else if (
        lower === 'a' &&
        !aborted &&
        rollout &&
        !rollout.outcome &&
        rollout.status !== 'rolling-back'
      ) {
        aborted = true;
        await act('abort', "key 'a'");
      }
    })().catch(() => {});
  };
  const stopKeys = io.keys?.(onKey);

  let interrupted = false;
  const onInterrupt = () => {
    if (interrupted) return;
    interrupted = true;
    log.record({ kind: 'operator', action: 'interrupt', by: 'Ctrl-C', result: 'execution stopped' });
    // As StopExecution in AWS: the safety net then restores the starting weights.
    execution.stop();
  };
  if (io.interrupt?.aborted) onInterrupt();
  io.interrupt?.addEventListener('abort', onInterrupt, { once: true });

  // The operator flags act on the phase events, not on a poll: a bake too short to be seen, or a gate that
  // follows it, is still met.
  const stopFlags = log.subscribe((event) => {
    if (event.kind !== 'phase') return;
    const waiting = event.status === 'baking' || event.status === 'gated';
    if (options.abortAt !== undefined && !aborted && waiting && event.targetPercent >= options.abortAt) {
      aborted = true;
      void act('abort', '--abort-at');
    }
    if (
      options.promoteAt !== undefined &&
      event.status === 'gated' &&
      event.targetPercent === options.promoteAt
    ) {
      void promoted.request(event.stepIndex, '--promote-at');
    }
  });

  const watcher = setInterval(() => {
    void (async () => {
      const weights = alb.getWeights();
      const rollout = (await store.get(LOCAL_LISTENER_ARN))?.rollout;
      // In reads-first, the target's share that faults follow is its read share until the cutover.
      const reads = rollout?.traffic === 'reads-first' ? rollout.readsWritten : undefined;
      applyFaults(
        Math.max(weightsToPercent(weights), reads ? weightsToPercent(reads) : 0),
        rollout?.cutoverAt !== undefined,
      );
      view.render({ rollout, weights, alb, alarms: await alarms.evaluate(), traffic: traffic.counts() });
    })().catch(() => {});
  }, 100);

  let result: ExecutionResult;
  try {
    result = await execution.result;
  } finally {
    clearInterval(watcher);
    clearInterval(replayWatch);
    alarms.stop();
    stopFlags();
    stopKeys?.();
    io.interrupt?.removeEventListener('abort', onInterrupt);
  }
  // Let the clients see the final weights for a moment, then stop and count.
  if (!interrupted) await new Promise((resolve) => setTimeout(resolve, 300));
  const clients = await traffic.stop();
  const record = await store.get(LOCAL_LISTENER_ARN);
  const rollout = record?.history.at(-1) ?? record?.rollout;
  const divergence =
    source && target && proxy ? await measureLocalDivergence(source, target, proxy, rollout) : undefined;
  timeline.stop();
  // The last frame shows how the run ended, not the phase the last tick happened to catch.
  view.render({ rollout, weights: alb.getWeights(), alb, alarms: await alarms.evaluate(), traffic: clients });
  const summary = summarize({
    result,
    rollout,
    interrupted,
    startingWeights,
    finalWeights: alb.getWeights(),
    writes,
    firstAlarmAt,
    transitions: execution.transitions(),
    clients,
    divergence,
    traffic: options.traffic,
    targetWrites: target ? targetWritesAround(target, rollout?.cutoverAt) : undefined,
    swingRulesLeft: (await baseRules.readSwingRules()).length,
    startedAt,
    endTotals: alb.totals().weighted,
    plan: options.plan,
    timeline,
  });
  if (options.report) writeFileSync(options.report, renderReportHtml(localReportData(summary)));
  view.finish(summary);
  // Said last, so that it is on screen with the outcome: where the report went.
  if (options.report && !options.json) io.stdout(`report: ${resolvePath(options.report)}\n`);
  await closeAll(started);
  const exitCode =
    summary.outcome === 'completed' || summary.outcome === 'rehearsed'
      ? EXIT.completed
      : summary.outcome === 'interrupted'
        ? EXIT.interrupted
        : summary.outcome === 'rolled-back'
          ? EXIT.rolledBack
          : EXIT.haltedOrInternal;
  return { exitCode, summary, events: summary.timeline.events };
}

/** The local replay-lag alarm's name: the lag check's state changes reach the alarm-event handler under it. */
export const LOCAL_REPLAY_LAG_ALARM = 'local-replay-lag';

/** The oldest captured write may wait this long before the replayer counts as lagging: twice its lag, 500 ms at least. */
export function replayThresholdMs(replayLagMs: number): number {
  return Math.max(500, 2 * replayLagMs);
}

/** The execution input of a local run: the plan, the traffic mode, and the reads-first settings scaled to seconds. */
function executionInput(options: LocalOptions): Record<string, unknown> {
  return {
    plan: options.planSpec,
    requestedBy: 'swing local',
    traffic: options.traffic,
    ...(options.traffic === 'reads-first'
      ? {
          readsFirst: {
            cutoverGate: options.cutoverGate,
            afterCutover: options.afterCutover,
            cutoverBakeSeconds: 3,
            scrollKeepAliveSeconds: 2,
            replayWaitSeconds: 30,
          },
        }
      : {}),
    // `then: restore`, spelled so that the input object is not taken for a thenable.
    ...(options.rehearsal ? Object.fromEntries([['then', 'restore']]) : {}),
    ...(options.acceptWritesOnTarget ? { acceptWritesOnTarget: true } : {}),
  };
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
