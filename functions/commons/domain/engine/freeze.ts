import { LockLost, Superseded, TransientFailure } from '../errors.ts';
import { RollbackEventSchema } from '../events.ts';
import { DEFAULT_READS_FIRST, hasCutOver, liftFreeze, rulesDrift, rulesOf } from '../reads-first.ts';
import { malformedRecord } from '../record-check.ts';
import { FREEZE_RULE_SET, isFreezeRule } from '../swing-rules.ts';
import type { FoundSwingRule, FreezeRecord, RollbackReason, Rollout, Weights } from '../types.ts';
import { parseOrThrow } from '../validation.ts';
import { sameWeights } from '../weights.ts';
import { type EngineDeps, rulesPort } from './deps.ts';
import { reasonFrom } from './reason.ts';
import { isOwnWrite } from './record.ts';

/**
 * Freeze (on the rollback function): a rollback after the write cutover, with reverse capture configured, first
 * answers every non-read with 503 (Swing's freeze rules, FREEZE_RULE_SET), so that no new write lands on the
 * target while the reverse replayer drains (Drain, DrainCheck: drain.ts); Rollback then restores and lifts it.
 */

export type FreezeDeps = Pick<
  EngineDeps,
  'listenerArn' | 'listener' | 'store' | 'log' | 'now' | 'swingRules' | 'reverseCapture'
>;

/** What Freeze and DrainCheck answer the state machine (`$.freeze`). */
export interface FreezeResult {
  /** The rollback function's answer: Freeze and DrainCheck restore nothing. */
  readonly restored?: false;
  /** Writes are frozen: Drain waits for the reverse replayer. */
  readonly frozen: boolean;
  /** DrainCheck: the drain is over (drained or timed out), or there is none: Rollback restores. */
  readonly done?: boolean;
  /** How long the next Drain waits before DrainCheck looks again, whatever the lag alarm's event does. */
  readonly recheckSeconds?: number;
  readonly note: string;
}

/** Drain re-checks the reverse replayer at least this often: a lost lag event costs at most this. */
export const DRAIN_RECHECK_SECONDS = 10;

/** The next Drain's timeout: the recheck period, or what is left before the deadline (at least 1 s). */
export function recheckSeconds(freeze: FreezeRecord, now: Date): number {
  const left = Math.ceil((Date.parse(freeze.drainDeadline) - now.getTime()) / 1000);
  return Math.max(1, Math.min(DRAIN_RECHECK_SECONDS, left));
}

/**
 * Whether a restore of this rollout needs the freeze first: reads-first, writes cut over (recorded, or its
 * ModifyListener on the listener), not restored yet, reverse capture configured, and the policy is to roll back
 * (or an operator decided: an abort, a stopped execution, a forced rollback). A listener changed by hand is left
 * to whoever restores, which halts on it (I4).
 */
export function freezeApplies(
  deps: Pick<FreezeDeps, 'reverseCapture'>,
  rollout: Rollout,
  current: Weights,
  operatorDecided: boolean,
): boolean {
  if (!deps.reverseCapture || rollout.traffic !== 'reads-first' || !hasCutOver(rollout)) return false;
  if (sameWeights(current, rollout.startingWeights)) return false;
  const settings = rollout.readsFirst ?? DEFAULT_READS_FIRST;
  if (settings.afterCutover === 'hold' && !operatorDecided) return false;
  return isOwnWrite(rollout, current);
}

/**
 * Freeze (the state): creates the freeze rules (those not there yet: a retried Freeze) after recording the freeze,
 * so that a crash after a CreateRule leaves a freeze whoever settles the rollout lifts. A CreateRule ELBv2 refuses
 * ends the freeze before it began: recorded as `failed`, and the rollback restores at once, reporting the exposure.
 */
export async function freeze(deps: FreezeDeps, event: unknown): Promise<FreezeResult> {
  const { executionArn, error } = parseOrThrow(RollbackEventSchema, event);
  const record = await deps.store.get(deps.listenerArn);
  if (record?.lockOwner !== executionArn || !record.rollout || malformedRecord(record.rollout)) {
    return { frozen: false, note: 'nothing to freeze: Rollback decides' };
  }
  const rollout = record.rollout;
  const reason = rollout.reason ?? reasonFrom(error, deps.now());
  return freezeRollout(deps, rollout, reason, reason.error === 'Aborted' || rollout.abortRequested === true);
}

