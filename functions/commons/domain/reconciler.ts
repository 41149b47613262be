import {
  hasEnded,
  recordedRolloutOf,
  type SafetyNetAction,
  type SafetyNetDeps,
  settleEndedExecution,
} from './engine/safety-net.ts';
import { LockLost } from './errors.ts';
import { DEFAULT_READS_FIRST, liftFreeze, removeRules, rulesDrift } from './reads-first.ts';
import { isFreezeRule, isPinRule } from './swing-rules.ts';
import type { ExecutionStatus, ExecutionStatusPort, FoundSwingRule, ListenerRecord } from './types.ts';

/**
 * How often EventBridge Scheduler runs the reconciler (the infra tests hold the stack to it). A lock whose
 * holder ended and whose status event was lost is settled within this long after the safety net would have.
 */
export const RECONCILE_INTERVAL_MINUTES = 5;

/**
 * How long one reconciler run waits for a freeze's drain: its 60 s timeout less 40 s for reading, the freeze's
 * rules, the restore and the sweep. Past it DrainPending, the freeze and the lock left for the next run.
 */
export const RECONCILE_MAX_DRAIN_WAIT_MS = 20_000;

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
  /** Nobody holds the lock, and rules of Swing's that finished rollouts left were removed. */
  | 'swept-rules'
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
  /** Rules of Swing's that finished rollouts had left, removed by this run. */
  readonly sweptRules?: number;
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
  if (!executionArn || !rollout) {
    const sweptRules = await sweepLeftoverRules(deps, record);
    return sweptRules > 0 ? { action: 'swept-rules', sweptRules } : { action: 'free' };
  }

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

/**
 * I9 for what no rollout's own path removed: rules of Swing's whose owner no longer holds the lock (a stale
 * attempt that wrote after its rollout ended; pins a `hold` after the cutover kept for the scroll keep-alive).
 * Only rules whose owner the record shows finished (a rollout's own rules are its own, and one may have taken
 * the lock since the record was read), and never the rules of a rollout halted for drift: the operator is
 * acting there, and Swing touches nothing.
 */
/** Halts that leave the rollout's rules to the operator: the listener or the record changed, or cannot be trusted. */
const HAND_HALTS = new Set([
  'WeightsDrifted',
  'RecordMalformed',
  'ListenerShapeInvalid',
  'RestoreRaisesTarget',
]);

async function sweepLeftoverRules(deps: ReconcilerDeps, record: ListenerRecord | undefined): Promise<number> {
  if (!deps.swingRules) return 0;
  const rules = await deps.swingRules.readSwingRules();
  if (rules.length === 0) return 0;
  const owners = new Map<string, FoundSwingRule[]>();
  for (const rule of rules) owners.set(rule.owner, [...(owners.get(rule.owner) ?? []), rule]);
  let swept = 0;
  for (const [owner, owned] of owners) {
    const done = recordedRolloutOf(record, owner);
    // Fenced against a new holder: the record was read before the rules were listed, and a run may stall in
    // between while a rollout takes the lock and writes its rules. Only rules whose Swing tag names a rollout
    // this record shows finished are swept; a finished rollout never takes the lock again.
    if (!done) {
      deps.log.warn('rules of a rollout not known to have finished left alone: it may hold the lock now', {
        owner,
        rules: owned.length,
      });
      continue;
    }
    // A hold after the cutover halts with the failure's own reason (AlarmFired, ...) and a `hold` exposure; one
    // halted for a hand change (or a record or listener it could not trust) is the operator's, hold or not.
    const handHalted = HAND_HALTS.has(done.reason?.error ?? '');
    const held =
      !handHalted && (done.reason?.error === 'HeldAfterCutover' || done.exposure?.policy === 'hold');
    if (done.outcome === 'halted' && !held) {
      // A halt never leaves a freeze (I9): a freeze rule still here landed late (a stale Freeze attempt that
      // died before its record check), and refuses writes with nobody to lift it. It goes; the rest is the
      // operator's.
      const lateFreeze = owned.filter(isFreezeRule);
      if (lateFreeze.length > 0) {
        swept += await liftFreeze(deps.swingRules, lateFreeze, deps.log, { restoreWrites: false });
      }
      deps.log.warn('rules of a halted rollout left alone: the operator decides', {
        owner,
        rules: owned.length - lateFreeze.length,
      });
      continue;
    }
    // A rule of the rollout's changed by hand since (a pin re-weighted, a rule reshaped): the operator is acting,
    // and Swing touches none of the rollout's rules (I4). Missing rules and a stale step's weights are Swing's.
    const handChange = rulesDrift(done, owned, { ignoreMissing: true, staleSteps: true });
    if (handChange) {
      deps.log.warn('rules changed by hand after the rollout ended left alone: the operator decides', {
        owner,
        rules: owned.length,
        why: handChange,
      });
      continue;
    }
    const cutoverAt = Date.parse(done.cutoverAt ?? done.cutoverStartedAt ?? '');
    const keepAliveMs =
      (done.readsFirst?.scrollKeepAliveSeconds ?? DEFAULT_READS_FIRST.scrollKeepAliveSeconds) * 1000;
    const pinsKept = !Number.isNaN(cutoverAt) && deps.now().getTime() < cutoverAt + keepAliveMs;
    const removing = pinsKept ? owned.filter((rule) => !isPinRule(rule)) : owned;
    swept += await removeRules(deps.swingRules, removing, deps.log);
  }
  return swept;
}
