import { RecordMalformed } from './errors.ts';
import type { LogPort } from './log.ts';
import type { NotifierPort, RollbackReason, Rollout, RolloutStore } from './types.ts';

/**
 * The record is one DynamoDB item that anyone with UpdateItem on it can change: what a restore reads from it
 * is checked before it is used, so that a malformed record halts with a named error instead of a TypeError on
 * every run of the safety net and the reconciler (which would hold the lock for good, in silence).
 */

const MAX_WEIGHT = 999;

function isWeight(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_WEIGHT;
}

/** What is wrong with the starting weights a restore would write, or undefined when they are usable. */
export function malformedStartingWeights(rollout: Rollout): string | undefined {
  const starting: unknown = (rollout as { startingWeights?: unknown }).startingWeights;
  if (starting === undefined) return 'startingWeights is missing';
  if (starting === null || typeof starting !== 'object')
    return `startingWeights is ${JSON.stringify(starting)}`;
  const { source, target } = starting as { source?: unknown; target?: unknown };
  if (!isWeight(source) || !isWeight(target)) {
    return `startingWeights is ${JSON.stringify(starting)}, not two ALB weights (integers from 0 to ${MAX_WEIGHT})`;
  }
  if (source + target === 0) return 'startingWeights is 0/0, which sends traffic nowhere';
  return undefined;
}

/** The named error for a record a restore cannot use, with the operator's way out. */
export function recordMalformedError(listenerArn: string, rollout: Rollout, why: string): RecordMalformed {
  return new RecordMalformed(
    `the record of rollout ${rollout.executionArn} on listener ${listenerArn} is malformed: ${why}. Swing ` +
      'cannot know what to restore, so it halts and leaves the listener as it is. Check who changed the ' +
      'record (DynamoDB UpdateItem), then restore by hand: swing rollback --force (with no usable starting ' +
      'weights it sends everything to the source), or swing set-weights',
  );
}

/** Throws RecordMalformed when a restore could not use the record. */
export function refuseMalformedRecord(listenerArn: string, rollout: Rollout): void {
  const why = malformedStartingWeights(rollout);
  if (why) throw recordMalformedError(listenerArn, rollout, why);
}

/** What halting on a malformed record needs: the record store, the notifier, the clock and the log. */
export interface MalformedHaltDeps {
  readonly listenerArn: string;
  readonly store: RolloutStore;
  readonly notifier: NotifierPort;
  readonly log: LogPort;
  readonly now: () => Date;
}

/**
 * The safety net's and the reconciler's halt on a malformed record: notify (a failed notification does not keep
 * the lock), release the lock as `halted` with RecordMalformed as the reason, and write nothing to the listener.
 */
export async function haltOnMalformedRecord(
  deps: MalformedHaltDeps,
  rollout: Rollout,
  why: string,
  by: string,
): Promise<'halted-record-malformed'> {
  const error = recordMalformedError(deps.listenerArn, rollout, why);
  const reason: RollbackReason = { error: error.name, cause: error.message, at: deps.now().toISOString() };
  try {
    await deps.notifier.notify({
      outcome: 'halted',
      listenerArn: deps.listenerArn,
      executionArn: rollout.executionArn,
      reason,
    });
  } catch (notifyError) {
    deps.log.error('could not send the halted notification', { error: String(notifyError) });
  }
  await deps.store.release(deps.listenerArn, rollout.executionArn, {
    outcome: 'halted',
    status: 'halted',
    reason,
    restored: false,
    endedAt: deps.now().toISOString(),
    taskToken: undefined,
    taskKind: undefined,
    pendingWeights: undefined,
  });
  deps.log.error(`${by} halted on a malformed record`, { executionArn: rollout.executionArn, why });
  return 'halted-record-malformed';
}

/**
 * Rollback on a malformed record: records RecordMalformed as the reason (the Halt state's finalize reports the
 * record's reason) and throws it, before any write; the state machine halts and releases the lock.
 */
export async function recordRollbackHalt(
  deps: Pick<MalformedHaltDeps, 'listenerArn' | 'store' | 'now'>,
  rollout: Rollout,
  why: string,
): Promise<never> {
  const error = recordMalformedError(deps.listenerArn, rollout, why);
  const earlier = rollout.reason
    ? ` It was rolling back after ${rollout.reason.error}: ${rollout.reason.cause}`
    : '';
  await deps.store.update(deps.listenerArn, rollout.executionArn, {
    status: 'rolling-back',
    reason: {
      error: error.name,
      cause: `${error.message}.${earlier}`.slice(0, 2000),
      at: deps.now().toISOString(),
    },
    taskToken: undefined,
    taskKind: undefined,
  });
  throw error;
}