/**
 * The freeze of a rollout whose lock its execution holds, for Freeze and for whoever restores it outside the state
 * machine (the safety net, the reconciler: settle-freeze.ts): frozen already, refused already, not applying, or
 * recorded (`rolling-back`, `freeze.startedAt`), its rules created, and `frozenAt` with the drain's deadline.
 * Fenced: each record write throws LockLost once the execution no longer holds the lock. With `claim` (a settler),
 * the freeze is begun as `claim.startedAt` only if the record's is still the one read (none, one its maker
 * abandoned, or this settler's own after a throttled call), and its later writes only while it stays this one's: a
 * twin settler's claim fails with Superseded instead of creating rules beside it (after its restore, they would send
 * reads back to the target).
 */
export async function freezeRollout(
  deps: FreezeDeps,
  rollout: Rollout,
  reason: RollbackReason,
  operatorDecided: boolean,
  claim?: { readonly read: string | null; readonly startedAt: string },
): Promise<FreezeResult> {
  const { executionArn } = rollout;
  if (rollout.freeze?.frozenAt) {
    return {
      frozen: true,
      recheckSeconds: recheckSeconds(rollout.freeze, deps.now()),
      note: 'frozen already',
    };
  }
  if (rollout.freeze?.failed)
    return { frozen: false, note: `the freeze was refused: ${rollout.freeze.failed}` };
  // No AWS call where no freeze can apply (all mode, before the cutover, no reverse capture).
  if (!deps.reverseCapture || rollout.traffic !== 'reads-first' || !hasCutOver(rollout)) {
    return { frozen: false, note: 'no freeze: restored as without reverse capture' };
  }
  const current = await deps.listener.readWeights();
  if (!freezeApplies(deps, rollout, current, operatorDecided)) {
    return { frozen: false, note: 'no freeze: restored as without reverse capture' };
  }
  // Swing's rules changed by hand: the restore halts on it and touches nothing (I4); no freeze is written first.
  const found = await rulesOf(rulesPort(deps, deps.listenerArn), executionArn);
  if (rulesDrift(rollout, found)) return { frozen: false, note: "Swing's rules were changed by hand" };
  const timeoutMs = (deps.reverseCapture?.drainTimeoutSeconds ?? 0) * 1000;
  const startedAt = claim?.startedAt ?? rollout.freeze?.startedAt ?? deps.now().toISOString();
  const begun: FreezeRecord = {
    startedAt,
    drainDeadline: new Date(Date.parse(startedAt) + timeoutMs).toISOString(),
  };
  const mine = claim ? { freezeStartedAt: startedAt } : undefined;
  const begunOn = await beginFreeze(deps, rollout, reason, begun, claim);
  // Another attempt of this Freeze began the freeze since this one read the record: on from the record as it is.
  if (!begunOn) {
    const record = await deps.store.get(deps.listenerArn);
    if (record?.lockOwner !== executionArn || !record.rollout?.freeze) throw lockLost(deps, executionArn);
    return freezeRollout(deps, record.rollout, reason, operatorDecided);
  }
  // `swing rollback --force` records itself before it restores by hand: one recorded since this freeze read the
  // record restores now, and no freeze rule goes on the listener after the operator's restore (I4).
  const forcedAt = begunOn.forcedRollbackAt;
  if (forcedAt !== undefined) {
    await deps.store.update(
      deps.listenerArn,
      executionArn,
      { freeze: { ...begun, liftedAt: forcedAt } },
      undefined,
      mine,
    );
    return { frozen: false, note: `swing rollback --force restored the listener at ${forcedAt}: no freeze` };
  }
  // The listener again, after the begin: a stale attempt (its answer lost) whose begin stalled past a hand change
  // that made its Retry find no freeze, and past Finalize's read, would otherwise freeze the operator's listener
  // (I4) with nobody to lift it (I9). A hand change after this read is ELBv2's window: no conditional write.
  const now = await deps.listener.readWeights();
  if (!freezeApplies(deps, begunOn, now, operatorDecided)) {
    // Recorded lifted unless a lifter (Rollback after a restore) got there first: its record is the fuller one.
    if (await freezeStillStands(deps, executionArn)) {
      const lifted = { freeze: { ...begun, liftedAt: deps.now().toISOString() } };
      await deps.store.update(deps.listenerArn, executionArn, lifted, undefined, mine);
    }
    return { frozen: false, note: 'no freeze: the listener changed since the freeze began' };
  }
  // A rule a retry overlapping this one created meanwhile is taken as made (the adapter).
  const refused = await createFreezeRules(deps, rollout, now, found);
  if (refused) {
    await deps.store.update(
      deps.listenerArn,
      executionArn,
      { freeze: { ...begun, failed: refused } },
      undefined,
      mine,
    );
    deps.log.warn('ELBv2 refused the write freeze: restoring without a drain, the exposure reported', {
      executionArn,
      refused,
    });
    return { frozen: false, note: `the freeze was refused: ${refused}` };
  }
  const frozenAt = deps.now();
  const frozen: FreezeRecord = {
    startedAt,
    frozenAt: frozenAt.toISOString(),
    drainDeadline: new Date(frozenAt.getTime() + timeoutMs).toISOString(),
  };
  await deps.store.update(deps.listenerArn, executionArn, { freeze: frozen }, undefined, mine);
  deps.log.warn('writes frozen: waiting for the reverse replayer to drain before the restore', {
    executionArn,
    drainDeadline: frozen.drainDeadline,
  });
  return { frozen: true, recheckSeconds: recheckSeconds(frozen, frozenAt), note: 'frozen' };
}

