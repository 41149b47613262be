import fc from 'fast-check';
import { expect } from 'vitest';
import { handleAlarmEvent } from '#domain/engine/alarm-event.ts';
import type { EngineDeps } from '#domain/engine/deps.ts';
import { ListenerShapeInvalid } from '#domain/errors.ts';
import { DEFAULT_READS_FIRST } from '#domain/reads-first.ts';
import { FREEZE_RULE_SET } from '#domain/swing-rules.ts';
import type { ListenerRecord, ReverseReplayVerdict, SwingRulesPort, Weights } from '#domain/types.ts';
import { sameWeights } from '#domain/weights.ts';
import { currentInvocation } from '#local/executor.ts';
import type { FakeElbv2 } from '#test/support/fake-aws.ts';

/**
 * Reverse capture in the fault model (issue 22): a reads-first rollout whose rollback after the cutover freezes
 * writes and waits for the reverse replayer. The model owns the truth the engine only reads: when the freeze
 * stood on the listener (all its rules there), and when the reverse replayer had applied onto the source every
 * write the target took (a slow replayer drains some time after the freeze; a stuck one never). It draws the
 * lag alarm's OK event lost, at once, late or twice, a freeze rule ELBv2 refuses, and an operator's abort during
 * the freeze; `expectLosslessRollback` holds the engine to it.
 */

export const REVERSE_LAG_ALARM = 'swing-reverse-lag';

export interface ReverseScenario {
  /** REVERSE_DRAIN_TIMEOUT_SECONDS. */
  readonly drainTimeoutSeconds: number;
  /** How long after the freeze stood the reverse replayer has drained; `stuck`: never. */
  readonly drainsAfterMs: number | 'stuck';
  /** How EventBridge delivers the reverse lag alarm's OK once drained. */
  readonly ok:
    | { readonly by: 'none' | 'at-once' }
    | { readonly by: 'late' | 'twice'; readonly lateMs: number };
  /**
   * The lag alarm as CloudWatch has it: its state judges the replayer as it was this long ago (periods that
   * ended before its evaluation, published late), and was OK before the freeze (the replayer kept up, the writes
   * of the last moments still queued). Its reading says so (coversUntil) and its OK event comes this much later.
   * Absent: an exact reading (the local mode's).
   */
  readonly alarmJudgesMsAgo?: number;
  /** ELBv2 refuses the CreateRule of this freeze rule (its index in FREEZE_RULE_SET), for good. */
  readonly refuseFreezeRule?: number;
  /** An operator's `swing abort` this long after the freeze stood. */
  readonly abortAfterMs?: number;
  /**
   * A watched alarm fires (delivered at once) this long into the cutover's bake (`pins`: the pins' bake), so that
   * most such runs roll back after the cutover; absent: only the run's other faults end it.
   */
  readonly alarmAfterCutover?: { readonly in: 'cutover' | 'pins'; readonly afterMs: number };
  /**
   * The execution ends outside its rollback path this long into the cutover's (or the pins') bake: stopped
   * (StopExecution), its status event delivered or lost (then the reconciler settles it), or an outage of
   * ModifyListener with an alarm just after, so that its Rollback fails for good (RollbackFailed). With an alarm
   * drawn before it, the stop lands in the rollback's Freeze or Drain.
   */
  readonly endAfterCutover?: {
    readonly in: 'cutover' | 'pins';
    readonly afterMs: number;
    readonly by: 'stop' | 'stop-event-lost' | 'outage';
  };
}

/** `arbitrary` one time in `1 + absentWeight`, else undefined. */
const sometimes = <T>(absentWeight: number, arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: absentWeight, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });

