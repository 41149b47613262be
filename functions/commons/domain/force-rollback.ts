import { refuseRestoreRaisingTarget } from './engine/record.ts';
import { hasEnded } from './engine/safety-net.ts';
import { writeExposure } from './engine/write-exposure.ts';
import { LockLost, Superseded } from './errors.ts';
import { reverseCaptureOf } from './lossless.ts';
import { QUIET_AFTER_RELEASE_SECONDS, quietPatch } from './quiet.ts';
import { removeRules, rulesOf } from './reads-first.ts';
import { malformedStartingWeights } from './record-check.ts';
import { safetyNetActsBy } from './safety-net-due.ts';
import { specOf } from './swing-rules.ts';
import type {
  ExecutionStatus,
  ExecutionStatusPort,
  FoundSwingRule,
  ListenerPort,
  Rollout,
  RolloutPatch,
  RolloutStore,
  SwingRulesPort,
  TargetRequestsPort,
  Weights,
  WriteExposure,
} from './types.ts';
import { percentToWeights, sameWeights } from './weights.ts';

/** Step Functions, as the forced rollback asks about the lock's holder (throws when it cannot) and stops it. */
export interface ExecutionControlPort extends ExecutionStatusPort {
  stop(executionArn: string, error: string, cause: string): Promise<void>;
}

export interface ForceRollbackDeps {
  readonly listenerArn: string;
  readonly store: RolloutStore;
  readonly listener: Pick<ListenerPort, 'readWeights' | 'writeWeights'>;
  readonly rules: SwingRulesPort;
  readonly executions: ExecutionControlPort;
  readonly now: () => Date;
  /** Who asked, for the reason recorded and the stop's cause. */
  readonly requestedBy?: string;
  /** The release's quiet period: a stalled safety net may still act. @default QUIET_AFTER_RELEASE_SECONDS */
  readonly quietAfterReleaseMs?: number;
  /** Waits out a freeze's drain (below). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Counts the target's requests since the cutover, for the exposure a release after it records. */
  readonly targetRequests?: TargetRequestsPort;
}

/** What the forced rollback will do, known before it changes anything. */
export interface ForceRollbackPlan {
  readonly rollout: Rollout;
  readonly current: Weights;
  /** The rollout's starting weights, or everything on the source when the record has none usable. */
  readonly starting: Weights;
  /** Why the record's starting weights are unusable, when they are. */
  readonly malformed?: string;
  readonly needsWrite: boolean;
  /**
   * The rollout's own listener rules (reads-first) this command removes, after the default action: all of them,
   * or only the read rules while an attempt of the holder may still act (`rulesKept`).
   */
  readonly rules: readonly FoundSwingRule[];
  /**
   * The pins and `writes-to-source`, kept while an attempt of the lock's holder may still create a read rule (it
   * then lands behind them): whoever settles the rollout once no attempt can act removes them, pins last.
   */
  readonly rulesKept: readonly FoundSwingRule[];
  readonly owner?: string;
  readonly ownerStatus?: ExecutionStatus;
  /** An attempt of the lock's holder may still act: it runs, its status is unknown, or it ended lately. */
  readonly attemptMayAct: boolean;
  /** The lock goes too: `--release-lock` with a holder. */
  readonly release: boolean;
}

export type ForceRollbackResult =
  | {
      readonly kind: 'refused';
      readonly why: 'no-rollout';
    }
  | {
      readonly kind: 'refused';
      readonly why: 'holder-unknown';
      readonly owner: string;
      readonly error: unknown;
    }
  | {
      readonly kind: 'refused';
      readonly why: 'safety-net-first';
      readonly owner?: string;
      readonly ownerStatus?: string;
      /** When the safety net will have restored and freed the lock. */
      readonly due: Date;
    }
  | { readonly kind: 'refused'; readonly why: 'not-confirmed'; readonly plan: ForceRollbackPlan }
  /** Between the question and its answer, the lock changed hands or the record holds another rollout. */
  | {
      readonly kind: 'refused';
      readonly why: 'changed';
      readonly plan: ForceRollbackPlan;
      readonly now: ForceRollbackPlan;
    }
  /** The holder released the lock just before the record write: nothing was written. */
  | { readonly kind: 'refused'; readonly why: 'lock-lost'; readonly plan: ForceRollbackPlan }
  /** Complete has decided to complete the rollout (and its holder may still be finishing it). */
  | { readonly kind: 'refused'; readonly why: 'completing'; readonly plan: ForceRollbackPlan }
  | {
      readonly kind: 'done';
      readonly plan: ForceRollbackPlan;
      /** The lock was released here. */
      readonly released: boolean;
      /** The holder still ran: stopped, its safety net frees the lock by `lockFreesBy`. */
      readonly stopped: boolean;
      readonly lockFreesBy?: Date;
    };

