import fc from 'fast-check';
import { SWING_RULE_SET } from '#domain/swing-rules.ts';
import type { PlanStep, Weights } from '#domain/types.ts';
import { isIncrease, percentToWeights, WEIGHT_TOTAL } from '#domain/weights.ts';
import { type ReverseScenario, reverseScenarioArbitrary } from './reverse-capture-model.ts';

/**
 * Random rollouts and random fault schedules for the model-based fault test.
 *
 * Time is virtual: the test runs on fake timers, a second of the plan is 1000 ms of that clock, and the clock
 * moves only when nothing else can run. Engine work takes no virtual time; invocations take what the scenario
 * draws (a base latency, and the slow-invocation and lost-answer faults). So a seed replays the same run
 * whatever the machine's load, and a fault planned before a wait's timeout lands inside it.
 */
export const MS_PER_SECOND = 1000;

/** A fault planned after a wait opened is due at least this long before the wait's own timeout. */
export const WAIT_MARGIN_MS = 1000;
/**
 * Bakes that a fault ends early (alarm event, abort, stop) last this long, so that I5's bound (invariants.ts,
 * EVENT_TO_END_BOUND_MS) is far below the bake time.
 */
export const LONG_BAKE_SECONDS = 600;
/** The Retry pause of every task (the ASL's backoff is 1-20 s with random jitter: fixed here to replay). */
export const RETRY_DELAY_MS = 500;

/**
 * When a fault strikes:
 * - `call`: just before the main rollout's Nth AWS call (ELBv2 or CloudWatch, the safety net's included)
 *   is served, so it lands at any point of the engine's work: preflight, shift, read-back, after-bake, rollback.
 * - `wait`: `afterMs` after the main rollout's kth bake or gate stored its task token (0: at that very moment,
 *   before the opening task has checked the alarms).
 */
export type Trigger =
  | { readonly on: 'call'; readonly n: number }
  | { readonly on: 'wait'; readonly k: number; readonly afterMs: number }
  /** Reads-first: just before the main rollout's nth rule write (CreateRule, ModifyRule, DeleteRule). */
  | { readonly on: 'rule-write'; readonly n: number }
  /** Just before the main rollout's nth ModifyListener (reads-first: the first is the write cutover). */
  | { readonly on: 'listener-write'; readonly n: number }
  /** Just before the nth AWS call the main rollout makes while its execution is in `state`. */
  | { readonly on: 'in-state'; readonly state: TriggerState; readonly n: number }
  /**
   * Reverse capture: `afterMs` after the rollback's freeze stood (every freeze rule on the listener), while the
   * execution runs (its Drain); with `settlers`, also during a settler's drain once it ended.
   */
  | { readonly on: 'frozen'; readonly afterMs: number; readonly settlers?: true };

/** States a fault can strike in, by the calls made there (Complete's included: a failure while it finishes). */
export type TriggerState = 'ShiftWeights' | 'AfterBake' | 'Complete' | 'Rollback' | 'Rehearse';

/** The main execution's nth Lambda invocation (counting only the given state's, when there is one). */
export interface InvocationTrigger {
  readonly on: 'invocation';
  readonly state?: 'Bake' | 'Gate' | 'ShiftWeights' | 'AfterBake' | 'Rollback';
  readonly n: number;
}

/**
 * How EventBridge delivers an alarm's state change to the alarm-event function: not at all (the rule did not
 * match, or the alarm went back before it was evaluated), at once, late (it retries for up to a day), or
 * twice (at once, and again late). Two alarm faults delivered late arrive out of order.
 */
export type AlarmDelivery =
  | { readonly by: 'none' }
  | { readonly by: 'at-once' }
  | { readonly by: 'late' | 'twice'; readonly lateMs: number };

