import {
  ListenerShapeInvalid,
  LockLost,
  RestoreRaisesTarget,
  TransientFailure,
  WeightsDrifted,
} from '../errors.ts';
import { ExecutionStatusChangeSchema } from '../events.ts';
import { notifyOnce } from '../outcome-notice.ts';
import { endedNow } from '../quiet.ts';
import {
  DEFAULT_READS_FIRST,
  hasCutOver,
  recordedHalt,
  removeRules,
  rulesDrift,
  rulesDriftError,
  rulesOf,
} from '../reads-first.ts';
import { haltOnMalformedRecord, malformedRecord } from '../record-check.ts';
import type {
  ExecutionStatus,
  ExecutionStatusPort,
  ListenerRecord,
  RollbackReason,
  Rollout,
  RolloutOutcome,
} from '../types.ts';
import { parseOrThrow } from '../validation.ts';
import { sameWeights } from '../weights.ts';
import { type EngineDeps, sleep } from './deps.ts';
import { awaitDrain } from './drain.ts';
import { liftedFreeze, liftRecordedFreeze, sweepLateFreezeRules } from './freeze.ts';
import { driftError, isOwnWrite, readWeightsQuietly, refuseRestoreRaisingTarget } from './record.ts';
import { reverseExposure } from './rollback.ts';
import { freezeBeforeSettling, liftStrayFreeze } from './settle-freeze.ts';
import { writeExposure } from './write-exposure.ts';

/**
 * The safety net (EventBridge, not a state) and the settling of an execution that ended holding the lock,
 * which the reconciler shares.
 */

export type SafetyNetDeps = Pick<
  EngineDeps,
  'listenerArn' | 'listener' | 'store' | 'notifier' | 'log' | 'now' | 'swingRules' | 'targetRequests'
> &
  Partial<Pick<EngineDeps, 'reverseCapture' | 'reverseReplay' | 'frozenRequests'>> & {
    /**
     * How long this invocation may wait for a freeze's drain (its function's timeout less what it needs): past it,
     * DrainPending, nothing restored, for a later invocation. @default until the drain's deadline
     */
    readonly maxDrainWaitMs?: number;
    /**
     * How long a task the execution started before it stopped may still act (SAFETY_NET_WAIT_SECONDS in
     * AWS): StopExecution does not stop a running Lambda, so the safety net waits until that long after the
     * stop before it decides. 0 (the default) where the executor settles running tasks before the safety net
     * runs (local mode, tests).
     */
    readonly waitAfterStopMs?: number;
    readonly sleep?: (ms: number) => Promise<void>;
    readonly quietAfterReleaseMs?: number;
    /**
     * Step Functions (DescribeExecution), asked after the wait: an execution redriven meanwhile (RedriveExecution:
     * the same ARN runs again) is left to its own paths. Absent where nothing redrives (the engine's own tests).
     */
    readonly executions?: ExecutionStatusPort;
  };

/**
 * How long after an execution stops the safety net waits before it decides: the longest timeout of the
 * functions that take the lock or write the listener (Rollback, 60 s; the infra tests hold the stack to it),
 * plus 15 s for a Lambda's start-up, which its timeout does not count, and EventBridge's whole-second times.
 */
export const SAFETY_NET_WAIT_SECONDS = 75;

/**
 * How long one safety net invocation waits for a freeze's drain: its 150 s timeout less the wait above, 5 s for the
 * freeze's rules and 30 s for the restore. Past it DrainPending fails the invocation, the freeze and the lock left:
 * Lambda retries it (twice, a minute then two later), and the reconciler runs every few minutes after that.
 */
export const SAFETY_NET_MAX_DRAIN_WAIT_MS = 40_000;

/**
 * Waits until no task the execution started can still act (a Preflight that may yet take the lock, a
 * ShiftWeights that may yet write): StopExecution stops neither. Returns whether it waited.
 */
async function waitOutInFlightTasks(deps: SafetyNetDeps, stoppedAt: Date): Promise<boolean> {
  const waitMs = stoppedAt.getTime() + (deps.waitAfterStopMs ?? 0) - deps.now().getTime();
  if (waitMs <= 0) return false;
  deps.log.info('safety net waits out tasks that may still act', {
    stoppedAt: stoppedAt.toISOString(),
    waitMs,
  });
  await (deps.sleep ?? sleep)(waitMs);
  return true;
}