export const reverseScenarioArbitrary: fc.Arbitrary<ReverseScenario> = fc.record({
  drainTimeoutSeconds: fc.integer({ min: 5, max: 90 }),
  drainsAfterMs: fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 20_000 }) },
    { weight: 1, arbitrary: fc.integer({ min: 20_000, max: 120_000 }) },
    { weight: 1, arbitrary: fc.constant('stuck' as const) },
  ),
  ok: fc.oneof(
    fc.constant({ by: 'none' as const }),
    fc.constant({ by: 'at-once' as const }),
    fc.record({
      by: fc.constantFrom('late' as const, 'twice' as const),
      lateMs: fc.integer({ min: 1, max: 60_000 }),
    }),
  ),
  // One run in two reads the lag as CloudWatch does, up to three minutes behind.
  alarmJudgesMsAgo: sometimes(1, fc.integer({ min: 0, max: 180_000 })),
  // One run in five: ELBv2 refuses a freeze rule; one in four: an operator aborts during the freeze.
  refuseFreezeRule: sometimes(4, fc.integer({ min: 0, max: FREEZE_RULE_SET.length - 1 })),
  abortAfterMs: sometimes(3, fc.integer({ min: 0, max: 30_000 })),
  alarmAfterCutover: fc.option(
    fc.record({
      in: fc.constantFrom('cutover' as const, 'cutover' as const, 'pins' as const),
      afterMs: fc.integer({ min: 0, max: 5_000 }),
    }),
    { nil: undefined, freq: 8 },
  ),
  // One run in three ends outside its rollback path after the cutover (the settlers' freeze).
  endAfterCutover: sometimes(
    2,
    fc.record({
      in: fc.constantFrom('cutover' as const, 'cutover' as const, 'pins' as const),
      afterMs: fc.integer({ min: 0, max: 5_000 }),
      by: fc.constantFrom('stop' as const, 'stop' as const, 'stop-event-lost' as const, 'outage' as const),
    }),
  ),
});

/** What the model saw, on the virtual clock. */
export interface ReverseObservation {
  readonly scenario: ReverseScenario;
  /** When every freeze rule stood on the listener (the model's freeze). */
  frozenAt?: number;
  /** When the reverse replayer had drained (the truth): frozenAt + drainsAfterMs. */
  drainedAt?: number;
}

const FREEZE_PRIORITIES = new Set(
  FREEZE_RULE_SET.map((spec) => String(DEFAULT_READS_FIRST.basePriority + spec.offset)),
);

/** Whether a rule of the listener is one of Swing's freeze rules (by its priority: the model's base). */
export const isFreezePriority = (priority: string | undefined) => FREEZE_PRIORITIES.has(String(priority));

/**
 * The engine deps reverse capture adds, and the hooks that keep the model's truth: the reverse replayer's lag
 * as the engine reads it, the freeze's creation watched on the fake ELBv2, the lag alarm's OK delivered, the abort.
 */
