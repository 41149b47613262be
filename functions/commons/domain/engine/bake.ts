import { AlarmFired } from '../errors.ts';
import { WaitTaskEventSchema } from '../events.ts';
import { attemptKey } from '../fencing.ts';
import type { Rollout } from '../types.ts';
import { parseOrThrow } from '../validation.ts';
import { replayReadyForFreeze } from './cutover-freeze.ts';
import type { EngineDeps } from './deps.ts';
import { openDrain } from './drain.ts';
import { firingSummary, throwIfAborted } from './record.ts';

/**
 * Bake and the other task-token waits (Gate, PauseHold, WaitForReplay, and the rollback's Drain, drain.ts): one
 * handler stores the token that an alarm event, an operator or the replay-lag alarm's return to OK ends.
 */

export type WaitTaskDeps = Pick<EngineDeps, 'listenerArn' | 'alarms' | 'store' | 'log' | 'now'> &
  Partial<Pick<EngineDeps, 'replayLag' | 'callbacks' | 'reverseReplay'>>;

/**
 * Stores the bake's (or gate's) task token so that an alarm event or an operator can fail it, then checks
 * once more: an alarm that fired between the shift and this moment found no token to fail.
 *
 * On AWS the task's timeout races this invocation: a slow attempt (a cold start, an SDK retry, a Retry
 * that overlapped it) may run on after its state ended. Its token is dead then, so the write is conditional
 * on no later attempt of any state having written the record (store.openWait); a stale attempt stops there.
 * Only that: the live attempt is the latest, so its token is always stored, whatever a stale one wrote.
 */
export async function openWaitTask(deps: WaitTaskDeps, event: unknown): Promise<{ waiting: boolean }> {
  const { executionArn, index, kind, taskToken, timeoutSeconds, stateEnteredTime, retryCount } = parseOrThrow(
    WaitTaskEventSchema,
    event,
  );
  // The rollback is under way: no fence on the attempt, no alarm or abort to act on.
  if (kind === 'drain') return openDrain(deps, executionArn, taskToken);
  // The write is conditional on holding the lock and on the attempt: no separate read needed.
  const rollout = await deps.store.openWait(
    deps.listenerArn,
    executionArn,
    { kind, stepIndex: index, attempt: attemptKey(stateEnteredTime, retryCount) },
    {
      taskToken,
      taskKind: kind,
      bakeEndsAt: new Date(deps.now().getTime() + timeoutSeconds * 1000).toISOString(),
    },
  );
  if (!rollout) {
    deps.log.info('stale bake or gate attempt: its state already ended, its token is not stored', {
      executionArn,
      index,
      kind,
      retryCount,
    });
    return { waiting: false };
  }
  throwIfAborted(rollout);
  const evaluation = await deps.alarms.evaluate();
  if (evaluation.firing.length > 0) {
    throw new AlarmFired(
      JSON.stringify({
        alarm: evaluation.firing[0]?.name,
        reason: firingSummary(evaluation),
        at: deps.now().toISOString(),
      }),
    );
  }
  if (kind === 'replay') return releaseIfCaughtUp(deps, rollout, index, taskToken);
  // A resume that landed before this token was stored found no hold to end: the hold ends itself.
  if (kind === 'pause' && !rollout.pauseRequested && deps.callbacks) {
    await deps.callbacks.succeed(taskToken, { resumed: true });
    deps.log.info('the pause was withdrawn before its hold opened: the rollout goes on', {
      executionArn,
      index,
    });
    return { waiting: false };
  }
  deps.log.info(kind === 'bake' ? 'baking' : kind === 'pause' ? 'paused' : 'waiting at gate', {
    executionArn,
    index,
    timeoutSeconds,
  });
  return { waiting: true };
}

/**
 * A wait for the replayer checks once more after storing its token: the lag alarm may have returned to OK
 * between the step's check and now, and its event found no token to release.
 */
async function releaseIfCaughtUp(
  deps: WaitTaskDeps,
  rollout: Rollout,
  index: number,
  taskToken: string,
): Promise<{ waiting: boolean }> {
  const executionArn = rollout.executionArn;
  // After a cutover freeze that timed out, the lag alarm's OK alone does not let the step freeze again.
  const verdict = await replayReadyForFreeze(deps, rollout);
  if (!verdict.caughtUp || !deps.callbacks) {
    deps.log.info('waiting for the replayer', { executionArn, index, detail: verdict.detail });
    return { waiting: true };
  }
  await deps.callbacks.succeed(taskToken, { caughtUp: true });
  deps.log.info('the replayer has caught up: the step goes on', { executionArn, index });
  return { waiting: false };
}
