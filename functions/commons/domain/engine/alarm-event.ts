import { newestEvaluatedEnd, newestEvaluatedStart } from '../alarm-evidence.ts';
import { type AlarmStateChange, AlarmStateChangeSchema } from '../events.ts';
import type { InsufficientDataPolicy } from '../types.ts';
import { parseOrThrow } from '../validation.ts';
import type { EngineDeps } from './deps.ts';
import { failOpenTask } from './fail-open-task.ts';

/**
 * Alarm events (EventBridge, not a state): a watched alarm fails the open Bake, Gate or PauseHold token; the
 * replay-lag alarm's return to OK releases WaitForReplay, the reverse lag alarm's releases a rollback's Drain.
 */

export type AlarmEventDeps = Pick<
  EngineDeps,
  'listenerArn' | 'watchedAlarms' | 'store' | 'callbacks' | 'log' | 'replayLagAlarm' | 'reverseCapture'
> & {
  /** What INSUFFICIENT_DATA on the replay-lag alarm means: `lagging` (default) unless the operator says so. */
  readonly replayMissingData?: 'lagging' | 'caught-up';
  /** As the alarm checks read INSUFFICIENT_DATA; with 'firing' its event rolls back too. @default 'not-firing' */
  readonly insufficientData?: InsufficientDataPolicy;
};

export type AlarmEventAction =
  | 'ignored-state'
  | 'not-watched'
  | 'no-open-task'
  | 'before-rollout'
  | 'failed-task'
  | 'stale-token'
  | 'released-replay-wait'
  | 'released-drain';

/**
 * EventBridge stamps events in whole seconds: an event up to a second before the rollout's start may come
 * from a state change after it. Honoured, as a doubt is everywhere else: a spurious rollback is safe.
 */
const EVENT_TIME_SLACK_MS = 1000;

/**
 * True when the state change happened before the rollout started: a late (retried) delivery of an earlier
 * incident, which must not fail this rollout. An alarm that went to ALARM then and is still in ALARM is
 * refused by the checks before each increase and when each bake opens, not by this event.
 */
function changedBeforeRollout(change: AlarmStateChange, rolloutStartedAt: string | undefined): boolean {
  const judgedUntil = newestEvaluatedEnd(change.detail.state.reasonData)?.getTime();
  const changedAt = judgedUntil ?? Date.parse(change.detail.state.timestamp ?? change.time ?? '');
  const startedAt = Date.parse(rolloutStartedAt ?? '');
  // An unreadable time cannot prove the event old: fail closed.
  if (Number.isNaN(changedAt) || Number.isNaN(startedAt)) return false;
  return changedAt < startedAt - EVENT_TIME_SLACK_MS;
}

/**
 * One event hop from an alarm to the rollback (I5): fail the open bake or gate task with `AlarmFired`.
 * With no open task there is nothing to fail: the bake checks the alarms itself when it opens.
 */
export async function handleAlarmEvent(deps: AlarmEventDeps, event: unknown): Promise<AlarmEventAction> {
  const change = parseOrThrow(AlarmStateChangeSchema, event);
  const { alarmName, state } = change.detail;
  if (deps.replayLagAlarm !== undefined && alarmName === deps.replayLagAlarm) {
    return releaseReplayWait(deps, change);
  }
  if (deps.reverseCapture !== undefined && alarmName === deps.reverseCapture.lagAlarm) {
    return releaseDrain(deps, change);
  }
  const firing =
    state.value === 'ALARM' || (state.value === 'INSUFFICIENT_DATA' && deps.insufficientData === 'firing');
  if (!firing) return 'ignored-state';
  if (!deps.watchedAlarms.includes(alarmName)) return 'not-watched';
  const record = await deps.store.get(deps.listenerArn);
  const rollout = record?.lockOwner ? record.rollout : undefined;
  if (!rollout?.taskToken) return 'no-open-task';
  if (changedBeforeRollout(change, rollout.startedAt)) {
    deps.log.info('alarm event from before the rollout ignored', {
      alarmName,
      changedAt: state.timestamp ?? change.time,
      rolloutStartedAt: rollout.startedAt,
    });
    return 'before-rollout';
  }
  const cause = JSON.stringify({
    alarm: alarmName,
    reason: `${alarmName} went to ${state.value}: ${state.reason ?? 'no reason given'}`,
    at: change.time ?? state.timestamp ?? new Date().toISOString(),
  });
  const { sent, executionArn } = await failOpenTask(deps, 'AlarmFired', cause, rollout);
  if (sent === undefined) return 'no-open-task';
  deps.log.warn('alarm fired during a rollout', { alarmName, executionArn, sent });
  return sent === 'sent' ? 'failed-task' : 'stale-token';
}