/**
 * Whether the execution was redriven after the stop this event reports (RedriveExecution: the same ARN runs again
 * from the state that failed, with newer fences than any attempt the wait outlasted): it still runs, or it ended
 * again later (that end's status event starts its own safety net, which waits out the redriven tasks). Either
 * way this invocation must not restore under it. A status it cannot learn fails the invocation: Lambda retries
 * it, then the reconciler asks the same.
 */
async function runsAgain(deps: SafetyNetDeps, executionArn: string, stoppedAt: Date): Promise<boolean> {
  if (!deps.executions) return false;
  const executions = deps.executions;
  const view = await withTransientRetries(() => executions.describe(executionArn));
  // The event's time has whole seconds; the stop DescribeExecution reports, milliseconds.
  const endedAgain =
    view.stoppedAt !== undefined && view.stoppedAt.getTime() >= stoppedAt.getTime() + REDRIVE_MARGIN_MS;
  if (!hasEnded(view.status) || endedAgain) {
    deps.log.warn('safety net leaves a redriven execution to its own paths', {
      executionArn,
      status: view.status,
      ...(view.stoppedAt ? { stoppedAt: view.stoppedAt.toISOString() } : {}),
    });
    return true;
  }
  return false;
}

/** Later than the event's stop by more than this, DescribeExecution's stop is a later end (after a redrive). */
const REDRIVE_MARGIN_MS = 2000;

/** The safety net has no state machine Retry around it: absorb throttling here, as the ASL tasks do. */
async function withTransientRetries<T>(call: () => Promise<T>, attempts = 5, delayMs = 100): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof TransientFailure) || attempt >= attempts) throw error;
      await sleep(delayMs * 2 ** (attempt - 1));
    }
  }
}

const ENDED_OUTSIDE_CATCH: Record<EndedStatus, string> = {
  ABORTED: 'ExecutionAborted',
  FAILED: 'ExecutionFailed',
  TIMED_OUT: 'ExecutionTimedOut',
  // Complete releases the lock before Succeeded: a SUCCEEDED holder lost its release somewhere.
  SUCCEEDED: 'ExecutionSucceeded',
};

/** Statuses of an execution that no longer runs. */
export type EndedStatus = Exclude<ExecutionStatus, 'RUNNING' | 'PENDING_REDRIVE'>;

export function hasEnded(status: ExecutionStatus): status is EndedStatus {
  return status !== 'RUNNING' && status !== 'PENDING_REDRIVE';
}

export type SafetyNetAction =
  | 'ignored-status'
  | 'nothing-held'
  | 'restored'
  | 'already-restored'
  | 'halted-drift'
  | 'halted-restore-raises-target'
  | 'halted-record-malformed'
  | 'held-after-cutover'
  | 'completed'
  /** The execution runs again (redriven) or ended again since: its own paths, or that end's safety net, settle it. */
  | 'redriven';

/** The execution that ended while holding the lock, as the status event or DescribeExecution tells it. */
export interface EndedExecution {
  readonly executionArn: string;
  readonly status: EndedStatus;
  /** When it ended, ISO 8601. */
  readonly at: string;
  /** Who noticed: the status event's safety net, or the scheduled reconciler when that event was lost. */
  readonly by?: 'safety net' | 'reconciler';
}

/**
 * What the safety net and the reconciler do for a lock whose holder ended: a rollout marked `completing`
 * (Complete verified the final weights and said so) is finished as completed; any other is restored to its
 * starting weights, unless someone changed them by hand or the restore would raise the target's share
 * (halted, the listener left alone). The lock is released either way.
 */