export type Fault =
  /** CloudWatch changes state, and EventBridge delivers the change (or not) as `delivery` says. */
  | {
      readonly kind: 'alarm';
      readonly at: Trigger;
      readonly value: 'ALARM' | 'INSUFFICIENT_DATA';
      readonly delivery: AlarmDelivery;
    }
  /**
   * The invocation starts `delayMs` late (a cold start, an SDK retry inside it): a bake or gate invocation may
   * outlive its state's timeout and run on, its token dead, into whatever state comes next.
   */
  | { readonly kind: 'slow-invocation'; readonly at: InvocationTrigger; readonly delayMs: number }
  /**
   * The invocation's answer is lost after `afterMs` (Lambda.ServiceException): the state's Retry starts
   * another attempt while this one, `delayMs` late, may still run.
   */
  | {
      readonly kind: 'lost-answer';
      readonly at: InvocationTrigger;
      readonly afterMs: number;
      readonly delayMs: number;
    }
  /** The next `times` ModifyListener calls are throttled (the ASL retries TransientFailure). */
  | { readonly kind: 'throttle'; readonly at: Trigger; readonly times: number }
  /** The next `times` ModifyListener calls fail with a 4xx that no retry is meant for. */
  | { readonly kind: 'modify-error'; readonly at: Trigger; readonly times: number }
  /** The next `times` DescribeAlarms calls fail: alarm state unreadable, which must count as firing. */
  | { readonly kind: 'describe-error'; readonly at: Trigger; readonly times: number }
  /** The target target group loses its healthy targets. */
  | { readonly kind: 'unhealthy-target'; readonly at: Trigger }
  /**
   * ModifyListener fails until the execution has ended: the rollback exhausts its retries and the execution
   * fails outside the catch paths (RollbackFailed), leaving the listener to the safety net (I7).
   */
  | { readonly kind: 'outage'; readonly at: Trigger }
  /** An operator runs `swing abort`. */
  | { readonly kind: 'abort'; readonly at: Trigger }
  /** StopExecution from outside (`statusEventLost`: EventBridge loses this stop's status event). */
  | { readonly kind: 'stop'; readonly at: Trigger; readonly statusEventLost?: true }
  /**
   * An operator sets the weights by hand while Swing waits. Only during bakes and gates: a hand change inside
   * the adapter's read-then-write of ModifyListener is lost in any design (ELBv2 has no conditional write).
   */
  | {
      readonly kind: 'drift';
      /** `frozen`: during the rollback's drain (reverse capture's `late-rule`, reverse-capture-model.ts). */
      readonly at: Extract<Trigger, { on: 'wait' | 'frozen' }>;
      readonly weights: Weights;
    }
  /**
   * An operator reshapes the listener by hand while Swing waits (a maintenance page, a redirect, a forward to
   * another group): like drift, Swing must halt and leave it alone.
   */
  | { readonly kind: 'reshape'; readonly at: Extract<Trigger, { on: 'wait' }>; readonly to: ReshapedTo }
  /** A second rollout starts on the same listener the moment the main one stores a bake or gate token. */
  | { readonly kind: 'racer'; readonly at: Extract<Trigger, { on: 'wait' }> }
  /**
   * Reads-first: an operator re-weights (`weights`) or deletes (undefined) the `rule`th rule of Swing's that
   * exists at that moment (modulo their number) while Swing waits. Swing must halt and touch nothing.
   */
  | {
      readonly kind: 'rule-drift';
      readonly at: Extract<Trigger, { on: 'wait' }>;
      readonly rule: number;
      readonly weights?: Weights;
    }
  /** The next `times` rule writes are throttled (the ASL retries TransientFailure). */
  | { readonly kind: 'rule-throttle'; readonly at: Trigger; readonly times: number }
  /** The next `times` rule writes fail for good (a 4xx): a step stops between rule writes and rolls back. */
  | { readonly kind: 'rule-fail'; readonly at: Trigger; readonly times: number }
  /** An operator command, typed at any moment (a bake, a gate, a replay wait, a step being written). */
  | {
      readonly kind: 'operator';
      readonly at: Trigger;
      readonly command: OperatorCommand;
      /** `…-after-lost-stop`: how long after the stop the forced rollback comes (virtual ms). */
      readonly afterMs?: number;
    }
  /**
   * The invocation that made the main rollout's call at `at` stalls before its next AWS call (DynamoDB's
   * included) until `until`.
   */
  | { readonly kind: 'stall'; readonly at: Trigger; readonly until: StallUntil }
  /**
   * A lost answer whose attempt then stalls: the invocation's answer is lost after `afterMs` (the Retry starts
   * another attempt) and its `call`th AWS call (DynamoDB's included) waits until `until`.
   */
  | {
      readonly kind: 'lost-stall';
      readonly at: InvocationTrigger;
      readonly afterMs: number;
      readonly call: number;
      readonly until: StallUntil;
    }
  /**
   * The listener's record is damaged between two states: as a state's invocation is about to start, or while a
   * bake, gate or wait for the replayer is open.
   */
  | {
      readonly kind: 'record-damage';
      readonly at: InvocationTrigger | Extract<Trigger, { on: 'wait' }>;
      readonly damage: RecordDamage;
    }
  /**
   * The replayer falls behind for `forMs`: the replay-lag check says lagging, and the lag alarm's ALARM and
   * then OK events are delivered as `alarm` and `ok` say (lost, at once, late, twice).
   */
  | {
      readonly kind: 'replay-lag';
      readonly at: Trigger;
      readonly forMs: number;
      readonly alarm: AlarmDelivery;
      readonly ok: AlarmDelivery;
    };

export type ReshapedTo = 'fixed-response' | 'redirect' | 'other-group';

/**
 * What an operator types: `swing pause`, `resume`, `promote`, and `swing rollback --force --yes` (with
 * `--release-lock`: `force-release`). `swing abort` is the `abort` fault. Issue 20 review 3's sequences: a forced
 * rollback without `--release-lock` followed at once by `swing abort` (`force-abort`, as the docs say to end the
 * holder) or by an alarm whose event comes at once (`force-alarm`); and the execution stopped with its status
 * event lost, then `swing rollback --force --yes [--release-lock]` `afterMs` later on the ended holder that still
 * holds the lock (`force-after-lost-stop`, `force-release-after-lost-stop`).
 */
export type OperatorCommand =
  | 'pause'
  | 'resume'
  | 'promote'
  | 'force'
  | 'force-release'
  | 'force-abort'
  | 'force-alarm'
  | ForceAfterLostStop;

export type ForceAfterLostStop = 'force-after-lost-stop' | 'force-release-after-lost-stop';

export function isForceAfterLostStop(command: OperatorCommand): command is ForceAfterLostStop {
  return command.endsWith('after-lost-stop');
}

/**
 * Until when a stalled call waits: the main execution's `nth` next Lambda invocation (of `state`, when given)
 * begins, that is, until the execution has moved on to it (a throttled SDK call retrying inside the invocation,
 * a long GC pause). Never longer than STALL_CAP_MS: a Lambda is stopped at its timeout.
 */
export interface StallUntil {
  readonly state?: 'ShiftWeights' | 'Bake' | 'AfterBake' | 'Gate' | 'WaitForReplay' | 'Rollback' | 'Complete';
  readonly nth: number;
}

/** A stall never lasts longer (below every function's timeout, 30 s for ShiftWeights). */
export const STALL_CAP_MS = 25_000;

/** How a record is damaged: `startingWeights` null, 0/0, or missing (an edit by hand, a bad migration). */
/** The starting weights null, 0/0 or missing; or the last written weights null (the forward path reads them too). */
export type RecordDamage = 'null' | 'zero' | 'missing' | 'last-written-null';

/** A rule of someone else's on the listener from the start. */
export interface ForeignRule {
  readonly priority: number;
  readonly kind: ForeignRuleKind;
}

/**
 * - `security-403`: a fixed response 403 on `/_plugins/_security/*`;
 * - `other-app`: another application's host (`other.example.com`), forwarded to its own group;
 * - `maintenance`: a fixed response 503 on `/maintenance*`;
 * - `catch-all`: every path forwarded to another group (reads-first cannot work under it).
 */
export type ForeignRuleKind = 'security-403' | 'other-app' | 'maintenance' | 'catch-all';

/**
 * Another rollout holds the listener when this one starts (an all-mode rollout at `weights`, itself started
 * from the scenario's starting weights) and releases the lock just before this rollout's `releaseAtCall`th
 * AWS call (or once this one has ended): `completed` leaves its weights, `rolled-back` restores its own start.
 */
export interface PriorHolder {
  readonly weights: Weights;
  readonly releaseAtCall: number;
  readonly ends: 'completed' | 'rolled-back';
}

export type GateResolution =
  | { readonly by: 'promote' | 'abort'; readonly afterMs: number }
  /** Nobody acts: the gate times out and its configured action (rollback or promote) applies. */
  | { readonly by: 'timeout' };

export interface ScenarioStep {
  readonly targetPercent: number;
  readonly bakeSeconds: number;
  readonly gate: boolean;
}