/**
 * The replay-lag alarm went back to OK: a step waiting for the replayer goes on (SendTaskSuccess). Any other
 * state of it changes nothing: a lagging replayer holds a step, it never rolls the target back.
 */
async function releaseReplayWait(deps: AlarmEventDeps, change: AlarmStateChange): Promise<AlarmEventAction> {
  const { value } = change.detail.state;
  const caughtUp =
    value === 'OK' || (value === 'INSUFFICIENT_DATA' && deps.replayMissingData === 'caught-up');
  if (!caughtUp) return 'ignored-state';
  const record = await deps.store.get(deps.listenerArn);
  const rollout = record?.lockOwner ? record.rollout : undefined;
  if (!rollout?.taskToken || rollout.taskKind !== 'replay') return 'no-open-task';
  const sent = await deps.callbacks.succeed(rollout.taskToken, { caughtUp: true });
  deps.log.info('the replayer caught up: the waiting step goes on', {
    executionArn: rollout.executionArn,
    sent,
  });
  return sent === 'sent' ? 'released-replay-wait' : 'stale-token';
}

/**
 * The reverse lag alarm went back to OK after the freeze: the rollback's Drain goes on to DrainCheck, which
 * records the drain. A change from before the freeze (a late delivery), or one that judged only periods that
 * ended before it (its reason data's newest datapoint), releases nothing: the drain's own checks read the alarm
 * since, and count its OK once its evidence reaches the freeze.
 */
async function releaseDrain(deps: AlarmEventDeps, change: AlarmStateChange): Promise<AlarmEventAction> {
  const { value } = change.detail.state;
  const drained =
    value === 'OK' || (value === 'INSUFFICIENT_DATA' && deps.reverseCapture?.missingData === 'caught-up');
  if (!drained) return 'ignored-state';
  const record = await deps.store.get(deps.listenerArn);
  const rollout = record?.lockOwner ? record.rollout : undefined;
  if (!rollout?.taskToken || rollout.taskKind !== 'drain') return 'no-open-task';
  // Dated by the newest period's start: a period that began before the freeze may hold only earlier samples.
  const judgedFrom = newestEvaluatedStart(change.detail.state.reasonData)?.getTime();
  const changedAt = judgedFrom ?? Date.parse(change.detail.state.timestamp ?? change.time ?? '');
  const frozenAt = Date.parse(rollout.freeze?.frozenAt ?? '');
  // An OK nothing dates, or one from before the freeze, proves no drain: the drain's own checks go on.
  if (Number.isNaN(changedAt) || Number.isNaN(frozenAt) || changedAt < frozenAt) return 'ignored-state';
  const detail = `reverse lag alarm ${change.detail.alarmName} went to ${value}: ${change.detail.state.reason ?? ''}`;
  const sent = await deps.callbacks.succeed(rollout.taskToken, { drained: true, detail });
  deps.log.info('the reverse replayer drained: the rollback restores', {
    executionArn: rollout.executionArn,
    sent,
  });
  return sent === 'sent' ? 'released-drain' : 'stale-token';
}