const quietLog = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * `swing rollback --force [--release-lock]`: restores the recorded rollout's starting weights (everything on
 * the source when the record has none usable) and removes its listener rules, from outside the state machine.
 * A restore never raises the target's share (RestoreRaisesTarget). With `releaseLock`, a holder that still runs
 * is stopped (its safety net releases the lock once no task of it can write), a stopped one is released here,
 * unless its safety net is still to act or its status cannot be read. `confirm` sees the plan before any write;
 * false changes nothing. The answer may come minutes later: the record and the listener are read again after it,
 * and the command goes on only for the same rollout under the same holder, and never raising the target's share
 * found then. Under a held lock it records `forcedRollbackAt` before it changes anything (a refused record write
 * changes nothing), so that the rollout's own functions and whoever settles it take what it changed for Swing's
 * own doing and roll the rollout back. Shared by the CLI and the fault model (test/proof/operator-commands.ts).
 */
export async function forceRollback(
  deps: ForceRollbackDeps,
  options: {
    readonly releaseLock: boolean;
    readonly confirm?: (plan: ForceRollbackPlan) => Promise<boolean>;
  },
): Promise<ForceRollbackResult> {
  const asked = await planForcedRollback(deps, options.releaseLock);
  if (asked.kind === 'refused') return asked;
  let plan = asked.plan;
  if (changesAnything(plan) && options.confirm) {
    if (!(await options.confirm(plan))) return { kind: 'refused', why: 'not-confirmed', plan };
    // The question may have waited for minutes: Swing's own rollback, a hand change or another rollout may have
    // moved the listener since. Act on what holds now.
    const now = await planForcedRollback(deps, options.releaseLock);
    if (now.kind === 'refused') return now;
    if (now.plan.rollout.executionArn !== plan.rollout.executionArn || now.plan.owner !== plan.owner) {
      return { kind: 'refused', why: 'changed', plan, now: now.plan };
    }
    plan = now.plan;
  }
  if (changesAnything(plan)) {
    // Recorded before anything is written, so that the rollout's own functions and whoever settles the holder
    // (the safety net, the reconciler) take what this command changed for Swing's doing, not a hand change.
    if (plan.owner) {
      const refused = await recordForced(deps, plan, plan.owner);
      if (refused) return refused;
    }
    // Writes frozen for a rollback's drain: nothing restores before it ended or its deadline passed. This command
    // cannot read the reverse lag, so it waits for the deadline (at most the drain timeout).
    const drainLeftMs = drainPendingMs(plan.rollout, deps.now());
    if (plan.needsWrite && drainLeftMs > 0) {
      await (deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))))(
        drainLeftMs,
      );
      // The listener may have moved during that wait (Swing's own rollback, a hand change): never raise it.
      refuseRestoreRaisingTarget(
        { ...plan.rollout, startingWeights: plan.starting },
        await deps.listener.readWeights(),
        deps.listenerArn,
      );
    }
    // The default action first: a removed read rule's requests then follow the starting weights.
    if (plan.needsWrite) await deps.listener.writeWeights(plan.starting);
    if (plan.rules.length > 0) await removeRules(deps.rules, plan.rules, quietLog);
  }
  if (!plan.release || !plan.owner) return { kind: 'done', plan, released: false, stopped: false };
  return releaseOrStop(deps, plan, plan.owner);
}

