/**
 * Domain errors. Each class's `name` is the Step Functions error name that the ASL matches in
 * `ErrorEquals`, so `WeightsDrifted` means one thing in the domain, the handlers and the state machine.
 * Lambda's Node.js runtime reports `error.name` as the errorType, which Step Functions uses as the error.
 */
export abstract class SwingError extends Error {
  abstract override readonly name: SwingErrorName;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export const SWING_ERROR_NAMES = [
  'ValidationFailed',
  'ListenerShapeInvalid',
  'AlarmFiring',
  'AlarmFired',
  'SmokeTestFailed',
  'WeightsDrifted',
  'WeightsNotApplied',
  'TargetUnhealthy',
  'RolloutLocked',
  'ListenerQuiet',
  'LockLost',
  'Aborted',
  'Paused',
  'GateTimedOut',
  'TransientFailure',
  'RestoreRaisesTarget',
  'Superseded',
  'ReplayLagging',
  'ReplayLagTimedOut',
  'HeldAfterCutover',
  'RecordMalformed',
  'DrainPending',
] as const;
export type SwingErrorName = (typeof SWING_ERROR_NAMES)[number];

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `plan.steps[1].targetPercent`. */
  readonly field: string;
  /** What is wrong and how to fix it. */
  readonly message: string;
}

/** Input that cannot be used. Nothing has been written when this is thrown (I6). */
export class ValidationFailed extends SwingError {
  readonly name = 'ValidationFailed' as const;
  readonly issues: readonly FieldIssue[];
  constructor(issues: readonly FieldIssue[], options?: { cause?: unknown }) {
    super(issues.map((issue) => `${issue.field}: ${issue.message}`).join('; '), options);
    this.issues = issues;
  }
}

/** The listener's default action is not a forward to exactly the configured source and target groups. */
export class ListenerShapeInvalid extends SwingError {
  readonly name = 'ListenerShapeInvalid' as const;
}

/**
 * A rule of Swing's is no longer on the listener: someone deleted it. To the state machine it is
 * `ListenerShapeInvalid` (its name); in process, `instanceof RuleGone` lets the engine treat the rule as gone
 * (nothing left to reset or remove) instead of halting.
 */
