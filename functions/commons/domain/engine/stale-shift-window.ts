import { removeRules, rulesOf, runSteps } from '../reads-first.ts';
import type { Rollout, Weights } from '../types.ts';
import { isIncrease, percentToWeights, sameWeights } from '../weights.ts';
import { type EngineDeps, sleep } from './deps.ts';

/**
 * Rollback's stale-write window: ELBv2 has no conditional write, so a ShiftWeights attempt whose answer was lost
 * may still land its write after the restore, until its function times out.
 */

/** What Rollback knows of its stale-write window. */
export interface StaleShiftWindow {
  /**
   * How long after it passed its fence a ShiftWeights attempt may still land its write: that function's
   * timeout (SHIFT_WEIGHTS_TIMEOUT_SECONDS) on AWS. 0 (the default) where invocations never outlive their
   * state, as in the local mode.
   */
  readonly staleShiftWindowMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export type StaleShiftDeps = Pick<EngineDeps, 'listener' | 'log' | 'now' | 'swingRules'> & StaleShiftWindow;

/** The shift-weights function's timeout: the longest a ShiftWeights attempt runs on after its answer was lost. */
export const SHIFT_WEIGHTS_TIMEOUT_SECONDS = 30;

/**
 * How long after `lastShiftAt` Rollback still expects a stale ShiftWeights write on AWS: the function's timeout,
 * plus slack for a request ELBv2 accepted at the last moment and for clock skew between the two functions.
 */
export const STALE_SHIFT_WINDOW_MS = (SHIFT_WEIGHTS_TIMEOUT_SECONDS + 10) * 1000;

/**
 * ELBv2 has no conditional write: a ShiftWeights attempt whose answer was lost (a Retry ran the step again)
 * may have passed its checks before this rollback began and land its ModifyListener after the restore, until
 * its function times out. The lock is not released before then: wait it out, read the listener again, and put
 * back the starting weights if one of this plan's own steps landed. Anything else is a hand change: left alone.
 */
export async function outlastStaleShifts(deps: StaleShiftDeps, rollout: Rollout): Promise<boolean> {
  const waitMs = staleShiftMsLeft(deps, rollout);
  if (waitMs <= 0) return false;
  await (deps.sleep ?? sleep)(waitMs);
  // A stale read step may have created or re-weighted a rule after the restore removed them.
  if (rollout.traffic === 'reads-first' && deps.swingRules) {
    const late = await rulesOf(deps.swingRules, rollout.executionArn);
    if (late.length > 0) deps.log.warn('a stale read step wrote rules after the restore: removing them', {});
    await removeRules(deps.swingRules, late, deps.log);
  }
  // DescribeListeners may lag a write that ELBv2 accepted just before the deadline: read a few times.
  let restoredLate = false;
  for (let read = 0; read < STALE_SHIFT_READS; read += 1) {
    if (read > 0) await (deps.sleep ?? sleep)(STALE_SHIFT_READ_GAP_MS);
    const current = await deps.listener.readWeights();
    if (sameWeights(current, rollout.startingWeights)) continue;
    if (!isPlannedStep(rollout, current) || !isIncrease(rollout.startingWeights, current)) {
      deps.log.warn('listener changed after the restore by someone else: left alone', { weights: current });
      return restoredLate;
    }
    deps.log.warn('a stale ShiftWeights attempt wrote after the restore: restoring again', {
      weights: current,
    });
    await deps.listener.writeWeights(rollout.startingWeights);
    restoredLate = true;
  }
  return restoredLate;
}

export const STALE_SHIFT_READS = 3;

export const STALE_SHIFT_READ_GAP_MS = 1000;

/** How long a ShiftWeights attempt that passed its fence may still land its write: 0 when none can. */
export function staleShiftMsLeft(deps: StaleShiftDeps, rollout: Rollout): number {
  const lastShift = Date.parse(rollout.lastShiftAt ?? '');
  const windowMs = deps.staleShiftWindowMs ?? 0;
  if (windowMs <= 0 || Number.isNaN(lastShift)) return 0;
  return Math.max(0, lastShift + windowMs - deps.now().getTime());
}

/** Weights one of the plan's own steps writes on the listener (reads-first: only the cutover does). */
export function isPlannedStep(rollout: Rollout, weights: Weights): boolean {
  return runSteps(rollout)
    .filter((step) => step.kind !== 'reads')
    .some((step) => sameWeights(weights, percentToWeights(step.targetPercent)));
}
