import {
  DEFAULT_DELIVERED_SPLIT_POLICY,
  type DeliveredSplit,
  type DeliveredSplitPolicy,
  judgeDeliveredSplit,
} from '#domain/delivered-split.ts';
import type { AlarmStateValue, StepRecord, Weights } from '#domain/types.ts';
import { sameWeights, weightsToPercent } from '#domain/weights.ts';
import type { AlbTotals, Group, LocalAlb } from './alb.ts';
import type { EventRecorder, EventSource, LocalEvent, UnstampedEvent } from './events.ts';

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
}

interface Boundary {
  readonly at: number;
  readonly weights: Weights;
  readonly routed: AlbTotals['routed'];
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
  private readonly boundaries: Boundary[] = [];
  private readonly listeners = new Set<(event: TimelineEvent) => void>();
  private lastSample: { at: number; totals: AlbTotals } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly alb: Source,
    private readonly now: () => number = Date.now,
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
    this.boundaries.push({ at, weights, routed: this.alb.totals().routed });
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

  /**
   * The delivered split of each recorded step, exactly: the requests the weighted listener routed from the
   * write of the step's weights to the next write (the next step or the restore), or to `endedAt`.
   */
  stepSplits(
    steps: readonly StepRecord[],
    endedAt: number = this.now(),
    policy: DeliveredSplitPolicy = DEFAULT_DELIVERED_SPLIT_POLICY,
  ): DeliveredSplit[] {
    const endRouted = this.alb.totals().routed;
    return steps.map((step) => {
      const index = this.boundaryOf(step);
      const from = this.boundaries[index];
      const next = this.boundaries[index + 1];
      if (!from) {
        return judgeDeliveredSplit({ weights: step.weights, requests: { source: 0, target: 0 } }, policy);
      }
      const to = next?.routed ?? endRouted;
      return judgeDeliveredSplit(
        {
          weights: step.weights,
          requests: { source: to.source - from.routed.source, target: to.target - from.routed.target },
          from: iso(from.at),
          to: iso(next?.at ?? endedAt),
        },
        policy,
      );
    });
  }

  /** The split of `step` from its write until now: what the engine records after the bake. */
  splitUntilNow(
    step: StepRecord,
    policy: DeliveredSplitPolicy = DEFAULT_DELIVERED_SPLIT_POLICY,
  ): DeliveredSplit {
    const from = this.boundaries[this.boundaryOf(step)];
    const now = this.alb.totals().routed;
    return judgeDeliveredSplit(
      {
        weights: step.weights,
        requests: from
          ? { source: now.source - from.routed.source, target: now.target - from.routed.target }
          : { source: 0, target: 0 },
        ...(from ? { from: iso(from.at), to: iso(this.now()) } : {}),
      },
      policy,
    );
  }

  /** The last time the weights were written, ms; undefined before the first write. */
  lastWriteAt(): number | undefined {
    return this.boundaries.at(-1)?.at;
  }

  data(): TimelineData {
    return { series: structuredClone(this.series), events: [...this.events] };
  }

  // The write that started `step`: the first with its weights at or after the record's start (the engine
  // reads its clock just before it writes).
  private boundaryOf(step: StepRecord): number {
    const startedAt = Date.parse(step.startedAt);
    return this.boundaries.findIndex(
      (boundary) => boundary.at >= startedAt - 5 && sameWeights(boundary.weights, step.weights),
    );
  }

  private emit(event: TimelineEvent): void {
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
