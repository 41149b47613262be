import { expect } from 'vitest';
import { QUIET_AFTER_RELEASE_SECONDS } from '#domain/quiet.ts';
import type { ListenerRecord, Rollout, Weights } from '#domain/types.ts';
import { formatWeights, isIncrease, percentToWeights, sameWeights } from '#domain/weights.ts';
import type { CloudWatchEvent, ElbEvent } from '#test/support/fake-aws.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { type FiredFault, type Run, TARGET_REQUESTS } from './fault-run.ts';
import { isForceAfterLostStop } from './fault-scenario.ts';
import {
  expectDamagedRecordHalts,
  expectForcedRollbackRollsBack,
  expectForeignRulesKeepTraffic,
  expectNoStickyClientsLeft,
  expectNoUnguardedReadRule,
  expectOpenWaitsReachable,
  expectPauseHolds,
  expectResumePassesNoGate,
} from './operator-and-listener-invariants.ts';
import { expectLosslessRollback, isFreezePriority, isStaleFreezeRule } from './reverse-capture-model.ts';

/**
 * The invariants of docs/guarantees.md, checked on the fakes' actual state after a run of the model-based fault test.
 * Each check reads what happened (the fakes' logs, the record, the execution's events) rather than predicting
 * the path: where two interleavings are both correct, the check accepts either and says why.
 */

/** A few lines that tell the story of a run, attached to every failed expectation. */
export function story(run: Run): string {
  const record = (fault: FiredFault) =>
    fault.record?.lockOwner === run.executionArn
      ? `${fault.record.rollout?.status}${fault.record.rollout?.taskKind ? `/${fault.record.rollout.taskKind}` : ''}`
      : 'unlocked';
  const timeline = [...run.world.elb.log, ...run.world.cloudWatch.log]
    .sort((a, b) => a.seq - b.seq)
    .map((event) => {
      if (event.kind === 'hand') return `HAND ${event.weights.source}/${event.weights.target}`;
      if (event.kind === 'reshape') return `RESHAPE ${event.actions.map((action) => action.Type).join('+')}`;
      if (event.kind === 'health') return `HEALTHY=${event.healthy}`;
      if (event.kind === 'rule-hand')
        return `HAND rule ${event.rule.slice(-4)} ${event.weights ? `${event.weights.source}/${event.weights.target}` : 'deleted'}`;
      if (event.kind === 'set') return `${event.value}`;
      if (event.kind === 'describe')
        return `alarms:${event.outcome === 'failed' ? 'ERR' : event.outcome.join('|')}`;
      const who = event.caller === 'swing' ? '' : `${event.caller}:`;
      if (event.operation === 'ModifyListener')
        return `${who}modify ${event.weights?.source}/${event.weights?.target}${event.outcome === 'ok' ? '' : ` ${event.outcome}`}`;
      if (event.rule !== undefined)
        return `${who}${event.operation} ${event.rule.slice(-4)}${event.weights ? ` ${event.weights.source}/${event.weights.target}` : ''}${event.outcome === 'ok' ? '' : ` ${event.outcome}`}`;
      if (event.operation === 'DescribeRules' || event.operation === 'DescribeTags')
        return `${who}${event.operation}`;
      return `${who}${event.operation === 'DescribeListeners' ? 'read' : `health=${event.healthy}`}`;
    });
  return [
    `starting ${formatWeights(run.starting)}; plan ${run.steps
      .map((step) => `${step.targetPercent}:${step.bakeSeconds}s${step.gate ? '!' : ''}`)
      .join(',')}; gate ${JSON.stringify(run.scenario.gate)} ${JSON.stringify(run.gates)}${
      run.scenario.readsFirst ? `; reads-first ${JSON.stringify(run.scenario.readsFirst)}` : ''
    }`,
    `faults fired: ${
      run.fired
        .map(
          (fault) =>
            `${fault.fault.kind}@${JSON.stringify(fault.fault.at)} [${record(fault)}${fault.settled ? ', after settle' : ''}]${fault.outcome ? ` -> ${fault.outcome}` : ''}`,
        )
        .join('; ') || 'none'
    }`,
    `result ${JSON.stringify(run.result).slice(0, 300)}; redeliveries ${run.safetyNetRedeliveries}`,
    `racers ${JSON.stringify(run.racers)}; reconciler ${run.reconciled.join(' > ')}${
      run.scenario.settleRace
        ? `; settle race ${JSON.stringify(run.scenario.settleRace)}: ${run.settlers.map((settler) => `${settler.by} -> ${settler.action}`).join(', ')}`
        : ''
    }`,
    `invocations struck: ${run.struck.map((hit) => `${hit.fault.kind} ${hit.stateName}#${hit.entry}.${hit.retryCount}`).join('; ') || 'none'}; signals: ${run.signals.map((signal) => `${signal.kind}@${signal.at - run.startedAt}ms -> ${signal.outcome}`).join('; ') || 'none'}`,
    `listener ends at ${formatWeights(run.world.elb.weights)}`,
    `timeline: ${timeline.join(', ')}`,
    `states: ${run.execution.events
      .filter((event) => event.type === 'StateEntered')
      .map((event) => (event as { state: { name: string } }).state.name)
      .join(' > ')}`,
  ].join('\n  ');
}

export async function finalRecord(run: Run): Promise<ListenerRecord | undefined> {
  return run.world.store.get(LISTENER.listenerArn);
}

function mainRollout(run: Run, record: ListenerRecord | undefined): Rollout | undefined {
  const mine = record?.history.filter((rollout) => rollout.executionArn === run.executionArn) ?? [];
  expect(mine.length, `one finished record per rollout\n  ${story(run)}`).toBeLessThanOrEqual(1);
  return mine[0];
}

type ManualChange = Extract<ElbEvent, { kind: 'hand' | 'reshape' }>;

/**
 * The read-then-write window ELBv2 cannot close (docs/guarantees.md): a restore attempt (Rollback, Rehearse) that
 * read the listener, lost its answer and stalled before its ModifyListener lands the starting weights over a hand
 * change made meanwhile, after its retry saw the hand change and halted. A restore: never a raise of the share.
 */
function staleRestoreAfter(run: Run, handSeq: number): boolean {
  const writes = run.world.elb.log.filter(
    (event): event is Extract<ElbEvent, { kind: 'call' }> =>
      event.kind === 'call' &&
      event.caller === 'swing' &&
      event.operation === 'ModifyListener' &&
      event.seq > handSeq,
  );
  return (
    writes.length > 0 &&
    writes.every((event) => event.weights !== undefined && sameWeights(event.weights, run.starting)) &&
    sameWeights(run.world.elb.weights, run.starting) &&
    run.struck.some(
      (hit) =>
        hit.fault.kind === 'lost-stall' && (hit.stateName === 'Rollback' || hit.stateName === 'Rehearse'),
    )
  );
}

/** Changes an operator made to the listener: weights set by hand, or the default actions replaced. */
export const manualChanges = (run: Run) =>
  run.world.elb.log.filter(
    (event): event is ManualChange => event.kind === 'hand' || event.kind === 'reshape',
  );

type RuleHandChange = Extract<ElbEvent, { kind: 'rule-hand' }>;

/** Swing's rules re-weighted or deleted by an operator (reads-first). */
const ruleHandChanges = (run: Run) =>
  run.world.elb.log.filter((event): event is RuleHandChange => event.kind === 'rule-hand');

/** Faults that change the listener or Swing's rules by hand, and what each leaves in the fake's log. */
const HAND_FAULTS: Record<string, ElbEvent['kind']> = {
  drift: 'hand',
  reshape: 'reshape',
  'rule-drift': 'rule-hand',
};

/**
 * The hand changes that really happened by `until` (virtual ms): a drawn fault that changed the listener or one
 * of Swing's rules by hand (its change is in the fake's log where it struck: a rule drift that found no rule
 * changed nothing). A halt for a hand change without one is Swing taking its own doing (its own removal, a
 * twin's, the reconciler's) for the operator's. `swing rollback --force` is no hand change: it is Swing's own
 * command, recorded under the lock before it writes (`forcedRollbackAt`), and the rollout then rolls back.
 */
export function handChangesBy(run: Run, until: number): FiredFault[] {
  return run.fired.filter((fired) => {
    if (fired.firedAt > until) return false;
    const { fault } = fired;
    const leaves = HAND_FAULTS[fault.kind];
    return leaves !== undefined && run.world.elb.log[fired.elbLogAt]?.kind === leaves;
  });
}

