import type { Rollout, WriteExposure } from '../types.ts';
import type { EngineDeps } from './deps.ts';

/** The write exposure, as Rollback, the hold after the cutover and the safety net report it. */

/**
 * What a rollback (or a hold) after the write cutover leaves on the target only: the window from the cutover
 * to now, and the requests the target took in it (reads included: RequestCount does not tell them apart).
 */
export async function writeExposure(
  deps: Pick<EngineDeps, 'now' | 'log' | 'targetRequests'>,
  rollout: Rollout,
  policy: WriteExposure['policy'],
): Promise<WriteExposure | undefined> {
  const cutoverAt = rollout.cutoverAt ?? rollout.cutoverStartedAt;
  if (rollout.traffic !== 'reads-first' || cutoverAt === undefined) return undefined;
  const endedAt = deps.now();
  let targetRequests: number | undefined;
  try {
    targetRequests = await deps.targetRequests?.countBetween(new Date(cutoverAt), endedAt);
  } catch (error) {
    // The report must not hold up a restore: it says the count is missing instead.
    deps.log.warn('could not count the requests the target took since the cutover', { error: String(error) });
  }
  return {
    cutoverAt,
    endedAt: endedAt.toISOString(),
    windowSeconds: Math.max(0, Math.round((endedAt.getTime() - Date.parse(cutoverAt)) / 1000)),
    ...(targetRequests === undefined ? {} : { targetRequests }),
    policy,
  };
}
