import {
  DEFAULT_DELIVERED_SPLIT_POLICY,
  type DeliveredSplit,
  type DeliveredSplitPolicy,
} from '#domain/delivered-split.ts';
import type { AlarmStateValue, StepRecord, Weights } from '#domain/types.ts';
import { weightsToPercent } from '#domain/weights.ts';
import type { AlbTotals, Group, LocalAlb } from './alb.ts';
import {
  type EventRecorder,
  type EventSource,
  type LocalEvent,
  startsStepWithoutWrite,
  type UnstampedEvent,
} from './events.ts';
import { cutoverWriteIndex, type ExposureMeasure, measureExposure } from './exposure-measure.ts';
import type { RequestKindCounts } from './request-kinds.ts';
import {
  type ReadRuleWrite,
  routedByRoute,
  type SplitSources,
  type StepStart,
  stepSplit,
  type WeightWrite,
} from './step-splits.ts';

/**
 * One record of a local run, kept in one place for the live view, the `--json` summary and the HTML report:
 * per-second series of the weighted listener's traffic, and the events (local/events.ts) in order.
 */

/** Column-wise, one entry per sampled second, as a chart takes them. */
export interface LocalSeries {
  /** Unix time of each sample, seconds (fractional). */
  readonly t: number[];
  /** The target's share of the weights at the sample, percent. */
  readonly targetPercent: number[];
  /** Requests per second each cluster answered through the weighted listener. */
  readonly rps: Record<Group, number[]>;
  /** 5xx share of those answers, percent (0 when there were none). */
  readonly errorPercent: Record<Group, number[]>;
  /** p99 latency of those answers over the second, ms (null when there were none). */
  readonly p99LatencyMs: Record<Group, (number | null)[]>;
}

/** The run's events: phases, the smoke verdict, weight writes, alarm changes, operator acts, faults. */
export type TimelineEvent = LocalEvent;

export interface TimelineData {
  readonly series: LocalSeries;
  readonly events: readonly TimelineEvent[];
  /** Reads-first: each write of a read rule's weights (null: the rule was deleted), for the read share's line. */
  readonly readRuleWrites: readonly ReadRuleShare[];
}

export interface ReadRuleShare {
  readonly at: string;
  /** The rule's ARN. */
  readonly route: string;
  /** The target's share of the rule's weights, percent; null once the rule is deleted. */
  readonly targetPercent: number | null;
}

type Source = Pick<LocalAlb, 'totals' | 'window' | 'getWeights'>;