/** When the rollout's halt (or any end) was recorded, on the virtual clock; unknown: the end of the run. */
const endedAtOf = (rollout: Rollout | undefined) =>
  Date.parse(rollout?.endedAt ?? '') || Number.POSITIVE_INFINITY;

/**
 * A rollout that ended held on the target after its cutover (the `hold` policy): halted, by design. Told by its
 * exposure (policy hold): the record keeps the failure that caused the hold as its reason.
 */
const heldAfterCutover = (rollout: Rollout | undefined) =>
  rollout?.outcome === 'halted' && rollout.exposure?.policy === 'hold';

const cutOver = (rollout: Rollout | undefined) =>
  rollout?.cutoverStartedAt !== undefined || rollout?.cutoverAt !== undefined;

/** Writes moved: the cutover is recorded, or one of Swing's ModifyListener raising the target's share landed. */
const writesMoved = (run: Run, rollout: Rollout | undefined) =>
  rollout?.cutoverAt !== undefined ||
  run.world.elb.log.some(
    (event) =>
      event.kind === 'call' &&
      event.caller === 'swing' &&
      event.operation === 'ModifyListener' &&
      event.outcome === 'ok' &&
      event.weights !== undefined &&
      isIncrease(run.starting, event.weights),
  );

const stoppedWhileRunning = (run: Run) =>
  run.fired.some(
    (fault) =>
      (fault.fault.kind === 'stop' ||
        (fault.fault.kind === 'operator' &&
          (fault.outcome === 'restored, stopped' || isForceAfterLostStop(fault.fault.command)))) &&
      !fault.executionEnded &&
      !fault.stopFoundEnded &&
      !fault.settled,
  );

export const statesEntered = (run: Run) =>
  run.execution.events
    .filter((event) => event.type === 'StateEntered')
    .map((event) => (event as { state: { name: string } }).state.name);

/**
 * I1: the listener ends at the plan's final weights (succeeded) or at the starting weights (anything else),
 * the lock is released, the outcome is recorded and notified once. Drift is the one exception (see I4).
 */
export function expectEndState(run: Run, record: ListenerRecord | undefined): void {
  const why = `\n  ${story(run)}`;
  const { world, result } = run;
  expect(record?.lockOwner, `the lock is released${why}`).toBeUndefined();
  const finished = mainRollout(run, record);
  const last = run.steps.at(-1);
  const readsFirst = run.scenario.readsFirst;
  // A rehearsal ends where it started; any other plan at its last step (reads-first: 100, the cutover's).
  const finalWeights = readsFirst?.rehearsal ? run.starting : percentToWeights(last?.targetPercent ?? 0);
  const hand = manualChanges(run).at(-1);
  const ruleHands = ruleHandChanges(run);
  const first = run.steps[0];
  // Another rollout held the listener at the start: a start that met its lock is refused for that.
  // The share checks wait for the lock then, so the alarm check may refuse first.
  const lockedOut = [
    ...(run.scenario.priorHolder ? ['RolloutLocked', 'AlarmFiring'] : []),
    // A sticky weighted forward is refused first (no restore could move its clients).
    ...(run.scenario.stickySeconds ? ['ListenerShapeInvalid'] : []),
  ];
  const swingWrites = (operations: Set<string>) =>
    world.elb.log.filter(
      (event) => event.kind === 'call' && event.caller === 'swing' && operations.has(event.operation),
    );
  if (readsFirst && run.starting.target > 0 && !hand) {
    // Reads-first starts only when the default action sends nothing to the target: refused, nothing written.
    expect(
      swingWrites(RULE_OR_LISTENER_WRITES),
      `a reads-first start with a target share in the default action writes nothing${why}`,
    ).toEqual([]);
    if (result.status !== 'ABORTED') {
      expect(['ListenerShapeInvalid', 'ValidationFailed', ...lockedOut], `it is refused${why}`).toContain(
        result.status === 'FAILED' ? result.error : result.status,
      );
    }
  } else if (first && isIncrease(percentToWeights(first.targetPercent), run.starting) && !hand) {
    // I2 at the root: a rollback of this plan would raise the target's share, so it never starts (unless it
    // was stopped even before preflight refused it).
    expect(
      swingWrites(new Set(['ModifyListener'])),
      `a plan that starts below the target's share writes nothing${why}`,
    ).toEqual([]);
    if (result.status !== 'ABORTED') {
      expect(
        ['ValidationFailed', ...lockedOut],
        `a plan that starts below the target's share is refused${why}`,
      ).toContain(result.status === 'FAILED' ? result.error : result.status);
    }
  }
  // A damaged record met by a restore halts where the listener stands (expectDamagedRecordHalts).
  const damaged =
    result.status !== 'SUCCEEDED' &&
    run.fired.some(
      (fault) => fault.fault.kind === 'record-damage' && fault.outcome === 'damaged' && !fault.settled,
    );

  const staleRestoreOverHand = hand !== undefined && staleRestoreAfter(run, hand.seq);
  if (hand && !staleRestoreOverHand) {
    // I4: whoever changed the listener by hand had the last word.
    expect(world.elb.rawActions, `the listener changed by hand is left alone${why}`).toEqual(hand.actions);
  } else if (damaged) {
    // A damaged record halts: the listener is left as it was then (expectDamagedRecordHalts).
  } else if (result.status === 'SUCCEEDED') {
    expect(world.elb.weights, `a succeeded rollout ends at the plan's final weights${why}`).toEqual(
      finalWeights,
    );
  } else if (heldAfterCutover(finished) && !toleratedHoldWithoutCutover(run, finished)) {
    expect(world.elb.weights, `a hold after the cutover keeps writes on the target${why}`).toEqual(
      percentToWeights(100),
    );
  } else if (toleratedOwnRestoreDrift(run, finished) || toleratedHoldWithoutCutover(run, finished)) {
    // KNOWN_DEFECTS: halted where it stood, before or after the cutover's write.
    expect([run.starting, percentToWeights(100)], why).toContainEqual(world.elb.weights);
  } else if (finished?.outcome === 'halted' && ruleHands.length > 0 && cutOver(finished)) {
    // Swing's rules changed by hand after the cutover began: Swing halts where it stands.
    expect(
      [run.starting, percentToWeights(100)],
      `a rollout halted for its rules after the cutover leaves the default action alone${why}`,
    ).toContainEqual(world.elb.weights);
  } else if (result.status === 'ABORTED' && finished?.outcome === 'completed') {
    // StopExecution raced with Complete: the finalize task was already running, it ran to its end (as a
    // Lambda does) and released the lock as completed, so the safety net found nothing to restore. Both end
    // states are correct for a stop that arrives as the rollout completes; the record says which one happened.
    expect(world.elb.weights, `a rollout completed before the stop keeps its final weights${why}`).toEqual(
      finalWeights,
    );
  } else {
    expect(world.elb.weights, `an execution that did not succeed ends at the starting weights${why}`).toEqual(
      run.starting,
    );
  }

  if (result.status === 'SUCCEEDED') {
    expect(
      finished?.outcome,
      `a succeeded rollout is recorded as completed (a rehearsal: rehearsed)${why}`,
    ).toBe(readsFirst?.rehearsal ? 'rehearsed' : 'completed');
  }
  if (finished?.outcome === 'rolled-back') {
    expect(finished.restored, `a rolled-back rollout is recorded as restored${why}`).toBe(true);
  }
  if (
    finished?.outcome === 'halted' &&
    !heldAfterCutover(finished) &&
    !toleratedOwnRestoreDrift(run, finished) &&
    !(damaged && finished.reason?.error === 'RecordMalformed')
  ) {
    expect(
      handChangesBy(run, endedAtOf(finished)).map((fired) => fired.fault.kind),
      `a rollout halts only when someone changed the listener or Swing's rules by hand before the halt (a fault ` +
        `or an operator command that did; or it holds after its cutover)${why}`,
    ).not.toEqual([]);
  }
  // Preflight's checks made again once the lock is held may refuse: the lock is released as `refused`.
  const refusedAfterLock = finished?.status === 'refused';
  if (!finished || refusedAfterLock) {
    // It never took the lock, or gave it back at once: a refusal before any write.
    expect(
      world.elb.log.filter(
        (event) =>
          event.kind === 'call' && event.caller === 'swing' && RULE_OR_LISTENER_WRITES.has(event.operation),
      ),
      `a rollout refused before the lock wrote nothing${why}`,
    ).toEqual([]);
    if (result.status === 'FAILED') {
      expect(['ValidationFailed', 'ListenerShapeInvalid', 'AlarmFiring', 'RolloutLocked'], why).toContain(
        result.error,
      );
    }
  }
  const outcomes = world.notifications.filter((notification) => notification.outcome !== 'refused');
  // Known gap: `swing rollback --force --release-lock` releasing a holder that no longer runs notifies nobody (the
  // CLI has no topic to publish to); the command's own output is the only word of that end.
  const releasedByHand = run.fired.some(
    (fired) => fired.fault.kind === 'operator' && fired.outcome === 'restored, released',
  );
  expect(outcomes.length, `each rollout that took the lock is notified exactly once${why}`).toBe(
    finished && !refusedAfterLock && !(releasedByHand && finished.reason?.error === 'ForcedRollback') ? 1 : 0,
  );
  const refusals = world.notifications.filter((notification) => notification.outcome === 'refused');
  const refused = (!finished || refusedAfterLock) && result.status === 'FAILED';
  // ReportRefusal holds no lock to tell a retry it already published: after a lost answer, Step Functions'
  // Retry runs it again and the refusal is reported once more (SNS delivers at least once anyway).
  const reportRetries = run.struck.filter(
    (hit) => hit.fault.kind === 'lost-answer' && hit.stateName === 'ReportRefusal',
  ).length;
  if (refused) {
    expect(
      refusals.length,
      `a start refused before the lock is reported, as refused${why}`,
    ).toBeGreaterThanOrEqual(1);
    expect(refusals.length, `once, or once more per lost answer of ReportRefusal${why}`).toBeLessThanOrEqual(
      1 + reportRetries,
    );
  } else {
    expect(refusals.length, `only a start refused before the lock is reported as refused${why}`).toBe(0);
  }
  if (refused) expect(refusals[0]?.reason?.error, why).toBe(result.error);
}

