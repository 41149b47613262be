import {
  AlarmFiring,
  ReplayLagging,
  ReplayLagTimedOut,
  TargetUnhealthy,
  ValidationFailed,
} from '../errors.ts';
import { StepEventSchema } from '../events.ts';
import { fenceOf } from '../fencing.ts';
import {
  DEFAULT_READS_FIRST,
  type RunStep,
  removeRules,
  rulesDrift,
  rulesDriftError,
  rulesOf,
  runSteps,
  writeReadRules,
} from '../reads-first.ts';
import { isFreezeRule, isPinRule, PIN_WEIGHTS } from '../swing-rules.ts';
import type { FoundSwingRule, ReplayLagVerdict, Rollout, Weights } from '../types.ts';
import { parseOrThrow } from '../validation.ts';
import { isIncrease, percentToWeights, sameWeights } from '../weights.ts';
import {
  endCutoverFreeze,
  freezeForCutover,
  liftCutoverFreeze,
  MAX_CUTOVER_FREEZES,
  replayReadyForFreeze,
  settled,
  timedOutFreeze,
  waitUntilApplied,
} from './cutover-freeze.ts';
import { type EngineDeps, rulesPort } from './deps.ts';
import {
  driftError,
  firingSummary,
  isOwnWrite,
  ownRollout,
  throwDriftUnlessForced,
  throwIfAborted,
} from './record.ts';
import { writeStep } from './step-write.ts';

/**
 * ShiftWeights: moves the listener (or, reads-first, Swing's read rules) to one step's weights.
 */

export type ShiftDeps = Pick<
  EngineDeps,
  | 'listenerArn'
  | 'listener'
  | 'alarms'
  | 'store'
  | 'log'
  | 'now'
  | 'onWeightsWritten'
  | 'swingRules'
  | 'replayLag'
  | 'frozenRequests'
  | 'cutoverFreezeTimeoutMs'
  | 'ruleSettleMs'
>;

export interface ShiftResult {
  readonly index: number;
  readonly targetPercent: number;
  readonly weights: Weights;
  readonly bakeSeconds: number;
  /** Step Functions task timeouts are at least 1 s, so a 0 s bake waits 1 s. */
  readonly bakeTimeoutSeconds: number;
  /** Reads-first: which part of the traffic this step moved. */
  readonly kind?: 'reads' | 'cutover' | 'pins';
}

/** Checks made immediately before a write that raises the target's share: no window for I2. */
async function refuseRaisingUnderAlarm(deps: ShiftDeps, step: RunStep, what: string): Promise<void> {
  const evaluation = await deps.alarms.evaluate();
  if (evaluation.firing.length > 0) {
    throw new AlarmFiring(
      `not raising ${what} to ${step.targetPercent} %: watched alarms are firing: ${firingSummary(evaluation)}`,
      evaluation.firing.map((alarm) => alarm.name),
    );
  }
  if ((await deps.listener.healthyTargetCount()) === 0) {
    throw new TargetUnhealthy(
      `not raising ${what} to ${step.targetPercent} %: the target target group has no healthy targets`,
    );
  }
}

/**
 * Reads-first: the replayer must have caught up before reads move on (they would miss recent writes) and before
 * the cutover (the target would miss writes still being replayed). If it has not, the step waits for it.
 */
async function waitForReplayer(
  deps: ShiftDeps,
  rollout: Rollout,
  index: number,
  fence: string | undefined,
): Promise<void> {
  if (!deps.replayLag) return;
  const verdict = await deps.replayLag.check();
  if (verdict.caughtUp) return;
  await waitAgainForReplayer(deps, rollout, index, fence, verdict.detail);
}

/**
 * Before the cutover's freeze: the replayer has caught up (replayReadyForFreeze: after a freeze that timed out, past
 * the backlog that defeated it), else the step waits; after MAX_CUTOVER_FREEZES freezes that timed out it rolls back,
 * so the 503s a cutover can cost are bounded whatever the replayer does.
 */
async function refuseFreezingAgainSoon(
  deps: ShiftDeps,
  rollout: Rollout,
  index: number,
  fence: string | undefined,
): Promise<void> {
  const last = timedOutFreeze(rollout);
  if (last && (last.attempt ?? 1) >= MAX_CUTOVER_FREEZES) {
    throw new ReplayLagTimedOut(
      `the write cutover froze writes ${last.attempt ?? 1} times and each time the replayer did not apply what the ` +
        `source took in time (last: ${last.replayDetail ?? 'not empty'}): rolling back; reads-first loses nothing ` +
        'before the write cutover',
    );
  }
  const verdict = await replayReadyForFreeze(deps, rollout);
  if (!verdict.caughtUp) await waitAgainForReplayer(deps, rollout, index, fence, verdict.detail);
}

