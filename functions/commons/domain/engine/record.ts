import { Aborted, LockLost, RestoreRaisesTarget, WeightsDrifted } from '../errors.ts';
import type { AlarmEvaluation, Rollout, StepRecord, Weights } from '../types.ts';
import { formatWeights, isIncrease, sameWeights } from '../weights.ts';
import type { EngineDeps } from './deps.ts';

/**
 * What the states read before they act, each the same way: the lock still this execution's, no abort
 * requested, the listener at a write of Swing's own (a hand change halts, I4), a restore that never raises the
 * target's share (I7); and the step list each step's record write updates.
 */

export async function ownRollout(deps: Pick<EngineDeps, 'store' | 'listenerArn'>, executionArn: string) {
  const record = await deps.store.get(deps.listenerArn);
  if (record?.lockOwner !== executionArn || !record.rollout) {
    throw new LockLost(
      `execution ${executionArn} no longer holds the lock on listener ${deps.listenerArn}` +
        (record?.lockOwner ? ` (held by ${record.lockOwner})` : ' (nobody holds it)') +
        ': it was released by the safety net or an operator; start a new rollout',
    );
  }
  return record.rollout;
}

export function throwIfAborted(rollout: Rollout): void {
  if (rollout.abortRequested) throw new Aborted('an operator aborted the rollout: rolling back');
  if (rollout.forcedRollbackAt !== undefined) throw forcedRollbackError(rollout.forcedRollbackAt);
}

/**
 * `swing rollback --force` restored the listener under this rollout's lock: the rollout does not go on, it rolls
 * back (Rollback removes the rules the command kept). Named Aborted: every state routes that to Rollback.
 */
export function forcedRollbackError(at: string): Aborted {
  return new Aborted(`swing rollback --force restored the listener at ${at}: rolling back`);
}

/**
 * A change found on the listener or Swing's rules halts the rollout as a hand change (I4), unless `swing rollback
 * --force` made it: that command records forcedRollbackAt before it writes anything, so a record read after the
 * change was seen tells which. Then the rollout rolls back instead.
 */
export async function throwDriftUnlessForced(
  deps: Pick<EngineDeps, 'store' | 'listenerArn'>,
  executionArn: string,
  drift: WeightsDrifted,
): Promise<never> {
  const record = await deps.store.get(deps.listenerArn);
  const forcedAt = record?.lockOwner === executionArn ? record.rollout?.forcedRollbackAt : undefined;
  throw forcedAt === undefined ? drift : forcedRollbackError(forcedAt);
}

export function firingSummary(evaluation: AlarmEvaluation): string {
  return evaluation.firing.map((alarm) => `${alarm.name} (${alarm.state}: ${alarm.reason})`).join(', ');
}

/** Weights Swing may legitimately find on the listener: what it last wrote, or a write it had begun. */
export function isOwnWrite(rollout: Rollout, current: Weights): boolean {
  return (
    sameWeights(current, rollout.lastWritten) ||
    (rollout.pendingWeights !== undefined && sameWeights(current, rollout.pendingWeights))
  );
}

export function driftError(rollout: Rollout, current: Weights, listenerArn: string): WeightsDrifted {
  return new WeightsDrifted(
    `listener ${listenerArn} is at ${formatWeights(current)} but Swing last wrote ${formatWeights(rollout.lastWritten)}: ` +
      'someone changed the weights by hand, so Swing halts and leaves them alone. ' +
      'Check who changed them, then set the weights you want and start a new rollout',
  );
}

/**
 * I7: a restore never raises the target's share. The starting weights come from the record, which a caller
 * with UpdateItem on it can change; the listener's current share is what the target really has.
 */
export function refuseRestoreRaisingTarget(rollout: Rollout, current: Weights, listenerArn: string): void {
  if (!isIncrease(current, rollout.startingWeights)) return;
  throw new RestoreRaisesTarget(
    `not restoring listener ${listenerArn} to ${formatWeights(rollout.startingWeights)}: it is at ` +
      `${formatWeights(current)}, and a restore never raises the target's share. The record's starting ` +
      'weights are not what this rollout started from (someone changed the record): Swing halts and leaves ' +
      'the listener alone. Check who changed the record, then set the weights you want (swing set-weights)',
  );
}

export function upsertStep(steps: readonly StepRecord[], step: StepRecord): StepRecord[] {
  return [...steps.filter((existing) => existing.index !== step.index), step].sort(
    (a, b) => a.index - b.index,
  );
}

export async function readWeightsQuietly(
  deps: Pick<EngineDeps, 'listener' | 'log'>,
): Promise<Weights | undefined> {
  try {
    return await deps.listener.readWeights();
  } catch (error) {
    deps.log.warn('could not read the final weights for the record', { error: String(error) });
    return undefined;
  }
}