export async function settleEndedExecution(
  deps: SafetyNetDeps,
  given: Rollout,
  ended: EndedExecution,
): Promise<SafetyNetAction> {
  const { executionArn } = ended;
  // Unless `swing rollback --force` restored the listener after Complete decided (its holder had ended): then
  // the listener is back at the start, and the rollout is settled as rolled back.
  if (given.status === 'completing' && given.forcedRollbackAt === undefined) {
    return completeDecidedRollout(deps, given, ended);
  }
  // Its Rollback found a hand change (or the record damaged) and recorded it: it halts on that, writing nothing,
  // even where the operator has undone the change since (recordedHalt). No freeze first, no restore.
  const found = recordedHalt(given);
  if (found)
    return endSettling(deps, given, ended, { action: 'halted-drift', reason: found, exposed: false });
  const prepared = await beforeRestore(deps, given, ended);
  if (typeof prepared === 'string') return prepared;
  const { rollout, reason, holding } = prepared;
  // Writes moved once the cutover is recorded, or its ModifyListener shows (its record update never came).
  const cutOver = async () =>
    rollout.cutoverAt !== undefined ||
    (hasCutOver(rollout) && !sameWeights(await deps.listener.readWeights(), rollout.startingWeights));
  const exposed = rollout.traffic === 'reads-first' && hasCutOver(rollout) && (await cutOver());
  // The hold keeps the writes where Swing put them; weights changed by hand are the operator's (I4): halt.
  let handChange: WeightsDrifted | undefined;
  if (holding && exposed) {
    const current = await deps.listener.readWeights();
    if (isOwnWrite(rollout, current)) return holdEndedExecution(deps, rollout, ended, reason);
    handChange = driftError(rollout, current, deps.listenerArn);
  }
  let action: SafetyNetAction;
  let haltReason: RollbackReason | undefined;
  // rolling-back is recorded before the first change, as Rollback does: a redelivery after a removal that failed
  // half-way, a twin or the reconciler finds the rules this invocation deleted gone, its own doing (rulesDrift).
  try {
    if (handChange) throw handChange;
    let attempt = 0;
    // Each attempt reads before it writes: a hand change made while a throttled write was in flight wins.
    action = await withTransientRetries(async () => {
      attempt += 1;
      const current = await deps.listener.readWeights();
      const rules =
        rollout.traffic === 'reads-first' && deps.swingRules
          ? await rulesOf(deps.swingRules, executionArn)
          : [];
      // Judged against the record read AFTER the rules, never the one the caller read earlier: a twin safety net
      // or the reconciler settling the same holder records rolling-back before its first DeleteRule, so a rule
      // this read finds gone by a settler's hand shows as rolling-back here (a fence: mark, then delete).
      const settling = await heldRollout(deps, executionArn);
      const foundMeanwhile = recordedHalt(settling);
      if (foundMeanwhile) {
        haltReason = foundMeanwhile;
        return 'halted-drift';
      }
      // A rule missing at the first read was deleted by someone (I4: halt, touch nothing, as Rollback does);
      // missing once a settler (or Rollback) recorded rolling-back, or at a retry after a throttled removal, it is
      // Swing's own doing, and so are those `swing rollback --force` removed (recorded), with the read rules a
      // stalled step made after it.
      const forced = settling.forcedRollbackAt !== undefined;
      const rulesChanged = rulesDrift(settling, rules, {
        ignoreMissing: attempt > 1 || forced,
        staleSteps: forced,
      });
      if (rulesChanged) throw rulesDriftError(deps.listenerArn, rulesChanged);
      const markRollingBack = async () =>
        settling.status === 'rolling-back' ||
        deps.store.update(deps.listenerArn, executionArn, { status: 'rolling-back' });
      if (sameWeights(current, rollout.startingWeights)) {
        if (deps.swingRules && rules.length > 0 && (await markRollingBack())) {
          await removeRules(deps.swingRules, rules, deps.log);
        }
        return rules.length > 0 ? 'restored' : 'already-restored';
      }
      // Weights changed by hand: the halt's reason names it (below), or the reconciler would take a held rollout's
      // record for a plain hold and sweep its rules after the operator acted (I4).
      if (!isOwnWrite(settling, current)) throw driftError(settling, current, deps.listenerArn);
      refuseRestoreRaisingTarget(rollout, current, deps.listenerArn);
      await markRollingBack();
      // As Rollback: the default action first, then the rules.
      await deps.listener.writeWeights(rollout.startingWeights);
      if (deps.swingRules) await removeRules(deps.swingRules, rules, deps.log);
      return 'restored';
    });
  } catch (error) {
    if (error instanceof RestoreRaisesTarget) {
      action = 'halted-restore-raises-target';
      haltReason = { error: error.name, cause: error.message, at: deps.now().toISOString() };
      // A listener reshaped by hand is the operator's: leave it, but do not hold the lock forever.
    } else if (error instanceof ListenerShapeInvalid) {
      action = 'halted-drift';
      haltReason = { error: error.name, cause: error.message, at: deps.now().toISOString() };
    } else if (error instanceof LockLost) {
      // A twin invocation (EventBridge delivers at least once) or the reconciler settled it meanwhile; a freeze
      // rule this one created after the twin removed the rules would stand with nobody to lift it.
      if (rollout.freeze && !given.freeze?.frozenAt) await liftStrayFreeze(deps, executionArn);
      return 'nothing-held';
    } else if (error instanceof WeightsDrifted) {
      // Swing's rules (or, under hold, the weights) changed by hand: the notification says which, and what the
      // operator does next.
      action = 'halted-drift';
      haltReason = { error: error.name, cause: error.message, at: deps.now().toISOString() };
    } else {
      throw error;
    }
  }
  return endSettling(deps, rollout, ended, { action, reason: haltReason ?? reason, exposed });
}

