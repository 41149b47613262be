import { randomUUID } from 'node:crypto';
import { alarmStatusFrom } from '#adapters/alarms.ts';
import type {
  AlarmEvaluation,
  AlarmPort,
  AlarmStateValue,
  AlarmStatus,
  InsufficientDataPolicy,
} from '#domain/types.ts';
import type { Group, ListenerScope, LocalAlb } from './alb.ts';

export interface LocalAlarmDefinition {
  readonly name: string;
  readonly group: Group;
  readonly kind: '5xx-rate' | 'p99-latency';
  /** A fraction for 5xx-rate (0.05 = 5 %), milliseconds for p99-latency. */
  readonly threshold: number;
  readonly windowMs: number;
  /** Below this many requests in the window the alarm has INSUFFICIENT_DATA, as a sparse CloudWatch metric. */
  readonly minRequests: number;
  /** Whose traffic counts: every listener's (CloudWatch's per-target-group metric, the default) or 9200's. */
  readonly scope?: ListenerScope;
}

interface AlarmStateDetail {
  readonly value: AlarmStateValue;
  readonly reason: string;
  readonly timestamp: string;
}

/** The event EventBridge delivers for "CloudWatch Alarm State Change", field for field. */
export interface AlarmStateChangeEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': 'CloudWatch Alarm State Change';
  readonly source: 'aws.cloudwatch';
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: {
    readonly alarmName: string;
    readonly configuration: { readonly description: string };
    readonly state: AlarmStateDetail;
    readonly previousState: AlarmStateDetail;
  };
}

export interface LocalAlarmsOptions {
  readonly policy?: InsufficientDataPolicy;
  readonly onStateChange?: (event: AlarmStateChangeEvent) => void | Promise<void>;
  /** Used in the alarm ARNs and the event envelope. Defaults: us-east-1, 000000000000. */
  readonly region?: string;
  readonly account?: string;
  readonly now?: () => Date;
}

export const LOCAL_ALARM_REGION = 'us-east-1';
export const LOCAL_ALARM_ACCOUNT = '000000000000';

/** What the local mode's two alarms judge; `swing local --alarm-*` flags set each one. */
export interface LocalAlarmThresholds {
  /** The target's 5xx rate above which its alarm fires, a fraction (0.05 = 5 %). */
  readonly errorRate: number;
  /** The target's p99 latency above which its alarm fires, in milliseconds. */
  readonly p99LatencyMs: number;
  /** Fewer requests than this in the window: INSUFFICIENT_DATA (not firing), as a sparse CloudWatch metric. */
  readonly minRequests: number;
  /** The sliding window both alarms judge, in milliseconds. */
  readonly windowMs: number;
}

export const DEFAULT_LOCAL_ALARM_THRESHOLDS: LocalAlarmThresholds = {
  errorRate: 0.05,
  p99LatencyMs: 1000,
  minRequests: 20,
  windowMs: 3000,
};

/** Target 5xx rate above 5 % over 3 s (at least 20 requests), and target p99 latency above 1 s, by default. */
export function defaultLocalAlarms(
  thresholds: LocalAlarmThresholds = DEFAULT_LOCAL_ALARM_THRESHOLDS,
): LocalAlarmDefinition[] {
  return [
    {
      name: 'local-target-5xx-rate',
      group: 'target',
      kind: '5xx-rate',
      threshold: thresholds.errorRate,
      windowMs: thresholds.windowMs,
      minRequests: thresholds.minRequests,
    },
    {
      name: 'local-target-p99-latency',
      group: 'target',
      kind: 'p99-latency',
      threshold: thresholds.p99LatencyMs,
      windowMs: thresholds.windowMs,
      minRequests: thresholds.minRequests,
    },
  ];
}

function describeAlarm(definition: LocalAlarmDefinition): string {
  const limit =
    definition.kind === '5xx-rate'
      ? `5xx rate > ${(definition.threshold * 100).toFixed(1)} %`
      : `p99 latency > ${definition.threshold} ms`;
  return `${definition.group} ${limit} over ${definition.windowMs} ms, at least ${definition.minRequests} requests`;
}

/**
 * Alarms judged from the local ALB's real per-target-group counts, like CloudWatch alarms on the ALB's
 * metrics. `evaluate()` is the AlarmPort the engine reads; `start()` runs a periodic evaluator that emits
 * each state change in EventBridge's shape, so the AWS path's alarm-event handler is the one that reacts.
 */