/** A reads-first rollout's own settings, in plan seconds, and how its cutover gate (manual) is resolved. */
export interface ReadsFirstScenario {
  readonly cutoverGate: 'manual' | 'replay-lag';
  readonly afterCutover: 'rollback' | 'hold';
  readonly cutoverBakeSeconds: number;
  /** Up to a few reconciler intervals, so that the reconciler meets pins a hold still keeps. */
  readonly scrollKeepAliveSeconds: number;
  readonly replayWaitSeconds: number;
  /** `then: restore`: the reads ramp and go back, writes never move. */
  readonly rehearsal: boolean;
  readonly cutoverResolution: GateResolution;
  /** Reverse capture configured (issue 22): a rollback after the cutover freezes, drains, restores. */
  readonly reverse?: ReverseScenario;
}

export interface Scenario {
  readonly starting: Weights;
  /** Reads-first settings; absent: all traffic is split by weight. */
  readonly readsFirst?: ReadsFirstScenario;
  readonly steps: readonly ScenarioStep[];
  /** Plan given as a spec string (`10:20s,50:4s!,100`) rather than an object: both parse paths run. */
  readonly asSpec: boolean;
  readonly gate: { readonly timeoutSeconds: number; readonly action: 'rollback' | 'promote' };
  /** One per gated step, in order. */
  readonly gateResolutions: readonly GateResolution[];
  readonly faults: readonly Fault[];
  /** How both the alarm checks and the alarm events treat INSUFFICIENT_DATA. */
  readonly insufficientData: 'not-firing' | 'firing';
  /** How long every Lambda invocation takes to start, on the virtual clock. */
  readonly latencyMs: number;
  /** EventBridge drops the main execution's "Execution Status Change" event (best effort on AWS). */
  readonly statusEventLost: boolean;
  /** Group stickiness on the weighted forward (its duration in seconds); absent: off. */
  readonly stickySeconds?: number;
  /** Rules of someone else's on the listener from the start. */
  readonly foreignRules?: readonly ForeignRule[];
  /** Another rollout holds the listener at the start. */
  readonly priorHolder?: PriorHolder;
  /** Settlers racing the status event's safety net once its wait is over; absent: it settles alone. */
  readonly settleRace?: SettleRace;
}

/**
 * Who else settles the ended execution at the moment the status event's safety net does, and how long each one's
 * calls (the record, ELBv2) take on the virtual clock, so that their record reads, rule reads and DeleteRules
 * interleave: a twin safety net (EventBridge delivered the same status event twice: both wait until its time
 * + 75 s), and the scheduled reconciler reaching the lock `afterMs` after that wait ended.
 */
export interface SettleRace {
  readonly safetyNetCallMs: number;
  readonly twin?: { readonly callMs: number };
  readonly reconciler?: { readonly callMs: number; readonly afterMs: number };
}

export interface Wait {
  readonly kind: 'bake' | 'gate';
  readonly step: number;
}

/**
 * The bakes and gates of a plan in the order a rollout with no fault and a caught-up replayer opens them. A
 * reads-first plan (not a rehearsal) ends with the write cutover at index `steps.length`: its gate (manual),
 * then its bake; then the pins leave at index `steps.length + 1`, baked under alarm watch for as long.
 */
export function waitsOf(
  steps: readonly Pick<ScenarioStep, 'gate'>[],
  readsFirst?: Pick<ReadsFirstScenario, 'cutoverGate' | 'rehearsal'>,
): Wait[] {
  const waits = steps.flatMap((step, index): Wait[] =>
    step.gate
      ? [
          { kind: 'bake', step: index },
          { kind: 'gate', step: index },
        ]
      : [{ kind: 'bake', step: index }],
  );
  if (!readsFirst || readsFirst.rehearsal) return waits;
  const cutover = steps.length;
  // The cutover gate opens after the last read step's bake; when that step has a gate, it is the same one.
  const cutoverGate = readsFirst.cutoverGate === 'manual' && !steps.at(-1)?.gate;
  return [
    ...waits,
    ...(cutoverGate ? [{ kind: 'gate' as const, step: cutover - 1 }] : []),
    { kind: 'bake', step: cutover },
    { kind: 'bake', step: cutover + 1 },
  ];
}

/** Faults that end the wait they land in at once: a bake they target may be long, it costs no time. */
const endsTheWait = (fault: Fault) =>
  (fault.kind === 'alarm' && fault.delivery.by !== 'none' && fault.value === 'ALARM') ||
  fault.kind === 'abort' ||
  fault.kind === 'stop' ||
  (fault.kind === 'operator' && (isForceAfterLostStop(fault.command) || fault.command === 'force-abort'));

/**
 * The plan the scenario runs: every bake a fault targets outlasts the fault's moment by WAIT_MARGIN_MS, and a
 * bake that an ending fault targets is long, so that reaching the rollback before the bake's end proves it
 * did not wait for the timeout.
 */
export function planSteps(scenario: Scenario): PlanStep[] {
  return stretchedBakes(scenario).steps;
}

/** The cutover's bake as run (stretched as planSteps stretches the plan's), for a reads-first scenario. */
export function cutoverBakeSeconds(scenario: Scenario): number {
  return stretchedBakes(scenario).cutoverBakeSeconds;
}

function stretchedBakes(scenario: Scenario): { steps: PlanStep[]; cutoverBakeSeconds: number } {
  const waits = waitsOf(scenario.steps, scenario.readsFirst);
  // The cutover and the pins' step bake alike (cutoverBakeSeconds): a fault aimed at either stretches both.
  const bakeSeconds = [
    ...scenario.steps.map((step) => step.bakeSeconds),
    scenario.readsFirst?.cutoverBakeSeconds ?? 0,
    scenario.readsFirst?.cutoverBakeSeconds ?? 0,
  ];
  for (const fault of scenario.faults) {
    if (fault.at.on !== 'wait') continue;
    const wait = waits[fault.at.k];
    if (wait?.kind !== 'bake') continue;
    const neededMs = endsTheWait(fault)
      ? LONG_BAKE_SECONDS * MS_PER_SECOND
      : fault.at.afterMs + scenario.latencyMs + WAIT_MARGIN_MS;
    bakeSeconds[wait.step] = Math.max(bakeSeconds[wait.step] ?? 0, Math.ceil(neededMs / MS_PER_SECOND));
  }
  return {
    steps: scenario.steps.map((step, index) => ({
      targetPercent: step.targetPercent,
      bakeSeconds: bakeSeconds[index] ?? step.bakeSeconds,
      gate: step.gate,
    })),
    cutoverBakeSeconds: Math.max(
      bakeSeconds[scenario.steps.length] ?? 0,
      bakeSeconds[scenario.steps.length + 1] ?? 0,
    ),
  };
}

