import type { MetricAlarm } from '@aws-sdk/client-cloudwatch';
import fc from 'fast-check';
import { expect } from 'vitest';
import { CloudWatchReplayLag } from '#adapters/replay-lag.ts';
import { handleAlarmEvent } from '#domain/engine/alarm-event.ts';
import type { EngineDeps } from '#domain/engine/deps.ts';
import { ListenerShapeInvalid } from '#domain/errors.ts';
import { DEFAULT_READS_FIRST } from '#domain/reads-first.ts';
import { FREEZE_RULE_SET } from '#domain/swing-rules.ts';
import type {
  ListenerPort,
  ListenerRecord,
  ReverseReplayVerdict,
  RolloutStore,
  SwingRulesPort,
  Weights,
} from '#domain/types.ts';
import { sameWeights } from '#domain/weights.ts';
import { currentInvocation, type InvocationCall, type InvocationTiming } from '#local/executor.ts';
import type { ElbEvent, FakeElbv2 } from '#test/support/fake-aws.ts';

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
  /**
   * The lag alarm as CloudWatch evaluates it, one datapoint per one-minute period (review 5): its state and
   * StateReasonData, read through the real DescribeAlarms adapter, and its OK events carrying that reason data.
   * Absent: alarmJudgesMsAgo's reading, or an exact one.
   */
  readonly alarmDatapoints?: AlarmDatapoints;
  /** Lambda cuts a Freeze attempt short, or a stale one leaves a freeze rule after a halt (review 5). */
  readonly freezeFault?: FreezeFault;
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

/**
 * The reverse replayer's lag metric as CloudWatch has it: one sample per one-minute period (OpenTelemetry's periodic
 * exporter), `sampleAtMs` into each; the alarm (one period, one datapoint to alarm) judges a period `judgedAfterMs`
 * after it ended (published late, evaluated once a period: at most CloudWatch's 120 s the engine assumes). The freeze
 * falls `freezeIntoPeriodMs` into its period. Before the freeze the samples are lagging, except the last
 * `caughtUpSamples` (the replayer caught up while the target's last writes were still to come or queued: a stale
 * OK); from the freeze on they are lagging until the replayer drained. A period that began before the freeze and
 * holds only such a sample straddles it.
 */
export interface AlarmDatapoints {
  readonly freezeIntoPeriodMs: number;
  readonly sampleAtMs: number;
  readonly judgedAfterMs: number;
  readonly caughtUpSamples: number;
}

/**
 * - `cut`: Lambda stops the Freeze state's `attempt`th attempt (Sandbox.Timedout: its timeout, ELBv2 throttling its
 *   CreateRules; Lambda.Unknown: the runtime died) at its `at`th call to the store, the listener or the rules (or its
 *   record write of `frozenAt`, after every rule stood): that call and every later one of the attempt fail, and
 *   Step Functions gets the error.
 * - `late-rule`: the first Freeze attempt loses its answer after `lostAfterMs` (its Retry freezes) while its `rule`th
 *   CreateRule is slowed (throttling, the SDK's backoff) until `afterEndMs` after the execution ended (at most the
 *   rollback function's timeout), and Lambda's timeout cuts it right after that rule landed, before its record check;
 *   an operator sets the weights by hand `handChangeAfterMs` after the freeze stood, so that the rollback halts. In
 *   one such run in two the execution's status event is lost, so that only the reconciler can remove that rule.
 */
export type FreezeFault =
  | {
      readonly kind: 'cut';
      readonly attempt: number;
      readonly at: 'frozen-write' | number;
      readonly error: 'Sandbox.Timedout' | 'Lambda.Unknown';
    }
  | {
      readonly kind: 'late-rule';
      readonly rule: number;
      readonly lostAfterMs: number;
      readonly afterEndMs: number;
      readonly handChangeAfterMs: number;
      readonly handWeights: Weights;
      /**
       * EventBridge loses the execution's status event: no safety net sweeps the late rule 75 s after the end,
       * only the reconciler's run can.
       */
      readonly statusEventLost: boolean;
    };

/** A one-minute period, CloudWatch's and the reverse lag alarm's default. */
const PERIOD_MS = 60_000;
/** The rollback function's timeout (Freeze runs on it): no attempt outlives it. */
const ROLLBACK_FUNCTION_TIMEOUT_MS = 60_000;

