import {
  Aborted,
  ListenerQuiet,
  LockLost,
  Paused,
  RecordMalformed,
  RolloutLocked,
  Superseded,
  WeightsDrifted,
} from '#domain/errors.ts';
import { quietMessage, stillQuiet } from '#domain/quiet.ts';
import { recordedHalt } from '#domain/reads-first.ts';
import type {
  AcquireResult,
  Rollout,
  RolloutPatch,
  RolloutStatus,
  UpdateGuard,
  WaitOpening,
} from '#domain/types.ts';

// What both record stores share, so that the local mode and AWS behave and read the same.

/**
 * The rollout with `patch` applied: a key whose value is `undefined` is removed (so `taskToken: undefined`
 * closes the task), every other key is replaced whole.
 */
export function applyRolloutPatch(rollout: Rollout, patch: RolloutPatch): Rollout {
  const next: Record<string, unknown> = { ...rollout };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete next[key];
    else next[key] = value;
  }
  return next as unknown as Rollout;
}

export function lockedMessage(listenerArn: string, holder: string | undefined): string {
  return (
    `listener ${listenerArn} is held by rollout ${holder ?? '(holder not returned)'}: ` +
    'wait for it to finish, or abort it with `swing abort`'
  );
}

export function lockLostMessage(listenerArn: string, executionArn: string): string {
  return (
    `execution ${executionArn} does not hold the lock on listener ${listenerArn} (it was released, ` +
    'for example by the safety net, or another rollout holds it): this execution must not change the listener'
  );
}

/** What a refused acquire saw: who holds the lock, and whose rollout the record keeps (the last one when free). */
export interface LockFields {
  readonly holder?: string;
  readonly lastRollout?: string;
  /** The last rollout's quiet period (quiet.ts), when the lock is free. */
  readonly quietUntil?: string;
  /** The executions whose start was reported refused (`ListenerRecord.refusedStarts`). */
  readonly refusedStarts?: readonly string[];
}

/** How many refused starts the record keeps: more than can be refused within one Preflight attempt's life. */
export const REFUSED_STARTS_LIMIT = 50;

/** The refused starts a record lists, or undefined when the field is malformed (not a list of strings). */
export function refusedStartsIn(value: unknown): readonly string[] | undefined {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((entry) => typeof entry === 'string')) return undefined;
  return value;
}

/**
 * The list with `executionArn` appended, the oldest dropped beyond REFUSED_STARTS_LIMIT. A malformed list is
 * replaced whole: nothing in it can be trusted to name an execution, and an unreadable list must not stop the
 * refusal from being recorded (it is Swing's own bookkeeping, not what a restore reads).
 */
export function withRefusedStart(value: unknown, executionArn: string): string[] {
  const listed = refusedStartsIn(value) ?? [];
  return [...listed.filter((arn) => arn !== executionArn), executionArn].slice(-REFUSED_STARTS_LIMIT);
}

export function refusedStartMessage(listenerArn: string, executionArn: string): string {
  return (
    `execution ${executionArn} was reported refused on listener ${listenerArn}: a late attempt of its preflight ` +
    'must not take the lock'
  );
}

/**
 * Why an acquire by `executionArn` was refused, in both stores. Held by itself: an earlier attempt of this
 * preflight took it (a Lambda retry), and this one must not write. Free but its own rollout is the last one:
 * the execution already ran and released, and this is a stale attempt that woke up late.
 */
export function refusedAcquire(
  listenerArn: string,
  rollout: Pick<Rollout, 'executionArn' | 'startedAt'>,
  seen: LockFields,
  cause?: unknown,
): AcquireResult {
  const { executionArn } = rollout;
  if (seen.holder === executionArn) return 'already-held';
  if (seen.refusedStarts?.includes(executionArn)) {
    throw new LockLost(refusedStartMessage(listenerArn, executionArn), { cause });
  }
  if (seen.holder === undefined && seen.lastRollout === executionArn) {
    throw new LockLost(
      `execution ${executionArn} already released the lock on listener ${listenerArn}: a late attempt of its ` +
        'preflight must not take it again',
      { cause },
    );
  }
  if (seen.holder === undefined && seen.lastRollout !== undefined) {
    const last = { executionArn: seen.lastRollout, quietUntil: seen.quietUntil };
    if (stillQuiet(last, rollout.startedAt)) {
      throw new ListenerQuiet(quietMessage(listenerArn, last), seen.quietUntil as string, { cause });
    }
  }
  throw new RolloutLocked(lockedMessage(listenerArn, seen.holder), seen.holder, { cause });
}