/**
 * Records the freeze as begun, `rolling-back` first as Rollback does (no stale ShiftWeights attempt passes its fence
 * after this write). A Freeze attempt whose answer was lost runs on beside its Retry, and its write may land after
 * the Retry froze (`frozenAt`) or the drain ended: it must not put the freeze back to only begun, or DrainCheck and
 * Rollback would find no freeze to drain and restore at once, the reverse replayer not drained. So a freeze is begun
 * only where none is (a conditional write: undefined returned when another attempt began one since the read), and
 * one the read found begun is left as it stands, with the wait's token (Drain's, by now). A settler's claim is its
 * own condition. A hand change a rollback recorded with `rolling-back` refuses it (WeightsDrifted): Rollback halts.
 */
async function beginFreeze(
  deps: FreezeDeps,
  rollout: Rollout,
  reason: RollbackReason,
  begun: FreezeRecord,
  claim: { readonly read: string | null } | undefined,
): Promise<Rollout | undefined> {
  const beginning = claim !== undefined || rollout.freeze === undefined;
  const patch = {
    status: 'rolling-back' as const,
    reason,
    ...(rollout.cutoverAt === undefined ? { cutoverAt: rollout.cutoverStartedAt } : {}),
    ...(beginning ? { taskToken: undefined, taskKind: undefined, freeze: begun } : {}),
  };
  // Never over a hand change a rollback found and recorded (recordedHalt): that halt stands, with its reason.
  const freezeGuard = claim ? { freezeStartedAt: claim.read } : beginning ? { freezeStartedAt: null } : {};
  const guard = { ...freezeGuard, noRecordedHalt: true };
  try {
    return await deps.store.update(deps.listenerArn, rollout.executionArn, patch, undefined, guard);
  } catch (error) {
    if (claim || !(error instanceof Superseded)) throw error;
    return undefined;
  }
}

function lockLost(deps: Pick<FreezeDeps, 'listenerArn'>, executionArn: string): LockLost {
  return new LockLost(`listener ${deps.listenerArn}: ${executionArn} no longer holds the lock`);
}

/**
 * The freeze rules in priority order (the catch-all `freeze-post` last: the POST reads' forwards come before it),
 * the reads forwarded as the default action sends them now. Returns why ELBv2 refused one, or undefined.
 */
export async function createFreezeRules(
  deps: Pick<FreezeDeps, 'listenerArn' | 'swingRules' | 'store' | 'log'>,
  rollout: Rollout,
  current: Weights,
  found: readonly FoundSwingRule[],
): Promise<string | undefined> {
  try {
    await createMissingFreezeRules(deps, rollout, current, found);
    return undefined;
  } catch (error) {
    // Throttling is retried by the state machine; a refusal is not (a priority taken, the rule quota, access).
    // A stale attempt (Superseded) has removed what it made: its answer goes nowhere.
    if (error instanceof TransientFailure || error instanceof Superseded) throw error;
    return (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 1000);
  }
}

/**
 * The freeze rules not among `found` (a retry finds some), in priority order; ELBv2's errors are thrown as they
 * come. After each CreateRule the record is read: a freeze lifted since (or a lock this execution no longer holds)
 * means this attempt is stale, its answer lost while a Retry froze, drained, restored and lifted the freeze. ELBv2
 * has no conditional write, so its rule may land on the restored listener: it removes the rules it created and
 * throws Superseded. A rule that lands before the lift is recorded is the lifter's: Finalize looks again after
 * the release (sweepLateFreezeRules).
 */
