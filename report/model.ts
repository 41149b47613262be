import type { DeliveredSplit } from '#domain/delivered-split.ts';
import type { Weights } from '#domain/types.ts';

/**
 * What a report shows, whichever run it comes from: a local run (per-second counts) or an AWS execution
 * (its history and CloudWatch's per-minute metrics). The HTML page draws only this.
 */
export interface ReportData {
  readonly title: string;
  readonly source: 'local' | 'aws';
  readonly execution: string;
  readonly outcome: string;
  readonly plan: string;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly weights: WeightSteps;
  readonly series: ReportSeries;
  readonly events: readonly ReportEvent[];
  readonly steps: readonly ReportStep[];
  readonly rollback?: ReportRollback;
  /** What the figures include and cannot see, shown under the charts. */
  readonly notes: readonly string[];
  /** When the file was written, ISO 8601. */
  readonly generatedAt: string;
}

/** Column-wise, as the chart takes them; null where there is no datapoint. */
export interface ReportSeries {
  /** Seconds between points: 1 for a local run, 60 for CloudWatch. */
  readonly resolutionSeconds: number;
  /** Unix time, seconds. */
  readonly t: readonly number[];
  readonly rps: PerCluster;
  readonly errorPercent: PerCluster;
  readonly latencyMs: PerCluster;
  /** What the latency figure is: "p99 over the second", "average TargetResponseTime". */
  readonly latencyLabel: string;
}

/** The target's share of the weights as a step line: one point per write, and one at the end. */
export interface WeightSteps {
  /** Unix time, seconds. */
  readonly t: readonly number[];
  readonly targetPercent: readonly number[];
}

export interface PerCluster {
  readonly source: readonly (number | null)[];
  readonly target: readonly (number | null)[];
}

export interface ReportEvent {
  readonly at: string;
  readonly kind: 'weights' | 'phase' | 'alarm' | 'gate' | 'rollback' | 'outcome';
  readonly text: string;
  /** For alarm events: the state it entered, so ALARM can be marked on the charts. */
  readonly state?: string;
}

export interface ReportStep {
  readonly index: number;
  readonly percent: number;
  readonly weights?: Weights;
  readonly gate: boolean;
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly delivered?: DeliveredSplit;
  /** Reached but ended by the rollback, reached and passed, or never reached. */
  readonly state: 'passed' | 'rolled-back' | 'not-reached' | 'running';
}

export interface ReportRollback {
  readonly error: string;
  readonly cause: string;
  readonly alarm?: string;
  /** When the failure was signalled (the alarm's state change, the abort). */
  readonly at?: string;
  /** When the starting weights were back on the listener. */
  readonly restoredAt?: string;
  readonly msFromAlarmToRestore?: number;
}