/**
 * I2 (with the fail-closed policy): every weight increase was preceded, since the previous write, by a
 * successful alarm read showing no alarm in ALARM and by a health read showing a healthy target. An alarm (or
 * health) that changes between that read and ModifyListener is the one unavoidable window (ELBv2 and
 * CloudWatch share no transaction); an alarm increase in that window must be followed by another alarm check
 * (the bake's opening check) before the rollout may succeed. A restore of the starting weights never raises
 * the target's share: preflight refuses a plan that starts below it. With the 'firing' policy,
 * INSUFFICIENT_DATA counts as ALARM throughout.
 */
export function expectNoIncreaseUnderAlarm(run: Run): void {
  const why = `\n  ${story(run)}`;
  const { world } = run;
  const starting = run.starting;
  const timeline: (ElbEvent | CloudWatchEvent)[] = [...world.elb.log, ...world.cloudWatch.log].sort(
    (a, b) => a.seq - b.seq,
  );
  let weights = starting;
  let alarmRead: 'clear' | 'firing' | undefined;
  // Two attempts of one state (an answer lost or a stall, then its Retry) read the alarms side by side, and the
  // fakes do not tell which attempt read: with such a fault, a clear read since the last write may be the writer's.
  const concurrent = run.struck.length > 0 || run.stalled.length > 0;
  let clearSinceWrite = false;
  let healthRead: number | undefined;
  // The checks behind a throttled write, for its retry (same weights).
  let refused: { weights: Weights; alarmRead?: 'clear' | 'firing'; healthRead?: number } | undefined;
  let alarmState = 'OK';
  const firingStates =
    run.scenario.insufficientData === 'firing' ? ['ALARM', 'INSUFFICIENT_DATA'] : ['ALARM'];
  let healthy = 2;
  let alarmChangedSinceRead = false;
  let healthChangedSinceRead = false;
  let increasesInWindow = 0;
  let awaitingRecheck = false;
  let sawFiring = false;
  for (const event of timeline) {
    if (event.kind === 'set') {
      alarmState = event.value;
      alarmChangedSinceRead = true;
    } else if (event.kind === 'describe') {
      const firing =
        event.outcome === 'failed' || event.outcome.some((state) => firingStates.includes(state));
      alarmRead = firing ? 'firing' : 'clear';
      clearSinceWrite ||= !firing;
      sawFiring ||= firing;
      alarmChangedSinceRead = false;
      awaitingRecheck = false;
    } else if (event.kind === 'health') {
      healthy = event.healthy;
      healthChangedSinceRead = true;
    } else if (event.kind === 'hand' || event.kind === 'reshape') {
      weights = event.weights;
    } else if (event.kind === 'rule-hand') {
      // Rule changes by hand are judged by the reads-first checks.
    } else if (event.operation === 'DescribeTargetHealth' && event.caller === 'swing') {
      healthRead = event.healthy;
      healthChangedSinceRead = false;
    } else if (event.operation === 'ModifyListener' && event.weights && event.caller !== 'swing') {
      // Another writer (the rollout that held the listener before this one): judged as the weights it left.
      if (event.outcome === 'ok') weights = event.weights;
    } else if (event.operation === 'ModifyListener' && event.weights) {
      const restore = event.weights.source === starting.source && event.weights.target === starting.target;
      const retried = refused && sameWeights(refused.weights, event.weights) ? refused : undefined;
      alarmRead ??= retried?.alarmRead;
      healthRead ??= retried?.healthRead;
      if (event.outcome === 'ok' && isIncrease(weights, event.weights)) {
        // Preflight refuses a plan that starts below the target's share, so a rollback only ever lowers it.
        expect(restore, `a restore of the starting weights never raises the target's share${why}`).toBe(
          false,
        );
        const writerRead = concurrent && clearSinceWrite ? 'clear' : alarmRead;
        expect(writerRead, `an increase needs a fresh, readable, all-clear alarm check${why}`).toBe('clear');
        expect(
          healthRead ?? 0,
          `an increase needs a fresh check that the target is healthy${why}`,
        ).toBeGreaterThan(0);
        if (firingStates.includes(alarmState)) {
          expect(alarmChangedSinceRead, `no increase while an alarm Swing had seen is in ALARM${why}`).toBe(
            true,
          );
          increasesInWindow += 1;
          awaitingRecheck = true;
        }
        // A target that turns unhealthy in the window is re-checked only before the next increase: the
        // design watches a bake through its alarms.
        if (healthy === 0) {
          expect(healthChangedSinceRead, `no increase to a target Swing had seen unhealthy${why}`).toBe(true);
        }
      }
      if (event.outcome === 'ok') weights = event.weights;
      // A write ELBv2 throttled changed nothing: the SDK's retry of the same weights rests on the checks made
      // before it (an alarm that fired meanwhile is judged by the read-write window above).
      refused =
        event.outcome === 'throttled'
          ? {
              weights: event.weights,
              alarmRead: alarmRead ?? refused?.alarmRead,
              healthRead: healthRead ?? refused?.healthRead,
            }
          : undefined;
      alarmRead = undefined;
      healthRead = undefined;
      clearSinceWrite = false;
    }
  }
  expect(
    world.increasesUnderAlarm.length,
    `increases under alarm fall in the read-write window${why}`,
  ).toBeLessThanOrEqual(increasesInWindow);
  if (run.result.status === 'SUCCEEDED') {
    expect(awaitingRecheck, `an increase made as an alarm fired is checked again before success${why}`).toBe(
      false,
    );
    // Fail closed: an alarm that Swing saw in ALARM, or could not read, ends the rollout. A read made by an
    // attempt Step Functions had already given up on (its answer lost, or it outlived its timeout) decides
    // nothing: the live attempt reads again. The fakes do not tell which attempt read, so with such a fault
    // only the checks before each increase (above) and at each bake hold.
    // A stalled attempt may be one Step Functions gave up on too (a wait's opening check past its timeout).
    if (run.struck.length === 0 && run.stalled.length === 0) {
      expect(sawFiring, `a rollout that saw a firing or unreadable alarm does not succeed${why}`).toBe(false);
    }
  }
}

/**
 * I3: a second rollout started while the first holds the lock is refused and writes nothing. Preflight checks
 * the listener's shape before the lock (so that a refusal writes nothing), so a racer that arrives after the
 * listener was reshaped by hand is refused for that instead.
 */
