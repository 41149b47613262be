import { failOpenTask } from './engine/fail-open-task.ts';
import { LockLost } from './errors.ts';
import { type PauseEffect, pauseEffect } from './pause.ts';
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
  /** Pause: when it takes effect, as the record written tells (see `pauseEffect`). */
  readonly holds?: PauseEffect;
  /** Resume: the rollout still waits at a gate (the plan's, or the write cutover's), which only promote passes. */
  readonly gateStillOpen?: boolean;
  /**
   * Abort: it landed while the write cutover was being written. Its ModifyListener cannot be called back: the
   * writes move to the target, then the rollback (at once, at the cutover's bake) restores them.
   */
  readonly duringCutover?: boolean;
}

/**
 * Abort: flag the rollout (every task checks the flag) and fail the open bake or gate at once, so the
 * rollback starts now rather than at the end of the bake.
 */
export async function abortRollout(deps: OperatorDeps, by = 'operator'): Promise<OperatorResult> {
  const rollout = await deps.store.request(deps.listenerArn, { abortRequested: true });
  // Complete marks 'completing' with a conditional write too: whichever write came second sees the other.
  if (rollout.status === 'completing') return { executionArn: rollout.executionArn, delivered: 'too-late' };
  // The cutover's write began (it is conditional on no abort) and is not recorded done: it is under way.
  if (
    rollout.status === 'shifting' &&
    rollout.cutoverStartedAt !== undefined &&
    rollout.cutoverAt === undefined
  ) {
    await deps.store.request(deps.listenerArn, { abortDuringCutover: true });
    return { executionArn: rollout.executionArn, delivered: 'flag-only', duringCutover: true };
  }
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

/**
 * Promote: pass the gate the rollout waits at (the plan's, the write cutover's) or the hold of a pause, and
 * end the pause if one was requested (else the next step would hold for it). Refused unless a gate or a hold
 * is open.
 */
export async function promoteGate(deps: OperatorDeps): Promise<OperatorResult> {
  const rollout = await currentRollout(deps);
  if ((rollout.taskKind !== 'gate' && rollout.taskKind !== 'pause') || !rollout.taskToken) {
    throw new LockLost(
      `rollout ${rollout.executionArn} is ${rollout.status}, not waiting at a gate: promote only passes a gate`,
    );
  }
  // First: the step that follows the promotion must not find the pause and hold again.
  if (rollout.pauseRequested) await deps.store.request(deps.listenerArn, { pauseRequested: false });
  const sent = await deps.callbacks.succeed(rollout.taskToken, { promotedAt: new Date().toISOString() });
  if (sent === 'stale') {
    throw new LockLost(
      `the gate of ${rollout.executionArn} already closed (timed out or aborted): nothing to promote`,
    );
  }
  return { executionArn: rollout.executionArn, delivered: 'task-succeeded' };
}

/**
 * Pause: the rollout starts no further step (and does not complete) until `swing resume` or `swing promote`;
 * a step whose write is under way holds once its bake ends. Says when, from the record as the request left it:
 * the request and every write that moves the rollout on are conditional writes on one item, so what it reads
 * is what the state machine will find.
 */
export async function pauseRollout(deps: OperatorDeps): Promise<OperatorResult> {
  const rollout = await deps.store.request(deps.listenerArn, { pauseRequested: true });
  return { executionArn: rollout.executionArn, delivered: 'flag-only', holds: pauseEffect(rollout) };
}

/**
 * Resume: end a pause, and only a pause. The hold a pause opened is passed; a gate (the plan's, or the write
 * cutover's) stays closed, whether or not a pause was requested at it: only `swing promote` passes a gate.
 */
export async function resumeRollout(deps: OperatorDeps): Promise<OperatorResult> {
  const rollout = await deps.store.request(deps.listenerArn, { pauseRequested: false });
  const { executionArn } = rollout;
  if (rollout.taskKind === 'pause' && rollout.taskToken) {
    // A dead token: the hold ended meanwhile (its timeout rolled back, or an abort); nothing left to resume.
    const sent = await deps.callbacks.succeed(rollout.taskToken, { resumedAt: new Date().toISOString() });
    return { executionArn, delivered: sent === 'sent' ? 'task-succeeded' : 'flag-only' };
  }
  // A hold that has not opened yet releases itself when it finds the pause withdrawn (openWaitTask).
  const gateStillOpen = rollout.taskKind === 'gate' || rollout.status === 'gated';
  return { executionArn, delivered: 'flag-only', ...(gateStillOpen ? { gateStillOpen } : {}) };
}
