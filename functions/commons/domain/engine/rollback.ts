import {
  DrainPending,
  HeldAfterCutover,
  RecordMalformed,
  TransientFailure,
  WeightsDrifted,
} from '../errors.ts';
import { RollbackEventSchema } from '../events.ts';
import {
  DEFAULT_READS_FIRST,
  hasCutOver,
  recordedHalt,
  removeRules,
  removingOwnRules,
  rulesDrift,
  rulesDriftError,
  rulesOf,
} from '../reads-first.ts';
import { malformedRecord, recordRollbackHalt } from '../record-check.ts';
import type { FoundSwingRule, RollbackReason, Rollout, Weights, WriteExposure } from '../types.ts';
import { parseOrThrow } from '../validation.ts';
import { sameWeights } from '../weights.ts';
import { type EngineDeps, rulesPort, sleep } from './deps.ts';
import { drainCheck, endDrainIfOver } from './drain.ts';
import { freeze, liftedFreeze } from './freeze.ts';
import { reasonFrom } from './reason.ts';
import { driftError, isOwnWrite, refuseRestoreRaisingTarget } from './record.ts';
import {
  isPlannedStep,
  outlastStaleShifts,
  STALE_SHIFT_READ_GAP_MS,
  STALE_SHIFT_READS,
  type StaleShiftWindow,
  staleShiftMsLeft,
} from './stale-shift-window.ts';
import { writeExposure } from './write-exposure.ts';

/**
 * Rollback (and Rehearse, a rehearsal's planned restore): the starting weights back, verified; or, after the
 * write cutover under the hold policy, the writes held on the target. Its function also runs the rollback path's
 * Freeze (freeze.ts) and DrainCheck (drain.ts) before it: after a write freeze, Rollback restores only once the
 * drain ended or its deadline passed, then lifts the freeze.
 */

export type RollbackDeps = Pick<
  EngineDeps,
  'listenerArn' | 'listener' | 'store' | 'log' | 'now' | 'swingRules' | 'targetRequests'
> &
  Partial<Pick<EngineDeps, 'reverseCapture' | 'reverseReplay' | 'frozenRequests'>> &
  StaleShiftWindow;

export interface RollbackResult {
  readonly restored: boolean;
  readonly weights?: Weights;
  readonly note: string;
  readonly exposure?: WriteExposure;
  /** Freeze and DrainCheck (`$.freeze`): writes are frozen, the drain is over, when to look again. */
  readonly frozen?: boolean;
  readonly done?: boolean;
  readonly recheckSeconds?: number;
}

/**
 * Restores the starting weights and verifies them. The state machine retries it until it succeeds: it is
 * the last writer of the listener. Drift is the one case it leaves alone (I4).
 */
