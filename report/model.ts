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
  /** How the rollout moved traffic; absent: all (every request split by the default action's weights). */
  readonly traffic?: 'all' | 'reads-first';
  /** Reads-first: when the writes were cut over to the target (a marker on every chart). */
  readonly cutoverAt?: string;
  /** Reads-first: when the pins were removed, sending the pinned reads to the target (a marker). */
  readonly pinsRemovedAt?: string;
  /** Reads-first: the write exposure a rollback (or hold) after the cutover left (shaded on every chart). */
  readonly exposure?: ReportExposure;
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

/**
 * The target's share of the weights as a step line: one point per write, and one at the end. In reads-first the
 * write share (the default action's) and the read share (Swing's read rules', the default's once they are gone)
 * are two series over the same times.
 */
export interface WeightSteps {
  /** Unix time, seconds. */
  readonly t: readonly number[];
  /** The default action's target share: every request's in all mode, the writes' in reads-first. */
  readonly targetPercent: readonly number[];
  /** Reads-first: the reads' target share at each time. */
  readonly readPercent?: readonly number[];
}

/** The window after the write cutover whose writes are on the target only. */
export interface ReportExposure {
  /** The cutover's write. */
  readonly from: string;
  /** The restore's write, the hold, or the end of the run. */
  readonly to: string;
  readonly until: 'restore' | 'hold' | 'end-of-run';
  readonly windowMs: number;
  /** Requests the target took in the window; split into reads and writes where they were counted. */
  readonly targetRequests?: number;
  readonly reads?: number;
  readonly writes?: number;
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
  /** 1-based of `of`: one numbering over the steps the rollout runs, as the live view and the log have it. */
  readonly number?: number;
  readonly of?: number;
  /** Reads-first: a read step, the write cutover, or the pins' removal. Absent: all traffic. */
  readonly kind?: 'reads' | 'cutover' | 'pins';
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