export function nobodyHoldsMessage(listenerArn: string): string {
  return `no rollout holds listener ${listenerArn}: there is nothing to abort, pause or resume`;
}

/**
 * Whether a wait attempt may store its token on this rollout (the memory store's form of DynamoDB's condition):
 * no later attempt wrote, and the rollout is not ending.
 */
export function opensOn(rollout: Rollout, opening: WaitOpening): boolean {
  return !fencedOut(rollout, opening.attempt);
}

/**
 * What history may take of the listener's item. DynamoDB refuses an item over 400 KB, and a refused release
 * would keep the lock forever; the rest of the limit is left to the live rollout (a 50-step rollout with every
 * step measured is about 30 KB) and to the encoding.
 */
export const HISTORY_BUDGET_BYTES = 256 * 1024;

/**
 * The newest finished rollouts, at most `limit` of them and no more than fit in HISTORY_BUDGET_BYTES (their
 * JSON, which is larger than DynamoDB's encoding of the same), oldest first. The newest one is always kept.
 */
export function boundedHistory(history: readonly Rollout[], limit: number): Rollout[] {
  const kept: Rollout[] = [];
  let bytes = 0;
  for (let index = history.length - 1; index >= 0 && kept.length < limit; index -= 1) {
    const rollout = history[index] as Rollout;
    bytes += Buffer.byteLength(JSON.stringify(rollout));
    if (kept.length > 0 && bytes > HISTORY_BUDGET_BYTES) break;
    kept.unshift(rollout);
  }
  return kept;
}

/** The statuses after which no step task may write: the rollout is ending. */
export const ENDING_STATUSES: readonly RolloutStatus[] = ['rolling-back', 'completing'];

/** Whether `fence` is a stale attempt's (see `RolloutStore.update`): the memory store's form of the condition. */
export function fencedOut(rollout: Rollout, fence: string): boolean {
  return (
    (rollout.lastAttempt !== undefined && rollout.lastAttempt > fence) ||
    ENDING_STATUSES.includes(rollout.status)
  );
}

export function supersededMessage(listenerArn: string, executionArn: string): string {
  return (
    `a stale task attempt of ${executionArn} on listener ${listenerArn} writes nothing: ` +
    'Step Functions already moved on (a later attempt of a state wrote the record, or the rollout is ending)'
  );
}

/** The operator's request a guarded update must not pass (see `UpdateGuard`), as the error to throw; or none. */
export function guardRefusal(
  rollout: Rollout,
  guard: UpdateGuard | undefined,
): Aborted | Paused | Superseded | WeightsDrifted | RecordMalformed | undefined {
  // A hand change (or a damaged record) a rollback found and recorded: the writer halts on it too.
  const halt = guard?.noRecordedHalt ? recordedHalt(rollout) : undefined;
  if (halt)
    return halt.error === 'RecordMalformed'
      ? new RecordMalformed(halt.cause)
      : new WeightsDrifted(halt.cause);
  if (guard?.notNotified && rollout.notified !== undefined) {
    return new Superseded(
      `the outcome of ${rollout.executionArn} was already notified (${rollout.notified})`,
    );
  }
  if (guard?.freezeStartedAt !== undefined && (rollout.freeze?.startedAt ?? null) !== guard.freezeStartedAt) {
    return new Superseded(
      `the freeze of ${rollout.executionArn} is another's now (begun ${rollout.freeze?.startedAt ?? 'by nobody'})`,
    );
  }
  if (guard?.notAborted && rollout.abortRequested) {
    return new Aborted('an operator aborted the rollout: rolling back');
  }
  if (guard?.notForced && rollout.forcedRollbackAt !== undefined) {
    return new Aborted(
      `swing rollback --force restored the listener at ${rollout.forcedRollbackAt}: rolling back`,
    );
  }
  if (guard?.notCompleting && rollout.status === 'completing') {
    return new Superseded(`Complete already decided that ${rollout.executionArn} completes`);
  }
  if (guard?.notPaused && rollout.pauseRequested) {
    return new Paused(
      'an operator paused the rollout: it holds until `swing resume` (or `swing promote`), and rolls back if ' +
        'neither comes before the pause times out',
    );
  }
  return undefined;
}
