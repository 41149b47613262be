import { liftFreeze, rulesOf } from '../reads-first.ts';
import type { CutoverFreezeRecord, ReplayLagVerdict, Rollout, Weights } from '../types.ts';
import { type EngineDeps, rulesPort, sleep } from './deps.ts';
import { createMissingFreezeRules } from './freeze.ts';

/**
 * The reads-first write cutover's freeze. The replay-lag gate only says the forward replayer's lag is under its
 * threshold: writes the source accepted just before the cutover may still be queued, and would land on the
 * target after clients' newer writes to the same documents. So the cutover freezes writes (FREEZE_RULE_SET:
 * non-reads answered 503, reads flowing), waits until the replayer has applied everything captured before the
 * freeze, moves the default action and removes the read rules and writes-to-source (which comes before the freeze's
 * rules and sent its writes to the source until then), waits for the replayer again, then lifts the freeze.
 */

export type CutoverFreezeDeps = Pick<
  EngineDeps,
  | 'listenerArn'
  | 'store'
  | 'log'
  | 'now'
  | 'swingRules'
  | 'replayLag'
  | 'frozenRequests'
  | 'cutoverFreezeTimeoutMs'
> & { readonly sleep?: (ms: number) => Promise<void> };

/** The longest a cutover keeps writes frozen waiting for the replayer: well inside ShiftWeights' 30 s timeout. */
export const CUTOVER_FREEZE_TIMEOUT_MS = 15_000;
const CUTOVER_FREEZE_POLL_MS = 100;

/**
 * Freezes writes (a retried attempt keeps the freeze it finds, and its start) and waits, at most
 * CUTOVER_FREEZE_TIMEOUT_MS from the freeze's start, for the replayer to have applied every write captured
 * before it. Returns the replayer's last verdict: not caught up means timed out, and the caller lifts the freeze.
 */
export async function freezeForCutover(
  deps: CutoverFreezeDeps,
  rollout: Rollout,
  current: Weights,
  fence: string | undefined,
): Promise<ReplayLagVerdict> {
  const kept = rollout.cutoverFreeze && !rollout.cutoverFreeze.liftedAt ? rollout.cutoverFreeze : undefined;
  const startedAt = kept?.startedAt ?? deps.now().toISOString();
  await deps.store.update(deps.listenerArn, rollout.executionArn, { cutoverFreeze: { startedAt } }, fence);
  try {
    const port = rulesPort(deps, deps.listenerArn);
    await createMissingFreezeRules(deps, rollout, current, await rulesOf(port, rollout.executionArn));
  } catch (error) {
    // No cutover without the freeze: the rules made so far go, and the step fails (or is retried) as any rule
    // write of it does.
    await liftCutoverFreeze(deps, rollout.executionArn, { startedAt }, {}).catch((liftError: unknown) =>
      deps.log.warn('could not lift the cutover freeze after a refused CreateRule', {
        error: String(liftError),
      }),
    );
    throw error;
  }
  const frozenAt = deps.now();
  const frozen: CutoverFreezeRecord = { startedAt, frozenAt: kept?.frozenAt ?? frozenAt.toISOString() };
  await deps.store.update(deps.listenerArn, rollout.executionArn, { cutoverFreeze: frozen }, fence);
  deps.log.info('writes frozen for the cutover: waiting for the replayer to apply what the source took', {
    executionArn: rollout.executionArn,
  });
  return waitUntilApplied(deps, new Date(frozen.frozenAt ?? startedAt), Date.parse(startedAt));
}

/**
 * Polls the replayer until it has applied every write the source took before `since` (writes frozen), at most
 * the cutover freeze's bound from `from`. Returns its last verdict.
 */
export async function waitUntilApplied(
  deps: CutoverFreezeDeps,
  since: Date,
  from: number,
): Promise<ReplayLagVerdict> {
  const deadline = from + (deps.cutoverFreezeTimeoutMs ?? CUTOVER_FREEZE_TIMEOUT_MS);
  const judge = () => deps.replayLag?.appliedBefore?.(since) ?? noReplayer();
  for (;;) {
    const verdict = await judge();
    const left = deadline - deps.now().getTime();
    if (verdict.caughtUp || left <= 0) return verdict;
    await (deps.sleep ?? sleep)(Math.min(CUTOVER_FREEZE_POLL_MS, left));
  }
}

const noReplayer = async (): Promise<ReplayLagVerdict> => ({
  caughtUp: true,
  detail: 'no replay-lag check configured',
});

/** Removes the freeze rules and records the lift (with the 503s counted, if anything counts them). */
export async function liftCutoverFreeze(
  deps: CutoverFreezeDeps,
  executionArn: string,
  begun: CutoverFreezeRecord,
  ended: Pick<CutoverFreezeRecord, 'replay' | 'replayDetail'>,
): Promise<CutoverFreezeRecord> {
  const port = rulesPort(deps, deps.listenerArn);
  await liftFreeze(port, await rulesOf(port, executionArn), deps.log);
  const liftedAt = deps.now();
  let refusedWrites: number | undefined;
  try {
    refusedWrites = await deps.frozenRequests?.countBetween(new Date(begun.startedAt), liftedAt);
  } catch (error) {
    deps.log.warn('could not count the requests the cutover freeze refused', { error: String(error) });
  }
  const lifted: CutoverFreezeRecord = {
    ...begun,
    ...ended,
    liftedAt: liftedAt.toISOString(),
    ...(refusedWrites === undefined ? {} : { refusedWrites }),
  };
  // Not fenced: the freeze is gone whoever lifted it, and the record must say so.
  await deps.store.update(deps.listenerArn, executionArn, { cutoverFreeze: lifted });
  deps.log.info('lifted the cutover write freeze', {
    executionArn,
    frozenMs: Date.parse(lifted.liftedAt ?? '') - Date.parse(begun.frozenAt ?? begun.startedAt),
    ...(ended.replay ? { replay: ended.replay } : {}),
  });
  return lifted;
}