export async function createMissingFreezeRules(
  deps: Pick<FreezeDeps, 'listenerArn' | 'swingRules' | 'store' | 'log'>,
  rollout: Rollout,
  current: Weights,
  found: readonly FoundSwingRule[],
): Promise<void> {
  const port = rulesPort(deps, deps.listenerArn);
  const base = rollout.readsFirst?.basePriority ?? DEFAULT_READS_FIRST.basePriority;
  const created: string[] = [];
  for (const spec of FREEZE_RULE_SET) {
    if (found.some((rule) => rule.name === spec.name)) continue;
    created.push(await port.createRule(spec, base + spec.offset, current, rollout.executionArn));
    if (await freezeStillStands(deps, rollout.executionArn)) continue;
    for (const arn of created) await port.deleteRule(arn);
    deps.log.warn('a stale Freeze attempt removed the freeze rules it made after the freeze was lifted', {
      executionArn: rollout.executionArn,
      removed: created.length,
    });
    throw new Superseded(
      `a stale Freeze attempt of ${rollout.executionArn}: the freeze was lifted (or the lock released, or ` +
        'swing rollback --force recorded) since; the rules it made are removed',
    );
  }
}

/**
 * Whether this execution still holds the lock with a freeze recorded and not lifted, and no forced rollback
 * recorded: the operator took the listener over (the command restores by hand), and Swing adds no rule after it.
 */
async function freezeStillStands(
  deps: Pick<FreezeDeps, 'listenerArn' | 'store'>,
  executionArn: string,
): Promise<boolean> {
  const record = await deps.store.get(deps.listenerArn);
  const rollout = record?.lockOwner === executionArn ? record.rollout : undefined;
  const freeze = rollout?.freeze;
  return freeze !== undefined && freeze.liftedAt === undefined && rollout?.forcedRollbackAt === undefined;
}

/**
 * After a rollout that froze writes released its lock (Finalize): a freeze rule of its execution that a stale
 * Freeze attempt created after the lifter read the rules, and before that attempt could see the lift, goes now.
 * A later one finds the lock released and removes its own (createMissingFreezeRules).
 */
export async function sweepLateFreezeRules(
  deps: Pick<EngineDeps, 'swingRules' | 'log'>,
  executionArn: string,
): Promise<number> {
  if (!deps.swingRules) return 0;
  const late = (await rulesOf(deps.swingRules, executionArn)).filter(isFreezeRule);
  if (late.length > 0) deps.log.warn('freeze rules created after the lift removed', { removed: late.length });
  return liftFreeze(deps.swingRules, late, deps.log);
}

/**
 * Lifts the freeze of this rollout if one was begun and not lifted (Halt, and whoever restores without Rollback),
 * the rollback's or the write cutover's, returning the record's rollback freeze as lifted; the rules found are removed by `liftFreeze`.
 */
export async function liftRecordedFreeze(
  deps: Pick<EngineDeps, 'swingRules' | 'log' | 'now' | 'frozenRequests'>,
  rollout: Rollout,
): Promise<FreezeRecord | undefined> {
  const begun = rollout.freeze;
  // The write cutover's own freeze too (cutover-freeze.ts), left by a ShiftWeights that died while frozen.
  const cutoverFrozen = rollout.cutoverFreeze !== undefined && !rollout.cutoverFreeze.liftedAt;
  if (((!begun || begun.liftedAt) && !cutoverFrozen) || !deps.swingRules) return begun;
  await liftFreeze(deps.swingRules, await rulesOf(deps.swingRules, rollout.executionArn), deps.log);
  return begun && !begun.liftedAt ? liftedFreeze(deps, begun) : begun;
}

/** The freeze as lifted now, with the non-reads it refused when something counts them. */
export async function liftedFreeze(
  deps: Pick<EngineDeps, 'now' | 'log' | 'frozenRequests'>,
  begun: FreezeRecord,
): Promise<FreezeRecord> {
  const liftedAt = deps.now();
  let refusedWrites: number | undefined;
  try {
    refusedWrites = await deps.frozenRequests?.countBetween(new Date(begun.startedAt), liftedAt);
  } catch (error) {
    deps.log.warn('could not count the requests the freeze refused', { error: String(error) });
  }
  return {
    ...begun,
    liftedAt: liftedAt.toISOString(),
    ...(refusedWrites === undefined ? {} : { refusedWrites }),
  };
}