// ---- Arbitraries ------------------------------------------------------------------------------------------

/**
 * The kinds of event drawn since issue 20, each switched on once the engine keeps the guarantee that judges it
 * (drawn while its defect is open, it fails `npm test`): operator commands at any moment, stalls between two
 * AWS calls (and a lost answer whose attempt then stalls), a sticky weighted action, foreign rules on the
 * listener at the start, a damaged record, another rollout holding the listener at the start, and settlers
 * racing the safety net (a twin of it, the reconciler).
 */
const DRAWN_BY_DEFAULT = {
  operatorCommands: true,
  settleRaces: true,
  stalls: true,
  sticky: true,
  foreignRules: true,
  recordDamage: true,
  priorHolder: true,
  /**
   * Reverse capture's `late-rule` hand change also during a settler's drain (the safety net's, the reconciler's):
   * off while the reconciler sweeps the rules of a rollout held after the cutover that a settler then halted for
   * that hand change (docs/guarantees.md).
   */
  settlerHandChange: false,
};
export type DrawnKind = keyof typeof DRAWN_BY_DEFAULT;

/**
 * `SWING_FC_DRAW=stalls,priorHolder` (or `all`) also draws kinds that are not drawn by default, to see what
 * they find (a replay needs the same setting).
 */
export const DRAWN: Readonly<Record<DrawnKind, boolean>> = (() => {
  const asked = (process.env.SWING_FC_DRAW ?? '').split(',').map((name) => name.trim());
  const unknown = asked.filter((name) => name !== '' && name !== 'all' && !(name in DRAWN_BY_DEFAULT));
  if (unknown.length > 0) {
    throw new Error(
      `SWING_FC_DRAW names ${unknown.join(', ')}: use all or some of ${Object.keys(DRAWN_BY_DEFAULT).join(', ')}`,
    );
  }
  return Object.fromEntries(
    Object.entries(DRAWN_BY_DEFAULT).map(([kind, drawn]) => [
      kind,
      drawn || asked.includes('all') || asked.includes(kind),
    ]),
  ) as Record<DrawnKind, boolean>;
})();

const weightsArbitrary: fc.Arbitrary<Weights> = fc.oneof(
  fc.constant({ source: 1, target: 0 }),
  fc.constant({ source: WEIGHT_TOTAL, target: 0 }),
  fc
    .record({ source: fc.integer({ min: 0, max: 999 }), target: fc.integer({ min: 0, max: 999 }) })
    .filter((weights) => weights.source + weights.target > 0),
);

/**
 * Hand-set weights that Swing never writes (its pairs sum to 999) and that differ from the starting ones, so
 * that the end state tells who wrote last.
 */
function handWeights(starting: Weights): fc.Arbitrary<Weights> {
  return fc
    .record({ source: fc.integer({ min: 0, max: 999 }), target: fc.integer({ min: 0, max: 999 }) })
    .filter(
      (weights) =>
        weights.source + weights.target > 0 &&
        weights.source + weights.target !== WEIGHT_TOTAL &&
        !(weights.source === starting.source && weights.target === starting.target),
    );
}

const stepsArbitrary: fc.Arbitrary<ScenarioStep[]> = fc
  .uniqueArray(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 5 })
  .chain((tenths) =>
    fc.tuple(
      ...[...tenths]
        .sort((a, b) => a - b)
        .map((tenth) =>
          fc.record({
            targetPercent: fc.constant(tenth / 10),
            bakeSeconds: fc.integer({ min: 1, max: 20 }),
            gate: fc.constantFrom(false, false, false, true),
          }),
        ),
    ),
  );

function triggerArbitrary(callCount: number, waitCount: number, ruleWrites = 0): fc.Arbitrary<Trigger> {
  const base = [
    fc.record({ on: fc.constant('call' as const), n: fc.integer({ min: 1, max: callCount }) }),
    waitTriggerArbitrary(waitCount),
  ];
  if (ruleWrites === 0) return fc.oneof(...base);
  // Reads-first: every point of the rollout a failure can meet, named (see readsFirstTriggerArbitrary).
  return fc.oneof(...base, readsFirstTriggerArbitrary(ruleWrites), readsFirstTriggerArbitrary(ruleWrites));
}

/**
 * Reads-first points a failure must be able to meet: before the first rule write and between rule writes
 * (rule-write n), at the write cutover (the first ModifyListener), and while a state works: the shift (its
 * rule writes), the check after a bake, Complete (removing the pins), Rollback and Rehearse (removing rules).
 * The bakes, gates and waits for the replayer are `wait` triggers.
 */
function readsFirstTriggerArbitrary(ruleWrites: number): fc.Arbitrary<Trigger> {
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        on: fc.constant('rule-write' as const),
        n: fc.integer({ min: 1, max: ruleWrites }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ on: fc.constant('listener-write' as const), n: fc.constantFrom(1, 1, 2) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        on: fc.constant('in-state' as const),
        state: fc.constantFrom<TriggerState>(
          'ShiftWeights',
          'AfterBake',
          'Complete',
          'Complete',
          'Rollback',
          'Rehearse',
        ),
        n: fc.integer({ min: 1, max: 8 }),
      }),
    },
  );
}

function waitTriggerArbitrary(waitCount: number): fc.Arbitrary<Extract<Trigger, { on: 'wait' }>> {
  return fc.record({
    on: fc.constant('wait' as const),
    k: fc.integer({ min: 0, max: waitCount - 1 }),
    afterMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1000 })),
  });
}

const invocationTriggerArbitrary: fc.Arbitrary<InvocationTrigger> = fc.oneof(
  fc.record({ on: fc.constant('invocation' as const), n: fc.integer({ min: 1, max: 30 }) }),
  fc.record({
    on: fc.constant('invocation' as const),
    state: fc.constantFrom('Bake' as const, 'Bake' as const, 'Gate' as const, 'ShiftWeights' as const),
    n: fc.integer({ min: 1, max: 5 }),
  }),
  fc.record({
    on: fc.constant('invocation' as const),
    state: fc.constantFrom('AfterBake' as const, 'Rollback' as const),
    n: fc.integer({ min: 1, max: 3 }),
  }),
);

