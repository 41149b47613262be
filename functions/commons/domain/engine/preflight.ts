import { AlarmFiring, ListenerShapeInvalid, Superseded, ValidationFailed } from '../errors.ts';
import { type Cursor, DEFAULT_GATE, ExecutionInputSchema, PreflightEventSchema } from '../events.ts';
import { resolvePlan } from '../plan.ts';
import { checkListener, recheckAfterLock } from '../preflight-listener.ts';
import { refuseWhileQuiet } from '../quiet.ts';
import { DEFAULT_TRAFFIC, refuseTrafficPlan, runSteps } from '../reads-first.ts';
import { ALL_SWING_RULES } from '../swing-rules.ts';
import type { LosslessVerdict, RollbackReason } from '../types.ts';
import { parseOrThrow } from '../validation.ts';
import type { EngineDeps } from './deps.ts';
import { reverseVerdict } from './drain.ts';
import { firingSummary } from './record.ts';

/**
 * Preflight, the state machine's first task: validates the input, checks the listener, refuses while an alarm
 * fires, and takes the lock last (I6).
 */

export type PreflightDeps = Pick<
  EngineDeps,
  'listenerArn' | 'listener' | 'listenerRules' | 'alarms' | 'store' | 'log' | 'now' | 'trafficDefaults'
> &
  Partial<Pick<EngineDeps, 'reverseCapture' | 'reverseReplay'>>;

/**
 * Validates the input, checks the listener's shape and its other rules, refuses while an alarm fires, and
 * takes the lock last, so that every refusal before it writes nothing (I6).
 */
export async function preflight(deps: PreflightDeps, event: unknown): Promise<Cursor> {
  const { executionArn, input } = parseOrThrow(PreflightEventSchema, event);
  const parsedInput = parseOrThrow(ExecutionInputSchema, input, '');
  const plan = resolvePlan(parsedInput.plan, 'plan');
  const gate = { ...DEFAULT_GATE, ...parsedInput.gate };
  const defaults = deps.trafficDefaults ?? DEFAULT_TRAFFIC;
  const traffic = parsedInput.traffic ?? defaults.traffic;
  const then = parsedInput.then ?? 'hold';
  const readsFirst = { ...defaults.settings, ...parsedInput.readsFirst };
  refuseTrafficPlan({
    traffic,
    planEnd: then,
    acceptWritesOnTarget: parsedInput.acceptWritesOnTarget ?? false,
    steps: plan.steps,
  });
  const shape = {
    plan,
    ...(traffic === 'reads-first' ? { traffic, readsFirst } : {}),
    ...(then === 'restore' ? { planEnd: then } : {}),
  };

  const cursor: Cursor = {
    index: 0,
    stepCount: runSteps(shape).length,
    done: false,
    hold: false,
    gate,
    rehearsal: then === 'restore',
    replayWaitSeconds: readsFirst.replayWaitSeconds,
  };
  const listenerChecks = {
    listenerArn: deps.listenerArn,
    traffic,
    basePriority: readsFirst.basePriority,
    firstStep: plan.steps[0],
    // The freeze's rules come after the reads-first rules: their priorities must be free too.
    ...(deps.reverseCapture ? { ruleSet: ALL_SWING_RULES } : {}),
  };
  const current = await deps.store.get(deps.listenerArn);
  const holder = current?.lockOwner;
  // A retry after this execution took the lock (its answer was lost) has only the last check left.
  if (holder === executionArn) {
    await recheckAfterLock(deps, listenerChecks, executionArn);
    return cursor;
  }
  // A stale attempt, still running after its execution finished and released the lock, must not take it again
  // (the reconciler would settle such a lock, but not before it held the listener for minutes).
  const finished = [...(current?.history ?? []), ...(current?.rollout ? [current.rollout] : [])];
  const own = finished.find((rollout) => rollout.executionArn === executionArn);
  // An earlier attempt refused the start once it held the lock and released it, and its answer was lost: this
  // retry gives the same refusal, not a stale attempt's error.
  if (own?.status === 'refused') throw repeatedRefusal(own.reason);
  if (own) {
    throw new Superseded(
      `execution ${executionArn} already ran its rollout on listener ${deps.listenerArn} and released the lock: ` +
        'this is a stale Preflight attempt, it takes nothing',
    );
  }

  // The last rollout's attempts may still act on the listener: refused before reading it (the lock's condition
  // refuses it again, atomically).
  if (holder === undefined) refuseWhileQuiet(deps.listenerArn, current?.rollout, deps.now().toISOString());

  if (traffic === 'reads-first' && defaults.replayLagCheck === false) {
    throw new ValidationFailed([
      {
        field: 'traffic',
        message:
          "is 'reads-first' but this stack has no replay-lag check (its config names no Migration Assistant " +
          'qualifier, so no alarm watches the replayer): every step would wait for it, then roll back. Set ' +
          'replayLag.qualifier (or replayLag.dimensions) in the config and deploy, or start with traffic all',
      },
    ]);
  }
  // While another rollout holds the listener, its rules and weights are its own: the lock refuses this start,
  // or, if it released meanwhile, the same checks on what is read once the lock is held.
  const { startingWeights, unswung } = await checkListener(deps, listenerChecks, holder !== undefined);
  const evaluation = await deps.alarms.evaluate();
  if (evaluation.firing.length > 0) {
    throw new AlarmFiring(
      `refusing to start: watched alarms are firing: ${firingSummary(evaluation)}. ` +
        'Fix the target first, or remove the alarm from the watch list on purpose',
      evaluation.firing.map((alarm) => alarm.name),
    );
  }

  const losslessRollback =
    traffic === 'reads-first' && then === 'hold' ? await losslessVerdict(deps) : undefined;
  const taken = await deps.store.acquire(deps.listenerArn, {
    ...shape,
    ...(losslessRollback ? { losslessRollback } : {}),
    executionArn,
    startedAt: deps.now().toISOString(),
    startingWeights,
    lastWritten: startingWeights,
    stepIndex: 0,
    status: 'smoke-testing',
    steps: [],
    ...(unswung.count > 0 ? { unswungRules: unswung.recorded, unswungRuleCount: unswung.count } : {}),
  });
  // Another attempt of this preflight took the lock meanwhile (this one's answer was lost, or it woke up
  // late): that attempt's rollout runs, and this one has nothing left to do.
  if (taken === 'already-held') return cursor;
  await recheckAfterLock(deps, listenerChecks, executionArn);
  deps.log.info('rollout started', {
    executionArn,
    startingWeights,
    ...(unswung.count > 0 ? { unswungRules: unswung.recorded } : {}),
    steps: plan.steps.length,
    traffic,
    then,
    requestedBy: parsedInput.requestedBy,
    ...(losslessRollback ? { losslessRollback } : {}),
  });
  return cursor;
}

