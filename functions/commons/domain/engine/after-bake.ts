import { measureAsAdvice } from '../advisory.ts';
import type { DeliveredSplit } from '../delivered-split.ts';
import { AlarmFiring } from '../errors.ts';
import { AfterBakeEventSchema, type Cursor } from '../events.ts';
import { fenceOf } from '../fencing.ts';
import { DEFAULT_READS_FIRST, runSteps } from '../reads-first.ts';
import type { StepRecord } from '../types.ts';
import { parseOrThrow } from '../validation.ts';
import type { EngineDeps } from './deps.ts';
import { firingSummary, ownRollout, throwIfAborted, upsertStep } from './record.ts';

/**
 * AfterBake: once a bake ended clean, the alarms are checked once more and the cursor moves on (or holds at a
 * gate).
 */

export type AfterBakeDeps = Pick<
  EngineDeps,
  'listenerArn' | 'alarms' | 'store' | 'log' | 'now' | 'measureDeliveredSplit' | 'measureDeadlineMs'
> & {
  /** The invocation's time left (Lambda's context): the advisory measure never takes what the rest needs. */
  readonly remainingMs?: () => number;
};

/** The bake's delivered split, or undefined when not configured: advice, never a reason to fail (advisory.ts). */
async function deliveredDuringBake(
  deps: AfterBakeDeps,
  executionArn: string,
  step: StepRecord,
  bakedAt: Date,
): Promise<DeliveredSplit | undefined> {
  if (!deps.measureDeliveredSplit) return undefined;
  return measureAsAdvice(deps.measureDeliveredSplit, step, bakedAt, { ...deps, executionArn });
}

/** Checks the alarms once more after a clean bake and moves the cursor on (or holds at a gate). */
export async function afterBake(deps: AfterBakeDeps, event: unknown): Promise<Cursor> {
  const { executionArn, cursor, stateEnteredTime, retryCount } = parseOrThrow(AfterBakeEventSchema, event);
  const rollout = await ownRollout(deps, executionArn);
  throwIfAborted(rollout);
  const evaluation = await deps.alarms.evaluate();
  if (evaluation.firing.length > 0) {
    throw new AlarmFiring(
      `watched alarms fired during the bake of step ${cursor.index + 1}: ${firingSummary(evaluation)}`,
      evaluation.firing.map((alarm) => alarm.name),
    );
  }
  const steps = runSteps(rollout);
  const step = steps[cursor.index];
  const next = cursor.index + 1;
  const done = next >= steps.length;
  // Reads-first: the write cutover waits behind its own gate, unless it goes once the replayer has caught up.
  const settings = rollout.readsFirst ?? DEFAULT_READS_FIRST;
  const cutoverGate = steps[next]?.kind === 'cutover' && settings.cutoverGate === 'manual';
  // A pause is not a gate: the next step's guarded write holds for it (see pause.ts), whenever it arrives.
  const hold = Boolean(step?.gate) || cutoverGate;
  const bakedAtDate = deps.now();
  const bakedAt = bakedAtDate.toISOString();
  const bakedStep = rollout.steps.find((recorded) => recorded.index === cursor.index);
  // A read step's weights are its read rules': the target groups' RequestCount, writes included, cannot judge them.
  const delivered =
    bakedStep && bakedStep.kind !== 'reads'
      ? await deliveredDuringBake(deps, executionArn, bakedStep, bakedAtDate)
      : undefined;
  await deps.store.update(
    deps.listenerArn,
    executionArn,
    {
      taskToken: undefined,
      taskKind: undefined,
      bakeEndsAt: undefined,
      status: hold ? 'gated' : 'shifting',
      steps: bakedStep
        ? upsertStep(rollout.steps, { ...bakedStep, bakedAt, ...(delivered ? { delivered } : {}) })
        : rollout.steps,
    },
    // Fenced: a stale attempt must not clear the token of the gate or bake that opened since.
    fenceOf(stateEnteredTime, retryCount),
  );
  const gate = cutoverGate
    ? { timeoutSeconds: settings.cutoverGateTimeoutSeconds, action: settings.cutoverGateTimeoutAction }
    : cursor.gate;
  return { ...cursor, index: done ? cursor.index : next, done, hold, gate };
}