export function reverseCaptureWorld(input: {
  readonly reverse: ReverseScenario;
  readonly elb: FakeElbv2;
  readonly swingRules: SwingRulesPort;
  readonly deps: () => EngineDeps;
  /** Runs `act` after `ms` of the virtual clock, even once the rollout ended (an event EventBridge took). */
  readonly deliverLater: (ms: number, act: () => Promise<unknown> | undefined) => void;
  readonly abort: () => void;
}): { deps: Partial<EngineDeps>; observation: ReverseObservation; onRuleWrite: () => void } {
  const { reverse } = input;
  const observation: ReverseObservation = { scenario: reverse };
  const drained = () => observation.drainedAt !== undefined && Date.now() >= observation.drainedAt;
  const okEvent = () =>
    handleAlarmEvent(input.deps(), {
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      time: new Date().toISOString(),
      detail: {
        alarmName: REVERSE_LAG_ALARM,
        state: { value: 'OK', reason: 'reverse lag 0 ms', timestamp: new Date().toISOString() },
      },
    }).catch(() => undefined);
  const frozen = () => {
    observation.frozenAt = Date.now();
    if (reverse.drainsAfterMs !== 'stuck') {
      observation.drainedAt = observation.frozenAt + reverse.drainsAfterMs;
      const ok = reverse.ok;
      // The alarm goes to OK once an evaluation has judged the drained replayer.
      const okAfterMs = reverse.drainsAfterMs + (reverse.alarmJudgesMsAgo ?? 0);
      if (ok.by === 'at-once' || ok.by === 'twice') input.deliverLater(okAfterMs, okEvent);
      if (ok.by === 'late' || ok.by === 'twice') input.deliverLater(okAfterMs + ok.lateMs, okEvent);
    }
    if (reverse.abortAfterMs !== undefined) {
      input.deliverLater(reverse.abortAfterMs, () => {
        input.abort();
        return undefined;
      });
    }
  };
  // onRuleWrite runs before each write lands: the freeze stands once the last of its rules is being created.
  // The write cutover's own brief freeze (ShiftWeights) is not the rollback's: the model's freeze is the latter.
  const inCutover = () => currentInvocation()?.stateName === 'ShiftWeights';
  const onRuleWrite = () => {
    if (observation.frozenAt !== undefined || inCutover()) return;
    const standing = input.elb.currentRules.filter((rule) => isFreezePriority(rule.Priority)).length;
    if (standing === FREEZE_RULE_SET.length - 1)
      queueMicrotask(() => {
        if (
          observation.frozenAt === undefined &&
          input.elb.currentRules.filter((rule) => isFreezePriority(rule.Priority)).length ===
            FREEZE_RULE_SET.length
        )
          frozen();
      });
  };
  const refused =
    reverse.refuseFreezeRule === undefined ? undefined : FREEZE_RULE_SET[reverse.refuseFreezeRule];
  const swingRules: SwingRulesPort = Object.assign(Object.create(input.swingRules), {
    createRule: async (...args: Parameters<SwingRulesPort['createRule']>) => {
      if (refused && args[0].name === refused.name && !inCutover()) {
        throw new ListenerShapeInvalid(`CreateRule ${refused.name}: ValidationError: refused (the model)`);
      }
      return input.swingRules.createRule(...args);
    },
    // A freeze the cutover left standing (its lift refused) is adopted by the rollback's Freeze, which then
    // creates nothing: writes are frozen from the moment a task outside the cutover finds every rule standing.
    readSwingRules: async (...args: Parameters<SwingRulesPort['readSwingRules']>) => {
      const rules = await input.swingRules.readSwingRules(...args);
      const standing = input.elb.currentRules.filter((rule) => isFreezePriority(rule.Priority)).length;
      if (observation.frozenAt === undefined && !inCutover() && standing === FREEZE_RULE_SET.length) frozen();
      return rules;
    },
  });
  return {
    observation,
    onRuleWrite,
    deps: {
      swingRules,
      reverseCapture: {
        lagAlarm: REVERSE_LAG_ALARM,
        missingData: 'lagging',
        drainTimeoutSeconds: reverse.drainTimeoutSeconds,
      },
      reverseReplay: {
        check: async (): Promise<ReverseReplayVerdict> => {
          if (reverse.alarmJudgesMsAgo === undefined) {
            return drained()
              ? { drained: true, detail: `${REVERSE_LAG_ALARM} is OK` }
              : { drained: false, detail: `${REVERSE_LAG_ALARM} is in ALARM` };
          }
          // The replayer as it was then: keeping up before the freeze, drained from drainedAt on.
          const judged = Date.now() - reverse.alarmJudgesMsAgo;
          const { frozenAt, drainedAt } = observation;
          const ok =
            frozenAt === undefined || judged < frozenAt || (drainedAt !== undefined && judged >= drainedAt);
          const coversUntil = new Date(judged).toISOString();
          return ok
            ? { drained: true, detail: `${REVERSE_LAG_ALARM} is OK`, coversUntil }
            : { drained: false, detail: `${REVERSE_LAG_ALARM} is in ALARM`, coversUntil };
        },
      },
    },
  };
}

