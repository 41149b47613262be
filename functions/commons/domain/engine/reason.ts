import type { StateError } from '../events.ts';
import type { RollbackReason } from '../types.ts';

/**
 * The reason a rollout rolled back (or halted), read from the error Step Functions passes to Rollback and
 * Finalize.
 */

interface CauseFields {
  alarm?: unknown;
  at?: unknown;
  reason?: unknown;
  errorMessage?: unknown;
}

function parseCause(text: string): CauseFields | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as CauseFields) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads what an alarm or abort put in the error's cause. SendTaskFailure passes Swing's JSON as the cause;
 * a Lambda error wraps the message in { errorType, errorMessage }, so look one level in as well.
 */
export function reasonFrom(error: StateError | undefined, now: Date): RollbackReason {
  if (!error)
    return { error: 'Unknown', cause: 'no error was passed to the rollback', at: now.toISOString() };
  let fields = parseCause(error.Cause ?? '');
  let cause = error.Cause ?? '';
  if (fields && typeof fields.errorMessage === 'string') {
    cause = fields.errorMessage;
    fields = parseCause(fields.errorMessage) ?? fields;
  }
  if (fields && typeof fields.reason === 'string') cause = fields.reason;
  const alarm = typeof fields?.alarm === 'string' ? fields.alarm : undefined;
  const at = typeof fields?.at === 'string' ? fields.at : now.toISOString();
  return { error: error.Error, cause: cause.slice(0, 2000), at, ...(alarm ? { alarm } : {}) };
}