const alarmDeliveryArbitrary: fc.Arbitrary<AlarmDelivery> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ by: 'none' as const }) },
  { weight: 3, arbitrary: fc.constant({ by: 'at-once' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      by: fc.constantFrom('late' as const, 'twice' as const),
      lateMs: fc.integer({ min: 1, max: 30_000 }),
    }),
  },
);

function faultArbitrary(
  starting: Weights,
  steps: readonly ScenarioStep[],
  readsFirst: Pick<ReadsFirstScenario, 'cutoverGate' | 'rehearsal'> | undefined,
  promoting: readonly number[],
): fc.Arbitrary<Fault> {
  const waits = waitsOf(steps, readsFirst);
  const waitCount = waits.length;
  // About 8 calls per step (read, alarm check, health, write, read-back, bake and after-bake checks) plus
  // preflight, rollback and safety net: triggers past the end simply never fire. A read step also reads the
  // rules and their tags, and writes 7 rules (the first) or 4; the cutover and the end remove 7.
  const callCount = readsFirst ? 14 * steps.length + 24 : 8 * steps.length + 6;
  const ruleWrites = readsFirst ? 4 * steps.length + 14 : 0;
  const trigger = triggerArbitrary(callCount, waitCount, ruleWrites);
  const waitTrigger = waitTriggerArbitrary(waitCount);
  const common = [
    ...faultsOfEveryMode(starting, trigger, waitTrigger, waitCount),
    ...newFaults(callCount, waits, promoting, steps.length),
  ];
  if (!readsFirst) return fc.oneof(...common);
  return fc.oneof(
    ...common,
    ...(DRAWN.operatorCommands
      ? [
          {
            // `swing rollback --force` in the middle of a step's rule writes: mostly while the first step creates
            // its rules (the pins and writes-to-source first, the read rules last), where a step going on after the
            // forced removal would leave read rules unguarded.
            weight: 2,
            arbitrary: fc.record({
              kind: fc.constant('operator' as const),
              at: fc.record({
                on: fc.constant('rule-write' as const),
                n: fc.oneof(
                  { weight: 3, arbitrary: fc.integer({ min: 2, max: SWING_RULE_SET.length }) },
                  { weight: 1, arbitrary: fc.integer({ min: 1, max: ruleWrites }) },
                ),
              }),
              command: fc.constantFrom<OperatorCommand>('force', 'force-release', 'force-abort'),
            }),
          },
        ]
      : []),
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('rule-drift' as const),
        at: waitTrigger,
        rule: fc.integer({ min: 0, max: 6 }),
        weights: fc.option(handWeights({ source: PIN_SOURCE, target: 0 }), { nil: undefined }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('rule-throttle' as const),
        at: trigger,
        times: fc.integer({ min: 1, max: 3 }),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('rule-fail' as const),
        at: trigger,
        times: fc.integer({ min: 1, max: 2 }),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('replay-lag' as const),
        at: trigger,
        forMs: fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 5000, max: 200_000 })),
        alarm: alarmDeliveryArbitrary,
        ok: alarmDeliveryArbitrary,
      }),
    },
  );
}

/** The source weight of a pin rule (all to the source): hand weights differ from it. */
const PIN_SOURCE = WEIGHT_TOTAL;

function faultsOfEveryMode(
  starting: Weights,
  trigger: fc.Arbitrary<Trigger>,
  waitTrigger: fc.Arbitrary<Extract<Trigger, { on: 'wait' }>>,
  waitCount: number,
): fc.WeightedArbitrary<Fault>[] {
  return [
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constant('alarm' as const),
        at: trigger,
        value: fc.constantFrom<'ALARM' | 'INSUFFICIENT_DATA'>('ALARM', 'ALARM', 'ALARM', 'INSUFFICIENT_DATA'),
        delivery: alarmDeliveryArbitrary,
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('slow-invocation' as const),
        at: invocationTriggerArbitrary,
        // Up to 30 s: Swing's Lambdas time out within 60 s, and the safety net waits 75 s after a stop.
        delayMs: fc.oneof(fc.integer({ min: 100, max: 3000 }), fc.integer({ min: 3000, max: 30_000 })),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('lost-answer' as const),
        at: invocationTriggerArbitrary,
        afterMs: fc.integer({ min: 0, max: 1000 }),
        delayMs: fc.integer({ min: 0, max: 5000 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('throttle' as const),
        at: trigger,
        times: fc.integer({ min: 1, max: 3 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('modify-error' as const),
        at: trigger,
        times: fc.integer({ min: 1, max: 2 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('describe-error' as const),
        at: trigger,
        times: fc.integer({ min: 1, max: 3 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('unhealthy-target' as const), at: trigger }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('outage' as const), at: trigger }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('abort' as const), at: trigger }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('stop' as const), at: trigger }) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('drift' as const),
        at: waitTrigger,
        weights: handWeights(starting),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('reshape' as const),
        at: waitTrigger,
        to: fc.constantFrom<ReshapedTo>('fixed-response', 'redirect', 'other-group'),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('racer' as const),
        at: fc.record({
          on: fc.constant('wait' as const),
          k: fc.integer({ min: 0, max: waitCount - 1 }),
          afterMs: fc.constant(0),
        }),
      }),
    },
  ];
}

/**
 * Any moment of a rollout an operator or a stall can meet: a bake, a gate or a wait for the replayer (at once,
 * or up to a second in), a step being written (ShiftWeights' calls: its reads, its record writes, its
 * ModifyListener or rule writes), the check after a bake, Complete, a rollback, or any AWS call.
 */
