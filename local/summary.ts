import type { DeliveredSplit } from '#domain/delivered-split.ts';
import type {
  CutoverFreezeRecord,
  FreezeRecord,
  Plan,
  TrafficMode,
  Weights,
  WriteExposure,
} from '#domain/types.ts';
import type { ScrollTally } from './client-traffic.ts';
import type { Divergence } from './divergence.ts';
import type { ExposureMeasure } from './exposure-measure.ts';
import type { TimelineData } from './timeline.ts';
import type { WriteRetryTally } from './traffic.ts';

/**
 * What a local run tells the world: its exit codes, the summary (`--json`, the live view's last frame, the
 * report) and the terminal it writes to. Types of their own, so the view and the report need not import the
 * run that feeds them.
 */

export const EXIT = {
  completed: 0,
  rolledBack: 1,
  badInput: 2,
  haltedOrInternal: 3,
  /** Ctrl-C: the shell's code for a process ended by SIGINT (128 + 2). */
  interrupted: 130,
} as const;

export interface StepSummary {
  /** 0-based index in the steps the rollout runs (reads-first: the plan's read steps, then the cutover). */
  readonly index: number;
  /** 1-based, of `of`: the numbering the live view, the log and the report use. */
  readonly number: number;
  /** How many steps the rollout runs: the plan's, and in reads-first mode the write cutover after them. */
  readonly of: number;
  /** Reads-first: a read step (the read rules' share) or the write cutover (the default action). */
  readonly kind?: 'reads' | 'cutover' | 'pins';
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
  readonly outcome: 'completed' | 'rolled-back' | 'rehearsed' | 'halted' | 'failed' | 'interrupted';
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
    /** 404s no missing document, index or scroll context explains: an API a cluster did not answer; stays 0. */
    unknownApi: number;
    /** The clients' scrolls; `wrongCluster` counts continuations another cluster than the opening one answered. */
    scrolls: ScrollTally;
    /** Writes answered 503 and retried as OpenSearch clients do (the write freeze's refusals among them). */
    writeRetries?: WriteRetryTally;
  };
  /**
   * Measured from the stand-ins' own documents once the replayer drained (absent with upstream clusters):
   * what the run left on one cluster and not the other.
   */
  readonly divergence?: LocalDivergence;
  /** How the rollout moved traffic: every request by weight, or reads first and writes at the cutover. */
  readonly traffic: TrafficMode;
  /**
   * Reads-first: when writes were cut over to the target, the instant of the cutover's write of the default
   * action, as its weights event, the live view and the report have it (absent: they never were).
   */
  readonly cutoverAt?: string;
  /**
   * Reads-first: writes clients sent straight to the target before and after the cutover, from the target
   * stand-in's own log (absent with upstream clusters). Before it there must be none.
   */
  readonly targetWrites?: { readonly beforeCutover: number; readonly afterCutover: number };
  /** What a rollback (or a hold) after the cutover left on the target only. */
  readonly exposure?: LocalExposure;
  /** With reverse capture, a rollback after the cutover's write freeze and the reverse replayer's drain. */
  readonly freeze?: LocalFreeze;
  /** Reads-first: the write cutover's brief freeze while the forward replayer emptied. */
  readonly cutoverFreeze?: LocalCutoverFreeze;
  /** Rules of Swing's still on the local listener at the end: none, unless a hand change or a hold left them. */
  readonly swingRulesLeft: number;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly durationMs: number;
  readonly plan: Plan;
  /** Per-second series and the events of the run: what the live view and the report draw. */
  readonly timeline: TimelineData;
}

/** The record's cutover freeze, with its length worked out. */
export interface LocalCutoverFreeze extends CutoverFreezeRecord {
  /** From `frozenAt` to `liftedAt`: how long writes were answered 503 for the cutover. */
  readonly durationMs?: number;
}

/** The record's freeze, with its lengths worked out. */
export interface LocalFreeze extends FreezeRecord {
  /** From `frozenAt` to `liftedAt`: how long every write was answered 503. */
  readonly durationMs?: number;
  /** From `frozenAt` to `drainEndedAt`: how long the reverse replayer took to apply what was left. */
  readonly drainMs?: number;
  /** The drain's bound, from `frozenAt` (or `startedAt`) to `drainDeadline`. */
  readonly drainTimeoutMs: number;
}

/** The record's exposure report, and the local mode's exact measure of the same window. */
export interface LocalExposure extends WriteExposure {
  readonly measured?: ExposureMeasure;
}

export interface LocalDivergence extends Divergence {
  /** Writes clients sent straight to the target (not replayed onto it): they exist on the target only. */
  readonly targetDirectWrites: number;
  /** When the first of them arrived, ISO 8601. */
  readonly firstTargetDirectWriteAt?: string;
  /**
   * Reads-first rollouts only: the target's direct writes from before the write cutover started (all of them
   * when there was no cutover). Writes are all-source until the cutover, so it must be 0.
   */
  readonly targetDirectWritesBeforeCutover?: number;
  /** The source path's replayer when the divergence was measured. */
  readonly replay: {
    readonly lagMs: number;
    /** False when writes were still pending at the measure: they count as source-only. */
    readonly drained: boolean;
    readonly captured: number;
    readonly replayed: number;
    readonly pending: number;
    readonly failed: number;
    readonly maxLagMs: number;
    /**
     * Reads-first, after the write cutover: writes it applied to the target from the cutover to the restore (or
     * the end), while clients wrote there directly. Each was captured before the cutover and lands after writes
     * clients made since, to the same documents perhaps: the cutover does not wait for the replayer to be empty.
     */
    readonly appliedAfterCutover?: number;
  };
  /**
   * With reverse capture: the target path's reverse replayer (the target's accepted writes onto the source)
   * when the divergence was measured.
   */
  readonly reverseReplay?: {
    readonly lagMs: number;
    readonly drained: boolean;
    readonly captured: number;
    readonly replayed: number;
    readonly pending: number;
    readonly failed: number;
    readonly maxLagMs: number;
    /**
     * After a rollback: writes it applied to the source after the starting weights were restored, when clients
     * write there again (each may land over a newer write). A drain before the restore leaves none.
     */
    readonly appliedAfterRestore?: number;
  };
}

/** Documents both stand-ins hold from the start (the backfill); the clients' ids start among them. */
export const LOCAL_INITIAL_DOCUMENTS = 100;

/** The terminal stdout writes to, when it is one: its size now, and word when it changes. */
export interface TerminalSize {
  readonly columns: number;
  readonly rows: number;
  on(event: 'resize', listener: () => void): unknown;
  off(event: 'resize', listener: () => void): unknown;
}

export interface LocalIo {
  readonly stdout: (text: string) => void;
  readonly isTTY: boolean;
  /** Present when stdout is a terminal: the live view fits its width and follows a resize. */
  readonly terminal?: TerminalSize;
  /** Keystrokes from the terminal (p promotes a gate, a aborts); returns a function that stops listening. */
  readonly keys?: (listener: (key: string) => void) => () => void;
  /** Aborted on Ctrl-C: the run stops the execution, lets the safety net restore, and summarizes. */
  readonly interrupt?: AbortSignal;
  /** Aborted on a second Ctrl-C, just before the process ends at once: the view replaces its panel with why. */
  readonly forceStop?: AbortSignal;
  /** Environment for NO_COLOR; process.env by default. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}
