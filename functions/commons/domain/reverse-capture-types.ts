/** Reverse capture's types (issue 22): the settings, the reverse replayer's port, the freeze's record. */

/**
 * Reverse capture (after the write cutover): the target path's proxy captures what the target takes, and a reverse
 * replayer applies the target's accepted writes onto the source. Its lag alarm (OK = drained) tells a rollback when
 * nothing is left on the target only. Absent from EngineDeps: not configured, a rollback after the cutover reports
 * the write exposure as before.
 */
export interface ReverseCaptureSettings {
  /** The CloudWatch alarm on the reverse replayer's lag: OK means drained; its return to OK releases Drain. */
  readonly lagAlarm: string;
  /** What INSUFFICIENT_DATA on it means: `lagging` (default: no datapoint is never drained) or `caught-up`. */
  readonly missingData: 'lagging' | 'caught-up';
  /** How long a rollback keeps writes frozen waiting for the drain before it restores anyway. */
  readonly drainTimeoutSeconds: number;
}

/** Whether the reverse replayer has applied everything the target took onto the source. */
export interface ReverseReplayVerdict {
  readonly drained: boolean;
  /** What was read, in words: the alarm's state and threshold, or that it could not be read. */
  readonly detail: string;
  /** False when its alarm is missing or could not be read (Preflight: a rollback would not be lossless). */
  readonly readable?: boolean;
  /**
   * The instant up to which the verdict speaks: the lag alarm's state judges periods that ended before its last
   * evaluation (alarm-evidence.ts), so `drained` says nothing of the writes the target took after this. Absent: it
   * speaks for the moment of the check (an exact port, the local mode's).
   */
  readonly coversUntil?: string;
}

/** The reverse replayer's lag (like ReplayLagPort for the forward replayer): a missing or unreadable alarm is not drained. */
export interface ReverseReplayPort {
  check(): Promise<ReverseReplayVerdict>;
  /**
   * What this replayer and its drain signal cannot promise, in words. None for an exact one (the local mode's: it
   * knows its own queue and skips a write the target refused); on AWS, the Migration Assistant's replayer and its lag
   * alarm's (lossless.ts). Preflight calls a rollback after the cutover lossless only without any.
   */
  readonly limits?: readonly string[];
}

/** Requests the freeze rules answered with 503 between two instants, when something counts them (the local ALB). */
export interface FrozenRequestsPort {
  countBetween(from: Date, to: Date): Promise<number | undefined>;
}

/**
 * The write freeze of a rollback after the cutover (reverse capture configured): Swing's freeze rules answer every
 * non-read with 503 while the reverse replayer drains; then the starting weights come back and the freeze lifts.
 */
export interface FreezeRecord {
  /** Set just before the freeze's first CreateRule, so that a crash after it still counts as a freeze to lift. */
  readonly startedAt: string;
  /** When every freeze rule was created: non-reads are refused from here. */
  readonly frozenAt?: string;
  /** The drain's bound: `frozenAt` (or `startedAt`) plus the drain timeout. Nothing restores before the drain or this. */
  readonly drainDeadline: string;
  /** When the drain ended: the reverse lag alarm said drained, or the deadline passed. */
  readonly drainEndedAt?: string;
  /** `drained`: nothing is on the target only; `timed-out`: the exposure says what may not be replayed. */
  readonly drain?: 'drained' | 'timed-out';
  /** The reverse lag check's words when the drain ended. */
  readonly drainDetail?: string;
  /** When the freeze rules were removed (after the restore, or by whoever settled the rollout). */
  readonly liftedAt?: string;
  /** Non-reads the freeze answered 503, when counted (FrozenRequestsPort; the local ALB does, AWS does not). */
  readonly refusedWrites?: number;
  /** Why the freeze could not be made (ELBv2 refused a CreateRule): the rollback restored without a drain. */
  readonly failed?: string;
}

/** Preflight's verdict, before the cutover: would a rollback after it lose nothing? */
export interface LosslessVerdict {
  /** True only when reverse capture is configured, its drain signal is readable and nothing limits it (`limits`). */
  readonly lossless: boolean;
  /**
   * Reverse capture is configured: a rollback after the cutover freezes writes and waits for the reverse replayer.
   * Absent in records written before it existed, whose `lossless` meant this.
   */
  readonly reverseCapture?: boolean;
  /** Why, in words (the alarm, its state; or what to configure). */
  readonly detail: string;
  /** What keeps the freeze and drain short of lossless here (the port's limits), when any. */
  readonly limits?: readonly string[];
}

/**
 * The reads-first write cutover's freeze (whether or not reverse capture is configured): writes answered 503 from
 * `frozenAt` until the forward replayer has applied every write the source accepted before it, then the cutover's
 * ModifyListener, then the lift. Without it a write still queued in the replayer lands on the target after a
 * client's newer write to the same document.
 */
export interface CutoverFreezeRecord {
  /** Set just before the first CreateRule: a crash after it leaves a freeze whoever settles the rollout lifts. */
  readonly startedAt: string;
  /** Which freeze of this cutover, from 1: one that timed out is followed by at most MAX_CUTOVER_FREEZES in all. */
  readonly attempt?: number;
  /** Every freeze rule created. */
  readonly frozenAt?: string;
  /** `applied`: the replayer applied everything captured before the freeze; `timed-out`: not in time, no cutover. */
  readonly replay?: 'applied' | 'timed-out';
  /** The replayer check's words when the wait ended. */
  readonly replayDetail?: string;
  /** When the freeze rules were removed. */
  readonly liftedAt?: string;
  /** Non-reads the freeze answered 503, when counted (the local ALB does, AWS does not). */
  readonly refusedWrites?: number;
}