/**
 * Before the cutover: would a rollback after it lose nothing? Only with reverse capture configured, its lag alarm
 * there to read (else the freeze would wait out its whole timeout and the exposure would be reported), and no limit
 * of its replayer or signal (the port's limits: on AWS, the Migration Assistant's replayer and its lag alarm).
 */
export async function losslessVerdict(
  deps: Pick<PreflightDeps, 'reverseCapture' | 'reverseReplay' | 'log'>,
): Promise<LosslessVerdict> {
  if (!deps.reverseCapture) {
    return {
      lossless: false,
      reverseCapture: false,
      detail:
        'no reverse capture is configured: a rollback after the write cutover leaves the writes the target took ' +
        'since on the target only, and reports them (the write exposure)',
    };
  }
  const verdict = await reverseVerdict(deps);
  const timeout = deps.reverseCapture.drainTimeoutSeconds;
  if (verdict.readable === false || !deps.reverseReplay) {
    return {
      lossless: false,
      reverseCapture: true,
      detail:
        `reverse capture is configured but its lag alarm cannot be read (${verdict.detail}): a rollback after the ` +
        `cutover would freeze writes for its whole drain timeout (${timeout} s), then restore and report the exposure`,
    };
  }
  const freezes =
    'reverse capture is configured: a rollback after the write cutover freezes writes (503) until the reverse ' +
    `replayer has drained, at most ${timeout} s, then restores (${verdict.detail})`;
  const limits = deps.reverseReplay.limits ?? [];
  if (limits.length === 0) return { lossless: true, reverseCapture: true, detail: freezes };
  return {
    lossless: false,
    reverseCapture: true,
    detail: `${freezes}; not proven lossless here: ${limits.join('; ')}`,
    limits,
  };
}

/** The refusal an earlier attempt of this Preflight recorded when it released the lock (recheckAfterLock). */
function repeatedRefusal(reason: RollbackReason | undefined): Error {
  const cause =
    `${reason?.cause ?? 'the start was refused'} (an earlier attempt of this Preflight refused it once it held ` +
    'the lock, and released the lock; this retry repeats its answer)';
  if (reason?.error === 'ListenerShapeInvalid') return new ListenerShapeInvalid(cause);
  return new ValidationFailed([{ field: 'listener', message: cause }]);
}
