import { FinalizeEventSchema, requestedByOf } from '../events.ts';
import { notifyOnce, notifyQuietly } from '../outcome-notice.ts';
import { GOING_ON, unlessPaused } from '../pause.ts';
import { endedNow } from '../quiet.ts';
import { removeRules, rulesDrift, rulesDriftError, rulesOf } from '../reads-first.ts';
import { refuseMalformedRecord } from '../record-check.ts';
import type { NotificationOutcome } from '../types.ts';
import { parseOrThrow } from '../validation.ts';
import { type EngineDeps, rulesPort } from './deps.ts';
import { liftRecordedFreeze, sweepLateFreezeRules } from './freeze.ts';
import { refuseRemovingPinsUnderAlarm } from './pins.ts';
import { reasonFrom } from './reason.ts';
import {
  driftError,
  isOwnWrite,
  readWeightsQuietly,
  throwDriftUnlessForced,
  throwIfAborted,
} from './record.ts';
import { recordRefusal } from './refusal.ts';

/**
 * Complete and the other ends (RolledBack, Halt, Rehearsed, ReportRefusal, ReportPlatformRefusal): one handler
 * records the outcome, notifies and releases the lock; Complete first checks that the rollout may complete.
 */

export type FinalizeDeps = Pick<
  EngineDeps,
  'listenerArn' | 'listener' | 'store' | 'notifier' | 'log' | 'now' | 'swingRules'
> &
  Partial<Pick<EngineDeps, 'alarms' | 'quietAfterReleaseMs' | 'frozenRequests'>>;

/**
 * Records the outcome, notifies and releases the lock. Safe to repeat. A `refused` start is reported, so that a
 * start nobody watches (a schedule at night) is not turned down in silence, and recorded as refused, so that a
 * late attempt of its Preflight never holds the lock after (recordRefusal).
 */
export async function finalize(
  deps: FinalizeDeps,
  event: unknown,
): Promise<{ outcome: NotificationOutcome; released: boolean }> {
  const { executionArn, outcome, error, input } = parseOrThrow(FinalizeEventSchema, event);
  if (outcome === 'refused') {
    const requestedBy = requestedByOf(input);
    const reason = reasonFrom(error, deps.now());
    // A store that fails does not silence the refusal: reported, then the task's Retry records it again.
    const recordFailure = await recordRefusal(deps, executionArn, error, input, reason).then(
      () => undefined,
      (failure: unknown) => failure ?? new Error('recording the refusal failed'),
    );
    await notifyQuietly(deps, {
      outcome,
      listenerArn: deps.listenerArn,
      executionArn,
      ...(requestedBy ? { requestedBy } : {}),
      reason,
    });
    deps.log.warn('rollout refused', { executionArn, requestedBy, reason });
    if (recordFailure) throw recordFailure;
    return { outcome, released: false };
  }
  const record = await deps.store.get(deps.listenerArn);
  if (record?.lockOwner !== executionArn || !record.rollout) return { outcome, released: false };
  const reason = record.rollout.reason ?? (error ? reasonFrom(error, deps.now()) : undefined);
  if (outcome === 'completed') {
    // An earlier attempt of this task may already have decided to complete (and said so).
    const deciding = record.rollout.status !== 'completing';
    // An abort that came after the last bake (no task open to fail) still rolls back.
    if (deciding) throwIfAborted(record.rollout);
    // A hand change during the last bake or gate must not be recorded as a completed rollout (I4).
    // Finishing reads what the record says Swing wrote: a damaged record fails by name (the safety net halts).
    refuseMalformedRecord(deps.listenerArn, record.rollout);
    const current = await deps.listener.readWeights();
    // A change `swing rollback --force` made is no hand change: the rollout rolls back (throwDriftUnlessForced).
    if (!isOwnWrite(record.rollout, current)) {
      await throwDriftUnlessForced(deps, executionArn, driftError(record.rollout, current, deps.listenerArn));
    }
    const rules =
      record.rollout.traffic === 'reads-first'
        ? await rulesOf(rulesPort(deps, deps.listenerArn), executionArn)
        : [];
    const rulesChanged = deciding ? rulesDrift(record.rollout, rules) : undefined;
    if (rulesChanged) {
      await throwDriftUnlessForced(deps, executionArn, rulesDriftError(deps.listenerArn, rulesChanged));
    }
    // The pins' own step removed them under alarm watch; any still here go only with no alarm firing (I2).
    if (deciding && deps.alarms) await refuseRemovingPinsUnderAlarm(deps.alarms, rules);
    if (deciding) {
      // Guarded as a step is: a pause holds before the rollout completes (PauseHold).
      const marked = await unlessPaused(deps.store, { listenerArn: deps.listenerArn, executionArn }, () =>
        deps.store.update(deps.listenerArn, executionArn, { status: 'completing' }, undefined, GOING_ON),
      );
      // An abort that landed since the read: the two conditional writes are ordered, one sees the other.
      throwIfAborted(marked);
    }
    // Nothing of Swing's stays (the pins left in their own step, after the scroll keep-alive).
    if (deps.swingRules && rules.length > 0) await removeRules(deps.swingRules, rules, deps.log);
  }
  // A freeze never outlives the rollout (I9): Halt, or a Rollback that lifted it without saying so, ends it here.
  const freeze = outcome === 'completed' ? undefined : await liftRecordedFreeze(deps, record.rollout);
  const finalWeights = await readWeightsQuietly(deps);
  const exposure = record.rollout.exposure;
  await notifyOnce(deps, {
    outcome,
    listenerArn: deps.listenerArn,
    executionArn,
    ...(finalWeights ? { finalWeights } : {}),
    ...(reason ? { reason } : {}),
    ...(exposure ? { exposure } : {}),
  });
  const released = await deps.store.release(deps.listenerArn, executionArn, {
    outcome,
    status: outcome,
    ...endedNow(deps),
    taskToken: undefined,
    taskKind: undefined,
    bakeEndsAt: undefined,
    ...(reason ? { reason } : {}),
    ...(freeze ? { freeze } : {}),
  });
  // A rollback's freeze rule a stale Freeze attempt landed after it was lifted, before that attempt saw the lift.
  if (released && record.rollout.freeze) await sweepLateFreezeRules(deps, executionArn);
  deps.log.info('rollout finished', { executionArn, outcome, reason });
  return { outcome, released };
}
