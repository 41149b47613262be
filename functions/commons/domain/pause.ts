import { Paused } from './errors.ts';
import type { Rollout, RolloutStore, UpdateGuard } from './types.ts';

/**
 * How a pause holds. `swing pause` sets a flag; the rollout goes on only through a write guarded against it:
 * the write that begins a step (ShiftWeights) and the one by which Complete decides to complete. Either that
 * write comes first (the step is under way, and it holds after that step's bake), or it sees the pause and the
 * rollout holds (PauseHold) before going on, whatever moment the pause arrived: during a bake, while AfterBake
 * decides, at an open gate whose timeout would promote, during a wait for the replayer. A pause never promotes:
 * its hold's timeout rolls back. It ends with `swing resume` (or `swing promote`), never by itself.
 */

/**
 * The guard of a write that moves the rollout on: not while paused, not once aborted (an abort that lands
 * after the step's own check of the flag, before its write began, still stops it: the write cutover included),
 * not once `swing rollback --force` restored the listener under the lock.
 */
export const GOING_ON: UpdateGuard = { notPaused: true, notAborted: true, notForced: true };

/**
 * Runs a write guarded by GOING_ON; if a pause refused it, records that the rollout holds (status `paused`, no
 * open task yet: PauseHold opens it) before passing the refusal on, so that every view says it is held.
 */
export async function unlessPaused<T>(
  store: Pick<RolloutStore, 'update'>,
  at: { listenerArn: string; executionArn: string; fence?: string },
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof Paused) {
      await store.update(
        at.listenerArn,
        at.executionArn,
        { status: 'paused', taskToken: undefined, taskKind: undefined },
        at.fence,
      );
    }
    throw error;
  }
}

/** When a pause requested now takes effect, as the record read back from the request tells. */
export type PauseEffect =
  /** A step's write is under way (or its bake runs): it holds once that bake ends, before the next step. */
  | 'after-this-bake'
  /** Between steps (or before the first, or waiting for the replayer): the next step does not start. */
  | 'before-next-step'
  /** A gate is open (or opening): it no longer passes on its timeout; it holds there. */
  | 'at-gate'
  /** The rollout already holds for a pause. */
  | 'already-paused'
  /** Rolling back or completing: there is nothing left to hold. */
  | 'too-late';

export function pauseEffect(rollout: Rollout): PauseEffect {
  if (rollout.status === 'rolling-back' || rollout.status === 'completing') return 'too-late';
  if (rollout.status === 'paused' || rollout.taskKind === 'pause') return 'already-paused';
  if (rollout.status === 'gated') return 'at-gate';
  const writing =
    rollout.status === 'shifting' &&
    (rollout.pendingWeights !== undefined || rollout.pendingReads !== undefined);
  if (writing || rollout.status === 'baking') return 'after-this-bake';
  return 'before-next-step';
}
