import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { malformedStartingWeights } from '#domain/record-check.ts';
import type { ListenerRecord, Rollout, RolloutOutcome } from '#domain/types.ts';
import { formatWeights } from '#domain/weights.ts';
import { printableDeep } from '#report/printable.ts';
import type { CommandContext } from './context.ts';
import { CliFailure, ExitCodes } from './exit-codes.ts';
import { exposureText, writesNotes } from './reads-first-status.ts';
import { durationText, executionName, loud, publicRollout, secondsBetween } from './render.ts';

export interface RolloutEnd {
  readonly executionArn: string;
  readonly outcome: RolloutOutcome | 'refused';
  readonly rollout?: Rollout;
  /** For a refused start: Step Functions' error and cause. */
  readonly error?: string;
  readonly cause?: string;
}

const OUTCOME_EXIT: Record<RolloutEnd['outcome'], ExitCodes> = {
  completed: ExitCodes.Ok,
  rehearsed: ExitCodes.Ok,
  'rolled-back': ExitCodes.RolledBackOrRefused,
  refused: ExitCodes.RolledBackOrRefused,
  halted: ExitCodes.HaltedOrInternal,
};

export function exitCodeOf(end: RolloutEnd): ExitCodes {
  return OUTCOME_EXIT[end.outcome];
}

/** The rollout `executionArn` once it no longer holds the lock, from the record or its history. */
export function finishedRollout(
  record: ListenerRecord | undefined,
  executionArn: string,
): Rollout | undefined {
  if (!record || record.lockOwner === executionArn) return undefined;
  if (record.rollout?.executionArn === executionArn && record.rollout.outcome) return record.rollout;
  return [...record.history].reverse().find((rollout) => rollout.executionArn === executionArn);
}

/** Text from outside Swing in it is made printable first (no escape sequence reaches the terminal). */
export function renderEnd(end: RolloutEnd, isTTY: boolean): string {
  return renderEndText(printableDeep(end), isTTY);
}

function renderEndText(end: RolloutEnd, isTTY: boolean): string {
  const name = executionName(end.executionArn);
  if (end.outcome === 'refused' || !end.rollout) {
    return loud(
      `Rollout ${name} did not start: ${end.error ?? 'failed'}: ${end.cause ?? 'no cause given'}`,
      isTTY,
    );
  }
  const rollout = end.rollout;
  const took = rollout.endedAt
    ? ` in ${durationText(secondsBetween(rollout.startedAt, rollout.endedAt))}`
    : '';
  const reason = rollout.reason
    ? `${rollout.reason.error}: ${rollout.reason.cause}${rollout.reason.alarm ? ` (alarm ${rollout.reason.alarm})` : ''}`
    : 'no reason recorded';
  if (end.outcome === 'completed') {
    return `Rollout ${name} completed${took}: the listener is at ${formatWeights(rollout.lastWritten)}`;
  }
  const restored =
    rollout.restored && !malformedStartingWeights(rollout)
      ? `starting weights restored (${formatWeights(rollout.startingWeights)})`
      : 'the starting weights were NOT confirmed restored: check `swing status`';
  const writes = writesNotes(rollout, isTTY);
  if (end.outcome === 'rehearsed') {
    return [`Rehearsal ${name} rehearsed${took}: every step ran, then the ${restored}`, ...writes].join('\n');
  }
  if (end.outcome === 'rolled-back') {
    return [loud(`Rollout ${name} ROLLED BACK${took}: ${reason}; ${restored}`, isTTY), ...writes].join('\n');
  }
  return [
    loud(
      `Rollout ${name} HALTED${took}: ${reason}; Swing left the listener as it found it: check it with \`swing status\``,
      isTTY,
    ),
    ...(rollout.exposure ? [loud(exposureText(rollout.exposure), isTTY)] : []),
  ].join('\n');
}

export function endJson(end: RolloutEnd) {
  return {
    executionArn: end.executionArn,
    outcome: end.outcome,
    exitCode: exitCodeOf(end),
    ...(end.error ? { error: end.error } : {}),
    ...(end.cause ? { cause: end.cause } : {}),
    ...(end.rollout ? { rollout: publicRollout(end.rollout) } : {}),
  };
}

/** How `executionArn` ended, once it no longer holds the lock; undefined while it still runs. */
export async function endOf(
  ctx: CommandContext,
  record: ListenerRecord | undefined,
  executionArn: string,
): Promise<RolloutEnd | undefined> {
  if (record?.lockOwner === executionArn) return undefined;
  const finished = finishedRollout(record, executionArn);
  if (finished?.outcome) return { executionArn, outcome: finished.outcome, rollout: finished };
  // Not in the record: still in preflight, or refused before it took the lock.
  const execution = await ctx.clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
  if (!execution || execution.status === 'RUNNING' || execution.status === 'PENDING_REDRIVE')
    return undefined;
  if (execution.status === 'SUCCEEDED') {
    throw new CliFailure(
      ExitCodes.HaltedOrInternal,
      `execution ${executionName(executionArn)} SUCCEEDED but left no rollout record: check the table name ` +
        '(--table-name) and listener (--listener-arn) match the stack',
    );
  }
  return {
    executionArn,
    outcome: 'refused',
    error: execution.error ?? execution.status ?? 'FAILED',
    cause: oneLineCause(execution.cause),
  };
}

/** Lambda wraps an error as { errorType, errorMessage }: show the message, on one line, bounded. */
function oneLineCause(cause: string | undefined): string {
  if (!cause) return 'no cause given';
  let text = cause;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') text = parsed.errorMessage;
  } catch {
    // not JSON: show as it is
  }
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 400 ? `${flat.slice(0, 400)}...` : flat;
}