/** Notifies the outcome of a settled rollout and releases its lock: restored, or halted leaving no freeze. */
async function endSettling(
  deps: SafetyNetDeps,
  rollout: Rollout,
  ended: EndedExecution,
  settled: { action: SafetyNetAction; reason: RollbackReason; exposed: boolean },
): Promise<SafetyNetAction> {
  const { executionArn, status } = ended;
  const { action, exposed, reason: finalReason } = settled;
  const halted = action === 'halted-drift' || action === 'halted-restore-raises-target';
  const outcome: RolloutOutcome = halted ? 'halted' : 'rolled-back';
  // A restore after the cutover loses the writes the target took since: never in silence.
  const exposure = !halted && exposed ? await reverseExposure(deps, rollout) : undefined;
  // A restore removed every rule of the rollout (the freeze first); a halt leaves the rest to the operator, never a
  // freeze (I9): nothing would write to the listener while it stood.
  // The write cutover's own freeze too: a ShiftWeights that died while frozen left it, and a halt keeps its rules.
  const cutoverFrozen = rollout.cutoverFreeze !== undefined && !rollout.cutoverFreeze.liftedAt;
  const freeze =
    halted && cutoverFrozen
      ? await liftRecordedFreeze(deps, rollout)
      : !rollout.freeze || rollout.freeze.liftedAt
        ? undefined
        : halted
          ? await liftRecordedFreeze(deps, rollout)
          : await liftedFreeze(deps, rollout.freeze);
  await notifyOnce(deps, {
    outcome,
    listenerArn: deps.listenerArn,
    executionArn,
    reason: finalReason,
    ...(exposure ? { exposure } : {}),
  });
  await deps.store.release(deps.listenerArn, executionArn, {
    outcome,
    status: outcome,
    reason: finalReason,
    ...(exposure ? { exposure } : {}),
    restored: !halted,
    ...(halted ? {} : { lastWritten: rollout.startingWeights }),
    ...(freeze ? { freeze } : {}),
    ...endedNow(deps),
    taskToken: undefined,
    taskKind: undefined,
    pendingWeights: undefined,
  });
  deps.log.warn(`${ended.by ?? 'safety net'} acted`, { executionArn, status, action });
  return action;
}

/**
 * What comes before the restore: a freeze the rollback made is honoured (nothing restores before its drain ended or
 * its deadline passed); a malformed record halts; and a restore after the write cutover that needs a freeze and has
 * none gets one (settle-freeze.ts: the rollout stopped or failed before its Freeze), then waits for its drain.
 * Either wait past this invocation's time throws DrainPending, the freeze and the lock left to the next one.
 */