/** Under a held lock the command also rolls the holder's rollout back, whatever the listener already shows. */
function changesAnything(plan: ForceRollbackPlan): boolean {
  return plan.needsWrite || plan.release || plan.rules.length > 0 || plan.owner !== undefined;
}

/** What the command would do, from the record, the listener and the holder's status as they are now. */
async function planForcedRollback(
  deps: ForceRollbackDeps,
  releaseLock: boolean,
): Promise<ForceRollbackResult | { readonly kind: 'plan'; readonly plan: ForceRollbackPlan }> {
  const { listenerArn, store } = deps;
  const record = await store.get(listenerArn);
  const rollout = record?.rollout;
  if (!rollout) return { kind: 'refused', why: 'no-rollout' };
  // A malformed record (issue 20): with no usable starting weights, everything goes to the source, which
  // never raises the target's share and, before a cutover, loses nothing.
  const malformed = malformedStartingWeights(rollout);
  const starting = malformed ? percentToWeights(0) : rollout.startingWeights;
  const current = await deps.listener.readWeights();
  // The record is only as trustworthy as everyone who may update it: never raise the target's share.
  refuseRestoreRaisingTarget({ ...rollout, startingWeights: starting }, current, listenerArn);
  const owner = record.lockOwner;
  const described = owner ? await describeQuietly(deps.executions, owner) : undefined;
  if (releaseLock && owner && described?.error !== undefined) {
    // Released under a holder that still runs, its next task would write with no lock held.
    return { kind: 'refused', why: 'holder-unknown', owner, error: described.error };
  }
  const ownerStatus = described?.execution?.status;
  const stoppedAt = described?.execution?.stoppedAt;
  const due = stoppedAt ? safetyNetActsBy(stoppedAt) : undefined;
  if (releaseLock && ownerStatus !== 'RUNNING' && due && due > deps.now()) {
    // Released now, a task of that execution still running could write after us, with no lock left.
    return { kind: 'refused', why: 'safety-net-first', owner, ownerStatus, due };
  }
  // Reads-first: the rollout's own listener rules go too, the reads sent back to the source first.
  const found = rollout.traffic === 'reads-first' ? await rulesOf(deps.rules, rollout.executionArn) : [];
  // A stalled attempt of a holder that runs (or ended less than the safety net's wait ago, or whose status is
  // unknown) may still create a read rule after this command: the pins and writes-to-source stay in front of it.
  const attemptMayAct =
    owner !== undefined &&
    (ownerStatus === undefined || !hasEnded(ownerStatus) || (due !== undefined && due > deps.now()));
  const isRead = (rule: FoundSwingRule) => specOf(rule)?.role === 'reads';
  const plan: ForceRollbackPlan = {
    rollout,
    current,
    starting,
    malformed,
    needsWrite: !sameWeights(current, starting),
    rules: attemptMayAct ? found.filter(isRead) : found,
    rulesKept: attemptMayAct ? found.filter((rule) => !isRead(rule)) : [],
    owner,
    ownerStatus,
    attemptMayAct,
    release: Boolean(releaseLock && owner),
  };
  return { kind: 'plan', plan };
}

function forcedReason(deps: ForceRollbackDeps, plan: ForceRollbackPlan) {
  const by = deps.requestedBy ? ` by ${deps.requestedBy}` : '';
  return {
    error: 'ForcedRollback',
    cause: `swing rollback --force${plan.release ? ' --release-lock' : ''}${by}`,
    at: deps.now().toISOString(),
  };
}

/**
 * Records the forced rollback under the held lock, before anything is written: `forcedRollbackAt` (even when the
 * listener shows nothing to restore yet: a step under way would land after this command), and the reason whoever ends the rollout records when no rollback of its own
 * will (the holder stopped here, or ended). A holder that may still act must not have decided to complete
 * (Complete's mark and this write are both conditional: one sees the other). Returns the refusal when the write
 * is refused: nothing is changed then.
 */