export class LocalAlarms implements AlarmPort {
  onStateChange?: (event: AlarmStateChangeEvent) => void | Promise<void>;
  private readonly states = new Map<string, AlarmStateDetail>();
  /** When each alarm's last change between OK and INSUFFICIENT_DATA was, ms: the next waits a window. */
  private readonly settledAt = new Map<string, number>();
  private readonly policy: InsufficientDataPolicy;
  private readonly region: string;
  private readonly account: string;
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly alb: Pick<LocalAlb, 'window'>,
    private readonly definitions: readonly LocalAlarmDefinition[] = defaultLocalAlarms(),
    /** A policy (the historical third argument) or the full options. */
    options: InsufficientDataPolicy | LocalAlarmsOptions = {},
  ) {
    const settings: LocalAlarmsOptions = typeof options === 'string' ? { policy: options } : options;
    this.policy = settings.policy ?? 'not-firing';
    this.region = settings.region ?? LOCAL_ALARM_REGION;
    this.account = settings.account ?? LOCAL_ALARM_ACCOUNT;
    this.now = settings.now ?? (() => new Date());
    this.onStateChange = settings.onStateChange;
    const names = new Set<string>();
    for (const definition of definitions) {
      if (names.has(definition.name)) throw new RangeError(`two local alarms are named ${definition.name}`);
      names.add(definition.name);
    }
  }

  alarmArn(name: string): string {
    return `arn:aws:cloudwatch:${this.region}:${this.account}:alarm:${name}`;
  }

  /**
   * The state an alarm takes now. ALARM, and leaving it, come at once. Between OK and INSUFFICIENT_DATA a
   * sliding window whose count hovers about `minRequests` would flip at every pass (twenty times a minute at a
   * gate with a thin share): an alarm with data keeps its state until fewer than half the requests it needs are
   * left, and no such change follows another within a window. Neither state fires, so holding one costs nothing.
   */
  private settle(
    definition: LocalAlarmDefinition,
    judged: { value: AlarmStateValue; reason: string; requests: number },
    now: number,
  ): { value: AlarmStateValue; reason: string } {
    const previous = this.states.get(definition.name);
    if (!previous || previous.value === judged.value) return judged;
    if (judged.value === 'ALARM' || previous.value === 'ALARM') return judged;
    const since = this.settledAt.get(definition.name);
    const resting = since !== undefined && now - since < definition.windowMs;
    const thin = judged.requests < definition.minRequests / 2;
    if (resting || (judged.value === 'INSUFFICIENT_DATA' && !thin)) return previous;
    return judged;
  }

  /** The state and reason each alarm has right now, from the ALB's window counts. */
  private judge(definition: LocalAlarmDefinition): {
    value: AlarmStateValue;
    reason: string;
    requests: number;
  } {
    const window = this.alb.window(definition.group, definition.windowMs, definition.scope ?? 'all');
    if (window.requests < definition.minRequests) {
      return {
        value: 'INSUFFICIENT_DATA',
        requests: window.requests,
        reason: `${window.requests} requests to ${definition.group} in ${definition.windowMs} ms, fewer than the ${definition.minRequests} needed`,
      };
    }
    const rate = definition.kind === '5xx-rate';
    const value = rate ? window.errorRate : window.p99LatencyMs;
    const shown = rate ? `5xx rate ${(value * 100).toFixed(1)} %` : `p99 ${Math.round(value)} ms`;
    const limit = rate ? `${(definition.threshold * 100).toFixed(1)} %` : `${definition.threshold} ms`;
    const breaching = value > definition.threshold;
    return {
      value: breaching ? 'ALARM' : 'OK',
      requests: window.requests,
      reason: `Threshold ${breaching ? 'Crossed' : 'not crossed'}: ${definition.group} ${shown} ${breaching ? '>' : '<='} ${limit} over ${window.requests} requests in ${definition.windowMs} ms`,
    };
  }

  async evaluate(): Promise<AlarmEvaluation> {
    const alarms: AlarmStatus[] = this.definitions.map((definition) => {
      const { value, reason } = this.settle(definition, this.judge(definition), this.now().getTime());
      return alarmStatusFrom(definition.name, value, reason, this.policy);
    });
    return { alarms, firing: alarms.filter((alarm) => alarm.firing) };
  }

  /**
   * One evaluation pass: an event for each alarm whose state changed since the last pass. Alarms start in
   * INSUFFICIENT_DATA, as a new CloudWatch alarm does.
   */
  tick(): AlarmStateChangeEvent[] {
    const events: AlarmStateChangeEvent[] = [];
    const at = this.now();
    const now = at.toISOString();
    for (const definition of this.definitions) {
      const judged = this.settle(definition, this.judge(definition), at.getTime());
      let previous = this.states.get(definition.name);
      if (!previous) {
        previous = {
          value: 'INSUFFICIENT_DATA',
          reason: 'Unchecked: Initial alarm creation',
          timestamp: now,
        };
        this.states.set(definition.name, previous);
      }
      if (previous.value === judged.value) continue;
      if (judged.value !== 'ALARM' && previous.value !== 'ALARM')
        this.settledAt.set(definition.name, at.getTime());
      const state: AlarmStateDetail = { value: judged.value, reason: judged.reason, timestamp: now };
      this.states.set(definition.name, state);
      events.push({
        version: '0',
        id: randomUUID(),
        'detail-type': 'CloudWatch Alarm State Change',
        source: 'aws.cloudwatch',
        account: this.account,
        time: now,
        region: this.region,
        resources: [this.alarmArn(definition.name)],
        detail: {
          alarmName: definition.name,
          configuration: { description: describeAlarm(definition) },
          state,
          previousState: previous,
        },
      });
    }
    for (const event of events) this.deliver(event);
    return events;
  }

  // A failing consumer must not stop the evaluator, as a failed Lambda does not stop CloudWatch.
  private deliver(event: AlarmStateChangeEvent): void {
    try {
      const delivered = this.onStateChange?.(event);
      if (delivered instanceof Promise) delivered.catch(() => {});
    } catch {
      // ignored on purpose: see above
    }
  }

  start(intervalMs = 250): void {
    this.stop();
    this.timer = setInterval(() => this.tick(), intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
