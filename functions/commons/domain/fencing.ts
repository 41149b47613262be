/**
 * Fencing of the state machine's task attempts. On AWS an attempt may run on after Step Functions gave up on
 * it (its answer lost, its timeout won the race): such a stale attempt must not write the record over a later
 * one. Every attempt of a task that writes the record carries its key; the store records the latest key that
 * wrote (`Rollout.lastAttempt`) and refuses a write or a wait's opening by an earlier one (`Superseded`), so
 * that no stale write of any state can hide the token of a wait opened since, or undo what a later step wrote.
 */

/**
 * Orders the attempts of every state, as strings: the state's entry time (`$$.State.EnteredTime`, normalised to
 * a fixed-width ISO string, so that string order is time order), then its retry count (`$$.State.RetryCount`):
 * a retried attempt has the same entry time as the one it replaces.
 */
export function attemptKey(stateEnteredTime: string, retryCount: number): string {
  return `${new Date(stateEnteredTime).toISOString()}#${String(retryCount).padStart(6, '0')}`;
}

/** The fence of a task attempt (see RolloutStore.update), when the state machine passed its `$$.State`. */
export function fenceOf(
  stateEnteredTime: string | undefined,
  retryCount: number | undefined,
): string | undefined {
  return stateEnteredTime === undefined ? undefined : attemptKey(stateEnteredTime, retryCount ?? 0);
}