async function beforeRestore(
  deps: SafetyNetDeps,
  given: Rollout,
  ended: EndedExecution,
): Promise<{ rollout: Rollout; reason: RollbackReason; holding: boolean } | SafetyNetAction> {
  const { status } = ended;
  const drained = await awaitDrain(deps, given, deps.maxDrainWaitMs);
  const malformed = malformedRecord(drained);
  if (malformed) {
    // The halt leaves the listener to the operator, never a freeze (I9): nothing would lift it.
    await liftStrayFreeze(deps, drained.executionArn);
    return haltOnMalformedRecord(deps, drained, malformed, ended.by ?? 'safety net');
  }
  const reason: RollbackReason = drained.reason ?? {
    error: ENDED_OUTSIDE_CATCH[status],
    cause:
      `the execution ended ${status} outside the state machine's catch paths; ` +
      `the ${ended.by ?? 'safety net'} restored it`,
    at: ended.at,
  };
  // The after-cutover policy governs what no operator decided (a failure, a timeout); a stop is a decision.
  const decided =
    status === 'ABORTED' || drained.abortRequested === true || drained.forcedRollbackAt !== undefined;
  const settings = drained.readsFirst ?? DEFAULT_READS_FIRST;
  const holding = drained.traffic === 'reads-first' && settings.afterCutover === 'hold' && !decided;
  try {
    const rollout = await freezeBeforeSettling(deps, drained, reason, decided);
    return { rollout, reason, holding };
  } catch (error) {
    // A twin invocation (EventBridge delivers at least once) or the reconciler settled it meanwhile.
    if (error instanceof LockLost) return 'nothing-held';
    throw error;
  }
}

/** The rollout as the record holds it now, while `executionArn` holds the lock; LockLost once it was released. */
async function heldRollout(deps: SafetyNetDeps, executionArn: string): Promise<Rollout> {
  const record = await deps.store.get(deps.listenerArn);
  if (record?.lockOwner !== executionArn || !record.rollout) {
    throw new LockLost(`listener ${deps.listenerArn}: ${executionArn} was settled meanwhile`);
  }
  return record.rollout;
}

/**
 * The `hold` policy for an execution that failed or timed out after the write cutover: as holdAfterCutover, the
 * writes stay on the target, the read rules go, the pins stay for the reconciler, and the exposure is reported.
 */
async function holdEndedExecution(
  deps: SafetyNetDeps,
  rollout: Rollout,
  ended: EndedExecution,
  cause: RollbackReason,
): Promise<SafetyNetAction> {
  const rules = deps.swingRules ? await rulesOf(deps.swingRules, ended.executionArn) : [];
  if (deps.swingRules && !rulesDrift(rollout, rules))
    await removeRules(deps.swingRules, rules, deps.log, 'reads');
  const exposure = await writeExposure(deps, rollout, 'hold');
  const reason: RollbackReason = {
    error: 'HeldAfterCutover',
    cause: `${cause.error} after the write cutover: the policy is hold, so writes stay on the target. ${cause.cause}`,
    at: cause.at,
  };
  await notifyOnce(deps, {
    outcome: 'halted',
    listenerArn: deps.listenerArn,
    executionArn: ended.executionArn,
    reason,
    ...(exposure ? { exposure } : {}),
  });
  await deps.store.release(deps.listenerArn, ended.executionArn, {
    outcome: 'halted',
    status: 'halted',
    reason,
    ...(exposure ? { exposure } : {}),
    ...endedNow(deps),
    taskToken: undefined,
    taskKind: undefined,
    pendingWeights: undefined,
  });
  deps.log.warn(`${ended.by ?? 'safety net'} held the writes on the target`, {
    executionArn: ended.executionArn,
  });
  return 'held-after-cutover';
}

/**
 * Complete marked the rollout `completing` once it had verified the final weights (from then on `swing abort`
 * says it is too late), then failed for good: the rollout is complete, so it is recorded as such, never
 * rolled back.
 */