/** The step waits for the replay-lag alarm's OK (ReplayLagging), or rolls back once it waited too long. */
async function waitAgainForReplayer(
  deps: ShiftDeps,
  rollout: Rollout,
  index: number,
  fence: string | undefined,
  detail: string,
): Promise<never> {
  // The bound counts from the step's first wait: an OK event (late, repeated, or a brief recovery) releases a
  // wait, and the next one would otherwise start its whole timeout again.
  const since =
    rollout.replayWaitSince?.stepIndex === index ? rollout.replayWaitSince.at : deps.now().toISOString();
  const boundSeconds = (rollout.readsFirst ?? DEFAULT_READS_FIRST).replayWaitSeconds;
  if (deps.now().getTime() - Date.parse(since) >= boundSeconds * 1000) {
    throw new ReplayLagTimedOut(
      `step ${index + 1} has waited for the replayer since ${since}, longer than replayWaitSeconds ` +
        `(${boundSeconds} s), and it still lags (${detail}): rolling back; reads-first loses nothing ` +
        'before the write cutover',
    );
  }
  await deps.store.update(
    deps.listenerArn,
    rollout.executionArn,
    {
      stepIndex: index,
      status: 'waiting-replay',
      replayWaitSince: { stepIndex: index, at: since },
      taskToken: undefined,
      taskKind: undefined,
    },
    fence,
  );
  throw new ReplayLagging(
    `step ${index + 1} waits: the replayer has not caught up with the source (${detail}); it goes on ` +
      'when the replay-lag alarm returns to OK, and rolls back if it does not before the wait times out',
  );
}

/**
 * Moves the listener to the step's weights. Refuses to go up while an alarm fires (I2) or while the target
 * group has no healthy target; halts on drift (I4); marks the write as pending first so a crash between
 * ModifyListener and the record is not mistaken for drift. In reads-first mode a step moves Swing's read rules,
 * and the last one (the write cutover) moves the default action.
 */
export async function shiftWeights(deps: ShiftDeps, event: unknown): Promise<ShiftResult> {
  const { executionArn, index, stateEnteredTime, retryCount } = parseOrThrow(StepEventSchema, event);
  const fence = fenceOf(stateEnteredTime, retryCount);
  const rollout = await ownRollout(deps, executionArn);
  throwIfAborted(rollout);
  const steps = runSteps(rollout);
  const step = steps[index];
  if (!step) {
    throw new ValidationFailed([
      { field: 'index', message: `is ${index} but the plan has ${steps.length} steps` },
    ]);
  }

  const current = await deps.listener.readWeights();
  if (!isOwnWrite(rollout, current)) {
    await throwDriftUnlessForced(deps, executionArn, driftError(rollout, current, deps.listenerArn));
  }
  if (step.kind === 'reads') return shiftReads(deps, rollout, index, step, fence);
  if (step.kind === 'cutover') return cutOverWrites(deps, rollout, index, step, current, fence);
  if (step.kind === 'pins') return releasePins(deps, rollout, index, step, fence);

  const desired = percentToWeights(step.targetPercent);
  if (isIncrease(current, desired)) await refuseRaisingUnderAlarm(deps, step, 'the target');
  await writeStep(deps, rollout, index, step, fence, {
    desired,
    pending: () => ({ pendingWeights: desired }),
    write: () => deps.listener.writeWeights(desired),
    done: () => ({ lastWritten: desired, pendingWeights: undefined }),
  });
  deps.onWeightsWritten?.(desired, step.targetPercent);
  deps.log.info('weights shifted', {
    executionArn,
    index,
    targetPercent: step.targetPercent,
    weights: desired,
  });
  return shiftResult(index, step, desired, Math.max(1, step.bakeSeconds));
}

function shiftResult(
  index: number,
  step: RunStep,
  weights: Weights,
  bakeTimeoutSeconds: number,
): ShiftResult {
  return {
    index,
    targetPercent: step.targetPercent,
    weights,
    bakeSeconds: step.bakeSeconds,
    bakeTimeoutSeconds,
    ...(step.kind ? { kind: step.kind } : {}),
  };
}

/**
 * Swing's rules of this rollout, as it left them; a rule changed by hand halts the step (I4), one removed by
 * `swing rollback --force` rolls it back.
 */
