import fc from 'fast-check';
import type { PlanStep, Weights } from '#domain/types.ts';
import { isIncrease, percentToWeights, WEIGHT_TOTAL } from '#domain/weights.ts';

/**
 * Random rollouts and random fault schedules for the model-based fault test.
 *
 * Time is scaled: a bake of N "seconds" lasts N * MS_PER_SECOND ms. Bakes are generated in whole scaled
 * milliseconds (even second counts) so that a fault planned `afterMs` into a wait and the wait's own timeout
 * are both whole-millisecond timers created in the same macrotask: Node fires them in order of expiry, so a
 * fault planned before the timeout always lands inside the wait, whatever the machine's load.
 */
export const MS_PER_SECOND = 0.5;
const toSeconds = (ms: number) => Math.round(ms / MS_PER_SECOND);

/**
 * A fault planned after a wait opened is due at least this long before the wait's own timeout: Node orders
 * timers by due time, and this absorbs the engine's work between the two timers' creation (and a GC pause).
 */
export const WAIT_MARGIN_MS = 10;
/** Bakes that a fault ends early (alarm event, abort, stop) last this long: the I5 check needs room. */
export const LONG_BAKE_MS = 1500;

/**
 * When a fault strikes:
 * - `call`: just before the main rollout's Nth AWS call (ELBv2 or CloudWatch, the safety net's included)
 *   is served, so it lands at any point of the engine's work: preflight, shift, read-back, after-bake, rollback.
 * - `wait`: `afterMs` after the main rollout's kth bake or gate stored its task token (0: at that very moment,
 *   before the opening task has checked the alarms).
 */
export type Trigger =
  | { readonly on: 'call'; readonly n: number }
  | { readonly on: 'wait'; readonly k: number; readonly afterMs: number };

export type Fault =
  /** CloudWatch changes state; `delivered`: EventBridge also delivers the state change to the alarm-event function. */
  | {
      readonly kind: 'alarm';
      readonly at: Trigger;
      readonly value: 'ALARM' | 'INSUFFICIENT_DATA';
      readonly delivered: boolean;
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
  /** StopExecution from outside. */
  | { readonly kind: 'stop'; readonly at: Trigger }
  /**
   * An operator sets the weights by hand while Swing waits. Only during bakes and gates: a hand change inside
   * the adapter's read-then-write of ModifyListener is lost in any design (ELBv2 has no conditional write).
   */
  | { readonly kind: 'drift'; readonly at: Extract<Trigger, { on: 'wait' }>; readonly weights: Weights }
  /**
   * An operator reshapes the listener by hand while Swing waits (a maintenance page, a redirect, a forward to
   * another group): like drift, Swing must halt and leave it alone.
   */
  | { readonly kind: 'reshape'; readonly at: Extract<Trigger, { on: 'wait' }>; readonly to: ReshapedTo }
  /** A second rollout starts on the same listener the moment the main one stores a bake or gate token. */
  | { readonly kind: 'racer'; readonly at: Extract<Trigger, { on: 'wait' }> };

export type ReshapedTo = 'fixed-response' | 'redirect' | 'other-group';

export type GateResolution =
  | { readonly by: 'promote' | 'abort'; readonly afterMs: number }
  /** Nobody acts: the gate times out and its configured action (rollback or promote) applies. */
  | { readonly by: 'timeout' };

export interface ScenarioStep {
  readonly targetPercent: number;
  readonly bakeMs: number;
  readonly gate: boolean;
}

export interface Scenario {
  readonly starting: Weights;
  readonly steps: readonly ScenarioStep[];
  /** Plan given as a spec string (`10:20s,50:4s!,100`) rather than an object: both parse paths run. */
  readonly asSpec: boolean;
  readonly gate: { readonly timeoutSeconds: number; readonly action: 'rollback' | 'promote' };
  /** One per gated step, in order. */
  readonly gateResolutions: readonly GateResolution[];
  readonly faults: readonly Fault[];
  /** How both the alarm checks and the alarm events treat INSUFFICIENT_DATA. */
  readonly insufficientData: 'not-firing' | 'firing';
}

export interface Wait {
  readonly kind: 'bake' | 'gate';
  readonly step: number;
}

/** The bakes and gates of a plan in the order a rollout with no fault opens them. */
export function waitsOf(steps: readonly Pick<ScenarioStep, 'gate'>[]): Wait[] {
  return steps.flatMap((step, index): Wait[] =>
    step.gate
      ? [
          { kind: 'bake', step: index },
          { kind: 'gate', step: index },
        ]
      : [{ kind: 'bake', step: index }],
  );
}

/** Faults that end the wait they land in at once: a bake they target may be long, it costs no time. */
const endsTheWait = (fault: Fault) =>
  (fault.kind === 'alarm' && fault.delivered && fault.value === 'ALARM') ||
  fault.kind === 'abort' ||
  fault.kind === 'stop';

/**
 * The plan the scenario runs: every bake a fault targets outlasts the fault's moment by WAIT_MARGIN_MS, and a
 * bake that an ending fault targets is long, so that reaching the rollback before the bake's end proves it
 * did not wait for the timeout.
 */
export function planSteps(scenario: Scenario): PlanStep[] {
  const waits = waitsOf(scenario.steps);
  const bakeMs = scenario.steps.map((step) => step.bakeMs);
  for (const fault of scenario.faults) {
    if (fault.at.on !== 'wait') continue;
    const wait = waits[fault.at.k];
    if (wait?.kind !== 'bake') continue;
    const needed = endsTheWait(fault) ? LONG_BAKE_MS : fault.at.afterMs + WAIT_MARGIN_MS;
    bakeMs[wait.step] = Math.max(bakeMs[wait.step] ?? 0, needed);
  }
  return scenario.steps.map((step, index) => ({
    targetPercent: step.targetPercent,
    bakeSeconds: toSeconds(bakeMs[index] ?? step.bakeMs),
    gate: step.gate,
  }));
}

// ---- Arbitraries ------------------------------------------------------------------------------------------

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
            bakeMs: fc.integer({ min: 1, max: 10 }),
            gate: fc.constantFrom(false, false, false, true),
          }),
        ),
    ),
  );