export class RuleGone extends ListenerShapeInvalid {
  constructor(
    readonly ruleArn: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A watched alarm is in ALARM (or unreadable) when a check runs: no weight may go up (I2). */
export class AlarmFiring extends SwingError {
  readonly name = 'AlarmFiring' as const;
  constructor(
    message: string,
    readonly alarms: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An alarm state change reached a running bake or gate through EventBridge (I5). */
export class AlarmFired extends SwingError {
  readonly name = 'AlarmFired' as const;
}

export class SmokeTestFailed extends SwingError {
  readonly name = 'SmokeTestFailed' as const;
}

/** The listener's weights are not what Swing last wrote: someone changed them by hand (I4). */
export class WeightsDrifted extends SwingError {
  readonly name = 'WeightsDrifted' as const;
}

/** ModifyListener returned but reading the listener back did not show the weights Swing wrote. */
export class WeightsNotApplied extends SwingError {
  readonly name = 'WeightsNotApplied' as const;
}

/** The target target group has no healthy targets: it must never be handed more traffic. */
export class TargetUnhealthy extends SwingError {
  readonly name = 'TargetUnhealthy' as const;
}

/** Another execution holds the listener's lock (I3). */
export class RolloutLocked extends SwingError {
  readonly name = 'RolloutLocked' as const;
  constructor(
    message: string,
    readonly holder: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The lock is free, but the rollout that released it may still have an attempt running that can write the
 * listener (a Lambda outlives its state): no rollout starts before `quietUntil` (quiet.ts).
 */
export class ListenerQuiet extends SwingError {
  readonly name = 'ListenerQuiet' as const;
  constructor(
    message: string,
    readonly quietUntil: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** This execution no longer holds the lock it took (for example the safety net released it). */
export class LockLost extends SwingError {
  readonly name = 'LockLost' as const;
}

/**
 * A task attempt that Step Functions already gave up on (its answer was lost and a retry moved on, or it ran
 * too slowly): a later bake or gate opened, or the rollout is rolling back or completing, so it writes nothing.
 */
export class Superseded extends SwingError {
  readonly name = 'Superseded' as const;
}

/**
 * Reads-first: the replayer has not caught up with the source, so the step may not go yet. The state machine
 * waits for it (event-driven, bounded) and rolls back when the wait times out.
 */
export class ReplayLagging extends SwingError {
  readonly name = 'ReplayLagging' as const;
}

/**
 * Reads-first: a step has waited for the replayer longer than replayWaitSeconds in all (each wait's own timeout
 * restarts when an OK event releases it and the replayer lags again): the rollout rolls back, as on the timeout.
 */
export class ReplayLagTimedOut extends SwingError {
  readonly name = 'ReplayLagTimedOut' as const;
}

/**
 * Reads-first, after the write cutover, with the `hold` policy: a failure does not send writes back to the
 * source (they would miss what the target took); Swing holds them on the target and halts, loudly.
 */
export class HeldAfterCutover extends SwingError {
  readonly name = 'HeldAfterCutover' as const;
}

/** An operator asked for the rollout to stop and roll back. */
export class Aborted extends SwingError {
  readonly name = 'Aborted' as const;
}

/**
 * An operator paused the rollout: the next step does not start (nor does Complete end it) until `swing resume`
 * or `swing promote`. The state machine holds at PauseHold, whose timeout rolls back (a pause never promotes).
 */
export class Paused extends SwingError {
  readonly name = 'Paused' as const;
}

/** A manual gate waited longer than its timeout and its timeout action is to roll back. */
export class GateTimedOut extends SwingError {
  readonly name = 'GateTimedOut' as const;
}

/**
 * A restore (rollback, safety net, reconciler, `swing rollback --force`) would raise the target's share above
 * what the listener gives it now: the record's starting weights cannot be trusted (a caller with only
 * UpdateItem on the record can aim them at the target). Nothing is written; the rollout halts.
 */
export class RestoreRaisesTarget extends SwingError {
  readonly name = 'RestoreRaisesTarget' as const;
}

/**
 * The rollout's record lacks what a restore needs (its starting weights are null, 0/0 or missing): Swing
 * cannot know what to restore, so it halts, leaves the listener as it is, notifies and frees the lock.
 */
export class RecordMalformed extends SwingError {
  readonly name = 'RecordMalformed' as const;
}

/**
 * Reverse capture: writes are frozen and the reverse replayer has not drained yet, and the drain's deadline has not
 * passed: nothing restores before one or the other. Rollback's Retry tries again; the safety net's invocation
 * is retried (or the reconciler acts) later.
 */
export class DrainPending extends SwingError {
  readonly name = 'DrainPending' as const;
}

/** An AWS call failed in a way worth retrying (throttling, 5xx). The ASL retries this name with backoff. */
export class TransientFailure extends SwingError {
  readonly name = 'TransientFailure' as const;
}

const TRANSIENT_AWS_ERRORS = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalServerError',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

/** True for AWS SDK errors that a retry with backoff can fix. */
export function isTransientAwsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const fault = (error as { $fault?: string }).$fault;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return TRANSIENT_AWS_ERRORS.has(error.name) || fault === 'server' || status === 429 || (status ?? 0) >= 500;
}

/** Wraps transient AWS errors as `TransientFailure` so the ASL's Retry can match one name. */
export function classifyAwsError(error: unknown, doing: string): unknown {
  if (error instanceof SwingError) return error;
  if (isTransientAwsError(error)) {
    return new TransientFailure(`${doing}: ${(error as Error).name}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return error;
}

/**
 * `error` with every occurrence of `secret` (a task token) in its message and stack, and those of its
 * causes, replaced by `<task token>`. AWS echoes a bad parameter's value in its message, and whatever a handler
 * throws is logged (by Swing, by the Lambda runtime, in a dead-letter message) or printed by the CLI.
 */
export function withoutSecret<T>(error: T, secret: string): T {
  const hide = (text: string) => text.split(secret).join('<task token>');
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    if (current.message.includes(secret)) current.message = hide(current.message);
    if (current.stack?.includes(secret)) current.stack = hide(current.stack);
    current = current.cause;
  }
  return error;
}