function anyMomentArbitrary(callCount: number, waitCount: number): fc.Arbitrary<Trigger> {
  return fc.oneof(
    { weight: 4, arbitrary: waitTriggerArbitrary(waitCount) },
    {
      weight: 4,
      arbitrary: fc.record({
        on: fc.constant('in-state' as const),
        state: fc.constantFrom<TriggerState>(
          'ShiftWeights',
          'ShiftWeights',
          'AfterBake',
          'Complete',
          'Rollback',
        ),
        n: fc.integer({ min: 1, max: 6 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ on: fc.constant('call' as const), n: fc.integer({ min: 1, max: callCount }) }),
    },
  );
}

const stallUntilArbitrary: fc.Arbitrary<StallUntil> = fc.oneof(
  // The next bake opening (or wait for the replayer): a stale writer meets the token being stored.
  { weight: 4, arbitrary: fc.constant({ state: 'Bake' as const, nth: 1 }) },
  { weight: 1, arbitrary: fc.constant({ state: 'WaitForReplay' as const, nth: 1 }) },
  {
    weight: 2,
    arbitrary: fc.record({
      state: fc.constantFrom(
        'ShiftWeights' as const,
        'AfterBake' as const,
        'Gate' as const,
        'Rollback' as const,
        'Complete' as const,
      ),
      nth: fc.integer({ min: 1, max: 2 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ nth: fc.integer({ min: 1, max: 4 }) }) },
);

/** Invocations whose lost answer and stall let a stale attempt write late: mostly the ones that write the record. */
function staleWriterArbitrary(stepCount: number): fc.Arbitrary<InvocationTrigger> {
  return fc.oneof(
    // An AfterBake with a step after it: its stale write can meet that step's bake opening (defect 3's kind).
    {
      weight: 3,
      arbitrary: fc.record({
        on: fc.constant('invocation' as const),
        state: fc.constant('AfterBake' as const),
        n: fc.integer({ min: 1, max: Math.max(1, Math.min(3, stepCount - 1)) }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        on: fc.constant('invocation' as const),
        state: fc.constantFrom(
          'AfterBake' as const,
          'ShiftWeights' as const,
          'Bake' as const,
          'Gate' as const,
          'Rollback' as const,
        ),
        n: fc.integer({ min: 1, max: 3 }),
      }),
    },
  );
}

/**
 * Which call of the stale attempt stalls: mostly the second or third, after its read of the record and before
 * its record write (AfterBake's alarm check and delivered-split measure), where waking late writes stale news.
 */
const staleCallArbitrary: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 2, max: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }) },
);

/** The kinds of DRAWN, at the rates they are drawn once switched on. */
function newFaults(
  callCount: number,
  waits: readonly Wait[],
  promoting: readonly number[],
  stepCount: number,
): fc.WeightedArbitrary<Fault>[] {
  const waitCount = waits.length;
  const moment = anyMomentArbitrary(callCount, waitCount);
  // Most pauses and resumes come at an open gate (the write cutover's included), where they meet its timeout;
  // mostly at one whose timeout promotes, when there is one, where a pause that does not hold goes on.
  const gates = waits.flatMap((wait, k) => (wait.kind === 'gate' ? [k] : []));
  const atGate = (ks: readonly number[]): fc.Arbitrary<Trigger> =>
    fc.record({
      on: fc.constant('wait' as const),
      k: fc.constantFrom(...ks),
      afterMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1000 })),
    });
  const atGateOrAnyMoment: fc.Arbitrary<Trigger> =
    gates.length === 0
      ? moment
      : fc.oneof(
          ...(promoting.length > 0 ? [{ weight: 5, arbitrary: atGate(promoting) }] : []),
          { weight: 3, arbitrary: atGate(gates) },
          { weight: 2, arbitrary: moment },
        );
  return [
    ...(DRAWN.operatorCommands
      ? [
          {
            weight: 8,
            arbitrary: fc.record({
              kind: fc.constant('operator' as const),
              at: atGateOrAnyMoment,
              command: fc.constantFrom<OperatorCommand>(
                'pause',
                'pause',
                'pause',
                'resume',
                'resume',
                'promote',
              ),
            }),
          },
          {
            // Only while Swing waits, as a hand change: one made between Swing's read of the listener and its
            // ModifyListener is lost in any design (ELBv2 has no conditional write; docs/guarantees.md).
            weight: 2,
            arbitrary: fc.record({
              kind: fc.constant('operator' as const),
              at: waitTriggerArbitrary(waitCount),
              command: fc.constantFrom<OperatorCommand>('force', 'force-release'),
            }),
          },
          {
            // Review 3: a forced rollback without --release-lock, then what ends the holder (an abort, an alarm);
            // or a holder stopped with its status event lost, then the forced rollback on it before the
            // reconciler's run, within the safety net's wait (10 s: its rules kept) or after it (180 s).
            weight: 3,
            arbitrary: fc.oneof(
              fc.record({
                kind: fc.constant('operator' as const),
                at: waitTriggerArbitrary(waitCount),
                command: fc.constantFrom<OperatorCommand>('force-abort', 'force-alarm'),
              }),
              fc.record({
                kind: fc.constant('operator' as const),
                at: waitTriggerArbitrary(waitCount),
                command: fc.constantFrom<OperatorCommand>(
                  'force-after-lost-stop',
                  'force-release-after-lost-stop',
                ),
                afterMs: fc.constantFrom(10_000, 180_000),
              }),
            ),
          },
        ]
      : []),
    ...(DRAWN.stalls
      ? [
          {
            weight: 3,
            arbitrary: fc.record({
              kind: fc.constant('stall' as const),
              at: moment,
              until: stallUntilArbitrary,
            }),
          },
          {
            weight: 4,
            arbitrary: fc.record({
              kind: fc.constant('lost-stall' as const),
              at: staleWriterArbitrary(stepCount),
              afterMs: fc.integer({ min: 0, max: 1000 }),
              call: staleCallArbitrary,
              until: stallUntilArbitrary,
            }),
          },
        ]
      : []),
    ...(DRAWN.recordDamage
      ? [
          {
            weight: 2,
            arbitrary: fc.record({
              kind: fc.constant('record-damage' as const),
              at: fc.oneof(invocationTriggerArbitrary, waitTriggerArbitrary(waitCount)),
              damage: fc.constantFrom<RecordDamage>('null', 'zero', 'missing', 'last-written-null'),
            }),
          },
        ]
      : []),
  ];
}

const foreignRulesArbitrary: fc.Arbitrary<ForeignRule[]> = fc.uniqueArray(
  fc.record({
    // Before Swing's rules (1-999), among them (1000-1006, its default base), or after them.
    priority: fc.oneof(
      fc.integer({ min: 1, max: 999 }),
      fc.integer({ min: 1000, max: 1006 }),
      fc.integer({ min: 1007, max: 1100 }),
      fc.integer({ min: 1101, max: 50_000 }),
    ),
    kind: fc.constantFrom<ForeignRuleKind>('security-403', 'other-app', 'maintenance', 'catch-all'),
  }),
  { minLength: 1, maxLength: 3, selector: (rule) => rule.priority },
);