export function expectRacersRefused(run: Run): void {
  const why = `\n  ${story(run)}`;
  const log = run.world.elb.log;
  // A racer on a reads-first rollout's listener meets Swing's rules before the lock: preflight refuses them as
  // rules it does not own (it is a different execution), which writes nothing either.
  const rulesFirst = run.readsFirst !== undefined;
  for (const [index, racer] of run.racers.entries()) {
    // Each racer is judged by what it found: a listener reshaped before its first call is refused for that.
    const firstRacerCall = log.find((event) => event.kind === 'call' && event.caller === `racer-${index}`);
    const reshapedFirst = log.some(
      (event) => event.kind === 'reshape' && event.seq < (firstRacerCall?.seq ?? 0),
    );
    const refusals =
      reshapedFirst || rulesFirst ? ['RolloutLocked', 'ListenerShapeInvalid'] : ['RolloutLocked'];
    expect(racer.result, `the racer is refused${why}`).toMatchObject({
      status: 'FAILED',
      safetyNet: 'nothing-held',
    });
    const error = racer.result?.status === 'FAILED' ? racer.result.error : undefined;
    expect(refusals, `the racer is refused with ${refusals.join(' or ')}${why}`).toContain(error);
    expect(racer.modifyCalls, `the racer sent no ModifyListener${why}`).toBe(0);
    expect(racer.storeWrites, `the racer wrote nothing to the store${why}`).toBe(0);
    expect(racer.notified, `the racer's refusal is reported, and nothing else${why}`).toEqual(['refused']);
  }
}

/**
 * I4: after a hand change (weights set by hand, or the listener reshaped), Swing sends no ModifyListener at
 * all, and a rollout that was live when the operator acted halts, loudly (outcome `halted`), rather than
 * completing or rolling back over it.
 */
export function expectDriftLeftAlone(run: Run, record: ListenerRecord | undefined): void {
  const why = `\n  ${story(run)}`;
  const first = manualChanges(run)[0];
  if (!first) return;
  // `swing rollback --force` is Swing's own command: it records what it did, and whoever settles the rollout after
  // it (the safety net, the reconciler, its rollback) removes the rules it kept, and restores the starting weights
  // over a step that landed after it. No other write follows it.
  const onlyForced =
    run.fired.some((fault) => fault.fault.kind === 'operator' && fault.fault.command.startsWith('force')) &&
    !run.fired.some((fault) => fault.fault.kind === 'drift' || fault.fault.kind === 'reshape');
  // A freeze is lifted whatever else Swing leaves alone (I9, issue 22): left, it would refuse writes for good.
  const freezeRules = new Set(
    (run.readsFirst?.created ?? [])
      .filter((rule) => isFreezePriority(rule.Priority))
      .map((rule) => rule.RuleArn),
  );
  // A forced rollback after the hand changes takes the rollout over from there (its own writes are played as hand
  // changes): from it on, settling the rollout may remove the rules it kept and restore the starting weights.
  const forcedAt = Math.max(
    -1,
    ...run.fired
      .filter(
        (fault) =>
          fault.fault.kind === 'operator' &&
          fault.fault.command.startsWith('force') &&
          (fault.outcome ?? '').startsWith('restored'),
      )
      .map((fault) => fault.elbLogAt),
  );
  // Until the next hand change after it: from there on, the operator is acting again.
  const nextHandAfterForce = Math.min(
    Number.POSITIVE_INFINITY,
    ...run.fired
      .filter(
        (fault) =>
          (fault.fault.kind === 'drift' || fault.fault.kind === 'reshape') && fault.elbLogAt > forcedAt,
      )
      .map((fault) => fault.elbLogAt),
  );
  const settlingForced = (index: number) =>
    onlyForced || (forcedAt >= 0 && index >= forcedAt && index < nextHandAfterForce);
  const writesAfter = run.world.elb.log.filter(
    (event, index) =>
      event.kind === 'call' &&
      event.caller === 'swing' &&
      RULE_OR_LISTENER_WRITES.has(event.operation) &&
      !(settlingForced(index) && event.operation === 'DeleteRule') &&
      // A restore racing the forced one (Rollback read the listener before it) writes the same starting weights.
      !(
        settlingForced(index) &&
        event.operation === 'ModifyListener' &&
        event.weights !== undefined &&
        sameWeights(event.weights, run.starting)
      ) &&
      !(event.operation === 'DeleteRule' && freezeRules.has(event.rule)) &&
      !unfreezesWrites(run, event) &&
      !isStaleFreezeRule(run.reverse, index, event) &&
      !(event.operation === 'ModifyListener' && staleRestoreAfter(run, first.seq)) &&
      event.seq > first.seq,
  );
  expect(
    writesAfter,
    `no ModifyListener (nor rule write) after the listener was changed by hand${why}`,
  ).toEqual([]);
  const live = run.fired.some(
    (fault) =>
      (fault.fault.kind === 'drift' || fault.fault.kind === 'reshape') &&
      !fault.settled &&
      fault.record?.lockOwner === run.executionArn &&
      fault.record.rollout?.restored !== true,
  );
  // `swing rollback --force` took the rollout over after the hand change (its restore recorded under the lock, or
  // with --release-lock the holder stopped): it rolls back, not a halt.
  const takenOver = run.fired.some(
    (fault) =>
      fault.fault.kind === 'operator' &&
      fault.fault.command.startsWith('force') &&
      (fault.outcome ?? '').startsWith('restored') &&
      fault.elbLogAt >= run.world.elb.log.indexOf(first),
  );
  if (!live || takenOver) return;
  expect(run.result.status, `a rollout whose listener was changed by hand does not succeed${why}`).not.toBe(
    'SUCCEEDED',
  );
  expect(mainRollout(run, record)?.outcome, `it is recorded as halted${why}`).toBe('halted');
}

/**
 * I5: an alarm event that reaches an open bake or gate fails its token, and the execution goes straight to
 * Rollback: it fails with AlarmFired, the state machine (not the safety net) restores the weights, and, for
 * a long bake, it settles long before the bake would have timed out.
 */
export function expectEventDrivenRollback(run: Run): void {
  const why = `\n  ${story(run)}`;
  // Every delivered event for a state the policy counts as firing is acted on, never ignored.
  const firingStates =
    run.scenario.insufficientData === 'firing' ? ['ALARM', 'INSUFFICIENT_DATA'] : ['ALARM'];
  for (const fault of run.fired) {
    if (fault.fault.kind !== 'alarm' || fault.fault.delivery.by === 'none' || fault.outcome === undefined)
      continue;
    const counted = firingStates.includes(fault.fault.value);
    expect(
      fault.outcome === 'ignored-state',
      `an alarm event is ignored only if the policy says so${why}`,
    ).toBe(!counted);
  }
  const delivered = run.fired.filter(
    (fault) => fault.fault.kind === 'alarm' && fault.outcome === 'failed-task',
  );
  if (delivered.length === 0 || stoppedWhileRunning(run)) return;
  // Another failure that struck the same task at the same moment may name the error instead: an abort seen by
  // the bake's own check, or drift found by the rollback (which then halts).
  const allowed = ['AlarmFired'];
  if (
    run.fired.some((fault) => fault.fault.kind === 'abort') ||
    run.gates.some((gate) => gate.resolution.by === 'abort')
  )
    allowed.push('Aborted');
  if (manualChanges(run).some((change) => change.kind === 'hand') || ruleHandChanges(run).length > 0)
    allowed.push('WeightsDrifted');
  // Reads-first: after the cutover the hold policy halts instead; a deleted rule of Swing's is gone.
  if (run.scenario.readsFirst?.afterCutover === 'hold') allowed.push('HeldAfterCutover');
  if (ruleHandChanges(run).some((change) => change.weights === undefined))
    allowed.push('ListenerShapeInvalid');
  if (toleratedOwnRestoreDrift(run, undefined)) allowed.push('WeightsDrifted');
  if (manualChanges(run).some((change) => change.kind === 'reshape')) allowed.push('ListenerShapeInvalid');
  // ELBv2 failing for longer than the rollback's retries: the rollback gives up and the safety net restores
  // the listener (checked as I7).
  if (run.fired.some((fault) => fault.fault.kind === 'outage')) allowed.push('RollbackFailed');
  // A damaged record halts the rollback by name.
  if (run.fired.some((fault) => fault.fault.kind === 'record-damage')) allowed.push('RecordMalformed');
  expect(run.result.status, `an alarm event fails the execution${why}`).toBe('FAILED');
  const error = run.result.status === 'FAILED' ? run.result.error : '';
  expect(allowed, `with AlarmFired${why}`).toContain(error);
  expect(statesEntered(run), `through the Rollback state${why}`).toContain('Rollback');
  if (error !== 'RollbackFailed' && !run.result.statusEventLost) {
    expect(run.result.safetyNet, `restored by the state machine, not the safety net${why}`).toBe(
      'nothing-held',
    );
  }
}

