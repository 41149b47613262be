import { LockLost, Superseded } from '../errors.ts';
import { DEFAULT_READS_FIRST, liftFreeze, rulesOf } from '../reads-first.ts';
import { FREEZE_RESPONSE, FREEZE_RULE_SET, isFrozenWritesRule, PIN_WEIGHTS, specOf } from '../swing-rules.ts';
import type { CutoverFreezeRecord, ReplayLagVerdict, Rollout, Weights } from '../types.ts';
import { type EngineDeps, rulesPort, sleep } from './deps.ts';
import { SHIFT_WEIGHTS_TIMEOUT_SECONDS } from './stale-shift-window.ts';

/**
 * The reads-first write cutover's freeze. The replay-lag gate only says the forward replayer's lag is under its
 * threshold: writes the source accepted just before the cutover may still be queued, and would land on the
 * target after clients' newer writes to the same documents. So the cutover freezes writes (FREEZE_RULE_SET:
 * non-reads answered 503, reads flowing; writes-to-source, which comes before the freeze's rules, made to answer
 * the same 503), waits until the replayer has applied everything captured before the freeze took effect, moves the
 * default action and removes the read rules and writes-to-source, checks the replayer once more, then lifts the
 * freeze. Both waits share one bound, well inside ShiftWeights' timeout.
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
  | 'ruleSettleMs'
> & { readonly sleep?: (ms: number) => Promise<void> };

/**
 * The longest a cutover keeps writes frozen, its waits for the replayer together, from the freeze's start: 10 s of
 * ShiftWeights' 30 s timeout are left for its AWS calls after the waits (the cutover, the removals, the lift).
 */
export const CUTOVER_FREEZE_TIMEOUT_MS = (SHIFT_WEIGHTS_TIMEOUT_SECONDS - 10) * 1000;
const CUTOVER_FREEZE_POLL_MS = 100;

/**
 * ALB applies a rule change "not immediately": requests may be routed by the previous rules for a short time
 * (Elastic Load Balancing's user guide, "Edit a listener rule"). The freeze takes effect this long after its last
 * rule write, and what the replayer must apply is what the source took until then.
 */
export const RULE_SETTLE_MS = 1000;

/** What one attempt made of the freeze: the rules it created, and writes-to-source if it made it answer 503. */
export interface FreezeMade {
  readonly created: string[];
  writes?: string;
}

/**
 * Freezes writes (a retried attempt keeps the freeze it finds, and its start) and waits, within the freeze's bound
 * (CUTOVER_FREEZE_TIMEOUT_MS from its start), for the replayer to have applied every write captured before the
 * freeze took effect. Returns the replayer's last verdict (not caught up means timed out, and the caller lifts the
 * freeze), what this attempt made (a stale attempt undoes only that: endCutoverFreeze), and `since`, the moment
 * after which no write reached the source, when writes-to-source answers 503 (else writes it matches still do).
 */