export async function rollback(deps: RollbackDeps, event: unknown): Promise<RollbackResult> {
  const { executionArn, error, rehearsal, phase } = parseOrThrow(RollbackEventSchema, event);
  if (phase === 'freeze') return { restored: false, ...(await freeze(deps, event)) };
  if (phase === 'drain-check') return { restored: false, ...(await drainCheck(deps, event)) };
  const record = await deps.store.get(deps.listenerArn);
  if (record?.lockOwner !== executionArn || !record.rollout) {
    return {
      restored: false,
      note: 'this execution holds no lock: it changed no weight, nothing to restore',
    };
  }
  let rollout = record.rollout;
  // An earlier attempt found a hand change (or the record damaged) and recorded it: this one halts on it as well,
  // writing nothing (not the reason again: it would nest), even where the operator has undone the change since.
  const halted = recordedHalt(rollout);
  if (halted) throw recordedHaltError(halted);
  const malformed = malformedRecord(rollout);
  if (malformed) await recordRollbackHalt(deps, rollout, malformed);
  // Writes frozen: nothing restores before the reverse replayer drained or the drain's deadline passed.
  if (rollout.freeze?.frozenAt && !rollout.freeze.drainEndedAt) {
    const ended = await endDrainIfOver(deps, rollout);
    if (!ended) {
      throw new DrainPending(
        `writes are frozen and the reverse replayer has not drained; the restore waits until it has or until ` +
          `${rollout.freeze.drainDeadline}`,
      );
    }
    rollout = { ...rollout, freeze: ended };
  }
  const reason = rehearsal
    ? undefined
    : withAbortDuringCutover(rollout, rollout.reason ?? reasonFrom(error, deps.now()));
  const current = await deps.listener.readWeights();
  // Writes moved once the cutover's ModifyListener is recorded or shows on the listener; a cutover only begun
  // (its write refused, or not landed yet) left them on the source: nothing to hold, no exposure yet.
  const cutOver =
    hasCutOver(rollout) &&
    (rollout.cutoverAt !== undefined || !sameWeights(current, rollout.startingWeights));
  const restoring = !sameWeights(current, rollout.startingWeights);
  // A stale ShiftWeights attempt of an earlier step may have landed since the last write: one of the plan's
  // own steps, while such an attempt can still run, is Swing's write, not a hand change. So is one that landed
  // after `swing rollback --force` (the listener at a step the plan names: the step's record write refused).
  const oursIn = (forced: boolean) =>
    isOwnWrite(rollout, current) ||
    ((forced || staleShiftMsLeft(deps, rollout) > 0) && isPlannedStep(rollout, current));
  let ours = oursIn(isForced(rollout));
  if (reason && rollout.traffic === 'reads-first' && cutOver) {
    const settings = rollout.readsFirst ?? DEFAULT_READS_FIRST;
    // An operator's abort is a decision to go back, and so is `swing rollback --force` (it already restored the
    // listener); the policy governs what Swing decides alone.
    if (settings.afterCutover === 'hold' && reason.error !== 'Aborted' && !isForced(rollout)) {
      // Weights changed by hand: the writes are where the operator put them, not held on the target (I4).
      // Halt reports the recorded reason: the hand change, and what came after it. Judged against Swing's own
      // writes, not the starting weights: writes put back on the source by hand are a hand change too.
      if (!ours) {
        const drift = driftError(rollout, current, deps.listenerArn);
        await deps.store.update(deps.listenerArn, executionArn, {
          reason: {
            ...reason,
            error: drift.name,
            cause: `${drift.message}. Then ${reason.error}: ${reason.cause}`.slice(0, 2000),
          },
          taskToken: undefined,
          taskKind: undefined,
        });
        throw drift;
      }
      await holdAfterCutover(deps, rollout, reason);
    }
  }
  // Before any write, the record's included: Halt then records this refusal as the reason.
  if (restoring && ours) refuseRestoreRaisingTarget(rollout, current, deps.listenerArn);
  // A stale read step's ModifyRule, landed after the next step, is Swing's own write too (as isPlannedStep).
  // After `swing rollback --force` (recorded before it changed anything) the rules it removed are missing by
  // Swing's own doing, and a step it raced may have written its read rules after it.
  const driftIn: DriftIn = (found, options = {}) => {
    const forced = options.forced ?? isForced(rollout);
    return rulesDrift(rollout, found, {
      staleSteps: forced || staleShiftMsLeft(deps, rollout) > 0,
      ignoreMissing: forced || options.ignoreMissing,
    });
  };
  const { rules, changed } = await judgedRules(deps, rollout, driftIn);
  let rulesChanged = changed;
  // A hand change is recorded as the reason with rolling-back, in one write: no twin takes the rules missing then
  // for Swing's removal (removingOwnRules), and Halt reports it.
  const handChange =
    restoring && !ours
      ? driftError(rollout, current, deps.listenerArn)
      : rulesChanged
        ? rulesDriftError(deps.listenerArn, rulesChanged)
        : undefined;
  // After this write no ShiftWeights attempt passes its fence; the record it returns holds the latest that did.
  const rollingBack = await markRollingBack(deps, rollout, {
    reason: handChange ? handChangeReason(handChange, reason, deps.now()) : reason,
    cutOver,
  });
  // `swing rollback --force` recorded between this function's first read and that write: what it changed
  // before this read is its doing, not a hand change.
  if (isForced(rollingBack) && !isForced(rollout)) {
    ours = oursIn(true);
    if (restoring && ours) refuseRestoreRaisingTarget(rollout, current, deps.listenerArn);
    rulesChanged = driftIn(rules, { forced: true });
  }
  if (restoring && !ours) throw driftError(rollout, current, deps.listenerArn);
  if (rulesChanged) throw rulesDriftError(deps.listenerArn, rulesChanged);
  // The change was `swing rollback --force`'s, recorded before that write: the rollback's own reason goes back.
  if (handChange) await deps.store.update(deps.listenerArn, executionArn, { reason });
  // The default action first (before the cutover it is untouched), then the rules: removing a read rule sends
  // its reads where the default action sends them, so no removal raises the target's share.
  if (restoring) await deps.listener.writeWeights(rollout.startingWeights);
  if (deps.swingRules && rules.length > 0) await removeRules(deps.swingRules, rules, deps.log);
  const lateCutover = await outlastStaleShifts(deps, rollingBack);
  const exposure = cutOver || lateCutover ? await reverseExposure(deps, rollout) : undefined;
  const lifted =
    rollout.freeze && !rollout.freeze.liftedAt ? await liftedFreeze(deps, rollout.freeze) : undefined;
  await deps.store.update(deps.listenerArn, executionArn, {
    lastWritten: rollout.startingWeights,
    pendingWeights: undefined,
    pendingReads: undefined,
    readsWritten: undefined,
    restored: true,
    ...(exposure ? { exposure } : {}),
    ...(lifted ? { freeze: lifted } : {}),
  });
  deps.log.warn(
    rehearsal ? 'rehearsal ended: starting weights restored' : 'rolled back to the starting weights',
    {
      executionArn,
      reason,
      weights: rollout.startingWeights,
      ...(exposure ? { exposure } : {}),
    },
  );
  return {
    restored: true,
    weights: rollout.startingWeights,
    note: rehearsal ? 'rehearsal: restored at its end, as planned' : `restored after ${reason?.error}`,
    ...(exposure ? { exposure } : {}),
  };
}

