import { HttpSmokeTester } from '#adapters/smoke.ts';
import { MemoryRolloutStore } from '#adapters/store-memory.ts';
import type { EngineDeps } from '#domain/engine/deps.ts';
import { parseSmokeConfig } from '#domain/smoke-config.ts';
import type {
  ListenerPort,
  Notification,
  ReplayLagVerdict,
  ReverseReplayVerdict,
  SwingRulesPort,
  Weights,
} from '#domain/types.ts';
import { sameWeights } from '#domain/weights.ts';
import { LOCAL_ALB_ARNS } from '../alb.ts';
import { ObservedRolloutStore, observedSmokeTester, startsStepWithoutWrite } from '../events.ts';
import { LocalStepFunctions } from '../executor.ts';
import { defaultLocalAlarms, LocalAlarms } from '../local-alarms.ts';
import { LocalListener } from '../local-listener.ts';
import { LocalListenerRules, localSwingRules } from '../local-listener-rules.ts';
import type { LocalOptions } from '../options.ts';
import { observeReadRuleWrites } from '../step-splits.ts';
import type { Write } from '../summarize.ts';
import type { LocalTimeline } from '../timeline.ts';
import { localReverseCapture, reverseDrained } from './reverse.ts';
import type { LocalServers } from './servers.ts';

export const LOCAL_LISTENER_ARN = LOCAL_ALB_ARNS.listener;

/** The local replay-lag alarm's name: the lag check's state changes reach the alarm-event handler under it. */
export const LOCAL_REPLAY_LAG_ALARM = 'local-replay-lag';

/** The oldest captured write may wait this long before the replayer counts as lagging: twice its lag, 500 ms at least. */
export function replayThresholdMs(replayLagMs: number): number {
  return Math.max(500, 2 * replayLagMs);
}

/** The engine's ports over the local servers, and what the run reads back from them at its end. */
export interface LocalEngine {
  readonly deps: EngineDeps;
  readonly store: ObservedRolloutStore;
  readonly sfn: LocalStepFunctions;
  readonly alarms: LocalAlarms;
  /** Every weight write of the run (the default action's, and the read rules' in reads-first), in order. */
  readonly writes: Write[];
  /** The rules Swing owns on the listener now. */
  swingRulesLeft(): Promise<number>;
  /** Whether the source path's replayer has caught up, as the replay-lag check and alarm judge it. */
  replayCaughtUp(): ReplayLagVerdict;
  /** With reverse capture: whether the reverse replayer has drained, as its lag check and alarm judge it. */
  reverseDrained?(): ReverseReplayVerdict;
}

/**
 * The same engine as in AWS, its ports local: the ALB's listener and rules, the alarms judged from the ALB's
 * own counts, an in-memory record, the local Step Functions, HTTP smoke tests through the smoke listeners.
 */
export function localEngine(
  options: LocalOptions,
  servers: LocalServers,
  timeline: LocalTimeline,
  /** The executor's time scale: 1000 runs waits in real time. */
  msPerSecond: number,
): LocalEngine {
  const { alb, target, proxy, targetProxy } = servers;
  // The one record of the run's events: the view draws them as they come, --json and the report carry them.
  const log = timeline;
  const store = new ObservedRolloutStore(new MemoryRolloutStore(), log);
  const sfn = new LocalStepFunctions({ msPerSecond, retryDelayMs: 50 });
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
  // The pins' step writes no weight: its start bounds the per-step counts as another step's write does.
  timeline.subscribe((event) => {
    if (startsStepWithoutWrite(event))
      writes.push({ at: Date.parse(event.at), weights: alb.getWeights(), totals: alb.totals().weighted });
  });
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
    setRuleResponse: (arn, respond) => baseRules.setRuleResponse?.(arn, respond) ?? Promise.resolve(),
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
  // Writes frozen (the cutover): exact, as the local mode can be. Nothing the ALB sent the source is unanswered,
  // nothing is on its way to the source nor queued or being replayed: the queue only shrinks from here.
  const replayApplied = (): ReplayLagVerdict => {
    if (!proxy) return { caughtUp: true, detail: 'no replayer here: upstream clusters' };
    const toSource = alb.nonReadsInFlight('source') + proxy.writesInFlight();
    const { pending } = proxy.stats();
    return toSource === 0 && pending === 0
      ? { caughtUp: true, detail: 'the replayer applied every write the source took before the freeze' }
      : { caughtUp: false, detail: `${pending} writes to replay, ${toSource} on their way to the source` };
  };
  const alarmDefinitions = defaultLocalAlarms(options.alarms);
  const alarms = new LocalAlarms(alb, alarmDefinitions);
  const deps: EngineDeps = {
    listenerArn: LOCAL_LISTENER_ARN,
    watchedAlarms: alarmDefinitions.map((alarm) => alarm.name),
    listener,
    listenerRules: new LocalListenerRules(alb),
    swingRules,
    replayLag: { check: async () => replayCaughtUp(), appliedBefore: async () => replayApplied() },
    // The stand-in applies a rule change at once, and appliedBefore counts what is still on its way.
    ruleSettleMs: 0,
    replayLagAlarm: LOCAL_REPLAY_LAG_ALARM,
    ...localReverseCapture(targetProxy, alb, options.drainTimeoutSeconds),
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
  return {
    deps,
    store,
    sfn,
    alarms,
    writes,
    swingRulesLeft: async () => (await baseRules.readSwingRules()).length,
    replayCaughtUp,
    ...(targetProxy ? { reverseDrained: () => reverseDrained(targetProxy) } : {}),
  };
}
