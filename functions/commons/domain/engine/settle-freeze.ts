import { DrainPending, ListenerShapeInvalid, LockLost, Superseded, TransientFailure } from '../errors.ts';
import { hasCutOver, liftFreeze, rulesOf } from '../reads-first.ts';
import type { RollbackReason, Rollout } from '../types.ts';
import { type EngineDeps, sleep } from './deps.ts';
import { awaitDrain, DRAIN_POLL_MS, type DrainDeps } from './drain.ts';
import { type FreezeDeps, freezeRollout } from './freeze.ts';

/**
 * The freeze of a rollout settled outside the state machine (the safety net, the reconciler): an execution that
 * ended after the write cutover (stopped, timed out, its Rollback failed for good) never reached Freeze, or died
 * in it. Before it restores, the settler makes the freeze Freeze would have made (the same rules, the same
 * record: freeze.ts), then waits for the drain within its invocation's time. A drain not over by then leaves the
 * freeze and the lock to the next invocation (DrainPending: the safety net's Lambda retries, the reconciler's
 * next run), bounded by the drain's deadline.
 */

export type SettleFreezeDeps = FreezeDeps &
  DrainDeps &
  Pick<EngineDeps, 'swingRules'> & {
    readonly maxDrainWaitMs?: number;
    readonly sleep?: (ms: number) => Promise<void>;
  };

/**
 * How long a freeze a settler began may still be in the making: the longest settler invocation (the safety net's
 * 150 s timeout). Until then a twin settler waits for it; after it, its maker is gone, and a settler claims it anew.
 */
export const SETTLER_FREEZE_LEASE_MS = 150_000;

/**
 * Makes the rollout's freeze if a restore of it needs one and none was made (or one was begun and abandoned), then
 * waits for its drain: returns the rollout as the record holds it then, its freeze ended (or none). One settler
 * makes it (its claim, a conditional write: freezeRollout); a twin waits for that one's freeze, never restoring
 * before it stood and drained. Throws DrainPending past `maxDrainWaitMs`, the freeze standing (or still being made),
 * and LockLost when a twin settled the rollout meanwhile, after lifting any freeze rule of the execution's left on
 * the listener (nobody else would: I9).
 */
export async function freezeBeforeSettling(
  deps: SettleFreezeDeps,
  given: Rollout,
  reason: RollbackReason,
  operatorDecided: boolean,
): Promise<Rollout> {
  const made = given.freeze?.frozenAt || given.freeze?.failed || given.freeze?.liftedAt;
  // No read where no freeze can apply (all mode, before the cutover, no reverse capture).
  if (made || !deps.reverseCapture || given.traffic !== 'reads-first' || !hasCutOver(given)) return given;
  const { executionArn } = given;
  const until = deps.now().getTime() + (deps.maxDrainWaitMs ?? Number.POSITIVE_INFINITY);
  let attempted = false;
  // The freeze this settler claimed (its start), and the throttled calls absorbed, as the restore absorbs them.
  let mine: string | undefined;
  let throttled = 0;
  try {
    // The record as it is now: a twin settler may have frozen it since the caller read it.
    let rollout = await heldBy(deps, executionArn);
    for (;;) {
      const begun = rollout.freeze;
      if (begun?.frozenAt || begun?.failed || begun?.liftedAt) break;
      const now = deps.now().getTime();
      const ours = begun !== undefined && begun.startedAt === mine;
      if (!begun || ours || now >= Date.parse(begun.startedAt) + SETTLER_FREEZE_LEASE_MS) {
        attempted = true;
        mine = ours ? mine : new Date(now).toISOString();
        const claim = { read: begun?.startedAt ?? null, startedAt: mine as string };
        const outcome = await claimFreeze(deps, rollout, reason, operatorDecided, claim);
        if (outcome === 'done') {
          rollout = await heldBy(deps, executionArn);
          break;
        }
        if (outcome === 'taken') {
          mine = undefined;
        } else {
          throttled += 1;
          if (throttled > SETTLER_THROTTLE_RETRIES) throw outcome;
          await (deps.sleep ?? sleep)(100 * 2 ** throttled);
        }
      } else if (now >= until) {
        throw new DrainPending(
          `writes are being frozen by another settler of ${executionArn} (begun ${begun.startedAt}); nothing ` +
            'restores before that freeze stood and drained: this invocation ran out of time, the next one waits on',
        );
      } else {
        await (deps.sleep ?? sleep)(Math.min(DRAIN_POLL_MS, until - now));
      }
      rollout = await heldBy(deps, executionArn);
    }
    return await awaitDrain(deps, rollout, Math.max(0, until - deps.now().getTime()));
  } catch (error) {
    if (error instanceof LockLost && attempted) await liftStrayFreeze(deps, executionArn);
    throw error;
  }
}

/** Throttled calls a settler's freeze absorbs before it fails the invocation (Lambda retries it). */
const SETTLER_THROTTLE_RETRIES = 4;

/**
 * This settler's freeze: `done` (made, refused, not needed or impossible), `taken` when a twin claimed it first, or
 * the throttling (TransientFailure) that interrupted it, to try again on the record as it is then.
 */
async function claimFreeze(
  deps: SettleFreezeDeps,
  rollout: Rollout,
  reason: RollbackReason,
  operatorDecided: boolean,
  claim: { readonly read: string | null; readonly startedAt: string },
): Promise<'done' | 'taken' | TransientFailure> {
  try {
    const result = await freezeRollout(deps, rollout, reason, operatorDecided, claim);
    if (result.frozen) {
      deps.log.warn('the settler froze writes before its restore', { executionArn: rollout.executionArn });
    }
    return 'done';
  } catch (error) {
    if (error instanceof Superseded) return 'taken';
    if (error instanceof TransientFailure) return error;
    // The listener reshaped by hand (its weights unreadable): no freeze; the restore halts on it (I4).
    if (error instanceof ListenerShapeInvalid) return 'done';
    throw error;
  }
}

/**
 * Lifts the freeze rules of an execution's (found by their tag, reading nothing of the record): for a settler that
 * finds the lock released by a twin after it froze (the twin may have removed the rules before this one created its
 * last), and for a halt on a malformed record. Nobody else would lift them (I9).
 */
export async function liftStrayFreeze(
  deps: Pick<EngineDeps, 'swingRules' | 'log'>,
  executionArn: string,
): Promise<void> {
  if (deps.swingRules)
    await liftFreeze(deps.swingRules, await rulesOf(deps.swingRules, executionArn), deps.log);
}

/** The rollout while `executionArn` holds the lock; LockLost once it was released. */
async function heldBy(
  deps: Pick<FreezeDeps, 'store' | 'listenerArn'>,
  executionArn: string,
): Promise<Rollout> {
  const record = await deps.store.get(deps.listenerArn);
  if (record?.lockOwner !== executionArn || !record.rollout) {
    throw new LockLost(`listener ${deps.listenerArn}: ${executionArn} was settled meanwhile`);
  }
  return record.rollout;
}
