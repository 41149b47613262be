import { DrainPending } from '../errors.ts';
import { RollbackEventSchema, WaitTaskEventSchema } from '../events.ts';
import type { FreezeRecord, ReverseReplayVerdict, Rollout } from '../types.ts';
import { parseOrThrow } from '../validation.ts';
import { type EngineDeps, sleep } from './deps.ts';
import { type FreezeResult, recheckSeconds } from './freeze.ts';

/**
 * Drain and DrainCheck: while writes are frozen, the rollback waits until the reverse replayer has applied onto
 * the source everything the target took (its lag alarm back to OK), bounded by the drain timeout. Drain is a
 * task-token wait (the bake function stores its token; the lag alarm's return to OK releases it, and its check
 * when it opens); DrainCheck (the rollback function) looks again after each short wait, so a lost lag event
 * cannot wedge it, and records how the drain ended. Nothing restores before the drain or its deadline.
 */

export type DrainDeps = Pick<EngineDeps, 'listenerArn' | 'store' | 'log' | 'now' | 'reverseReplay'>;

/**
 * The reverse replayer's lag, read; no port (or a port that fails) is not drained. With `frozenAt` (the drain's
 * checks), a drained verdict counts only when its evidence reaches the freeze: a lag alarm's OK since before it
 * judged periods that ended before it, and says nothing of the writes the target took just before the freeze.
 */
export async function reverseVerdict(
  deps: Pick<EngineDeps, 'reverseReplay' | 'log'>,
  frozenAt?: string,
): Promise<ReverseReplayVerdict> {
  if (!deps.reverseReplay) return { drained: false, detail: 'no reverse replayer lag check is configured' };
  let verdict: ReverseReplayVerdict;
  try {
    verdict = await deps.reverseReplay.check();
  } catch (error) {
    deps.log.warn('could not read the reverse replayer lag', { error: String(error) });
    return { drained: false, detail: `the reverse replayer lag could not be read: ${String(error)}` };
  }
  if (!verdict.drained || frozenAt === undefined || coversFreeze(verdict, frozenAt)) return verdict;
  return {
    ...verdict,
    drained: false,
    detail:
      `${verdict.detail}; not counted as drained yet: that state judges data only until ${verdict.coversUntil}, ` +
      `before the freeze at ${frozenAt} (the alarm evaluates periods that ended before it, published late)`,
  };
}

/** Whether a verdict's evidence reaches the freeze (an exact port's, without coversUntil, always does). */
function coversFreeze(verdict: ReverseReplayVerdict, frozenAt: string): boolean {
  if (verdict.coversUntil === undefined) return true;
  const covers = Date.parse(verdict.coversUntil);
  return !Number.isNaN(covers) && covers >= Date.parse(frozenAt);
}

/**
 * Ends the drain when it is over, recording how: `drained` (released by the lag alarm, or its check says so) or
 * `timed-out` (its deadline passed). Returns the freeze as ended, or undefined while neither holds.
 */
export async function endDrainIfOver(
  deps: DrainDeps,
  rollout: Rollout,
  released?: ReverseReplayVerdict,
): Promise<FreezeRecord | undefined> {
  const begun = rollout.freeze;
  if (!begun?.frozenAt) return begun;
  if (begun.drainEndedAt) return begun;
  const verdict = released ?? (await reverseVerdict(deps, begun.frozenAt));
  const now = deps.now();
  const drain = verdict.drained
    ? 'drained'
    : now.getTime() >= Date.parse(begun.drainDeadline)
      ? 'timed-out'
      : undefined;
  if (!drain) return undefined;
  const ended: FreezeRecord = {
    ...begun,
    drainEndedAt: now.toISOString(),
    drain,
    drainDetail: verdict.detail.slice(0, 1000),
  };
  await deps.store.update(deps.listenerArn, rollout.executionArn, {
    freeze: ended,
    taskToken: undefined,
    taskKind: undefined,
  });
  deps.log.warn(drain === 'drained' ? 'the reverse replayer drained' : 'the drain timed out', {
    executionArn: rollout.executionArn,
    detail: verdict.detail,
  });
  return ended;
}

/** What Drain's release carries (SendTaskSuccess's output), if it was one. */
function releaseOf(drain: unknown): ReverseReplayVerdict | undefined {
  if (typeof drain !== 'object' || drain === null) return undefined;
  const { drained, detail } = drain as { drained?: unknown; detail?: unknown };
  return drained === true
    ? { drained: true, detail: typeof detail === 'string' ? detail : 'released' }
    : undefined;
}

