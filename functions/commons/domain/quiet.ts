import { ListenerQuiet } from './errors.ts';
import type { Rollout } from './types.ts';

/**
 * The quiet period after a rollout releases the lock. Releasing it does not stop the rollout's Lambdas: an
 * attempt whose answer was lost runs on (Step Functions retried it, the retry restored and ended the rollout),
 * a safety-net invocation stalls in its ModifyListener while its twin (EventBridge delivers at least once)
 * restores and releases, a safety net looks stuck and `swing rollback --force --release-lock` frees the lock
 * under it; any of them may still land a ModifyListener or a rule write, which ELBv2 cannot make conditional.
 * Every function that acts for a rollout reads the lock held by it first, so an attempt that may act after a
 * release read the lock before it, and acts no later than that read plus its own timeout. The longest is the
 * safety net's 150 s (the infra tests hold every function's timeout to it), plus 15 s for clocks and
 * whole-second event times. Every release records it, the forced one included; until then no rollout takes
 * the lock: Preflight refuses with ListenerQuiet, naming when it may start.
 */
export const LONGEST_FUNCTION_TIMEOUT_SECONDS = 150;
export const QUIET_AFTER_RELEASE_SECONDS = LONGEST_FUNCTION_TIMEOUT_SECONDS + 15;

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