export async function freezeForCutover(
  deps: CutoverFreezeDeps,
  rollout: Rollout,
  current: Weights,
  fence: string | undefined,
): Promise<{ verdict: ReplayLagVerdict; made: FreezeMade; since: Date | undefined }> {
  const kept = rollout.cutoverFreeze && !rollout.cutoverFreeze.liftedAt ? rollout.cutoverFreeze : undefined;
  const startedAt = kept?.startedAt ?? deps.now().toISOString();
  const attempt = kept?.attempt ?? (timedOutFreeze(rollout)?.attempt ?? 0) + 1;
  const begun: CutoverFreezeRecord = { startedAt, attempt };
  await deps.store.update(deps.listenerArn, rollout.executionArn, { cutoverFreeze: begun }, fence);
  const made: FreezeMade = { created: [] };
  let frozen: CutoverFreezeRecord = begun;
  let writesFrozen = false;
  try {
    const port = rulesPort(deps, deps.listenerArn);
    const found = await rulesOf(port, rollout.executionArn);
    const base = rollout.readsFirst?.basePriority ?? DEFAULT_READS_FIRST.basePriority;
    for (const spec of FREEZE_RULE_SET) {
      if (found.some((rule) => rule.name === spec.name)) continue;
      made.created.push(await port.createRule(spec, base + spec.offset, current, rollout.executionArn));
    }
    // writes-to-source comes before the freeze's rules: left forwarding, the writes it matches (POST
    // /<index>/_doc/<id>, ...) would reach the source through the whole wait. Now it answers what freeze-writes does.
    const writes = found.find((rule) => specOf(rule)?.role === 'writes');
    if (writes && !isFrozenWritesRule(writes) && port.setRuleResponse) {
      made.writes = writes.arn;
      await port.setRuleResponse(writes.arn, FREEZE_RESPONSE);
    }
    writesFrozen = !writes || isFrozenWritesRule(writes) || made.writes !== undefined;
    frozen = { ...begun, frozenAt: kept?.frozenAt ?? deps.now().toISOString() };
    await deps.store.update(deps.listenerArn, rollout.executionArn, { cutoverFreeze: frozen }, fence);
  } catch (error) {
    // No cutover without the freeze: the rules made so far go, and the step fails (or is retried) as any rule
    // write of it does; a stale attempt lifts nothing of a live freeze (endCutoverFreeze).
    await endCutoverFreeze(deps, rollout.executionArn, fence, made, begun, {}).catch((liftError: unknown) =>
      deps.log.warn('could not lift the cutover freeze after a failed freeze', {
        error: String(liftError),
      }),
    );
    throw error;
  }
  deps.log.info('writes frozen for the cutover: waiting for the replayer to apply what the source took', {
    executionArn: rollout.executionArn,
  });
  const since = settled(deps, new Date(frozen.frozenAt ?? startedAt));
  const verdict = await waitUntilApplied(deps, since, Date.parse(startedAt));
  return { verdict, made, since: writesFrozen ? since : undefined };
}

/** When a rule change made at `at` has taken effect on every node of the load balancer. */
export function settled(deps: Pick<CutoverFreezeDeps, 'ruleSettleMs'>, at: Date): Date {
  return new Date(at.getTime() + (deps.ruleSettleMs ?? RULE_SETTLE_MS));
}

/** A freeze of this cutover tried at most this many times: writes are refused at most this many freeze bounds. */
export const MAX_CUTOVER_FREEZES = 3;

/** The cutover's last freeze, when it timed out (lifted without a cutover). */
export function timedOutFreeze(rollout: Rollout): CutoverFreezeRecord | undefined {
  const last = rollout.cutoverFreeze;
  return last?.replay === 'timed-out' && last.liftedAt && rollout.cutoverAt === undefined ? last : undefined;
}

/**
 * Whether the cutover may freeze (again). The replay-lag alarm's OK only says the lag is under its threshold; once a
 * freeze timed out, it said so while the lag was over the freeze's bound, so it alone would freeze again at once,
 * and again. After a timed-out freeze the replayer must first have applied what the source took before that freeze
 * was lifted (it got through the backlog that defeated it). Also used when a wait for the replayer opens, so that
 * the step is not released into a refusal at once.
 */
export async function replayReadyForFreeze(
  deps: Pick<EngineDeps, 'replayLag'>,
  rollout: Rollout,
): Promise<ReplayLagVerdict> {
  const verdict = (await deps.replayLag?.check()) ?? {
    caughtUp: true,
    detail: 'no replay-lag check configured',
  };
  const last = timedOutFreeze(rollout);
  if (!verdict.caughtUp || !last?.liftedAt || !deps.replayLag?.appliedBefore) return verdict;
  const since = await deps.replayLag.appliedBefore(new Date(last.liftedAt));
  if (since.caughtUp) return verdict;
  return {
    caughtUp: false,
    detail:
      `the cutover's freeze ${last.attempt ?? 1} timed out (${last.replayDetail ?? 'the replayer did not empty'}) ` +
      `and the replayer has not yet applied what the source took before it was lifted (${since.detail})`,
  };
}