/**
 * I5's bound, on the proofs' virtual clock: an alarm event (counted as firing) or an abort that reaches Swing
 * while a bake or gate state is open ends that state within this long, whatever stale invocations of earlier
 * attempts still run. It covers the opening invocation's drawn latency (at most 200 ms), when the event came
 * before the token was stored and the opening check catches it; bakes that such faults target last 600 s.
 */
export const EVENT_TO_END_BOUND_MS = 1000;

export interface WaitInterval {
  readonly state: 'Bake' | 'Gate' | 'WaitForReplay';
  readonly entry: number;
  readonly enteredAt: number;
  readonly endedAt: number;
}

/** Every bake and gate state the execution entered, with when it ended (on the virtual clock). */
export function waitIntervals(run: Run): WaitInterval[] {
  const events = run.execution.events as { type: string; timestamp: number; state?: { name: string } }[];
  const endOfExecution = events.find(
    (event) => event.type.startsWith('Execution') && event.type !== 'ExecutionStarted',
  );
  const intervals: WaitInterval[] = [];
  const entries = new Map<string, number>();
  events.forEach((event, i) => {
    const name = event.state?.name;
    if (event.type !== 'StateEntered' || (name !== 'Bake' && name !== 'Gate' && name !== 'WaitForReplay'))
      return;
    const entry = entries.get(name) ?? 0;
    entries.set(name, entry + 1);
    const exit = events
      .slice(i + 1)
      .find((later) => later.type === 'StateExited' && later.state?.name === name);
    intervals.push({
      state: name,
      entry,
      enteredAt: event.timestamp,
      endedAt: exit?.timestamp ?? endOfExecution?.timestamp ?? Number.POSITIVE_INFINITY,
    });
  });
  return intervals;
}

/**
 * I5, bounded: an alarm event counted as firing, or an abort, that arrives while a bake or gate is open ends it
 * within EVENT_TO_END_BOUND_MS. Not bounded: a wait whose own attempt a fault slowed or cut off (its token may
 * not be stored before its timeout; the opening check, or AfterBake at the timeout, catches the alarm then),
 * and an alarm that went back to a state the policy does not count before the wait opened its token.
 */
export function expectBoundedEventToEnd(run: Run): void {
  const why = `\n  ${story(run)}`;
  const intervals = waitIntervals(run);
  const firingStates =
    run.scenario.insufficientData === 'firing' ? ['ALARM', 'INSUFFICIENT_DATA'] : ['ALARM'];
  // An event that found no live token relies on the opening check reading the alarm still firing.
  const wentBack = run.fired.some(
    (fault) => fault.fault.kind === 'alarm' && !firingStates.includes(fault.fault.value),
  );
  for (const signal of run.signals) {
    if (signal.kind === 'alarm-event') {
      if (signal.outcome === 'ignored-state' || signal.outcome === 'not-watched') continue;
      if (signal.outcome !== 'failed-task' && wentBack) continue;
    }
    // An abort refused (nobody held the lock) or too late (Complete had decided) reached no wait.
    if (signal.kind === 'abort' && signal.outcome !== 'task-failed' && signal.outcome !== 'flag-only')
      continue;
    // An abort that reached a prior holder of the lock (before this rollout took it) ends none of its waits.
    if (signal.kind === 'abort' && signal.rollout !== undefined && signal.rollout !== run.executionArn)
      continue;
    for (const wait of intervals) {
      if (!(wait.enteredAt <= signal.at && signal.at < wait.endedAt)) continue;
      const ownAttemptStruck =
        run.struck.some((hit) => hit.stateName === wait.state && hit.entry === wait.entry) ||
        run.stalled.some(
          (call) => call.stateName === wait.state && call.at >= wait.enteredAt && call.at <= wait.endedAt,
        );
      if (ownAttemptStruck) continue;
      expect(
        wait.endedAt - signal.at,
        `an ${signal.kind} (${signal.outcome}) at ${signal.at - run.startedAt} ms ends the open ${wait.state} (entered at ${wait.enteredAt - run.startedAt} ms) within ${EVENT_TO_END_BOUND_MS} ms${why}`,
      ).toBeLessThanOrEqual(EVENT_TO_END_BOUND_MS);
    }
  }
}

/**
 * Every delivery of the safety net failed (Lambda retries a failed one twice), ELBv2 refusing its restore (a drawn
 * refusal) after a drain that outlasted an invocation: the reconciler is the backstop that settles the rollout.
 */
function safetyNetGaveUp(run: Run): boolean {
  return (
    run.result.safetyNet === undefined &&
    run.safetyNetRedeliveries >= 2 &&
    run.fired.some((fault) => fault.fault.kind === 'modify-error' || fault.fault.kind === 'outage')
  );
}

/**
 * I7: an execution stopped from outside, or failed outside the catch paths (RollbackFailed), ends with the
 * safety net having put the starting weights back (end state checked by I1) and released the lock.
 */
export function expectRestoredByTheSafetyNet(run: Run, record?: ListenerRecord): void {
  const why = `\n  ${story(run)}`;
  const { result } = run;
  // With the status event lost the scheduled reconciler does the safety net's work: its first answer that
  // settles (neither a wait nor a failure) says what. Later runs only sweep rules on a lock already free.
  // A twin safety net or a reconciler run racing it (SettleRace) may have settled it: then this one found
  // nothing held, and the racer's answer is the one that says what was done.
  const racing = run.settlers.map((settler) => settler.action);
  const byReconciler = result.statusEventLost === true || safetyNetGaveUp(run);
  const settledBy = byReconciler
    ? settlingAnswer(run)
    : result.safetyNet === 'nothing-held'
      ? (racing.find(
          // A racer that failed (a rule write refused for good) settled nothing: the one that did answers.
          (action) => action !== undefined && !QUIET_ANSWERS.has(action) && !action.startsWith('failed'),
        ) ?? result.safetyNet)
      : result.safetyNet;
  const actor = byReconciler ? 'the reconciler' : 'the safety net';
  const finished = mainRollout(run, record);
  // The after-cutover policy `hold` governs what no operator decided (a failure), never a stop or an abort.
  const policyHolds =
    run.scenario.readsFirst?.afterCutover === 'hold' &&
    result.status !== 'ABORTED' &&
    finished?.abortRequested !== true &&
    writesMoved(run, finished);
  const holds = policyHolds ? ['held-after-cutover'] : [];
  if (stoppedWhileRunning(run)) {
    expect(result.status, `a stopped execution ends ABORTED${why}`).toBe('ABORTED');
  }
  if (result.status === 'ABORTED' || statesEntered(run).includes('RollbackFailed')) {
    expect(
      [
        'restored',
        'already-restored',
        'nothing-held',
        'halted-drift',
        'halted-record-malformed',
        'free',
        'swept-rules',
        ...holds,
      ],
      `${actor} acted${why}`,
    ).toContain(settledBy);
  }
  if (statesEntered(run).includes('RollbackFailed')) {
    expect(result, `the rollback gave up${why}`).toMatchObject({ status: 'FAILED', error: 'RollbackFailed' });
    const expected =
      manualChanges(run).length > 0 ? ['halted-drift'] : ['restored', 'already-restored', ...holds];
    expect(expected, `and ${actor} restored the listener, or held it where the policy holds${why}`).toContain(
      settledBy,
    );
  }
  // A hold by the safety net or the reconciler is the policy's, and leaves the record held with its exposure.
  // Halted for a hand change: only after one happened (not the settler's partner's own removal).
  if ([settledBy, ...racing].includes('halted-drift')) {
    expect(
      handChangesBy(run, endedAtOf(finished)).map((fired) => fired.fault.kind),
      `${actor} halts for a hand change only after one happened${why}`,
    ).not.toEqual([]);
  }
  if (settledBy === 'held-after-cutover') {
    expect(policyHolds, `${actor} held only where the after-cutover policy holds${why}`).toBe(true);
    expect(heldAfterCutover(finished), `the record ends held after the cutover${why}`).toBe(true);
  }
  // The reconciler never touches a lock that is free or whose holder still runs. Reads-first: it may sweep
  // rules no rollout's own path removed (pins a hold keeps for the scroll keep-alive, checked as I9).
  if (!byReconciler) {
    if (run.readsFirst) {
      // A rule write refused for good may meet the reconciler's sweep: the next scheduled run sweeps again.
      const ruleWritesFail = run.fired.some((fault) => fault.fault.kind === 'rule-fail');
      for (const action of run.reconciled) {
        if (ruleWritesFail && action.startsWith('failed')) continue;
        expect(
          ['free', 'swept-rules'],
          `the reconciler finds the lock free once the run is over${why}`,
        ).toContain(action);
      }
    } else {
      expect(run.reconciled, `the reconciler finds the lock free once the run is over${why}`).toEqual([
        'free',
      ]);
    }
  }
}