async function unchangedRules(deps: ShiftDeps, rollout: Rollout): Promise<FoundSwingRule[]> {
  const rules = await rulesOf(rulesPort(deps, deps.listenerArn), rollout.executionArn);
  let drift = rulesDrift(rollout, rules);
  if (drift) {
    // Judged again on the record read after the rules: an earlier attempt of this step (its answer lost, this
    // attempt its Retry) may have marked, written and recorded its rule writes since this one read the record.
    // Every rule write of Swing's is recorded as pending before it is sent, so one seen here shows there.
    const record = await deps.store.get(deps.listenerArn);
    if (record?.lockOwner === rollout.executionArn && record.rollout)
      drift = rulesDrift(record.rollout, rules);
  }
  if (drift) {
    await throwDriftUnlessForced(deps, rollout.executionArn, rulesDriftError(deps.listenerArn, drift));
  }
  return rules;
}

/** A read step: the pins and read rules are created on the first, re-weighted on the next ones. */
async function shiftReads(
  deps: ShiftDeps,
  rollout: Rollout,
  index: number,
  step: RunStep,
  fence: string | undefined,
): Promise<ShiftResult> {
  const rules = await unchangedRules(deps, rollout);
  const desired = percentToWeights(step.targetPercent);
  if (isIncrease(rollout.readsWritten ?? PIN_WEIGHTS, desired)) {
    await waitForReplayer(deps, rollout, index, fence);
    await refuseRaisingUnderAlarm(deps, step, "the target's read share");
  }
  await writeStep(deps, rollout, index, step, fence, {
    desired,
    pending: () => ({ pendingReads: desired }),
    write: () => writeReadRules(rulesPort(deps, deps.listenerArn), rollout, rules, desired),
    done: () => ({ readsWritten: desired, pendingReads: undefined }),
  });
  deps.log.info('read share shifted', { executionArn: rollout.executionArn, index, reads: desired });
  return shiftResult(index, step, desired, Math.max(1, step.bakeSeconds));
}

/**
 * The write cutover: one ModifyListener sends writes (and everything no rule matches) to the target, under a
 * brief write freeze while the replayer empties (cutover-freeze.ts). The read rules, at 100 % already, go; the
 * pins stay for the scroll keep-alive, so the cutover's bake lasts that long at least, and the next step
 * (releasePins) removes them.
 */
async function cutOverWrites(
  deps: ShiftDeps,
  rollout: Rollout,
  index: number,
  step: RunStep,
  current: Weights,
  fence: string | undefined,
): Promise<ShiftResult> {
  const rules = await unchangedRules(deps, rollout);
  const desired = percentToWeights(step.targetPercent);
  let cutoverAt: string;
  if (!isIncrease(current, desired)) {
    // A retry after the ModifyListener landed: a freeze its first attempt left goes now.
    cutoverAt = await writeCutover(deps, rollout, index, step, desired, fence);
    const left = rollout.cutoverFreeze;
    if (left && !left.liftedAt) await liftCutoverFreeze(deps, rollout.executionArn, left, {});
    await removeRules(rulesPort(deps, deps.listenerArn), rules, deps.log, 'reads');
  } else if (!deps.replayLag?.appliedBefore) {
    // Nothing can tell when the replayer has applied what the source took before a freeze (AWS today: the lag
    // alarm only says the lag is under its threshold), so a freeze would refuse writes for nothing: as before.
    await waitForReplayer(deps, rollout, index, fence);
    deps.log.warn(
      'write cutover without a freeze: nothing says the replayer is empty, so a write still queued in it can ' +
        "reach the target after a client's newer write to the same document",
      { executionArn: rollout.executionArn },
    );
    await refuseRaisingUnderAlarm(deps, step, 'the target (the write cutover)');
    cutoverAt = await writeCutover(deps, rollout, index, step, desired, fence);
    await removeRules(rulesPort(deps, deps.listenerArn), rules, deps.log, 'reads');
  } else {
    await refuseFreezingAgainSoon(deps, rollout, index, fence);
    const { verdict, made, since } = await freezeForCutover(deps, rollout, current, fence);
    const begun = (await deps.store.get(deps.listenerArn))?.rollout?.cutoverFreeze ?? {
      startedAt: deps.now().toISOString(),
    };
    let ended: ReplayLagVerdict = verdict;
    // A stale attempt (a Retry runs the step) lifts nothing of a freeze that attempt may be waiting under.
    const lift = () =>
      endCutoverFreeze(deps, rollout.executionArn, fence, made, begun, {
        replay: ended.caughtUp ? 'applied' : 'timed-out',
        replayDetail: ended.detail,
      });
    if (!verdict.caughtUp) {
      await lift();
      await waitAgainForReplayer(deps, rollout, index, fence, verdict.detail);
    }
    try {
      // The listener read again: the freeze took seconds since the step's first read, and ELBv2 has no conditional
      // write, so a hand change made meanwhile would be overwritten (I4).
      const frozenWeights = await deps.listener.readWeights();
      if (!isOwnWrite(rollout, frozenWeights))
        await throwDriftUnlessForced(
          deps,
          rollout.executionArn,
          driftError(rollout, frozenWeights, deps.listenerArn),
        );
      await refuseRaisingUnderAlarm(deps, step, 'the target (the write cutover)');
      cutoverAt = await writeCutover(deps, rollout, index, step, desired, fence);
      // The freeze's own rules stay (a retry's snapshot has them) until the lift below.
      const unfrozen = rules.filter((rule) => !isFreezeRule(rule));
      await removeRules(rulesPort(deps, deps.listenerArn), unfrozen, deps.log, 'reads');
      // Nothing reached the source after `since` when writes-to-source answered 503 (one more look, at once);
      // else (a rules port that cannot make it answer) what it sent until its removal is waited for, within the
      // same bound: the freeze's waits share it, so ShiftWeights keeps time for its calls after them.
      const after = since ?? settled(deps, deps.now());
      ended = await waitUntilApplied(deps, after, Date.parse(begun.startedAt));
    } finally {
      // Lifted whatever happened: a freeze never outlives the step that made it (I9).
      await lift();
    }
  }
  deps.onWeightsWritten?.(desired, step.targetPercent);
  deps.log.warn('writes cut over to the target: from now on a rollback loses the writes the target takes', {
    executionArn: rollout.executionArn,
    cutoverAt,
  });
  const keepAlive = rollout.readsFirst?.scrollKeepAliveSeconds ?? DEFAULT_READS_FIRST.scrollKeepAliveSeconds;
  return shiftResult(index, step, desired, Math.max(1, step.bakeSeconds, keepAlive));
}