/**
 * Polls the replayer, from `since` on, until it has applied every write the source took before `since` (writes
 * frozen), at most the cutover freeze's bound from `from` (the freeze's start: every wait of it shares the bound).
 * Returns its last verdict.
 */
export async function waitUntilApplied(
  deps: CutoverFreezeDeps,
  since: Date,
  from: number,
): Promise<ReplayLagVerdict> {
  const deadline = from + (deps.cutoverFreezeTimeoutMs ?? CUTOVER_FREEZE_TIMEOUT_MS);
  const judge = () => deps.replayLag?.appliedBefore?.(since) ?? noReplayer();
  const settling = Math.min(since.getTime(), deadline) - deps.now().getTime();
  if (settling > 0) await (deps.sleep ?? sleep)(settling);
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

/**
 * Ends this attempt's part in the cutover freeze. The live attempt lifts it (liftCutoverFreeze). A stale one (its
 * answer lost, a Retry running the step since: its fenced record write refused) must not lift the freeze a later
 * attempt may be waiting under, yet may have created rules after that attempt lifted it (ELBv2 has no conditional
 * write): it removes the rules it created itself, once the record shows no freeze standing. Should its rule land
 * after the live attempt read the rules to lift them, that attempt's second look after the lift finds it.
 */
export async function endCutoverFreeze(
  deps: CutoverFreezeDeps,
  executionArn: string,
  fence: string | undefined,
  made: FreezeMade,
  begun: CutoverFreezeRecord,
  ended: Pick<CutoverFreezeRecord, 'replay' | 'replayDetail'>,
): Promise<void> {
  if (await isLiveAttempt(deps, executionArn, fence)) {
    await liftCutoverFreeze(deps, executionArn, begun, ended);
    return;
  }
  const record = await deps.store.get(deps.listenerArn);
  const rollout = record?.lockOwner === executionArn ? record.rollout : undefined;
  if (rollout && freezeStands(rollout)) {
    deps.log.info('a stale cutover attempt leaves the standing freeze to whoever lifts it', { executionArn });
    return;
  }
  const port = rulesPort(deps, deps.listenerArn);
  for (const arn of made.created) await port.deleteRule(arn);
  // Gone already if the cutover removed it: nothing to put back then.
  if (made.writes) await port.setRuleWeights(made.writes, PIN_WEIGHTS).catch(() => undefined);
  if (made.created.length > 0 || made.writes)
    deps.log.warn('a stale cutover attempt undid what it made of the freeze after the freeze ended', {
      executionArn,
      removed: made.created.length,
    });
}

/** Whether a freeze (the cutover's or a rollback's) is recorded begun and not lifted. */
function freezeStands(rollout: Rollout): boolean {
  const cutover = rollout.cutoverFreeze !== undefined && !rollout.cutoverFreeze.liftedAt;
  return cutover || (rollout.freeze !== undefined && !rollout.freeze.liftedAt);
}

/** Whether this attempt is still the live one: a fenced write of nothing, refused once a later attempt wrote. */
async function isLiveAttempt(deps: CutoverFreezeDeps, executionArn: string, fence: string | undefined) {
  try {
    await deps.store.update(deps.listenerArn, executionArn, {}, fence);
    return true;
  } catch (error) {
    if (error instanceof Superseded || error instanceof LockLost) return false;
    throw error;
  }
}

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
  const after = await deps.store.update(deps.listenerArn, executionArn, { cutoverFreeze: lifted });
  // A second look once the lift is recorded: a stale attempt's freeze rule that landed after the first read (its
  // attempt found the freeze still standing, so left it) goes now; a rollback's freeze begun since stays.
  if (!freezeStands(after)) await liftFreeze(port, await rulesOf(port, executionArn), deps.log);
  deps.log.info('lifted the cutover write freeze', {
    executionArn,
    frozenMs: Date.parse(lifted.liftedAt ?? '') - Date.parse(begun.frozenAt ?? begun.startedAt),
    ...(ended.replay ? { replay: ended.replay } : {}),
  });
  return lifted;
}