const priorHolderArbitrary: fc.Arbitrary<PriorHolder> = fc.record({
  weights: fc.integer({ min: 1, max: 999 }).map((tenth) => percentToWeights(tenth / 10)),
  releaseAtCall: fc.integer({ min: 1, max: 5 }),
  ends: fc.constantFrom('completed' as const, 'rolled-back' as const),
});

/** One run in `every` draws a value; the others none. */
const sometimes = <T>(every: number, arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: every - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });

const gateResolutionArbitrary: fc.Arbitrary<GateResolution> = fc.oneof(
  // Later than any fault planned in the gate (afterMs <= 1000) and well before the gate's timeout (>= 60 s).
  fc.record({
    by: fc.constantFrom('promote' as const, 'abort' as const),
    afterMs: fc.integer({ min: 1500, max: 3000 }),
  }),
  fc.constant({ by: 'timeout' as const }),
);

/**
 * Starting weights and a plan. Preflight refuses a plan whose first step is below the target's share, so most
 * runs lower the starting share to at most the first step (keeping the source weight, so odd sums stay);
 * one in eight keeps it as drawn, to exercise the refusal.
 */
const startAndStepsArbitrary: fc.Arbitrary<[Weights, ScenarioStep[]]> = fc
  .tuple(weightsArbitrary, stepsArbitrary, fc.integer({ min: 0, max: 7 }))
  .map(([drawn, steps, keepAsDrawn]) => {
    const first = percentToWeights(steps[0]?.targetPercent ?? 100);
    if (keepAsDrawn === 0 || !isIncrease(first, drawn)) return [drawn, steps];
    // Below 100 % (first.source > 0): shrink the target's weight until its share is at most the first step's.
    if (drawn.source === 0) return [first, steps];
    return [
      { source: drawn.source, target: Math.floor((first.target * drawn.source) / first.source) },
      steps,
    ];
  });

const readsFirstDrawn: fc.Arbitrary<Omit<ReadsFirstScenario, 'cutoverResolution'>> = fc.record(
  {
    cutoverGate: fc.constantFrom('manual' as const, 'replay-lag' as const),
    afterCutover: fc.constantFrom('rollback' as const, 'hold' as const),
    cutoverBakeSeconds: fc.integer({ min: 0, max: 20 }),
    // Mostly short; some outlast a reconciler run or two (5 min each), to prove the reconciler keeps the pins a
    // hold keeps until then, and removes them after.
    scrollKeepAliveSeconds: fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 30 }) },
      { weight: 1, arbitrary: fc.integer({ min: 30, max: 900 }) },
    ),
    replayWaitSeconds: fc.integer({ min: 5, max: 120 }),
    rehearsal: fc.constantFrom(false, false, false, true),
    // Three reads-first runs in four have reverse capture: a rollback after their cutover freezes and drains.
    reverse: fc.option(reverseScenarioArbitrary, { nil: undefined, freq: 4 }),
  },
  {
    requiredKeys: [
      'cutoverGate',
      'afterCutover',
      'cutoverBakeSeconds',
      'scrollKeepAliveSeconds',
      'replayWaitSeconds',
      'rehearsal',
      'reverse',
    ],
  },
);

/** With reverse capture the after-cutover policy is mostly rollback: a hold freezes nothing. */
const readsFirstArbitrary = readsFirstDrawn.chain((drawn) =>
  drawn.reverse
    ? fc
        .constantFrom('rollback' as const, 'rollback' as const, 'rollback' as const, drawn.afterCutover)
        .map((afterCutover) => ({ ...drawn, afterCutover }))
    : fc.constant(drawn),
);

/**
 * A reads-first start and plan: the default action sends nothing to the target (one in eight keeps the weights
 * as drawn, to exercise preflight's refusal), and the reads end at 100 before the cutover unless the plan is a
 * rehearsal.
 */
function readsFirstStartAndSteps(rehearsal: boolean): fc.Arbitrary<[Weights, ScenarioStep[]]> {
  return fc
    .tuple(weightsArbitrary, stepsArbitrary, fc.integer({ min: 0, max: 7 }))
    .map(([drawn, steps, keepAsDrawn]) => {
      const starting = keepAsDrawn === 0 ? drawn : { source: Math.max(1, drawn.source), target: 0 };
      if (rehearsal) return [starting, steps];
      const last = steps.at(-1);
      return [starting, last ? [...steps.slice(0, -1), { ...last, targetPercent: 100 }] : steps];
    });
}

const callMs = fc.integer({ min: 1, max: 40 });
const settleRaceArbitrary: fc.Arbitrary<SettleRace> = fc.oneof(
  fc.record({ safetyNetCallMs: callMs, twin: fc.record({ callMs }) }),
  fc.record({
    safetyNetCallMs: callMs,
    reconciler: fc.record({ callMs, afterMs: fc.integer({ min: 0, max: 300 }) }),
  }),
  fc.record({
    safetyNetCallMs: callMs,
    twin: fc.record({ callMs }),
    reconciler: fc.record({ callMs, afterMs: fc.integer({ min: 0, max: 300 }) }),
  }),
);

function scenarioOf(
  [starting, steps]: [Weights, ScenarioStep[]],
  readsFirst?: Omit<ReadsFirstScenario, 'cutoverResolution'>,
): fc.Arbitrary<Scenario> {
  // The gates are drawn first: the faults aim at the gates whose timeout promotes (see newFaults).
  const gating = fc.record({
    ...(readsFirst
      ? {
          readsFirst: gateResolutionArbitrary.map((cutoverResolution) => ({
            ...readsFirst,
            cutoverResolution,
          })),
        }
      : {}),
    gate: fc.record({
      timeoutSeconds: fc.integer({ min: 60, max: 120 }),
      action: fc.constantFrom('rollback' as const, 'promote' as const),
    }),
    gateResolutions: fc.tuple(...steps.filter((step) => step.gate).map(() => gateResolutionArbitrary)),
  });
  return gating.chain((gated) =>
    fc
      .record({
        asSpec: fc.boolean(),
        insufficientData: fc.constantFrom<'not-firing' | 'firing'>('not-firing', 'not-firing', 'firing'),
        latencyMs: fc.constantFrom(0, 20, 200),
        statusEventLost: fc.constantFrom(false, false, false, false, false, false, false, true),
        ...(DRAWN.sticky
          ? {
              stickySeconds: sometimes(7, fc.integer({ min: 1, max: 604_800 })),
            }
          : {}),
        ...(DRAWN.foreignRules ? { foreignRules: sometimes(4, foreignRulesArbitrary) } : {}),
        ...(DRAWN.priorHolder ? { priorHolder: sometimes(7, priorHolderArbitrary) } : {}),
        ...(DRAWN.settleRaces ? { settleRace: sometimes(2, settleRaceArbitrary) } : {}),
        // One run in seven has no fault at all: it must complete (or end as its gates say).
        faults: fc.oneof(
          { weight: 1, arbitrary: fc.constant([]) },
          {
            weight: 6,
            arbitrary: fc.array(faultArbitrary(starting, steps, readsFirst, promotingGates(steps, gated)), {
              minLength: 1,
              maxLength: 3,
            }),
          },
        ),
      })
      .map((rest): Scenario => withAlarmAfterCutover({ starting, steps, ...gated, ...rest })),
  );
}