type DriftIn = (
  found: readonly FoundSwingRule[],
  options?: { ignoreMissing?: boolean; forced?: boolean },
) => string | undefined;

/** The execution's rules of Swing's (none in all mode) and how they differ from what Swing made, if they do. */
async function judgedRules(
  deps: RollbackDeps,
  rollout: Rollout,
  driftIn: DriftIn,
): Promise<{ rules: FoundSwingRule[]; changed: string | undefined }> {
  if (rollout.traffic !== 'reads-first') return { rules: [], changed: undefined };
  const port = rulesPort(deps, deps.listenerArn);
  let rules = await rulesOf(port, rollout.executionArn);
  let changed = driftIn(rules);
  // DescribeRules and DescribeTags may not show a rule created just now: missing rules are read again before
  // they count as deleted by someone.
  const onlyMissing = () => changed !== undefined && !driftIn(rules, { ignoreMissing: true });
  for (let read = 1; read < STALE_SHIFT_READS && onlyMissing(); read += 1) {
    await (deps.sleep ?? sleep)(STALE_SHIFT_READ_GAP_MS);
    rules = await rulesOf(port, rollout.executionArn);
    changed = driftIn(rules);
  }
  // Missing rules are judged against the record read AFTER the rules, not the one read at the start: a twin
  // attempt (a lost answer's, running on beside its Retry) records rolling-back before its first DeleteRule, so a
  // rule this read found gone by its hand shows as being removed there.
  if (onlyMissing() && (await removedByOwnHand(deps, rollout))) changed = undefined;
  return { rules, changed };
}

/**
 * Whether the record, read now, says Swing is removing the execution's rules (rolling-back, recorded by a remover
 * before its first DeleteRule, with no hand change found) or `swing rollback --force` acted. A write cutover
 * recorded since the first read (a stale attempt of it, its answer lost, landing now: it removes the read rules
 * itself) throws TransientFailure: the listener read before it is stale too, so the Retry reads all afresh.
 */
async function removedByOwnHand(deps: RollbackDeps, rollout: Rollout): Promise<boolean> {
  const record = await deps.store.get(deps.listenerArn);
  const now = record?.lockOwner === rollout.executionArn ? record.rollout : undefined;
  if (now && hasCutOver(now) && !hasCutOver(rollout)) {
    throw new TransientFailure(
      `listener ${deps.listenerArn}: the write cutover of ${rollout.executionArn} was recorded while Rollback read ` +
        "Swing's rules (a stale attempt of it landing): Rollback reads the record, the listener and the rules again",
    );
  }
  return now !== undefined && (removingOwnRules(now) || isForced(now));
}

/**
 * Records `rolling-back` (with the reason, when there is one) before the first change. Refused (WeightsDrifted) once
 * another attempt recorded a hand change it found since this one's first read (recordedHalt): a stale attempt that
 * judged the rules before that change must neither overwrite it nor remove what is left.
 */