/** `arbitrary` one time in `1 + absentWeight`, else undefined. */
const sometimes = <T>(absentWeight: number, arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: absentWeight, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });

const alarmDatapointsArbitrary: fc.Arbitrary<AlarmDatapoints> = fc.record({
  // Mostly late in its period, judged soon: the period that straddles the freeze is judged soon after it.
  freezeIntoPeriodMs: fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 45_000, max: PERIOD_MS - 1 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: PERIOD_MS - 1 }) },
  ),
  sampleAtMs: fc.integer({ min: 0, max: PERIOD_MS - 1 }),
  judgedAfterMs: fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 10_000 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 120_000 }) },
  ),
  // Mostly the last sample before the freeze; sometimes for ten minutes (the alarm OK since long before it).
  caughtUpSamples: fc.constantFrom(0, 1, 1, 1, 1, 1, 2, 10),
});

const freezeFaultArbitrary: fc.Arbitrary<FreezeFault> = fc.oneof(
  fc.record({
    kind: fc.constant('cut' as const),
    attempt: fc.constantFrom(0, 0, 1),
    at: fc.oneof(
      { weight: 2, arbitrary: fc.constant('frozen-write' as const) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 * FREEZE_RULE_SET.length }) },
    ),
    error: fc.constantFrom('Sandbox.Timedout' as const, 'Lambda.Unknown' as const),
  }),
  fc.record({
    kind: fc.constant('late-rule' as const),
    rule: fc.integer({ min: 1, max: FREEZE_RULE_SET.length }),
    lostAfterMs: fc.integer({ min: 0, max: 1000 }),
    afterEndMs: fc.integer({ min: 0, max: 3000 }),
    handChangeAfterMs: fc.integer({ min: 0, max: 5000 }),
    // Never Swing's (its pairs sum to 999), never a reads-first start (target 0).
    handWeights: fc
      .record({ source: fc.integer({ min: 1, max: 998 }), target: fc.integer({ min: 1, max: 998 }) })
      .filter((weights) => weights.source + weights.target !== 999),
    statusEventLost: fc.boolean(),
  }),
);

const reverseScenarioDrawn: fc.Arbitrary<ReverseScenario> = fc.record({
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
  // One run in two: Lambda cuts a Freeze attempt short, or a stale one's rule lands after a halt (review 5).
  freezeFault: fc.option(freezeFaultArbitrary, { nil: undefined, freq: 2 }),
});

/**
 * How the lag alarm is read: exactly (one run in six), up to 3 minutes behind (one in three), or as CloudWatch
 * evaluates its one-minute datapoints (one in two).
 */
export const reverseScenarioArbitrary: fc.Arbitrary<ReverseScenario> = reverseScenarioDrawn.chain((drawn) =>
  fc
    .oneof(
      { weight: 1, arbitrary: fc.constant({}) },
      {
        weight: 2,
        arbitrary: fc.integer({ min: 0, max: 180_000 }).map((alarmJudgesMsAgo) => ({ alarmJudgesMsAgo })),
      },
      { weight: 3, arbitrary: alarmDatapointsArbitrary.map((alarmDatapoints) => ({ alarmDatapoints })) },
    )
    .map((reading) => ({ ...drawn, ...reading })),
);

/** What the model saw, on the virtual clock. */
export interface ReverseObservation {
  readonly scenario: ReverseScenario;
  /** When every freeze rule stood on the listener (the model's freeze). */
  frozenAt?: number;
  /** When the reverse replayer had drained (the truth): frozenAt + drainsAfterMs. */
  drainedAt?: number;
  /** The Freeze attempt Lambda cut short (FreezeFault `cut`), and when. */
  cut?: { readonly retryCount: number; readonly at: number; readonly error: string };
  /**
   * FreezeFault `late-rule`: the fake ELBv2's log indices of the stale attempt's slowed CreateRule (from, to), which
   * read the listener before the hand change (ELBv2 has no conditional write), and when it was sent.
   */
  lateRule?: { readonly logFrom: number; logTo?: number; readonly at: number };
}

const FREEZE_PRIORITIES = new Set(
  FREEZE_RULE_SET.map((spec) => String(DEFAULT_READS_FIRST.basePriority + spec.offset)),
);

/** Whether a rule of the listener is one of Swing's freeze rules (by its priority: the model's base). */
export const isFreezePriority = (priority: string | undefined) => FREEZE_PRIORITIES.has(String(priority));