/**
 * Reverse capture's drawn alarm and end after the cutover (reverse-capture-model.ts), as more faults of the run,
 * and the hand change during the drain that halts the rollback of a `late-rule` freeze fault.
 */
function withAlarmAfterCutover(scenario: Scenario): Scenario {
  const drawn = withAlarmAndEnd(scenario);
  const late = scenario.readsFirst?.reverse?.freezeFault;
  if (late?.kind !== 'late-rule' || scenario.readsFirst?.rehearsal) return drawn;
  const handChange: Fault = {
    kind: 'drift',
    at: {
      on: 'frozen',
      afterMs: late.handChangeAfterMs,
      ...(DRAWN.settlerHandChange ? { settlers: true as const } : {}),
    },
    weights: late.handWeights,
  };
  return {
    ...drawn,
    faults: [...drawn.faults, handChange],
    statusEventLost: drawn.statusEventLost || late.statusEventLost,
  };
}

function withAlarmAndEnd(scenario: Scenario): Scenario {
  const readsFirst = scenario.readsFirst;
  const { alarmAfterCutover: alarm, endAfterCutover: end, freezeFault } = readsFirst?.reverse ?? {};
  if (!readsFirst || readsFirst.rehearsal || (!alarm && !end)) return scenario;
  // A run drawn to end after the cutover, or with a fault of the rollback's Freeze, is made to reach the cutover.
  const reach = end !== undefined || freezeFault !== undefined;
  const waits = waitsOf(scenario.steps, readsFirst);
  const inBake = (bake: 'cutover' | 'pins', afterMs: number): Extract<Trigger, { on: 'wait' }> => ({
    on: 'wait',
    k: waits.length - (bake === 'cutover' ? 2 : 1),
    afterMs,
  });
  const alarmAt = (at: Trigger): Fault => ({
    kind: 'alarm',
    at,
    value: 'ALARM',
    delivery: { by: 'at-once' },
  });
  const faults: Fault[] = alarm ? [alarmAt(inBake(alarm.in, alarm.afterMs))] : [];
  // Such a run keeps only the faults that cannot end it before: those that slow or throttle, and any that strike
  // in the cutover's bake or later, or in the Rollback state.
  const cutoverBake = waits.length - 2;
  const kept = reach
    ? scenario.faults.filter(
        (fault) =>
          ENDS_NOTHING.has(fault.kind) ||
          (fault.at.on === 'wait' && fault.at.k >= cutoverBake) ||
          (fault.at.on === 'in-state' && fault.at.state === 'Rollback'),
      )
    : scenario.faults;
  if (end?.by === 'outage') {
    faults.push(
      { kind: 'outage', at: inBake(end.in, end.afterMs) },
      alarmAt(inBake(end.in, end.afterMs + 1)),
    );
  } else if (end) {
    faults.push({
      kind: 'stop',
      at: inBake(end.in, end.afterMs),
      ...(end.by === 'stop-event-lost' ? { statusEventLost: true as const } : {}),
    });
  }
  if (!reach) return { ...scenario, faults: [...kept, ...faults] };
  // Its gates are promoted, so that it reaches the cutover.
  const promoted = (resolution: GateResolution): GateResolution =>
    resolution.by === 'promote' ? resolution : { by: 'promote', afterMs: 2000 };
  return {
    ...scenario,
    gateResolutions: scenario.gateResolutions.map(promoted),
    readsFirst: { ...readsFirst, cutoverResolution: promoted(readsFirst.cutoverResolution) },
    faults: [...kept, ...faults],
  };
}

/** Faults that slow or throttle a rollout but never end it by themselves. */
const ENDS_NOTHING: ReadonlySet<Fault['kind']> = new Set([
  'slow-invocation',
  'lost-answer',
  'throttle',
  'rule-throttle',
  'stall',
  'lost-stall',
  'racer',
]);

/**
 * The waits (indices of waitsOf) that are gates nobody resolves and whose timeout promotes: a pause that
 * arrives there must hold all the same (issue 20, defect 1), the write cutover's gate included.
 */
function promotingGates(
  steps: readonly ScenarioStep[],
  gated: Pick<Scenario, 'gate' | 'gateResolutions' | 'readsFirst'>,
): number[] {
  if (gated.gate.action !== 'promote') return [];
  const gatedSteps = steps.flatMap((step, index) => (step.gate ? [index] : []));
  const readsFirst = gated.readsFirst;
  return waitsOf(steps, readsFirst).flatMap((wait, k) => {
    if (wait.kind !== 'gate') return [];
    // As the run resolves them (fault-run.ts): the gate of the last read step is the cutover's when it is manual.
    const cutoverGate =
      readsFirst?.cutoverGate === 'manual' && !readsFirst.rehearsal && wait.step === steps.length - 1;
    const resolution = cutoverGate
      ? readsFirst.cutoverResolution
      : gated.gateResolutions[gatedSteps.indexOf(wait.step)];
    return resolution?.by === 'timeout' ? [k] : [];
  });
}

/** Two runs in three split all traffic by weight; one in three is reads-first. */
export const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.oneof(
  { weight: 2, arbitrary: startAndStepsArbitrary.chain((drawn) => scenarioOf(drawn)) },
  {
    weight: 1,
    arbitrary: readsFirstArbitrary.chain((readsFirst) =>
      readsFirstStartAndSteps(readsFirst.rehearsal).chain((drawn) => scenarioOf(drawn, readsFirst)),
    ),
  },
);