function markRollingBack(
  deps: RollbackDeps,
  rollout: Rollout,
  { reason, cutOver }: { reason: RollbackReason | undefined; cutOver: boolean },
): Promise<Rollout> {
  const patch = {
    status: 'rolling-back' as const,
    ...(reason ? { reason } : {}),
    // A retry of this rollback finds the listener restored: the record must still say the writes had moved.
    ...(cutOver && rollout.cutoverAt === undefined ? { cutoverAt: rollout.cutoverStartedAt } : {}),
    taskToken: undefined,
    taskKind: undefined,
  };
  return deps.store.update(deps.listenerArn, rollout.executionArn, patch, undefined, {
    noRecordedHalt: true,
  });
}

/** The hand change a rollback found, and the reason it was rolling back for: what Halt reports. */
function handChangeReason(drift: Error, reason: RollbackReason | undefined, now: Date): RollbackReason {
  const then = reason ? `. Then ${reason.error}: ${reason.cause}` : '';
  // The reason's own fields stay (the alarm it began for, when it fired), as the hold path's hand-change reason.
  return {
    ...(reason ?? { at: now.toISOString() }),
    error: drift.name,
    cause: `${drift.message}${then}`.slice(0, 2000),
  };
}

function recordedHaltError(reason: RollbackReason): Error {
  return reason.error === 'RecordMalformed'
    ? new RecordMalformed(reason.cause)
    : new WeightsDrifted(reason.cause);
}

function isForced(rollout: Rollout): boolean {
  return rollout.forcedRollbackAt !== undefined;
}

/**
 * An abort that landed while the write cutover was being written could not call its ModifyListener back: the
 * reason says so, and when the writes moved (the exposure counts from then).
 */
function withAbortDuringCutover(rollout: Rollout, reason: RollbackReason): RollbackReason {
  if (!rollout.abortDuringCutover || reason.error !== 'Aborted' || reason.cause.includes('write cutover')) {
    return reason;
  }
  const moved = rollout.cutoverAt ?? rollout.cutoverStartedAt;
  return {
    ...reason,
    cause:
      `${reason.cause}; the abort arrived while the write cutover was being written: its ModifyListener was ` +
      `already under way and cannot be called back, so writes reached the target from ${moved} until the ` +
      'restore (the exposure counts them)',
  };
}

/**
 * The `hold` policy after the cutover: writes stay on the target (a rollback would send clients to a source that
 * misses them). The read rules (at 100 %, as the default action) go; the pins stay until their keep-alive ends
 * (the reconciler removes them then). Swing halts, and the notification carries the exposure.
 */
async function holdAfterCutover(
  deps: RollbackDeps,
  rollout: Rollout,
  reason: RollbackReason,
): Promise<never> {
  const port = rulesPort(deps, deps.listenerArn);
  const rules = await rulesOf(port, rollout.executionArn);
  const drift = rulesDrift(rollout, rules);
  if (!drift) await removeRules(port, rules, deps.log, 'reads');
  const exposure = await writeExposure(deps, rollout, 'hold');
  await deps.store.update(deps.listenerArn, rollout.executionArn, {
    reason,
    taskToken: undefined,
    taskKind: undefined,
    ...(exposure ? { exposure } : {}),
  });
  throw new HeldAfterCutover(
    `${reason.error} after the write cutover: the policy is hold, so writes stay on the target (a rollback ` +
      `would send clients to a source that misses every write since ${rollout.cutoverAt ?? rollout.cutoverStartedAt}). ` +
      `Cause: ${reason.cause}. Fix the target, or roll back by hand (swing rollback --force) and replay the ` +
      'writes the exposure report counts',
  );
}

/**
 * The write exposure of a restore after the cutover; with reverse capture configured, it says whether the reverse
 * replayer drained before the restore (nothing on the target only) or what may not have been replayed.
 */
export async function reverseExposure(
  deps: Pick<RollbackDeps, 'now' | 'log' | 'targetRequests' | 'reverseCapture'>,
  rollout: Rollout,
): Promise<WriteExposure | undefined> {
  const exposure = await writeExposure(deps, rollout, 'rollback');
  if (!exposure || !deps.reverseCapture) return exposure;
  return { ...exposure, reverseReplay: rollout.freeze?.drain ?? 'not-frozen' };
}