/** DrainCheck: the drain over (or none to wait for) goes on to Rollback; otherwise another short Drain. */
export async function drainCheck(deps: DrainDeps, event: unknown): Promise<FreezeResult> {
  const { executionArn, drain } = parseOrThrow(RollbackEventSchema, event);
  const record = await deps.store.get(deps.listenerArn);
  const rollout = record?.lockOwner === executionArn ? record.rollout : undefined;
  if (!rollout?.freeze?.frozenAt) {
    return { frozen: false, done: true, note: 'no freeze to drain: Rollback decides' };
  }
  const ended = await endDrainIfOver(deps, rollout, releaseOf(drain));
  if (ended) return { frozen: true, done: true, note: `drain ${ended.drain}` };
  return {
    frozen: true,
    done: false,
    recheckSeconds: recheckSeconds(rollout.freeze, deps.now()),
    note: 'the reverse replayer has not drained yet',
  };
}

/**
 * Drain opens: its token is stored (an unfenced write: the rollout is rolling back, and a stale attempt's dead
 * token costs at most one recheck period), then the reverse replayer is checked once, since the alarm's OK may
 * have come before the token was there. Watched alarms and aborts leave it alone: the rollback is under way.
 */
export async function openDrain(
  deps: DrainDeps & Partial<Pick<EngineDeps, 'callbacks'>>,
  executionArn: string,
  taskToken: string,
): Promise<{ waiting: boolean }> {
  const rollout = await deps.store.update(deps.listenerArn, executionArn, { taskToken, taskKind: 'drain' });
  if (rollout.freeze?.drainEndedAt) {
    await deps.callbacks?.succeed(taskToken, {
      drained: rollout.freeze.drain === 'drained',
      detail: 'ended',
    });
    return { waiting: false };
  }
  const verdict = await reverseVerdict(deps, rollout.freeze?.frozenAt);
  if (!verdict.drained || !deps.callbacks) {
    deps.log.info('waiting for the reverse replayer to drain', { executionArn, detail: verdict.detail });
    return { waiting: true };
  }
  await deps.callbacks.succeed(taskToken, { drained: true, detail: verdict.detail });
  return { waiting: false };
}

/** Drain's task as the bake function receives it (the same event as every wait's). */
export async function openDrainTask(
  deps: DrainDeps & Partial<Pick<EngineDeps, 'callbacks'>>,
  event: unknown,
): Promise<{ waiting: boolean }> {
  const { executionArn, taskToken } = parseOrThrow(WaitTaskEventSchema, event);
  return openDrain(deps, executionArn, taskToken);
}

/** Which wait a bake-function event opens, or which phase a rollback-function event runs (for the handlers). */
export function eventField(event: unknown, field: 'kind' | 'phase'): unknown {
  return typeof event === 'object' && event !== null ? (event as Record<string, unknown>)[field] : undefined;
}

/** How often a restore outside the state machine (the safety net, the reconciler) reads the reverse lag. */
export const DRAIN_POLL_MS = 2000;

/**
 * For whoever restores outside the state machine (the safety net, the reconciler): a freeze whose drain is not
 * over is waited out here, the reverse lag read every DRAIN_POLL_MS, until it drained or its deadline passed.
 * `maxWaitMs` is what the invocation can spend (its function timeout): past it, DrainPending, the listener
 * untouched, for the next invocation. Returns the rollout with its freeze as ended.
 */
export async function awaitDrain(
  deps: DrainDeps & { readonly sleep?: (ms: number) => Promise<void> },
  rollout: Rollout,
  maxWaitMs = Number.POSITIVE_INFINITY,
): Promise<Rollout> {
  const begun = rollout.freeze;
  if (!begun?.frozenAt || begun.drainEndedAt) return rollout;
  const until = Math.min(Date.parse(begun.drainDeadline), deps.now().getTime() + maxWaitMs);
  for (;;) {
    const ended = await endDrainIfOver(deps, rollout);
    if (ended) return { ...rollout, freeze: ended };
    const left = until - deps.now().getTime();
    if (left <= 0) {
      throw new DrainPending(
        `writes are frozen and the reverse replayer has not drained; nothing restores before it has or until ` +
          `${begun.drainDeadline}: this invocation ran out of time, the next one waits on`,
      );
    }
    await (deps.sleep ?? sleep)(Math.min(DRAIN_POLL_MS, left));
  }
}