/**
 * The CreateRule of a stale Freeze attempt slowed until after the rollout ended (FreezeFault `late-rule`), by its
 * index in the fake ELBv2's log: it read the listener before the hand change, and ELBv2 has no conditional write.
 * The checks of what Swing writes after a hand change (or a damaged record) leave it to I9: it must be gone once the
 * reconciler ran (expectLosslessRollback).
 */
export function isStaleFreezeRule(
  observation: ReverseObservation | undefined,
  index: number,
  event: ElbEvent,
): boolean {
  const late = observation?.lateRule;
  return (
    late !== undefined &&
    event.kind === 'call' &&
    event.operation === 'CreateRule' &&
    index >= late.logFrom &&
    index < (late.logTo ?? Number.POSITIVE_INFINITY)
  );
}

/** The lag alarm's evaluations of one-minute datapoints (AlarmDatapoints), once the model's freeze stood. */
function datapointAlarm(drawn: AlarmDatapoints, observation: ReverseObservation) {
  // Periods are numbered from the freeze's own (k 0); read once the freeze stood.
  const frozenAt = () => observation.frozenAt ?? Number.POSITIVE_INFINITY;
  const origin = () => frozenAt() - drawn.freezeIntoPeriodMs;
  const start = (k: number) => origin() + k * PERIOD_MS;
  const sampleAt = (k: number) => start(k) + drawn.sampleAtMs;
  // The newest period whose sample is before the freeze: the freeze's own (k 0) when its sample comes first.
  const lastBefore = drawn.sampleAtMs < drawn.freezeIntoPeriodMs ? 0 : -1;
  const lagging = (k: number) =>
    sampleAt(k) < frozenAt()
      ? k <= lastBefore - drawn.caughtUpSamples
      : observation.drainedAt === undefined || sampleAt(k) < observation.drainedAt;
  const judgedAt = (k: number) => start(k) + PERIOD_MS + drawn.judgedAfterMs;
  /** The state's last transition before `newest` was judged: the first period of its run of equal states. */
  const transition = (newest: number) => {
    let k = newest;
    while (k > newest - 60 && lagging(k - 1) === lagging(newest)) k -= 1;
    return k;
  };
  const reasonData = (k: number) => {
    const value = lagging(k) ? 5.2 : 0.4;
    return JSON.stringify({
      version: '1.0',
      queryDate: new Date(judgedAt(k)).toISOString(),
      startDate: new Date(start(k)).toISOString(),
      statistic: 'Maximum',
      period: PERIOD_MS / 1000,
      recentDatapoints: [value],
      threshold: 1,
      evaluatedDatapoints: [{ timestamp: new Date(start(k)).toISOString(), sampleCount: 1, value }],
    });
  };
  return {
    /** DescribeAlarms' answer at `now`. Before the freeze: in ALARM for long (the replayer behind). */
    describe(now: number): MetricAlarm {
      const alarm: MetricAlarm = {
        AlarmName: REVERSE_LAG_ALARM,
        MetricName: 'lagBetweenSourceAndTargetRequests',
        Statistic: 'Maximum',
        Period: PERIOD_MS / 1000,
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanThreshold',
      };
      if (observation.frozenAt === undefined) {
        return { ...alarm, StateValue: 'ALARM', StateUpdatedTimestamp: new Date(now - 600_000) };
      }
      const newest = Math.floor((now - drawn.judgedAfterMs - origin()) / PERIOD_MS) - 1;
      const since = transition(newest);
      return {
        ...alarm,
        StateValue: lagging(newest) ? 'ALARM' : 'OK',
        StateUpdatedTimestamp: new Date(judgedAt(since)),
        StateReason: `Threshold Crossed: 1 datapoint [${lagging(newest) ? 5.2 : 0.4}]`,
        StateReasonData: reasonData(since),
      };
    },
    /** Each return to OK judged after the freeze (the drain's truth known by then): when, and its reason data. */
    okTransitions(): { at: number; reasonData: string }[] {
      const last =
        observation.drainedAt === undefined
          ? 10
          : Math.ceil((observation.drainedAt - origin()) / PERIOD_MS) + 2;
      const found: { at: number; reasonData: string }[] = [];
      for (let k = lastBefore - 12; k <= last; k += 1) {
        if (judgedAt(k) >= frozenAt() && !lagging(k) && lagging(k - 1))
          found.push({ at: judgedAt(k), reasonData: reasonData(k) });
      }
      return found;
    },
  };
}