/** The cutover's ModifyListener, recorded (fenced), and the listener read again after it; returns `cutoverAt`. */
async function writeCutover(
  deps: ShiftDeps,
  rollout: Rollout,
  index: number,
  step: RunStep,
  desired: Weights,
  fence: string | undefined,
): Promise<string> {
  let cutoverAt = '';
  await writeStep(deps, rollout, index, step, fence, {
    desired,
    pending: (startedAt) => ({
      pendingWeights: desired,
      cutoverStartedAt: rollout.cutoverStartedAt ?? startedAt,
    }),
    write: () => deps.listener.writeWeights(desired),
    done: () => {
      cutoverAt = rollout.cutoverAt ?? deps.now().toISOString();
      return { lastWritten: desired, pendingWeights: undefined, cutoverAt };
    },
  });
  // The read rules send what the default action now sends: removing them changes no request's cluster. That
  // holds only while the default action is still the cutover's: the record write above is fenced (a superseded
  // attempt stopped there), and the listener is read again after it, as a stall since the ModifyListener let an
  // operator change the weights by hand (I4: then Swing halts and removes nothing).
  const afterWrite = await deps.listener.readWeights();
  if (!sameWeights(afterWrite, desired)) {
    const drift = driftError({ ...rollout, lastWritten: desired }, afterWrite, deps.listenerArn);
    await throwDriftUnlessForced(deps, rollout.executionArn, drift);
  }
  return cutoverAt;
}

/**
 * Reads-first, after the cutover's bake (the scroll keep-alive): the pins go, sending the pinned reads from 0 %
 * to all on the target. A raise like any other: not while an alarm fires (I2), and baked under alarm watch. A
 * retry that finds them gone already checks nothing: it raises nothing.
 */
async function releasePins(
  deps: ShiftDeps,
  rollout: Rollout,
  index: number,
  step: RunStep,
  fence: string | undefined,
): Promise<ShiftResult> {
  const pins = (await unchangedRules(deps, rollout)).filter(isPinRule);
  if (pins.length > 0) await refuseRaisingUnderAlarm(deps, step, 'the pinned reads');
  const desired = percentToWeights(step.targetPercent);
  await writeStep(deps, rollout, index, step, fence, {
    desired,
    pending: () => ({}),
    write: async () => {
      await removeRules(rulesPort(deps, deps.listenerArn), pins, deps.log);
    },
    done: () => ({}),
  });
  deps.log.info('pins removed: the pinned reads bake on the target', {
    executionArn: rollout.executionArn,
    index,
  });
  return shiftResult(index, step, desired, Math.max(1, step.bakeSeconds));
}
