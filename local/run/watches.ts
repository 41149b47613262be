import { handleAlarmEvent } from '#domain/engine/alarm-event.ts';
import { weightsToPercent } from '#domain/weights.ts';
import type { ClientTraffic } from '../client-traffic.ts';
import type { ClusterStandIn } from '../clusters.ts';
import type { EventRecorder } from '../events.ts';
import type { LocalOptions } from '../options.ts';
import type { LocalTimeline } from '../timeline.ts';
import type { LiveView } from '../view.ts';
import { LOCAL_LISTENER_ARN, LOCAL_REPLAY_LAG_ALARM, type LocalEngine } from './engine.ts';
import { LOCAL_REVERSE_LAG_ALARM } from './reverse.ts';
import type { LocalServers } from './servers.ts';

/**
 * The alarms judged every `intervalMs` from the ALB's counts, and the replay-lag alarm as CloudWatch would run
 * it: every state change goes to the handler EventBridge would invoke in AWS, with the same event shape.
 */
export function watchAlarms(
  engine: LocalEngine,
  timeline: LocalTimeline,
  intervalMs: number,
): { stop(): void; firstAlarmAt(): number | undefined } {
  const { alarms, deps } = engine;
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
  alarms.start(intervalMs);
  // The replay-lag alarms, as CloudWatch would run them: their state changes go to the same handler.
  const replayWatch = watchLag(deps, LOCAL_REPLAY_LAG_ALARM, intervalMs, () => {
    const { caughtUp, detail } = engine.replayCaughtUp();
    return { ok: caughtUp, detail };
  });
  const { reverseDrained } = engine;
  const reverseWatch = reverseDrained
    ? watchLag(deps, LOCAL_REVERSE_LAG_ALARM, intervalMs, () => {
        const { drained, detail } = reverseDrained();
        return { ok: drained, detail };
      })
    : undefined;
  return {
    stop: () => {
      clearInterval(replayWatch);
      clearInterval(reverseWatch);
      alarms.stop();
    },
    firstAlarmAt: () => firstAlarmAt,
  };
}

/** A lag alarm judged every `intervalMs`, OK at first: each change of state is an event to the handler. */
function watchLag(
  deps: LocalEngine['deps'],
  alarmName: string,
  intervalMs: number,
  judge: () => { ok: boolean; detail: string },
): NodeJS.Timeout {
  let current: 'OK' | 'ALARM' = 'OK';
  return setInterval(() => {
    const { ok, detail } = judge();
    const state = ok ? 'OK' : 'ALARM';
    if (state === current) return;
    current = state;
    void handleAlarmEvent(deps, {
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      time: new Date().toISOString(),
      detail: { alarmName, state: { value: state, reason: detail } },
    }).catch(() => {});
  }, intervalMs);
}

/**
 * The target's injected faults (`--target-errors`, `--target-latency`), each switched on once the target's
 * share reaches its percent (or at the cutover). Faults that start "at 0 %" are there from the start, so the
 * smoke test of the target path meets them.
 */
export class TargetFaults {
  private errors = false;
  private latency = false;

  constructor(
    private readonly options: Pick<LocalOptions, 'targetErrors' | 'targetLatency'>,
    private readonly target: ClusterStandIn | undefined,
    private readonly log: EventRecorder,
  ) {}

  apply(share: number, cutOver = false): void {
    const errors = this.options.targetErrors;
    const reached = (fault: { atPercent: number; atCutover?: boolean }) =>
      fault.atCutover ? cutOver : fault.atPercent === 0 || (share > 0 && share >= fault.atPercent);
    if (errors && !this.errors && reached(errors)) {
      this.errors = true;
      this.target?.setFault({ errorRate: errors.rate });
      this.log.record({
        kind: 'fault',
        detail: `the target stand-in now answers ${errors.rate * 100} % of requests with 503 (--target-errors)`,
      });
    }
    const latency = this.options.targetLatency;
    if (latency && !this.latency && reached(latency)) {
      this.latency = true;
      this.target?.setFault({ latencyMs: latency.ms });
      this.log.record({
        kind: 'fault',
        detail: `the target stand-in now answers ${latency.ms} ms late (--target-latency)`,
      });
    }
  }
}

/**
 * Every 100 ms: the faults follow the target's share (in reads-first, its read share until the cutover), and
 * the live view draws a frame. Returns the stop.
 */
export function watchProgress(
  servers: LocalServers,
  engine: LocalEngine,
  view: LiveView,
  faults: TargetFaults,
  traffic: ClientTraffic,
): () => void {
  const { alb } = servers;
  const watcher = setInterval(() => {
    void (async () => {
      const weights = alb.getWeights();
      const rollout = (await engine.store.get(LOCAL_LISTENER_ARN))?.rollout;
      // In reads-first, the target's share that faults follow is its read share until the cutover.
      const reads = rollout?.traffic === 'reads-first' ? rollout.readsWritten : undefined;
      faults.apply(
        Math.max(weightsToPercent(weights), reads ? weightsToPercent(reads) : 0),
        rollout?.cutoverAt !== undefined,
      );
      const alarms = await engine.alarms.evaluate();
      const reverse = engine.reverseDrained?.();
      // Read at the draw, not before the reads above: a weight write meanwhile is drawn, not undone.
      view.render({
        rollout,
        weights: alb.getWeights(),
        alb,
        alarms,
        traffic: traffic.counts(),
        ...(reverse ? { reverse } : {}),
      });
    })().catch(() => {});
  }, 100);
  return () => clearInterval(watcher);
}
