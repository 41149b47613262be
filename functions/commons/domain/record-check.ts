import { RecordMalformed } from './errors.ts';
import type { LogPort } from './log.ts';
import { notifyOnce } from './outcome-notice.ts';
import { endedNow } from './quiet.ts';
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

function malformedWeights(name: string, value: unknown): string | undefined {
  if (value === undefined) return `${name} is missing`;
  if (!isWeights(value)) {
    return `${name} is ${JSON.stringify(value)}, not two ALB weights (integers from 0 to ${MAX_WEIGHT})`;
  }
  return undefined;
}

function isWeights(value: unknown): value is { source: number; target: number } {
  if (value === null || typeof value !== 'object') return false;
  const { source, target } = value as { source?: unknown; target?: unknown };
  return isWeight(source) && isWeight(target);
}

/** What is wrong with the starting weights a restore would write, or undefined when they are usable. */
export function malformedStartingWeights(rollout: Rollout): string | undefined {
  const starting: unknown = (rollout as { startingWeights?: unknown }).startingWeights;
  const why = malformedWeights('startingWeights', starting);
  if (why) return why;
  const { source, target } = starting as { source: number; target: number };
  if (source + target === 0) return 'startingWeights is 0/0, which sends traffic nowhere';
  return undefined;
}

const TRAFFIC_MODES: readonly unknown[] = [undefined, 'all', 'reads-first'];

function isPercent(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 100;
}

/**
 * What is wrong with the record for the paths that restore or finish a rollout (Rollback, finalize, the safety
 * net, the reconciler), or undefined when it is usable. It checks every field they read: the starting and last
 * written weights, the weights of a write begun, the plan's steps (a stale step's write is told from a hand
 * change by them), the traffic mode and the cutover's times.
 */
export function malformedRecord(rollout: Rollout): string | undefined {
  const fields = rollout as unknown as Record<string, unknown>;
  const starting = malformedStartingWeights(rollout);
  if (starting) return starting;
  const lastWritten = malformedWeights('lastWritten', fields.lastWritten);
  if (lastWritten) return lastWritten;
  // Absent when no write is under way (a key patched to undefined is removed); null or a bad shape is damage.
  for (const name of ['pendingWeights', 'readsWritten', 'pendingReads']) {
    if (name in fields && fields[name] !== undefined) {
      const why = malformedWeights(name, fields[name]);
      if (why) return why;
    }
  }
  const plan = fields.plan as { steps?: unknown } | null | undefined;
  const planSteps = plan !== null && typeof plan === 'object' ? plan.steps : undefined;
  if (
    !Array.isArray(planSteps) ||
    planSteps.length === 0 ||
    !planSteps.every(
      (step: unknown) =>
        step !== null &&
        typeof step === 'object' &&
        isPercent((step as { targetPercent?: unknown }).targetPercent),
    )
  ) {
    return `plan is ${JSON.stringify(plan)}, not a plan whose steps each have a targetPercent from 0 to 100`;
  }
  if (!Array.isArray(fields.steps)) return `steps is ${JSON.stringify(fields.steps)}, not a list of steps`;
  if (!TRAFFIC_MODES.includes(fields.traffic)) {
    return `traffic is ${JSON.stringify(fields.traffic)}, not "all" or "reads-first"`;
  }
  for (const name of ['cutoverAt', 'cutoverStartedAt']) {
    const value = fields[name];
    if (value !== undefined && (typeof value !== 'string' || Number.isNaN(Date.parse(value)))) {
      return `${name} is ${JSON.stringify(value)}, not a time`;
    }
  }
  return undefined;
}

/** The named error for a record a restore cannot use, with the operator's way out. */
export function recordMalformedError(listenerArn: string, rollout: Rollout, why: string): RecordMalformed {
  return new RecordMalformed(
    `the record of rollout ${rollout.executionArn} on listener ${listenerArn} is malformed: ${why}. Swing ` +
      'cannot trust it to restore, so it halts and leaves the listener as it is. Check who changed the ' +
      'record (DynamoDB UpdateItem), then restore by hand: swing rollback --force (with no usable starting ' +
      'weights it sends everything to the source), or swing set-weights',
  );
}

/** Throws RecordMalformed when a restore could not use the record. */
export function refuseMalformedRecord(listenerArn: string, rollout: Rollout): void {
  const why = malformedRecord(rollout);
  if (why) throw recordMalformedError(listenerArn, rollout, why);
}

/** What halting on a malformed record needs: the record store, the notifier, the clock and the log. */
export interface MalformedHaltDeps {
  readonly listenerArn: string;
  readonly store: RolloutStore;
  readonly notifier: NotifierPort;
  readonly log: LogPort;
  readonly now: () => Date;
  readonly quietAfterReleaseMs?: number;
}

/**
 * The safety net's and the reconciler's halt on a malformed record: notify once (a failed notification does not
 * keep the lock), release the lock as `halted` with RecordMalformed as the reason, and write nothing to the listener.
 */
export async function haltOnMalformedRecord(
  deps: MalformedHaltDeps,
  rollout: Rollout,
  why: string,
  by: string,
): Promise<'halted-record-malformed'> {
  const error = recordMalformedError(deps.listenerArn, rollout, why);
  const reason: RollbackReason = { error: error.name, cause: error.message, at: deps.now().toISOString() };
  // A release that fails is tried again (the next run of the safety net or the reconciler): notified once.
  await notifyOnce(deps, {
    outcome: 'halted',
    listenerArn: deps.listenerArn,
    executionArn: rollout.executionArn,
    reason,
  });
  await deps.store.release(deps.listenerArn, rollout.executionArn, {
    outcome: 'halted',
    status: 'halted',
    reason,
    restored: false,
    ...endedNow(deps),
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