/** Answers of a settler that did nothing: another settled it, or its holder is not ended (yet). */
const QUIET_ANSWERS = new Set([
  'nothing-held',
  'free',
  'swept-rules',
  'holder-running',
  'holder-just-ended',
  // DescribeExecution failed: the run leaves the lock alone, and a later run decides.
  'status-unknown',
  'redriven',
]);

/** The reconciler's first answer that settled the lock: neither a wait for its holder nor a failed run. */
function settlingAnswer(run: Run): string | undefined {
  const waiting = ['holder-running', 'holder-just-ended', 'status-unknown'];
  return run.reconciled.find((action) => !waiting.includes(action) && !action.startsWith('failed'));
}

/**
 * With nothing but harmless faults (INSUFFICIENT_DATA under the default policy, which does not count it; a
 * few throttles, which the ASL retries; a refused racer) and every gate promoted, the rollout completes.
 */
export function expectHarmlessFaultsTolerated(run: Run): void {
  const harmless = run.fired.every(
    (fault) =>
      (fault.fault.kind === 'alarm' &&
        fault.fault.value === 'INSUFFICIENT_DATA' &&
        run.scenario.insufficientData === 'not-firing') ||
      fault.fault.kind === 'throttle' ||
      fault.fault.kind === 'rule-throttle' ||
      fault.fault.kind === 'racer' ||
      fault.fault.kind === 'slow-invocation' ||
      fault.fault.kind === 'lost-answer' ||
      fault.fault.kind === 'stall' ||
      fault.fault.kind === 'lost-stall',
  );
  const throttles = run.fired.reduce(
    (sum, fault) =>
      sum + (fault.fault.kind === 'throttle' || fault.fault.kind === 'rule-throttle' ? fault.fault.times : 0),
    0,
  );
  const gatesPass = run.gates.every(
    (gate) =>
      gate.resolution.by === 'promote' ||
      (gate.resolution.by === 'timeout' && run.scenario.gate.action === 'promote'),
  );
  const first = run.steps[0];
  const startsBelowShare = run.scenario.readsFirst
    ? run.starting.target > 0
    : first !== undefined && isIncrease(percentToWeights(first.targetPercent), run.starting);
  // ShiftWeights makes 5 attempts: 4 throttles in a row are absorbed.
  const cutoverGatePasses =
    !run.scenario.readsFirst ||
    run.scenario.readsFirst.cutoverResolution.by === 'promote' ||
    run.scenario.gate.action === 'promote';
  // Foreign rules Swing's could not work beside, or another rollout's lock or weights: refused, writing nothing.
  const refusedForTheListener =
    (run.scenario.foreignRules !== undefined ||
      run.scenario.priorHolder !== undefined ||
      run.scenario.stickySeconds !== undefined) &&
    run.result.status === 'FAILED' &&
    ['ListenerShapeInvalid', 'ValidationFailed', 'RolloutLocked'].includes(run.result.error) &&
    !run.world.elb.log.some(
      (event) =>
        event.kind === 'call' && event.caller === 'swing' && RULE_OR_LISTENER_WRITES.has(event.operation),
    );
  if (
    harmless &&
    !refusedForTheListener &&
    throttles <= 4 &&
    gatesPass &&
    cutoverGatePasses &&
    !startsBelowShare &&
    !toleratedOwnRestoreDrift(run, undefined)
  ) {
    expect(run.result, `a rollout with only harmless faults completes\n  ${story(run)}`).toMatchObject({
      status: 'SUCCEEDED',
    });
  }
}

const RULE_OR_LISTENER_WRITES = new Set(['CreateRule', 'ModifyRule', 'DeleteRule', 'ModifyListener']);
const RULE_WRITES = new Set(['CreateRule', 'ModifyRule', 'DeleteRule']);

/**
 * Defects of the engine this model found, tolerated (each narrowly) so that main stays green until the lead
 * decides on their fixes (see the fault-reads report, which has a replay line for each). Set one to false
 * with its fix: the model then proves the fix.
 */
export const KNOWN_DEFECTS = {
  /**
   * removeRules first puts each read rule back to all-source, then deletes them. A failure between those
   * writes (a rule write refused or throttled, a lost answer) leaves a read rule at the source's weights; the
   * retry (Rollback's, or the cutover's ShiftWeights) takes it for a hand change and halts as drifted, leaving
   * every rule of Swing's behind (and, at the cutover, reads on the source while writes are on the target).
   */
  ownRuleRestoreTakenForDrift: false,
  /**
   * The hold policy applies once `cutoverStartedAt` is recorded, even when the cutover's ModifyListener never
   * landed: the rollout halts "held on the target" with writes still on the source, reports an exposure that
   * never was, and keeps the pins.
   */
  holdWithoutCutoverWrite: false,
  /**
   * A hold records the failure that caused it (AlarmFired, ...) as the rollout's reason, while the reconciler
   * sweeps the pins of a halted rollout only when that reason is HeldAfterCutover: the pins a hold keeps are
   * never removed.
   */
  holdPinsNeverSwept: false,
  /**
   * An execution stopped (or failed outside the catch paths) after the write cutover: the safety net (or the
   * reconciler) restores the starting weights, so the writes the target took since the cutover exist only
   * there, and no exposure is recorded or notified.
   */
  safetyNetRestoreWithoutExposure: false,
  /**
   * The cutover (and a hold) removes the read rules through removeRules, which first puts each back to the
   * source: until it is deleted, its reads go to the source while the writes are on the target, and miss what
   * the target took since the cutover. Every cutover does it.
   */
  readsSentBackAtCutover: false,
} as const;

const ruleWriteFailed = (run: Run) =>
  run.world.elb.log.some(
    (event) => event.kind === 'call' && RULE_WRITES.has(event.operation) && event.outcome !== 'ok',
  );

/** A halt for "drift" that nobody made: Swing's own partial restore of its rules (KNOWN_DEFECTS). */
function toleratedOwnRestoreDrift(run: Run, finished: Rollout | undefined): boolean {
  if (!KNOWN_DEFECTS.ownRuleRestoreTakenForDrift || !run.readsFirst) return false;
  if (manualChanges(run).length > 0 || ruleHandChanges(run).length > 0) return false;
  const error = run.result.status === 'FAILED' ? run.result.error : undefined;
  const interrupted = ruleWriteFailed(run) || run.struck.length > 0;
  return interrupted && (error === 'WeightsDrifted' || finished?.outcome === 'halted');
}

/** A hold after a cutover whose ModifyListener never landed (KNOWN_DEFECTS). */
function toleratedHoldWithoutCutover(run: Run, finished: Rollout | undefined): boolean {
  return (
    KNOWN_DEFECTS.holdWithoutCutoverWrite &&
    heldAfterCutover(finished) &&
    finished?.cutoverAt === undefined &&
    run.world.elb.weights.source === run.starting.source &&
    run.world.elb.weights.target === run.starting.target
  );
}

/** Pins a hold kept, never swept (KNOWN_DEFECTS). */
function toleratedHoldPins(run: Run, finished: Rollout | undefined): boolean {
  return (
    KNOWN_DEFECTS.holdPinsNeverSwept &&
    heldAfterCutover(finished) &&
    finished?.reason?.error !== 'HeldAfterCutover' &&
    run.world.elb.swingRules.every((rule) =>
      rule.tags.some((tag) => tag.Key === 'swing:rule' && String(tag.Value).startsWith('pin')),
    )
  );
}