function triggerArbitrary(callCount: number, waitCount: number): fc.Arbitrary<Trigger> {
  return fc.oneof(
    fc.record({ on: fc.constant('call' as const), n: fc.integer({ min: 1, max: callCount }) }),
    waitTriggerArbitrary(waitCount),
  );
}

function waitTriggerArbitrary(waitCount: number): fc.Arbitrary<Extract<Trigger, { on: 'wait' }>> {
  return fc.record({
    on: fc.constant('wait' as const),
    k: fc.integer({ min: 0, max: waitCount - 1 }),
    afterMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 10 })),
  });
}

function faultArbitrary(starting: Weights, steps: readonly ScenarioStep[]): fc.Arbitrary<Fault> {
  const waitCount = waitsOf(steps).length;
  // About 8 calls per step (read, alarm check, health, write, read-back, bake and after-bake checks) plus
  // preflight, rollback and safety net: triggers past the end simply never fire.
  const trigger = triggerArbitrary(8 * steps.length + 6, waitCount);
  const waitTrigger = waitTriggerArbitrary(waitCount);
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constant('alarm' as const),
        at: trigger,
        value: fc.constantFrom<'ALARM' | 'INSUFFICIENT_DATA'>('ALARM', 'ALARM', 'ALARM', 'INSUFFICIENT_DATA'),
        delivered: fc.boolean(),
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
  );
}

const gateResolutionArbitrary: fc.Arbitrary<GateResolution> = fc.oneof(
  // Later than any fault planned in the gate (afterMs <= 10; these timers are created together, in order of
  // scheduling) and well before the gate's timeout (>= 30 ms).
  fc.record({
    by: fc.constantFrom('promote' as const, 'abort' as const),
    afterMs: fc.integer({ min: 14, max: 20 }),
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

export const scenarioArbitrary: fc.Arbitrary<Scenario> = startAndStepsArbitrary.chain(([starting, steps]) =>
  fc.record({
    starting: fc.constant(starting),
    steps: fc.constant(steps),
    asSpec: fc.boolean(),
    gate: fc.record({
      timeoutSeconds: fc.integer({ min: 60, max: 120 }),
      action: fc.constantFrom('rollback' as const, 'promote' as const),
    }),
    gateResolutions: fc.tuple(...steps.filter((step) => step.gate).map(() => gateResolutionArbitrary)),
    insufficientData: fc.constantFrom<'not-firing' | 'firing'>('not-firing', 'not-firing', 'firing'),
    // One run in seven has no fault at all: it must complete (or end as its gates say).
    faults: fc.oneof(
      { weight: 1, arbitrary: fc.constant([]) },
      { weight: 6, arbitrary: fc.array(faultArbitrary(starting, steps), { minLength: 1, maxLength: 3 }) },
    ),
  }),
);
