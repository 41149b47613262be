import { ListenerQuiet } from './errors.ts';
import type { Rollout } from './types.ts';

/**
 * The quiet period after a rollout releases the lock. Releasing it does not stop the rollout's Lambdas: an
 * attempt whose answer was lost runs on (Step Functions retried it, the retry restored and ended the rollout)
 * and may still land a ModifyListener or a rule write, which ELBv2 cannot make conditional. Every such attempt
 * began before the release, so none acts later than the release plus the longest time one can run on:
 * Rollback's 60 s timeout, or the safety net's 150 s of which it first waits 75 s after the stop that comes
 * before any release of its own or the reconciler's. Until then, no rollout takes the lock: Preflight refuses
 * with ListenerQuiet, naming when it may start.
 */
export const QUIET_AFTER_RELEASE_SECONDS = 75;

export interface QuietDeps {
  readonly now: () => Date;
  /** 0 (the default) where no invocation outlives its state, as in the local mode. */
  readonly quietAfterReleaseMs?: number;
}

/** What a release records: `quietUntil`, when the deployment's functions can outlive their state. */
export function quietPatch(deps: QuietDeps): { quietUntil?: string } {
  const quietMs = deps.quietAfterReleaseMs ?? 0;
  if (quietMs <= 0) return {};
  return { quietUntil: new Date(deps.now().getTime() + quietMs).toISOString() };
}

/** When a rollout ended, for the release's patch, with its quiet period. */
export function endedNow(deps: QuietDeps): { endedAt: string; quietUntil?: string } {
  return { endedAt: deps.now().toISOString(), ...quietPatch(deps) };
}

/** Whether the last rollout's quiet period still runs at `at` (an ISO time: both compare as text). */
export function stillQuiet(last: Pick<Rollout, 'quietUntil'> | undefined, at: string): boolean {
  return last?.quietUntil !== undefined && last.quietUntil > at;
}

export function quietMessage(
  listenerArn: string,
  last: Pick<Rollout, 'executionArn' | 'quietUntil'>,
): string {
  return (
    `listener ${listenerArn} is quiet until ${last.quietUntil}: rollout ${last.executionArn} released it just ` +
    'now, and an attempt of its functions may still act on the listener until then (a Lambda runs on after ' +
    'its state moved on). Start again after that time'
  );
}

/** Refuses a start while the last rollout's quiet period runs. */
export function refuseWhileQuiet(
  listenerArn: string,
  last: Pick<Rollout, 'executionArn' | 'quietUntil'> | undefined,
  at: string,
): void {
  if (last && stillQuiet(last, at)) {
    throw new ListenerQuiet(quietMessage(listenerArn, last), last.quietUntil as string);
  }
}