async function completeDecidedRollout(
  deps: SafetyNetDeps,
  rollout: Rollout,
  ended: EndedExecution,
): Promise<SafetyNetAction> {
  // Complete decided, then failed: the pins it would have removed go now (a completed rollout leaves no rule).
  if (rollout.traffic === 'reads-first' && deps.swingRules) {
    await removeRules(deps.swingRules, await rulesOf(deps.swingRules, ended.executionArn), deps.log);
  }
  const finalWeights = await readWeightsQuietly(deps);
  await notifyOnce(deps, {
    outcome: 'completed',
    listenerArn: deps.listenerArn,
    executionArn: ended.executionArn,
    ...(finalWeights ? { finalWeights } : {}),
  });
  await deps.store.release(deps.listenerArn, ended.executionArn, {
    outcome: 'completed',
    status: 'completed',
    ...endedNow(deps),
    taskToken: undefined,
    taskKind: undefined,
    bakeEndsAt: undefined,
    pendingWeights: undefined,
  });
  deps.log.warn('safety net finished a rollout Complete had decided', {
    executionArn: ended.executionArn,
    status: ended.status,
    weights: finalWeights ?? rollout.lastWritten,
  });
  return 'completed';
}

/**
 * A rollout that froze writes and ended through its own path (RolledBack, Halt) lifted its freeze and looked for
 * late freeze rules once it released the lock (Finalize), but a Freeze attempt whose answer was lost runs on
 * beside its Retry until its function's timeout, and ELBv2 has no conditional write: a CreateRule of it that lands
 * after that look, its Lambda stopped before its record check could see the lift, leaves a freeze rule refusing
 * writes with no rollout to lift it. Once no task the execution started can still act (the wait that precedes every
 * decision here, which covers the rollback function's timeout), the execution's freeze rules go. Fenced by their
 * owner tag: a finished rollout never takes the lock again, and a newer one's rules carry its own.
 */
async function sweepAfterItsEnd(
  deps: SafetyNetDeps,
  finished: Rollout,
  stoppedAt: Date,
): Promise<SafetyNetAction> {
  if (!finished.freeze) return 'nothing-held';
  await waitOutInFlightTasks(deps, stoppedAt);
  await withTransientRetries(() => sweepLateFreezeRules(deps, finished.executionArn));
  return 'nothing-held';
}

/** The execution's rollout in the record (in the history, or the record's last), if any. */
export function recordedRolloutOf(
  record: ListenerRecord | undefined,
  executionArn: string,
): Rollout | undefined {
  return [...(record?.history ?? []), ...(record?.rollout ? [record.rollout] : [])].findLast(
    (rollout) => rollout.executionArn === executionArn,
  );
}

/** The execution's rollout once it no longer holds the lock, if any. */
function finishedRollout(record: ListenerRecord | undefined, executionArn: string): Rollout | undefined {
  return record?.lockOwner === executionArn ? undefined : recordedRolloutOf(record, executionArn);
}

/**
 * I7: an execution stopped, timed out or failed outside the catch paths still holds the lock; put the
 * starting weights back (unless someone changed them by hand) and release it.
 */
export async function safetyNet(deps: SafetyNetDeps, event: unknown): Promise<SafetyNetAction> {
  const change = parseOrThrow(ExecutionStatusChangeSchema, event);
  const { executionArn, status } = change.detail;
  if (status !== 'ABORTED' && status !== 'FAILED' && status !== 'TIMED_OUT') return 'ignored-status';
  let record = await deps.store.get(deps.listenerArn);
  const stoppedAt = change.time ? new Date(change.time) : deps.now();
  // Ended through its own paths (or settled already): nothing held, but a stale Freeze attempt may still land a rule.
  const finished = finishedRollout(record, executionArn);
  if (finished) return sweepAfterItsEnd(deps, finished, stoppedAt);
  if (await waitOutInFlightTasks(deps, stoppedAt)) record = await deps.store.get(deps.listenerArn);
  // Released during the wait (its Finalize ran on after the stop, or a settler): the same sweep, the wait over.
  const releasedMeanwhile = finishedRollout(record, executionArn);
  if (releasedMeanwhile) return sweepAfterItsEnd(deps, releasedMeanwhile, stoppedAt);
  if (record?.lockOwner !== executionArn || !record.rollout) return 'nothing-held';
  if (await runsAgain(deps, executionArn, stoppedAt)) return 'redriven';
  return settleEndedExecution(deps, record.rollout, {
    executionArn,
    status,
    at: change.time ?? deps.now().toISOString(),
  });
}