/**
 * The reads-first invariants, on every reads-first run:
 * - I8: no ModifyListener of Swing's raises the default action's target share before the record held the
 *   cutover (`cutoverStartedAt`), and a rollout that never began its cutover leaves the default action as it
 *   started (no ModifyListener at all).
 * - I9: once the run has settled (the execution ended, the safety net and the scheduled reconciler ran), no
 *   rule of Swing's is left, except for a rollout halted because someone changed the listener or Swing's
 *   rules by hand (Swing touches nothing then). The pins a `hold` keeps after the cutover stay until the
 *   scroll keep-alive ends and a reconciler run after it removes them; no pin goes while the default action
 *   sends anything to the target before the keep-alive has passed since the cutover.
 * - I2 for rules: a rule write that raises the target's read share follows an all-clear alarm read; one made
 *   while an alarm fires is in the window since that read (the alarm changed after it), and a rollout with
 *   such a write is checked again before it succeeds.
 * - Restores never raise: once a rollback began (or the execution ended: safety net, reconciler), no rule
 *   write and no ModifyListener raises the target's share.
 * - I4 for rules: after Swing's rules were changed by hand in a way it can see, Swing writes nothing more, and
 *   a rollout that was live then halts.
 * - Exposure: a rollback after the cutover records the exposure (window >= 0, the target's requests); a
 *   rollback before it records none; a hold records the hold's.
 */
export function expectReadsFirst(run: Run, record: ListenerRecord | undefined): void {
  const observed = run.readsFirst;
  const readsFirst = run.scenario.readsFirst;
  if (!observed || !readsFirst) return;
  const why = `\n  ${story(run)}`;
  const { world } = run;
  const log = world.elb.log;
  const starting = run.starting;
  const finished = mainRollout(run, record);
  const hands = manualChanges(run);
  const ruleHands = ruleHandChanges(run);
  const swingCalls = (operations: Set<string>) =>
    log.filter(
      (event): event is Extract<ElbEvent, { kind: 'call' }> =>
        event.kind === 'call' && event.caller === 'swing' && operations.has(event.operation),
    );

  // I8.
  const cutoverAt = observed.cutoverRecordedAt ?? Number.POSITIVE_INFINITY;
  let listenerWeights = starting;
  log.forEach((event, index) => {
    if (event.kind === 'hand' || event.kind === 'reshape') listenerWeights = event.weights;
    if (event.kind !== 'call' || event.operation !== 'ModifyListener' || event.caller !== 'swing') return;
    if (event.outcome !== 'ok' || !event.weights) return;
    if (index < cutoverAt) {
      expect(
        isIncrease(listenerWeights, event.weights),
        `I8: no ModifyListener raises the default action's target share before the cutover is recorded${why}`,
      ).toBe(false);
    }
    listenerWeights = event.weights;
  });
  if (observed.cutoverRecordedAt === undefined && hands.length === 0) {
    expect(
      swingCalls(new Set(['ModifyListener'])),
      `I8: a rollout that never began its cutover never writes the default action${why}`,
    ).toEqual([]);
    expect(world.elb.weights, `I8: and leaves it as it started${why}`).toEqual(starting);
  }

  // I2 for rules, and restores never raise (rules and the default action).
  const firingStates =
    run.scenario.insufficientData === 'firing' ? ['ALARM', 'INSUFFICIENT_DATA'] : ['ALARM'];
  const timeline: { index?: number; event: ElbEvent | CloudWatchEvent }[] = [
    ...log.map((event, index) => ({ index, event })),
    ...world.cloudWatch.log.map((event) => ({ event })),
  ].sort((a, b) => a.event.seq - b.event.seq);
  const ruleWeights = new Map<string, { source: number; target: number }>();
  const { pinArns } = observed;
  let alarmRead: 'clear' | 'firing' | undefined;
  let alarmState = 'OK';
  let alarmChangedSinceRead = false;
  let increasesInWindow = 0;
  let awaitingRecheck = false;
  let defaultWeights = starting;
  const restoreFrom = observed.restoreFrom ?? Number.POSITIVE_INFINITY;
  const keepAliveMs = readsFirst.scrollKeepAliveSeconds * 1000;
  const recordedCutover = Date.parse(finished?.cutoverAt ?? finished?.cutoverStartedAt ?? '');
  for (const { index, event } of timeline) {
    if (event.kind === 'set') {
      alarmState = event.value;
      alarmChangedSinceRead = true;
      continue;
    }
    if (event.kind === 'describe') {
      const firing =
        event.outcome === 'failed' || event.outcome.some((state) => firingStates.includes(state));
      alarmRead = firing ? 'firing' : 'clear';
      alarmChangedSinceRead = false;
      awaitingRecheck = false;
      continue;
    }
    if (event.kind === 'hand' || event.kind === 'reshape') {
      defaultWeights = event.weights;
      continue;
    }
    if (event.kind === 'rule-hand') {
      if (event.weights) ruleWeights.set(event.rule, event.weights);
      else ruleWeights.delete(event.rule);
      continue;
    }
    if (event.kind !== 'call' || event.caller !== 'swing' || event.outcome !== 'ok') continue;
    // Each shift starts by reading the listener: its rule writes need an alarm read of its own, after that.
    if (event.operation === 'DescribeListeners' && run.struck.length === 0) alarmRead = undefined;
    const at = index ?? 0;
    if (event.operation === 'ModifyListener' && event.weights) {
      if (at >= restoreFrom) {
        expect(
          isIncrease(defaultWeights, event.weights),
          `no restore raises the target's share in the default action${why}`,
        ).toBe(false);
      }
      defaultWeights = event.weights;
      continue;
    }
    if (!event.rule) continue;
    if (event.operation === 'DeleteRule') {
      ruleWeights.delete(event.rule);
      if (pinArns.has(event.rule) && defaultWeights.target > 0 && !Number.isNaN(recordedCutover)) {
        // A scroll context opened on the source is not continued on the target: the pin outlives the keep-alive.
        expect(
          (observed.elbTimes[at] ?? 0) >= recordedCutover + keepAliveMs,
          `a pin goes only after the scroll keep-alive (${readsFirst.scrollKeepAliveSeconds} s since the cutover at ${finished?.cutoverAt}; deleted at ${new Date(observed.elbTimes[at] ?? 0).toISOString()})${why}`,
        ).toBe(true);
      }
      continue;
    }
    if (!event.weights) continue;
    // A stale Freeze attempt's late rule forwards as the default action did when that attempt read the listener,
    // before the hand change (ELBv2 has no conditional write): it must go (I9 below), it is not a restore.
    if (isStaleFreezeRule(run.reverse, at, event)) {
      ruleWeights.set(event.rule, event.weights);
      continue;
    }
    // A rule created forwarding exactly as the default action does sends its requests where they went (the
    // freeze's POST-read forwards, issue 22): no raise, whatever the default action's share.
    const asDefault = event.operation === 'CreateRule' && sameWeights(event.weights, defaultWeights);
    const from = ruleWeights.get(event.rule) ?? (asDefault ? defaultWeights : { source: 999, target: 0 });
    ruleWeights.set(event.rule, event.weights);
    if (!isIncrease(from, event.weights)) {
      // Reads follow the writes: once the cutover sent the writes to the target, and until a rollback restores
      // the source, no read rule sends reads back to the source (they would miss what the target took).
      const writesOnTarget = sameWeights(defaultWeights, percentToWeights(100)) && at < restoreFrom;
      if (writesOnTarget && isIncrease(event.weights, from) && !KNOWN_DEFECTS.readsSentBackAtCutover) {
        expect.fail(
          `no read rule goes back to the source while the writes are on the target (rule ${event.rule.slice(-4)} ${from.source}/${from.target} -> ${event.weights.source}/${event.weights.target})${why}`,
        );
      }
      continue;
    }
    expect(at < restoreFrom, `no restore raises the target's share in any rule${why}`).toBe(true);
    expect(alarmRead, `a rule write that raises the read share follows an all-clear alarm read${why}`).toBe(
      'clear',
    );
    if (firingStates.includes(alarmState)) {
      expect(
        alarmChangedSinceRead,
        `no read-share increase while an alarm Swing had seen is in ALARM${why}`,
      ).toBe(true);
      increasesInWindow += 1;
      awaitingRecheck = true;
    }
  }
  expect(
    observed.ruleIncreasesUnderAlarm.length,
    `read-share increases under alarm fall in the window since the step's alarm read${why}`,
  ).toBeLessThanOrEqual(increasesInWindow);
  if (run.result.status === 'SUCCEEDED') {
    expect(
      awaitingRecheck,
      `a read-share increase made as an alarm fired is checked again before success${why}`,
    ).toBe(false);
  }

  // I4 for rules: a change Swing can see (a re-weight; a deletion before the cutover) stops every write.
  // `swing rollback --force` removes Swing's rules as Swing's own restore would: racing one, both remove them.
  const forced = run.fired.some(
    (fault) => fault.fault.kind === 'operator' && fault.fault.command.startsWith('force'),
  );
  const visible = ruleHands.find(
    (change) =>
      !forced &&
      (change.weights !== undefined ||
        log.indexOf(change) < (observed.cutoverRecordedAt ?? Number.POSITIVE_INFINITY)),
  );
  if (visible) {
    // A freeze is lifted whatever else Swing leaves alone (I9, issue 22): left, it would refuse writes for good.
    const freezeRules = new Set(
      (run.readsFirst?.created ?? [])
        .filter((rule) => isFreezePriority(rule.Priority))
        .map((rule) => rule.RuleArn),
    );
    const after = swingCalls(RULE_OR_LISTENER_WRITES).filter(
      (event) =>
        event.seq > visible.seq &&
        !(event.operation === 'DeleteRule' && freezeRules.has(event.rule)) &&
        !unfreezesWrites(run, event) &&
        !isStaleFreezeRule(run.reverse, log.indexOf(event), event),
    );
    expect(after, `no rule write nor ModifyListener after Swing's rules were changed by hand${why}`).toEqual(
      [],
    );
    expect(run.result.status, `a rollout whose rules were changed by hand does not succeed${why}`).not.toBe(
      'SUCCEEDED',
    );
  }

  // I9.
  // Rules are left to the operator only after a hand change that really happened before the halt.
  const haltedByHand =
    finished?.outcome === 'halted' &&
    (hands.length > 0 || ruleHands.length > 0) &&
    handChangesBy(run, endedAtOf(finished)).length > 0;
  // A damaged record halts leaving the listener and Swing's rules as they are (`swing rollback --force` removes them).
  const haltedForTheRecord = finished?.outcome === 'halted' && finished.reason?.error === 'RecordMalformed';
  const leftAlone =
    haltedByHand ||
    haltedForTheRecord ||
    toleratedOwnRestoreDrift(run, finished) ||
    toleratedHoldPins(run, finished) ||
    (!finished && hands.length > 0);
  if (!leftAlone) {
    expect(
      world.elb.swingRules.map((rule) => rule.RuleArn),
      `I9: no rule of Swing's is left once the run has settled and the reconciler ran${why}`,
    ).toEqual([]);
  }
  // Before the reconciler: the rollout's own paths and the safety net left nothing, except the pins a hold
  // keeps, what an attempt Step Functions had given up on wrote late, and a lost status event's lock (the
  // reconciler settles those).
  const lateWriters =
    run.struck.length > 0 ||
    run.result.statusEventLost === true ||
    safetyNetGaveUp(run) ||
    run.reverse?.lateRule !== undefined;
  if (!leftAlone && !heldAfterCutover(finished) && !lateWriters) {
    expect(
      observed.rulesAtSettle,
      `I9: no rule of Swing's is left when the execution and its safety net have settled${why}`,
    ).toBe(0);
  }
  if (heldAfterCutover(finished) && !Number.isNaN(recordedCutover)) {
    for (const runOf of observed.reconcileRuns) {
      if (runOf.at < recordedCutover + keepAliveMs) {
        expect(
          runOf.pinsAfter,
          `the reconciler keeps the pins of a hold until the scroll keep-alive ends${why}`,
        ).toBe(runOf.pinsBefore);
      }
    }
  }

  // Exposure.
  if (finished?.outcome === 'rolled-back' && !finished.planEnd) {
    const bySafetyNet = !statesEntered(run).includes('RolledBack');
    if (writesMoved(run, finished) && !(KNOWN_DEFECTS.safetyNetRestoreWithoutExposure && bySafetyNet)) {
      expect(
        finished.exposure,
        `a rollback after the cutover records the write exposure${why}`,
      ).toMatchObject({
        policy: 'rollback',
        targetRequests: TARGET_REQUESTS,
      });
      expect(finished.exposure?.windowSeconds, `with a window >= 0${why}`).toBeGreaterThanOrEqual(0);
    } else if (!writesMoved(run, finished)) {
      expect(
        finished.exposure,
        `a rollback before the writes moved records no exposure${why}`,
      ).toBeUndefined();
    }
  }
  if (heldAfterCutover(finished)) {
    expect(finished?.exposure, `a hold after the cutover records its exposure${why}`).toMatchObject({
      policy: 'hold',
    });
  }
}