export class LocalTimeline implements EventRecorder, EventSource {
  private readonly series: LocalSeries = {
    t: [],
    targetPercent: [],
    rps: { source: [], target: [] },
    errorPercent: { source: [], target: [] },
    p99LatencyMs: { source: [], target: [] },
  };
  private readonly events: TimelineEvent[] = [];
  private readonly boundaries: WeightWrite[] = [];
  private readonly ruleWrites: ReadRuleWrite[] = [];
  private readonly stepStarts: StepStart[] = [];
  private readonly listeners = new Set<(event: TimelineEvent) => void>();
  private lastSample: { at: number; totals: AlbTotals } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly alb: Source,
    private readonly now: () => number = Date.now,
    /** The requests routed to the target so far, by kind (reads-first's reads and writes). */
    private readonly kinds: () => RequestKindCounts = () => ({ reads: 0, writes: 0 }),
  ) {}

  /** Calls `listener` for every event from now on; returns the unsubscribe. */
  subscribe(listener: (event: TimelineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Samples once a second until `stop()`; the first sample is taken at once. */
  start(intervalMs = 1000): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
  }

  /**
   * Call synchronously where the weights change (before any other request can arrive): the routed counts
   * taken here split the traffic exactly between the old weights and the new.
   */
  recordWeights(weights: Weights): void {
    const at = this.now();
    const totals = this.alb.totals();
    this.boundaries.push({
      at,
      weights,
      routed: totals.routed,
      byRoute: routedByRoute(totals),
      kinds: this.kinds(),
    });
    this.emit({ at: iso(at), kind: 'weights', weights, targetPercent: round(weightsToPercent(weights)) });
  }

  recordAlarm(change: {
    alarm: string;
    state: AlarmStateValue;
    previous: AlarmStateValue;
    reason: string;
    at?: string;
  }): void {
    this.emit({ at: change.at ?? iso(this.now()), kind: 'alarm', ...change });
  }

  /** Records any other event (phases, smoke, operator acts, faults), stamped now unless it has its own time. */
  record(event: UnstampedEvent): LocalEvent {
    const stamped = { ...event, at: event.at ?? iso(this.now()) } as LocalEvent;
    this.emit(stamped);
    return stamped;
  }

  sample(): void {
    const at = this.now();
    const totals = this.alb.totals();
    const previous = this.lastSample;
    this.lastSample = { at, totals };
    if (!previous) return;
    const seconds = (at - previous.at) / 1000;
    if (seconds <= 0) return;
    this.series.t.push(at / 1000);
    this.series.targetPercent.push(round(weightsToPercent(this.alb.getWeights())));
    for (const group of ['source', 'target'] as const) {
      const requests = totals.weighted[group].requests - previous.totals.weighted[group].requests;
      const errors = totals.weighted[group].errors5xx - previous.totals.weighted[group].errors5xx;
      this.series.rps[group].push(round(requests / seconds));
      this.series.errorPercent[group].push(requests === 0 ? 0 : round((errors / requests) * 100));
      const window = this.alb.window(group, at - previous.at, 'weighted');
      this.series.p99LatencyMs[group].push(window.requests === 0 ? null : round(window.p99LatencyMs));
    }
  }

  /** A read rule's weights written (undefined: deleted): call synchronously, as `recordWeights`. */
  recordRuleWrite(write: ReadRuleWrite): void {
    this.ruleWrites.push(write);
  }

  /**
   * The delivered split of each recorded step, exactly (local/step-splits.ts): from the write of the step's
   * weights to the next write that ends it (the next step, or the restore), or to now.
   */
  stepSplits(
    steps: readonly StepRecord[],
    policy: DeliveredSplitPolicy = DEFAULT_DELIVERED_SPLIT_POLICY,
  ): DeliveredSplit[] {
    const sources = this.splitSources();
    return steps.map((step) => stepSplit(step, sources, policy));
  }

  /** The split of `step` from its write until now: what the engine records after the bake. */
  splitUntilNow(
    step: StepRecord,
    policy: DeliveredSplitPolicy = DEFAULT_DELIVERED_SPLIT_POLICY,
  ): DeliveredSplit {
    return stepSplit(step, this.splitSources(), policy);
  }

  /**
   * The requests the weighted listener sent to the target between two instants, exactly, as the exposure
   * report asks them: from the last weight write at or before `from` (the cutover's, which `from` follows) to
   * the last at or before `to` (the restore's), or to now when there is none after the first (a hold).
   */
  targetRequestsBetween(from: Date, to: Date): number {
    const lastAtOrBefore = (ms: number) => this.boundaries.findLast((write) => write.at <= ms);
    const start = lastAtOrBefore(from.getTime());
    const end = lastAtOrBefore(to.getTime());
    const endRouted = end && end !== start ? end.routed : this.alb.totals().routed;
    return endRouted.target - (start?.routed.target ?? 0);
  }

  /** The write exposure to the millisecond: from the cutover's write to the restore's (or to now). */
  exposure(cutoverStartedAt: string): ExposureMeasure | undefined {
    return measureExposure(this.boundaries, Date.parse(cutoverStartedAt), {
      at: this.now(),
      routed: this.alb.totals().routed,
      kinds: this.kinds(),
    });
  }

  /**
   * When the cutover's write of the default action took effect, ISO 8601: the instant the weights event, the
   * live view and the report show (the record's cutoverAt follows it by a few milliseconds). Undefined: none.
   */
  cutoverWriteAt(cutoverStartedAt: string): string | undefined {
    const write = this.boundaries[cutoverWriteIndex(this.boundaries, Date.parse(cutoverStartedAt))];
    return write ? iso(write.at) : undefined;
  }

  /** The last time the weights were written, ms; undefined before the first write. */
  lastWriteAt(): number | undefined {
    return this.boundaries.at(-1)?.at;
  }

  data(): TimelineData {
    return {
      series: structuredClone(this.series),
      events: [...this.events],
      readRuleWrites: this.ruleWrites.map((write) => ({
        at: iso(write.at),
        route: write.route,
        targetPercent: write.weights ? round(weightsToPercent(write.weights)) : null,
      })),
    };
  }

  private splitSources(): SplitSources {
    const totals = this.alb.totals();
    return {
      defaults: this.boundaries,
      starts: this.stepStarts,
      rules: this.ruleWrites,
      end: { at: this.now(), routed: totals.routed, byRoute: routedByRoute(totals) },
    };
  }

  private emit(event: TimelineEvent): void {
    if (startsStepWithoutWrite(event)) {
      const totals = this.alb.totals();
      this.stepStarts.push({
        at: Date.parse(event.at),
        routed: totals.routed,
        byRoute: routedByRoute(totals),
      });
    }
    this.events.push(event);
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A failing view must not stop the run or the other listeners.
      }
    }
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
