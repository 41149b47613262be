import { ExecutionInputSchema, type StateError } from '../events.ts';
import { resolvePlan } from '../plan.ts';
import type { RollbackReason } from '../types.ts';
import { parseOrThrow } from '../validation.ts';
import type { EngineDeps } from './deps.ts';

/**
 * The errors Preflight's Catch sends to ReportRefusal (the state machine's own list): Swing's refusals, after
 * which nothing follows. Any other error goes to ReportPlatformRefusal, then Rollback, which releases a lock
 * Preflight may hold.
 */
const PREFLIGHT_REFUSALS: ReadonlySet<string> = new Set([
  'ValidationFailed',
  'ListenerShapeInvalid',
  'AlarmFiring',
  'RolloutLocked',
  'ListenerQuiet',
]);

/** Whether Preflight refuses this execution input before it reads anything, whatever the listener or the lock. */
function inputRefused(input: unknown): boolean {
  try {
    resolvePlan(parseOrThrow(ExecutionInputSchema, input, '').plan, 'plan');
    return false;
  } catch {
    return true;
  }
}

/**
 * Makes a start reported refused stay refused: a Preflight attempt whose answer was lost runs on beside the Retry
 * that refused (Lambda.ServiceException while the invocation still runs), and could take the lock once the
 * holder releases it, for an execution that has ended. The refusal is recorded on the listener's record, where
 * the lock's condition refuses that execution; if such an attempt already took the lock, the lock is released
 * as refused (Preflight wrote nothing to the listener), then the refusal recorded. Either order of the attempt's
 * acquire and this write ends with the lock not held by the refused execution.
 */
export async function recordRefusal(
  deps: Pick<EngineDeps, 'listenerArn' | 'store' | 'log' | 'now'>,
  executionArn: string,
  error: StateError | undefined,
  input: unknown,
  reason: RollbackReason,
): Promise<void> {
  // Every attempt parses the same input and is refused the same way, before the store: none can take the lock.
  if (inputRefused(input)) return;
  for (let round = 0; round < 2; round += 1) {
    if ((await deps.store.refuse(deps.listenerArn, executionArn)) === 'recorded') return;
    // ReportPlatformRefusal: Rollback comes next and releases what Preflight took.
    if (!PREFLIGHT_REFUSALS.has(error?.Error ?? '')) return;
    const released = await deps.store.release(deps.listenerArn, executionArn, {
      status: 'refused',
      endedAt: deps.now().toISOString(),
      reason,
    });
    deps.log.warn('a late Preflight attempt of a refused start took the lock: released', {
      executionArn,
      released,
    });
  }
}
