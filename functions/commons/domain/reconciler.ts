import { LockLost } from './errors.ts';
import { hasEnded, type SafetyNetAction, type SafetyNetDeps, settleEndedExecution } from './rollout.ts';
import type { ExecutionStatus, ExecutionStatusPort } from './types.ts';

/**
 * How often EventBridge Scheduler runs the reconciler (the infra tests hold the stack to it). A lock whose
 * holder ended and whose status event was lost is settled within this long after the safety net would have.
 */
export const RECONCILE_INTERVAL_MINUTES = 5;

/** Runs in a row without learning the holder's status before the reconciler notifies (`stuck`). */
export const RECONCILE_NOTIFY_AFTER_FAILURES = 3;

export type ReconcilerDeps = SafetyNetDeps & {
  readonly executions: ExecutionStatusPort;
  /** @default RECONCILE_NOTIFY_AFTER_FAILURES */
  readonly notifyAfterFailures?: number;
};

export type ReconcileAction =
  /** Nobody holds the lock. */
  | 'free'
  /** The holder still runs (or is being redriven): its own paths release the lock. */
  | 'holder-running'
  /** The holder ended less than the safety net's wait ago: a task of it may still act; next run decides. */
  | 'holder-just-ended'
  /** DescribeExecution failed: the lock is left alone and the failure counted in the record. */
  | 'status-unknown'
  | SafetyNetAction;

export interface ReconcileResult {
  readonly action: ReconcileAction;
  readonly executionArn?: string;
  readonly holderStatus?: ExecutionStatus;
  /** With `status-unknown`: runs in a row that failed, as now recorded. */
  readonly failures?: number;
}

/**
 * I7 when the execution-status event is lost (EventBridge delivers those best effort): reads the lock, asks
 * Step Functions whether its holder still runs, and settles it as the safety net would once it ended. When
 * the status cannot be learned it changes nothing but the failure count, and notifies after a few runs.
 * Called by the scheduled reconciler handler, and by the local executor and the proofs as the schedule would.
 */
export async function reconcile(deps: ReconcilerDeps): Promise<ReconcileResult> {
  const record = await deps.store.get(deps.listenerArn);
  const executionArn = record?.lockOwner;
  const rollout = record?.rollout;
  if (!executionArn || !rollout) return { action: 'free' };

  let view: Awaited<ReturnType<ExecutionStatusPort['describe']>>;
  try {
    view = await deps.executions.describe(executionArn);
  } catch (error) {
    return statusUnknown(deps, executionArn, rollout.reconcileFailures ?? 0, error);
  }
  if (rollout.reconcileFailures) {
    await deps.store
      .update(deps.listenerArn, executionArn, { reconcileFailures: undefined })
      .catch(ignoreLockLost);
  }
  if (!hasEnded(view.status)) {
    return { action: 'holder-running', executionArn, holderStatus: view.status };
  }
  // The safety net's own wait: a task of the ended execution may still act until then (StopExecution and an
  // execution failure stop no running Lambda). The reconciler does not sleep through it: the next run acts.
  const stoppedAt = view.stoppedAt ?? deps.now();
  if (deps.now().getTime() - stoppedAt.getTime() < (deps.waitAfterStopMs ?? 0)) {
    return { action: 'holder-just-ended', executionArn, holderStatus: view.status };
  }
  const action = await settleEndedExecution(deps, rollout, {
    executionArn,
    status: view.status,
    at: stoppedAt.toISOString(),
    by: 'reconciler',
  });
  return { action, executionArn, holderStatus: view.status };
}

function ignoreLockLost(error: unknown): void {
  if (!(error instanceof LockLost)) throw error;
}

async function statusUnknown(
  deps: ReconcilerDeps,
  executionArn: string,
  previousFailures: number,
  error: unknown,
): Promise<ReconcileResult> {
  const failures = previousFailures + 1;
  const errorName = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  try {
    await deps.store.update(deps.listenerArn, executionArn, { reconcileFailures: failures });
  } catch (updateError) {
    // Released meanwhile (by its own paths or the safety net): nothing left to reconcile.
    ignoreLockLost(updateError);
    return { action: 'free' };
  }
  deps.log.warn('reconciler could not learn the lock holder status', { executionArn, failures, errorName });
  if (failures === (deps.notifyAfterFailures ?? RECONCILE_NOTIFY_AFTER_FAILURES)) {
    try {
      await deps.notifier.notify({
        outcome: 'stuck',
        listenerArn: deps.listenerArn,
        executionArn,
        reason: {
          error: errorName,
          cause:
            `the reconciler could not learn whether execution ${executionArn} still runs, ${failures} runs in ` +
            `a row (DescribeExecution: ${message.slice(0, 500)}); it leaves the lock held. Check its role ` +
            'may call states:DescribeExecution, then `swing status`',
          at: deps.now().toISOString(),
        },
      });
    } catch (notifyError) {
      deps.log.error('could not send the stuck notification', { error: String(notifyError) });
    }
  }
  return { action: 'status-unknown', executionArn, failures };
}