async function recordForced(
  deps: ForceRollbackDeps,
  plan: ForceRollbackPlan,
  owner: string,
): Promise<ForceRollbackResult | undefined> {
  const stopping = plan.release && plan.ownerStatus === 'RUNNING';
  const ended = plan.ownerStatus !== undefined && hasEnded(plan.ownerStatus);
  const patch: RolloutPatch = {
    forcedRollbackAt: deps.now().toISOString(),
    ...(stopping || (ended && !plan.rollout.reason) ? { reason: forcedReason(deps, plan) } : {}),
  };
  try {
    await deps.store.update(deps.listenerArn, owner, patch, undefined, {
      notCompleting: plan.attemptMayAct,
    });
    return undefined;
  } catch (error) {
    // Released meanwhile (its own rollback, the safety net): the listener may have moved again since the read.
    if (error instanceof LockLost) return { kind: 'refused', why: 'lock-lost', plan };
    if (error instanceof Superseded) return { kind: 'refused', why: 'completing', plan };
    throw error;
  }
}

async function describeQuietly(executions: ExecutionControlPort, executionArn: string) {
  try {
    return { execution: await executions.describe(executionArn) };
  } catch (error) {
    return { error };
  }
}

async function releaseOrStop(
  deps: ForceRollbackDeps,
  plan: ForceRollbackPlan,
  owner: string,
): Promise<ForceRollbackResult> {
  const reason = forcedReason(deps, plan);
  if (plan.ownerStatus === 'RUNNING') {
    // Not released here: a task of the running execution could still write after the lock was gone.
    // Stopped instead (the reason its safety net records was written first, recordForced); its safety net
    // waits those tasks out, sweeps what they left, and releases the lock.
    await deps.executions.stop(
      owner,
      'ForcedRollback',
      `the listener was restored by swing rollback --force${deps.requestedBy ? ` (${deps.requestedBy})` : ''}`,
    );
    return { kind: 'done', plan, released: false, stopped: true, lockFreesBy: safetyNetActsBy(deps.now()) };
  }
  // After the write cutover the writes the target took are on it only: recorded, as every rollback does.
  const { rollout } = plan;
  const cutOver =
    rollout.cutoverAt !== undefined ||
    (rollout.cutoverStartedAt !== undefined && !sameWeights(plan.current, plan.starting));
  const written = cutOver ? await writeExposure({ ...deps, log: quietLog }, rollout, 'rollback') : undefined;
  // With reverse capture (the record says so: a freeze, or Preflight's verdict), what the replayer replayed.
  // A freeze that stood with no drain recorded was never proven drained: timed out, not "not frozen".
  const reverseReplay: WriteExposure['reverseReplay'] = rollout.freeze
    ? (rollout.freeze.drain ??
      (rollout.freeze.frozenAt && !rollout.freeze.failed ? 'timed-out' : 'not-frozen'))
    : reverseCaptureOf(rollout.losslessRollback)
      ? 'not-frozen'
      : undefined;
  const exposure = written && reverseReplay ? { ...written, reverseReplay } : written;
  const final: RolloutPatch = {
    ...(exposure ? { exposure } : {}),
    outcome: 'rolled-back',
    status: 'rolled-back',
    reason,
    restored: true,
    lastWritten: plan.starting,
    endedAt: reason.at,
    ...quietPatch({
      now: deps.now,
      quietAfterReleaseMs: deps.quietAfterReleaseMs ?? QUIET_AFTER_RELEASE_SECONDS * 1000,
    }),
    pendingWeights: undefined,
    taskToken: undefined,
    taskKind: undefined,
    bakeEndsAt: undefined,
  };
  const released = await deps.store.release(deps.listenerArn, owner, final);
  return { kind: 'done', plan, released, stopped: false };
}

/** How long a rollout's freeze still drains before its deadline, when its drain has not ended; 0 otherwise. */
export function drainPendingMs(rollout: Rollout, now: Date): number {
  const freeze = rollout.freeze;
  if (!freeze?.frozenAt || freeze.drainEndedAt || freeze.liftedAt) return 0;
  return Math.max(0, Date.parse(freeze.drainDeadline) - now.getTime());
}
