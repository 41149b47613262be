import { alarmStatusFrom } from '#adapters/alarms.ts';
import type { AlarmEvaluation, AlarmPort, AlarmStatus, InsufficientDataPolicy } from '#domain/types.ts';
import type { Group, LocalAlb } from './alb.ts';

export interface LocalAlarmDefinition {
  readonly name: string;
  readonly group: Group;
  readonly kind: '5xx-rate' | 'p99-latency';
  /** A fraction for 5xx-rate, milliseconds for p99-latency. */
  readonly threshold: number;
  readonly windowMs: number;
  /** Below this many requests in the window the alarm has INSUFFICIENT_DATA, as a sparse CloudWatch metric. */
  readonly minRequests: number;
}

/** The same shape EventBridge delivers for "CloudWatch Alarm State Change". */
export interface AlarmStateChangeEvent {
  readonly source: 'aws.cloudwatch';
  readonly 'detail-type': 'CloudWatch Alarm State Change';
  readonly time: string;
  readonly resources: string[];
  readonly detail: {
    readonly alarmName: string;
    readonly state: { readonly value: string; readonly reason: string; readonly timestamp: string };
    readonly previousState: { readonly value: string };
  };
}

export function defaultLocalAlarms(): LocalAlarmDefinition[] {
  return [
    {
      name: 'local-target-5xx-rate',
      group: 'target',
      kind: '5xx-rate',
      threshold: 0.05,
      windowMs: 3000,
      minRequests: 20,
    },
    {
      name: 'local-target-p99-latency',
      group: 'target',
      kind: 'p99-latency',
      threshold: 1000,
      windowMs: 3000,
      minRequests: 20,
    },
  ];
}

/**
 * Alarms judged from the local ALB's real per-target-group counts, like CloudWatch alarms on the ALB's
 * metrics. A periodic evaluator emits state changes in EventBridge's shape, so the alarm-event handler of the
 * AWS path is the one that reacts.
 */
export class LocalAlarms implements AlarmPort {
  onStateChange?: (event: AlarmStateChangeEvent) => void;
  private readonly states = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly alb: Pick<LocalAlb, 'window'>,
    private readonly definitions: readonly LocalAlarmDefinition[],
    private readonly policy: InsufficientDataPolicy = 'not-firing',
  ) {}

  private judge(definition: LocalAlarmDefinition): AlarmStatus {
    const window = this.alb.window(definition.group, definition.windowMs);
    if (window.requests < definition.minRequests) {
      return alarmStatusFrom(
        definition.name,
        'INSUFFICIENT_DATA',
        `${window.requests} requests in ${definition.windowMs} ms, fewer than ${definition.minRequests}`,
        this.policy,
      );
    }
    const value = definition.kind === '5xx-rate' ? window.errorRate : window.p99LatencyMs;
    const shown =
      definition.kind === '5xx-rate'
        ? `5xx rate ${(value * 100).toFixed(1)} %`
        : `p99 ${Math.round(value)} ms`;
    const limit =
      definition.kind === '5xx-rate'
        ? `${(definition.threshold * 100).toFixed(1)} %`
        : `${definition.threshold} ms`;
    const breaching = value > definition.threshold;
    return alarmStatusFrom(
      definition.name,
      breaching ? 'ALARM' : 'OK',
      `Threshold ${breaching ? 'Crossed' : 'not crossed'}: ${definition.group} ${shown} ${breaching ? '>' : '<='} ${limit} over ${window.requests} requests`,
      this.policy,
    );
  }

  async evaluate(): Promise<AlarmEvaluation> {
    const alarms = this.definitions.map((definition) => this.judge(definition));
    return { alarms, firing: alarms.filter((alarm) => alarm.firing) };
  }

  /** One evaluation pass: emits an event for each alarm whose state changed since the last pass. */
  tick(): void {
    for (const status of this.definitions.map((definition) => this.judge(definition))) {
      const previous = this.states.get(status.name) ?? 'INSUFFICIENT_DATA';
      this.states.set(status.name, status.state);
      if (previous === status.state) continue;
      const now = new Date().toISOString();
      this.onStateChange?.({
        source: 'aws.cloudwatch',
        'detail-type': 'CloudWatch Alarm State Change',
        time: now,
        resources: [`arn:aws:cloudwatch:us-east-1:000000000000:alarm:${status.name}`],
        detail: {
          alarmName: status.name,
          state: { value: status.state, reason: status.reason, timestamp: now },
          previousState: { value: previous },
        },
      });
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