/**
 * The engine deps reverse capture adds, and the hooks that keep the model's truth: the reverse replayer's lag
 * as the engine reads it, the freeze's creation watched on the fake ELBv2, the lag alarm's OK delivered, the abort,
 * and the Freeze attempts Lambda cuts short (its store, listener and rules as the attempt calls them).
 */
export function reverseCaptureWorld(input: {
  readonly reverse: ReverseScenario;
  readonly elb: FakeElbv2;
  readonly swingRules: SwingRulesPort;
  readonly store: RolloutStore;
  readonly listener: ListenerPort;
  readonly executionArn: string;
  /** Settles once the execution has ended (however it ended). */
  readonly executionEnd: () => Promise<unknown>;
  readonly deps: () => EngineDeps;
  /** Runs `act` after `ms` of the virtual clock, even once the rollout ended (an event EventBridge took). */
  readonly deliverLater: (ms: number, act: () => Promise<unknown> | undefined) => void;
  readonly abort: () => void;
  /** The model's freeze stood: faults planned after it (`on: 'frozen'`) are due. */
  readonly onFrozen: () => void;
}): {
  deps: Partial<EngineDeps>;
  observation: ReverseObservation;
  onRuleWrite: () => void;
  /** How the main execution's invocation behaves (a Freeze attempt whose answer is lost). */
  timing: (call: InvocationCall, timing: InvocationTiming) => InvocationTiming;
} {
  const { reverse } = input;
  const observation: ReverseObservation = { scenario: reverse };
  const drained = () => observation.drainedAt !== undefined && Date.now() >= observation.drainedAt;
  const datapoints = reverse.alarmDatapoints && datapointAlarm(reverse.alarmDatapoints, observation);
  const okEvent = (reasonData?: string) => () =>
    handleAlarmEvent(input.deps(), {
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      time: new Date().toISOString(),
      detail: {
        alarmName: REVERSE_LAG_ALARM,
        state: {
          value: 'OK',
          reason: 'reverse lag 0 ms',
          timestamp: new Date().toISOString(),
          ...(reasonData ? { reasonData } : {}),
        },
      },
    }).catch(() => undefined);
  const deliverOk = (afterMs: number, event: () => Promise<unknown>) => {
    const ok = reverse.ok;
    if (ok.by === 'at-once' || ok.by === 'twice') input.deliverLater(afterMs, event);
    if (ok.by === 'late' || ok.by === 'twice') input.deliverLater(afterMs + ok.lateMs, event);
  };
  const frozen = () => {
    observation.frozenAt = Date.now();
    if (reverse.drainsAfterMs !== 'stuck') {
      observation.drainedAt = observation.frozenAt + reverse.drainsAfterMs;
    }
    if (datapoints) {
      // Each return to OK judged from the freeze on, with the datapoint it judged (one may straddle the freeze).
      for (const { at, reasonData } of datapoints.okTransitions())
        deliverOk(at - Date.now(), okEvent(reasonData));
    } else if (reverse.drainsAfterMs !== 'stuck') {
      // The alarm goes to OK once an evaluation has judged the drained replayer.
      deliverOk(reverse.drainsAfterMs + (reverse.alarmJudgesMsAgo ?? 0), okEvent());
    }
    if (reverse.abortAfterMs !== undefined) {
      input.deliverLater(reverse.abortAfterMs, () => {
        input.abort();
        return undefined;
      });
    }
    input.onFrozen();
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

  // Freeze attempts of the main execution, in order (1: its first), and what Lambda did to them.
  const freezeAttempts = new Map<
    InvocationCall,
    { nth: number; calls: number; createRules: number; cut?: Error }
  >();
  const fault = reverse.freezeFault;
  const lambdaError = (name: 'Sandbox.Timedout' | 'Lambda.Unknown') =>
    Object.assign(
      new Error(
        name === 'Sandbox.Timedout'
          ? `Task timed out after ${ROLLBACK_FUNCTION_TIMEOUT_MS / 1000}.00 seconds`
          : 'Runtime exited with error: signal: killed',
      ),
      { name },
    );
  const attemptOf = () => {
    const call = currentInvocation();
    return call?.executionArn === input.executionArn && call.stateName === 'Freeze'
      ? freezeAttempts.get(call)
      : undefined;
  };
  /** Until `afterEndMs` after the execution ended, within the attempt's time left (Lambda stops it then). */
  const slowed = (begunAt: number, afterEndMs: number) =>
    new Promise<void>((resolve) => {
      const cap = setTimeout(
        resolve,
        Math.max(0, begunAt + ROLLBACK_FUNCTION_TIMEOUT_MS - 1000 - Date.now()),
      );
      void input.executionEnd().then(() => {
        clearTimeout(cap);
        setTimeout(resolve, Math.min(afterEndMs, begunAt + ROLLBACK_FUNCTION_TIMEOUT_MS - 1000 - Date.now()));
      });
    });
  const begun = new Map<InvocationCall, number>();
  /** A port whose calls by a Freeze attempt Lambda may cut short (FreezeFault). */
  const cuttable = <T extends object>(port: T, name: 'store' | 'listener' | 'rules'): T =>
    new Proxy(port, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const call = () => Reflect.apply(value, target, args) as Promise<unknown>;
          const attempt = attemptOf();
          if (!attempt || !fault) return call();
          if (attempt.cut) return Promise.reject(attempt.cut);
          attempt.calls += 1;
          if (fault.kind === 'cut') {
            const frozenWrite =
              name === 'store' &&
              property === 'update' &&
              (args[2] as { freeze?: { frozenAt?: string } } | undefined)?.freeze?.frozenAt !== undefined;
            const here = fault.at === 'frozen-write' ? frozenWrite : fault.at === attempt.calls;
            if (attempt.nth !== fault.attempt + 1 || !here) return call();
            attempt.cut = lambdaError(fault.error);
            observation.cut = { retryCount: attempt.nth - 1, at: Date.now(), error: fault.error };
            return Promise.reject(attempt.cut);
          }
          if (attempt.nth !== 1 || name !== 'rules' || property !== 'createRule') return call();
          attempt.createRules += 1;
          if (attempt.createRules !== fault.rule) return call();
          const invocation = currentInvocation() as InvocationCall;
          return slowed(begun.get(invocation) ?? Date.now(), fault.afterEndMs).then(() => {
            const late: NonNullable<ReverseObservation['lateRule']> = {
              logFrom: input.elb.log.length,
              at: Date.now(),
            };
            observation.lateRule = late;
            // Cut by Lambda's timeout once the rule landed, before its record check.
            return call().finally(() => {
              late.logTo = input.elb.log.length;
              attempt.cut = lambdaError('Sandbox.Timedout');
            });
          });
        };
      },
    });
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
  let freezeInvocations = 0;
  const timing = (call: InvocationCall, drawn: InvocationTiming): InvocationTiming => {
    if (call.executionArn !== input.executionArn || call.stateName !== 'Freeze') return drawn;
    freezeInvocations += 1;
    freezeAttempts.set(call, { nth: freezeInvocations, calls: 0, createRules: 0 });
    begun.set(call, Date.now());
    if (fault?.kind !== 'late-rule' || freezeInvocations !== 1) return drawn;
    return { ...drawn, answerLostAfterMs: fault.lostAfterMs };
  };
  const lagAlarm =
    datapoints &&
    new CloudWatchReplayLag(
      {
        send: async () => ({ MetricAlarms: [datapoints.describe(Date.now())], CompositeAlarms: [] }),
      } as never,
      { alarmName: REVERSE_LAG_ALARM, missingData: 'lagging', label: 'reverse lag alarm', attempts: 1 },
    );
  return {
    observation,
    onRuleWrite,
    timing,
    deps: {
      swingRules: cuttable(swingRules, 'rules'),
      store: cuttable(input.store, 'store'),
      listener: cuttable(input.listener, 'listener'),
      reverseCapture: {
        lagAlarm: REVERSE_LAG_ALARM,
        missingData: 'lagging',
        drainTimeoutSeconds: reverse.drainTimeoutSeconds,
      },
      reverseReplay: {
        check: async (): Promise<ReverseReplayVerdict> => {
          if (lagAlarm) {
            // The deployed reading: DescribeAlarms through the adapter, its evidence dated by alarm-evidence.ts.
            const { caughtUp, detail, readable, coversUntil } = await lagAlarm.check();
            return {
              drained: caughtUp,
              detail,
              ...(readable === undefined ? {} : { readable }),
              ...(coversUntil === undefined ? {} : { coversUntil }),
            };
          }
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