/**
 * Issue 22's invariants on one run with reverse capture:
 * - the freeze never outlives the rollout: once everything settled, no freeze rule is on the listener (I9);
 * - no restore before the drain or its deadline: every ModifyListener made while the freeze stood that puts the
 *   starting weights back comes once the reverse replayer drained, or once the drain timeout passed;
 * - the exposure reported is what was not replayed: `drained` only when the restore came after the drain; any
 *   rollback after the cutover that restored reports `reverseReplay` (`timed-out` for a replayer that drained
 *   between the last check and the restore over-reports, which is allowed: it never claims a loss away);
 * - a rollout the safety net or the reconciler restored after the cutover (stopped, failed, timed out) was frozen
 *   first: its freeze stood before the restore, unless ELBv2 refused it or an operator forced the rollback (which
 *   freezes nothing), so its exposure never says `not-frozen` otherwise.
 */
export function expectLosslessRollback(input: {
  readonly observation: ReverseObservation | undefined;
  readonly elb: FakeElbv2;
  readonly elbTimes: readonly number[];
  readonly starting: Weights;
  readonly record: ListenerRecord | undefined;
  readonly executionArn: string;
  /** The safety net (a twin of it too) or a reconciler run settled the rollout as restored. */
  readonly settlerRestored: boolean;
}): void {
  const { observation, elb } = input;
  if (!observation) return;
  const left = elb.swingRules.filter((rule) => isFreezePriority(rule.Priority));
  expect(
    left.map((rule) => rule.Priority),
    'the freeze never outlives the rollout (I9)',
  ).toEqual([]);
  const restores = elb.log.flatMap((event, index) =>
    event.kind === 'call' &&
    event.operation === 'ModifyListener' &&
    event.outcome === 'ok' &&
    event.weights !== undefined &&
    sameWeights(event.weights, input.starting)
      ? [input.elbTimes[index] ?? 0]
      : [],
  );
  const { frozenAt, drainedAt } = observation;
  if (frozenAt !== undefined) {
    const bound = Math.min(
      drainedAt ?? Number.POSITIVE_INFINITY,
      frozenAt + observation.scenario.drainTimeoutSeconds * 1000,
    );
    for (const at of restores.filter((time) => time >= frozenAt)) {
      expect(
        at,
        `no restore before the drain (${drainedAt === undefined ? 'never' : new Date(drainedAt).toISOString()}) ` +
          `or its deadline (${observation.scenario.drainTimeoutSeconds} s after the freeze at ${new Date(frozenAt).toISOString()})`,
      ).toBeGreaterThanOrEqual(bound);
    }
  }
  const finished = [
    ...(input.record?.history ?? []),
    ...(input.record?.rollout ? [input.record.rollout] : []),
  ].find((rollout) => rollout.executionArn === input.executionArn);
  const exposure = finished?.exposure;
  if (exposure?.policy !== 'rollback') return;
  expect(
    exposure.reverseReplay,
    'a rollback after the cutover says what the reverse replayer replayed',
  ).toBeDefined();
  const restoredAt = restores.filter((time) => frozenAt === undefined || time >= frozenAt)[0];
  if (input.settlerRestored && !finished?.freeze?.failed && finished?.forcedRollbackAt === undefined) {
    expect(
      exposure.reverseReplay,
      'a rollout stopped or failed after the cutover is restored by its settler only after a freeze',
    ).not.toBe('not-frozen');
    expect(frozenAt, "the settler's freeze stood (all its rules on the listener)").toBeDefined();
  }
  if (exposure.reverseReplay === 'drained') {
    expect(frozenAt, "'drained' is reported only after a freeze").toBeDefined();
    expect(drainedAt, "'drained' is reported only for a reverse replayer that drained").toBeDefined();
    if (restoredAt !== undefined) {
      expect(restoredAt, "'drained': the restore came after the drain").toBeGreaterThanOrEqual(
        drainedAt ?? 0,
      );
    }
  }
}