/**
 * The quiet period (functions/commons/domain/quiet.ts): the world sets it as the deployed handlers do, so every
 * path that released the main rollout's lock (Complete, RolledBack, Halt, the safety net, the reconciler, a halt
 * on a malformed record, `swing rollback --force --release-lock`) records `quietUntil`,
 * QUIET_AFTER_RELEASE_SECONDS after its end. Not judged: a rollout that never entered ShiftWeights (nothing it
 * ran could write the listener or its rules).
 */
export function expectQuietAfterRelease(run: Run, record: ListenerRecord | undefined): void {
  const finished = mainRollout(run, record);
  if (!finished?.endedAt) return;
  if (!statesEntered(run).includes('ShiftWeights')) return;
  expect(
    finished.quietUntil,
    `the release records its quiet period, ${QUIET_AFTER_RELEASE_SECONDS} s after it\n  ${story(run)}`,
  ).toBe(new Date(Date.parse(finished.endedAt) + QUIET_AFTER_RELEASE_SECONDS * 1000).toISOString());
}

export async function expectInvariants(run: Run): Promise<void> {
  const record = await finalRecord(run);
  expectPauseHolds(run, record);
  expectResumePassesNoGate(run);
  expectOpenWaitsReachable(run);
  expectForeignRulesKeepTraffic(run);
  expectNoStickyClientsLeft(run, record);
  expectDamagedRecordHalts(run, record);
  expectEndState(run, record);
  expectNoIncreaseUnderAlarm(run);
  expectRacersRefused(run);
  expectDriftLeftAlone(run, record);
  expectEventDrivenRollback(run);
  expectBoundedEventToEnd(run);
  expectRestoredByTheSafetyNet(run, record);
  expectQuietAfterRelease(run, record);
  expectHarmlessFaultsTolerated(run);
  expectReadsFirst(run, record);
  expectNoUnguardedReadRule(run);
  expectForcedRollbackRollsBack(run, record);
  expectLosslessRollback({
    observation: run.reverse,
    elb: run.world.elb,
    elbTimes: run.readsFirst?.elbTimes ?? [],
    starting: run.starting,
    record,
    executionArn: run.executionArn,
    settlerRestored:
      run.result.safetyNet === 'restored' ||
      run.reconciled.includes('restored') ||
      run.settlers.some((settler) => settler.action === 'restored'),
  });
}

/**
 * Lifting the write cutover's freeze puts writes-to-source back to forwarding to the source only, after the freeze
 * made it answer 503 (a ModifyRule of Swing's to a fixed-response): undoing Swing's own freeze, as deleting the
 * freeze's rules is, not a write over a hand change.
 */
function unfreezesWrites(run: Run, event: ElbEvent): boolean {
  if (event.kind !== 'call' || event.operation !== 'ModifyRule' || !event.weights) return false;
  if (!sameWeights(event.weights, { source: 999, target: 0 })) return false;
  return run.world.elb.log.some(
    (earlier) =>
      earlier.kind === 'call' &&
      earlier.caller === 'swing' &&
      earlier.operation === 'ModifyRule' &&
      earlier.outcome === 'ok' &&
      earlier.rule === event.rule &&
      // A fixed-response forwards nowhere: the fake logs it with no weights, or 0 / 0.
      (!earlier.weights || earlier.weights.source + earlier.weights.target === 0) &&
      earlier.seq < event.seq,
  );
}
