import { LockLost } from './errors.ts';
import { failOpenTask } from './rollout.ts';
import type { Rollout, RolloutStore, TaskCallbackPort } from './types.ts';

/** What an operator does to a running rollout. Shared by the CLI and the local mode. */
export interface OperatorDeps {
  readonly listenerArn: string;
  readonly store: RolloutStore;
  readonly callbacks: TaskCallbackPort;
}

export interface OperatorResult {
  readonly executionArn: string;
  /**
   * What reached the state machine: a callback to the open bake/gate, or only a flag it reads next; or
   * nothing, because the rollout had already decided to complete (abort only).
   */
  readonly delivered: 'task-failed' | 'task-succeeded' | 'flag-only' | 'too-late';
}

/**
 * Abort: flag the rollout (every task checks the flag) and fail the open bake or gate at once, so the
 * rollback starts now rather than at the end of the bake.
 */
export async function abortRollout(deps: OperatorDeps, by = 'operator'): Promise<OperatorResult> {
  const rollout = await deps.store.request(deps.listenerArn, { abortRequested: true });
  // Complete marks 'completing' with a conditional write too: whichever write came second sees the other.
  if (rollout.status === 'completing') return { executionArn: rollout.executionArn, delivered: 'too-late' };
  const cause = JSON.stringify({ reason: `aborted by ${by}`, at: new Date().toISOString() });
  // Reads the token again if this one is dead: a retried bake may have replaced it meanwhile.
  if ((await failOpenTask(deps, 'Aborted', cause, rollout)).sent === 'sent') {
    return { executionArn: rollout.executionArn, delivered: 'task-failed' };
  }
  return { executionArn: rollout.executionArn, delivered: 'flag-only' };
}

async function currentRollout(deps: OperatorDeps): Promise<Rollout> {
  const record = await deps.store.get(deps.listenerArn);
  if (!record?.lockOwner || !record.rollout) {
    throw new LockLost(`no rollout holds listener ${deps.listenerArn}: start one with \`swing start\``);
  }
  return record.rollout;
}

/** Promote: pass a manual gate (or end a pause). Refused unless the rollout waits at a gate. */
export async function promoteGate(deps: OperatorDeps): Promise<OperatorResult> {
  const rollout = await currentRollout(deps);
  if (rollout.taskKind !== 'gate' || !rollout.taskToken) {
    throw new LockLost(
      `rollout ${rollout.executionArn} is ${rollout.status}, not waiting at a gate: promote only passes a gate`,
    );
  }
  const sent = await deps.callbacks.succeed(rollout.taskToken, { promotedAt: new Date().toISOString() });
  if (sent === 'stale') {
    throw new LockLost(
      `the gate of ${rollout.executionArn} already closed (timed out or aborted): nothing to promote`,
    );
  }
  return { executionArn: rollout.executionArn, delivered: 'task-succeeded' };
}

/** Pause: hold at the end of the current bake, as if the step had a manual gate. */
export async function pauseRollout(deps: OperatorDeps): Promise<OperatorResult> {
  const rollout = await deps.store.request(deps.listenerArn, { pauseRequested: true });
  return { executionArn: rollout.executionArn, delivered: 'flag-only' };
}

/** Resume: undo a pause that has not taken effect yet, or pass the hold it created. */
export async function resumeRollout(deps: OperatorDeps): Promise<OperatorResult> {
  const rollout = await deps.store.request(deps.listenerArn, { pauseRequested: false });
  if (rollout.taskKind === 'gate' && rollout.taskToken) return promoteGate(deps);
  return { executionArn: rollout.executionArn, delivered: 'flag-only' };
}
