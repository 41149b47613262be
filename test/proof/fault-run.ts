import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type Action,
  ModifyListenerCommand,
  type Rule,
  type RuleCondition,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { vi } from 'vitest';
import { CloudWatchAlarms } from '#adapters/alarms.ts';
import { AlbListener } from '#adapters/listener.ts';
import { AlbSwingRules } from '#adapters/swing-rules.ts';
import { handleAlarmEvent } from '#domain/engine/alarm-event.ts';
import type { EngineDeps } from '#domain/engine/deps.ts';
import {
  SAFETY_NET_MAX_DRAIN_WAIT_MS,
  SAFETY_NET_WAIT_SECONDS,
  type SafetyNetAction,
  type SafetyNetDeps,
  safetyNet,
} from '#domain/engine/safety-net.ts';
import { abortRollout, promoteGate } from '#domain/operator.ts';
import { formatPlanSpec } from '#domain/plan.ts';
import { QUIET_AFTER_RELEASE_SECONDS } from '#domain/quiet.ts';
import { DEFAULT_READS_FIRST } from '#domain/reads-first.ts';
import {
  RECONCILE_INTERVAL_MINUTES,
  RECONCILE_MAX_DRAIN_WAIT_MS,
  type ReconcileAction,
} from '#domain/reconciler.ts';
import { SWING_RULE_SET } from '#domain/swing-rules.ts';
import type {
  ListenerRecord,
  PlanStep,
  ReplayLagVerdict,
  Rollout,
  RolloutPatch,
  RolloutStore,
  SwingRulesPort,
  UpdateGuard,
  WaitKind,
  WaitOpening,
  Weights,
} from '#domain/types.ts';
import { isIncrease, sameWeights } from '#domain/weights.ts';
import {
  currentInvocation,
  type ExecutionResult,
  type InvocationCall,
  type InvocationTiming,
  type LocalExecution,
  LocalStepFunctions,
} from '#local/executor.ts';
import { FakeCloudWatch, LISTENER } from '#test/support/fake-aws.ts';
import { ALARM, alarmStateChange, holdListener, makeWorld, operatorOf } from '#test/support/rollout-world.ts';
import {
  type AlarmDelivery,
  cutoverBakeSeconds,
  type Fault,
  type ForeignRule,
  type GateResolution,
  type InvocationTrigger,
  isForceAfterLostStop,
  MS_PER_SECOND,
  planSteps,
  RETRY_DELAY_MS,
  type ReshapedTo,
  type Scenario,
  STALL_CAP_MS,
  type StallUntil,
  type Trigger,
} from './fault-scenario.ts';
import { type OperatorHooks, runOperatorCommand } from './operator-commands.ts';
import { type ReverseObservation, reverseCaptureWorld } from './reverse-capture-model.ts';

export type World = ReturnType<typeof makeWorld>;
export type MainResult = ExecutionResult & {
  readonly safetyNet?: SafetyNetAction;
  readonly statusEventLost?: true;
};

/** What the executor asks the run under way: how an invocation behaves, whether a status event is delivered. */
interface RunHooks {
  invocation(call: InvocationCall): InvocationTiming | undefined;
  deliverStatusEvent(executionArn: string, status: 'ABORTED' | 'FAILED'): boolean;
}
let current: RunHooks | undefined;

/**
 * The settler a call outside every invocation belongs to (a twin safety net, a reconciler run), with how long each
 * of its calls takes; none: the status event's own safety net (or an alarm event, marked with 0).
 */
const settling = new AsyncLocalStorage<{ readonly callMs: number }>();

/**
 * One executor for every run (building one validates the ASL, which costs more than a short rollout), behaving
 * as AWS does: timeouts race invocations, status events go out as the execution ends (the safety net waits
 * out running Lambdas itself) and may be lost, invocations take the time the run under way draws.
 */
export function faultStepFunctions(): LocalStepFunctions {
  return new LocalStepFunctions({
    msPerSecond: MS_PER_SECOND,
    retryDelayMs: RETRY_DELAY_MS,
    statusEventTiming: 'at-once',
    invocations: (call) => current?.invocation(call),
    deliverStatusEvent: (executionArn, status) => current?.deliverStatusEvent(executionArn, status) ?? true,
  });
}

/** A Lambda invocation a fault struck (slowed, or lost its answer). */
export interface StruckInvocation {
  readonly fault: Fault;
  readonly stateName: string;
  /** Which entry of that state (0 for the first time the execution entered it). */
  readonly entry: number;
  readonly retryCount: number;
}

/** An alarm event or an abort reaching Swing: I5 bounds how long a bake or gate stays open after one. */
export interface EndingSignal {
  readonly kind: 'alarm-event' | 'abort';
  readonly at: number;
  outcome?: string;
  /** The rollout an abort reached: the lock's holder then, which may be a prior holder, not the main rollout. */
  rollout?: string;
}

export interface OpenedWait {
  readonly kind: WaitKind;
  readonly step: number;
  readonly openedAt: number;
  /** When its timeout would end it, on the scaled clock. */
  readonly lengthMs: number;
}

export interface FiredFault {
  readonly fault: Fault;
  readonly firedAt: number;
  /** The library execution had already ended: only the executor's safety net could still be running. */
  readonly executionEnded: boolean;
  /** The main result had settled (nothing of the main rollout was running any more). */
  readonly settled: boolean;
  /** The wait it struck in, for `wait` triggers. */
  readonly wait?: OpenedWait;
  /** How many entries the fake ELBv2's log and the execution's events had when it struck. */
  readonly elbLogAt: number;
  readonly eventsAt: number;
  /** The listener's weights when it struck. */
  readonly weightsAt: Weights;
  /** The listener record at the moment the fault struck. */
  record?: ListenerRecord;
  /** What the fault's own call returned: the alarm-event action, the abort's delivery, or an error name. */
  outcome?: string;
  outcomeAt?: number;
  /**
   * An operator command's StopExecution found the execution ended already (it read RUNNING, then the execution
   * ended before the stop): the stop changed nothing, and the execution ends as its own path ended it.
   */
  stopFoundEnded?: boolean;
}

export interface GateOutcome {
  readonly resolution: GateResolution;
  outcome?: string;
  outcomeAt?: number;
}

export interface RacerObservation {
  result?: MainResult;
  /** ModifyListener calls the racer's own ELBv2 client sent. */
  modifyCalls: number;
  /** Store writes (lock, updates, releases) that succeeded for the racer. */
  storeWrites: number;
  /** The outcome of each notification the racer sent. */
  notified: string[];
}

export interface Run {
  readonly scenario: Scenario;
  /** The plan as run (bakes stretched to hold the faults planned inside them). */
  readonly steps: readonly PlanStep[];
  readonly world: World;
  readonly executionArn: string;
  readonly result: MainResult;
  /** Times the safety net was delivered after the executor's own delivery threw (Lambda retries twice). */
  readonly safetyNetRedeliveries: number;
  readonly settledAt: number;
  readonly fired: readonly FiredFault[];
  readonly waits: readonly OpenedWait[];
  readonly gates: readonly GateOutcome[];
  readonly racers: readonly RacerObservation[];
  readonly execution: LocalExecution;
  readonly struck: readonly StruckInvocation[];
  readonly signals: readonly EndingSignal[];
  /** When the run began, on the virtual clock. */
  readonly startedAt: number;
  /** What the settlers racing the status event's safety net did (SettleRace): a twin of it, a reconciler run. */
  readonly settlers: readonly { readonly by: 'twin' | 'reconciler'; action?: string }[];
  /** What each scheduled run of the reconciler did once the run had settled, in order. */
  readonly reconciled: readonly (ReconcileAction | `failed: ${string}`)[];
  /** Reads-first runs: what the reads-first invariants read. */
  readonly readsFirst?: ReadsFirstObservation;
  /** Reads-first runs with reverse capture: the model's freeze and drain (reverse-capture-model.ts). */
  readonly reverse?: ReverseObservation;
  /**
   * The weights this rollout started from: the scenario's, or, when another rollout held the listener at the
   * start, the listener's once that one released it.
   */
  readonly starting: Weights;
  /** Calls of the main rollout's invocations that a stall held, and when each went on. */
  readonly stalled: readonly StalledCall[];
  /**
   * The fake ELBv2's log length when a path that restores first ran: Rollback or Rehearse began, or the execution
   * ended (the safety net, the reconciler).
   */
  readonly restorePathFrom?: number;
}

export interface StalledCall {
  readonly stateName: string;
  readonly retryCount: number;
  readonly at: number;
  resumedAt?: number;
}

/** What a reads-first run saw beyond the fakes' logs. */
export interface ReadsFirstObservation {
  /** The cutover's bake as run (stretched to hold the faults planned in it). */
  readonly cutoverBakeSeconds: number;
  /** When (virtual clock) each entry of the fake ELBv2's log was made, by its index. */
  readonly elbTimes: readonly number[];
  /** The index in the ELBv2 log at which the record first held `cutoverStartedAt`, if it ever did. */
  cutoverRecordedAt?: number;
  /** The index in the ELBv2 log from which restores (rollback, safety net, reconciler) may write. */
  restoreFrom?: number;
  /** Rules of Swing's left once the execution, its safety net and everything it started had settled. */
  rulesAtSettle?: number;
  /** The pin rules Swing created (by their priority: the first three of the rule set's). */
  readonly pinArns: Set<string>;
  /** Every rule Swing created, as it created it. */
  readonly created: Rule[];
  /** Rule writes that raised the target's read share while a watched alarm was firing (as CloudWatch says). */
  readonly ruleIncreasesUnderAlarm: Weights[];
  /** Each scheduled reconciler run: when, and how many rules of Swing's (pins among them) before and after. */
  readonly reconcileRuns: {
    at: number;
    before: number;
    after: number;
    pinsBefore: number;
    pinsAfter: number;
  }[];
}

/** The lag alarm's name: never a watched alarm, so its events only release a wait for the replayer. */
export const REPLAY_LAG_ALARM = 'swing-replay-lag';
/** What the target's RequestCount says for any window (the exposure report's figure). */
export const TARGET_REQUESTS = 4242;
/** `then: restore`, built so that no object literal here looks thenable to the linter. */
const REHEARSAL: Record<string, unknown> = Object.fromEntries([['then', 'restore']]);

const isPin = (rule: { tags: { Key?: string; Value?: string }[] }) =>
  String(rule.tags.find((tag) => tag.Key === 'swing:rule')?.Value).startsWith('pin');

/** A store view that counts the writes that succeeded through it: a racer must make none. */
class CountingStore implements RolloutStore {
  writes = 0;
  constructor(private readonly inner: RolloutStore) {}
  get(listenerArn: string) {
    return this.inner.get(listenerArn);
  }
  async acquire(listenerArn: string, rollout: Rollout) {
    const result = await this.inner.acquire(listenerArn, rollout);
    if (result === 'acquired') this.writes += 1;
    return result;
  }
  async update(
    listenerArn: string,
    executionArn: string,
    patch: RolloutPatch,
    fence?: string,
    guard?: UpdateGuard,
  ) {
    const rollout = await this.inner.update(listenerArn, executionArn, patch, fence, guard);
    this.writes += 1;
    return rollout;
  }
  async openWait(listenerArn: string, executionArn: string, opening: WaitOpening, patch: RolloutPatch) {
    const rollout = await this.inner.openWait(listenerArn, executionArn, opening, patch);
    if (rollout) this.writes += 1;
    return rollout;
  }
  async release(listenerArn: string, executionArn: string, final: RolloutPatch) {
    const released = await this.inner.release(listenerArn, executionArn, final);
    if (released) this.writes += 1;
    return released;
  }
  async request(
    listenerArn: string,
    flags: Pick<RolloutPatch, 'abortRequested' | 'pauseRequested' | 'abortDuringCutover'>,
  ) {
    const rollout = await this.inner.request(listenerArn, flags);
    this.writes += 1;
    return rollout;
  }
  /** Not counted: recording its own refusal (ReportRefusal) is the one write a refused racer makes. */
  refuse(listenerArn: string, executionArn: string) {
    return this.inner.refuse(listenerArn, executionArn);
  }
}

/** A foreign rule as ELBv2 lists it. */
export function foreignRule(rule: ForeignRule): Rule {
  const arn = `${LISTENER.listenerArn.replace(':listener/', ':listener-rule/')}/f${String(rule.priority).padStart(15, '0')}`;
  const path = (value: string): RuleCondition[] => [
    { Field: 'path-pattern', PathPatternConfig: { Values: [value] } },
  ];
  const fixed = (code: string): Action[] => [
    {
      Type: 'fixed-response',
      Order: 1,
      FixedResponseConfig: { StatusCode: code, ContentType: 'text/plain' },
    },
  ];
  const forward: Action[] = [{ Type: 'forward', Order: 1, TargetGroupArn: OTHER_GROUP }];
  const shapes: Record<ForeignRule['kind'], { Conditions: RuleCondition[]; Actions: Action[] }> = {
    'security-403': { Conditions: path('/_plugins/_security/*'), Actions: fixed('403') },
    'other-app': {
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['other.example.com'] } }],
      Actions: forward,
    },
    maintenance: { Conditions: path('/maintenance*'), Actions: fixed('503') },
    'catch-all': { Conditions: path('*'), Actions: forward },
  };
  return {
    RuleArn: arn,
    Priority: String(rule.priority),
    IsDefault: false,
    ...structuredClone(shapes[rule.kind]),
  };
}

const OTHER_GROUP =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/maintenance/0f0f0f0f0f0f0f0f';

/** What an operator puts on the listener by hand instead of Swing's weighted forward. */
export function reshapedActions(to: ReshapedTo): Action[] {
  if (to === 'fixed-response') {
    return [
      {
        Type: 'fixed-response',
        Order: 1,
        FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain' },
      },
    ];
  }
  if (to === 'redirect') {
    return [
      {
        Type: 'redirect',
        Order: 1,
        RedirectConfig: { Host: 'maintenance.example.com', StatusCode: 'HTTP_302' },
      },
    ];
  }
  return [{ Type: 'forward', Order: 1, TargetGroupArn: OTHER_GROUP }];
}

const ENDED = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted']);

let runs = 0;

/**
 * Runs the scenario's rollout through the real ASL and engine over the fakes, striking each fault at its
 * trigger, and returns everything the invariant checks need once every part of it has settled.
 */
export async function runScenario(scenario: Scenario, stepFunctions: LocalStepFunctions): Promise<Run> {
  runs += 1;
  const struck: StruckInvocation[] = [];
  const signals: EndingSignal[] = [];
  const startedAt = Date.now();
  const prior = scenario.priorHolder;
  const world = makeWorld({
    starting: prior?.weights ?? scenario.starting,
    stepFunctions,
    insufficientData: scenario.insufficientData,
    ...(scenario.stickySeconds ? { stickySeconds: scenario.stickySeconds } : {}),
  });
  if (scenario.foreignRules) world.elb.setRules(scenario.foreignRules.map(foreignRule));
  // Another rollout holds the listener: it took the lock from the scenario's starting weights and is at its own.
  const priorArn = `${stepFunctions.stateMachineArn.replace(':stateMachine:', ':execution:')}:prior-${runs}`;
  if (prior) {
    await holdListener(world.store, {
      executionArn: priorArn,
      startingWeights: scenario.starting,
      lastWritten: prior.weights,
      step: { targetPercent: 100, bakeSeconds: 600 },
    });
  }
  let starting = scenario.starting;
  let priorHeld = prior !== undefined;
  /** The other rollout ends: a completed one leaves its weights, a rolled-back one restores its start first. */
  const releasePrior = () => {
    if (!prior || !priorHeld) return;
    priorHeld = false;
    if (prior.ends === 'rolled-back') world.elb.writeAs('prior', scenario.starting);
    starting = world.elb.weights;
    pending.push(
      world.store.release(LISTENER.listenerArn, priorArn, {
        status: prior.ends,
        outcome: prior.ends,
        endedAt: new Date().toISOString(),
        ...(prior.ends === 'rolled-back' ? { restored: true, lastWritten: scenario.starting } : {}),
      }),
    );
  };
  const steps = planSteps(scenario);
  const name = `main-${runs}`;
  const executionArn = `${stepFunctions.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  const operator = operatorOf(world);
  const readsFirst = scenario.readsFirst;
  // The replayer's state, as the replay-lag check reads it (the lag alarm itself is not on the fake CloudWatch:
  // its states would mix with the watched alarms' reads in the I2 timeline).
  let lagging = false;
  const observed: ReadsFirstObservation | undefined = readsFirst
    ? {
        cutoverBakeSeconds: cutoverBakeSeconds(scenario),
        elbTimes: [],
        pinArns: new Set(),
        created: [],
        ruleIncreasesUnderAlarm: [],
        reconcileRuns: [],
      }
    : undefined;
  // Stalls: a call of the main rollout's invocations waits, before it is sent, until the execution moved on.
  const stalled: StalledCall[] = [];
  let restorePathFrom: number | undefined;
  const waitingStalls: { until: StallUntil; seen: number; end: () => void }[] = [];
  const stallNextCall = new Map<InvocationCall, StallUntil>();
  const stallNthCall = new Map<InvocationCall, { call: number; until: StallUntil }>();
  const callsOf = new Map<InvocationCall, number>();
  /**
   * A call of a settler racing others (SettleRace) takes its time: the status event's safety net's, or that of the
   * twin or reconciler run it belongs to.
   */
  const settlerCall = (): Promise<void> | undefined => {
    const race = scenario.settleRace;
    if (!race || !executionEnded()) return undefined;
    const callMs = settling.getStore()?.callMs ?? race.safetyNetCallMs;
    return callMs > 0 ? new Promise<void>((resolve) => setTimeout(resolve, callMs)) : undefined;
  };
  /** Undefined when the call goes on at once (no extra turn of the event loop), else when it may. */
  const holdCall = (): Promise<void> | undefined => {
    const invocation = currentInvocation();
    if (!invocation) return settlerCall();
    if (invocation.executionArn !== executionArn) return undefined;
    const n = (callsOf.get(invocation) ?? 0) + 1;
    callsOf.set(invocation, n);
    let until = stallNextCall.get(invocation);
    stallNextCall.delete(invocation);
    const nth = stallNthCall.get(invocation);
    if (nth?.call === n) {
      until = nth.until;
      stallNthCall.delete(invocation);
    }
    if (!until) return undefined;
    const call: StalledCall = {
      stateName: invocation.stateName,
      retryCount: invocation.retryCount,
      at: Date.now(),
    };
    stalled.push(call);
    const stallUntil = until;
    return new Promise<void>((resolve) => {
      const end = () => {
        clearTimeout(cap);
        const index = waitingStalls.indexOf(entry);
        if (index >= 0) waitingStalls.splice(index, 1);
        call.resumedAt = Date.now();
        resolve();
      };
      const entry = { until: stallUntil, seen: 0, end };
      // A Lambda is stopped at its timeout: no stall outlasts it.
      const cap = setTimeout(end, STALL_CAP_MS);
      waitingStalls.push(entry);
    });
  };
  const heldSend = (client: { send: (...args: never[]) => Promise<unknown> }) => {
    const send = client.send.bind(client);
    client.send = ((...args: never[]) => {
      const hold = holdCall();
      return hold ? hold.then(() => send(...args)) : send(...args);
    }) as typeof client.send;
  };
  heldSend(world.elb.client as never);
  heldSend(world.cloudWatch.client as never);
  const store = heldStore(world.store, holdCall);
  // StopExecution does not stop a running Lambda: the safety net waits them out, as deployed.
  const deps: EngineDeps & SafetyNetDeps = {
    ...world.deps,
    store,
    waitAfterStopMs: SAFETY_NET_WAIT_SECONDS * 1000,
    // As deployed: a drain longer than an invocation's time is left to the next (DrainPending).
    maxDrainWaitMs: SAFETY_NET_MAX_DRAIN_WAIT_MS,
    // As the deployed handlers: every release records its quiet period on the virtual clock.
    quietAfterReleaseMs: QUIET_AFTER_RELEASE_SECONDS * 1000,
    ...(readsFirst
      ? {
          swingRules: new AlbSwingRules(world.elb.client, LISTENER, { verifyAttempts: 1, verifyDelayMs: 0 }),
          replayLag: {
            check: async (): Promise<ReplayLagVerdict> =>
              lagging
                ? { caughtUp: false, detail: `${REPLAY_LAG_ALARM} is in ALARM` }
                : { caughtUp: true, detail: `${REPLAY_LAG_ALARM} is OK` },
            // The write cutover's freeze: everything captured before it applied once the lag is gone.
            appliedBefore: async (): Promise<ReplayLagVerdict> =>
              lagging
                ? { caughtUp: false, detail: 'writes still queued' }
                : { caughtUp: true, detail: 'nothing queued' },
          },
          targetRequests: { countBetween: async () => TARGET_REQUESTS },
          replayLagAlarm: REPLAY_LAG_ALARM,
        }
      : {}),
  };
  // Settles as the main execution ends: its status event goes out then (FAILED, ABORTED), or its result (SUCCEEDED).
  const ended = Promise.withResolvers<void>();
  // Reverse capture (issue 22): the model keeps when the freeze stood and when the reverse replayer drained.
  const reverse =
    readsFirst?.reverse && !readsFirst.rehearsal
      ? reverseCaptureWorld({
          reverse: readsFirst.reverse,
          elb: world.elb,
          swingRules: deps.swingRules as SwingRulesPort,
          store: deps.store,
          listener: deps.listener,
          executionArn,
          executionEnd: () => ended.promise,
          onFrozen: () => {
            for (const fault of byFrozen) {
              const at = fault.at;
              if (at.on === 'frozen')
                later(at.afterMs, () => (at.settlers || !executionEnded()) && strike(fault));
            }
          },
          deps: () => deps,
          deliverLater: (ms, act) => deliverLater(ms, () => void act()),
          abort: () => follow({}, abortRollout(operator, 'fault schedule')),
        })
      : undefined;
  if (reverse) Object.assign(deps, reverse.deps);
  const reconcilerDeps = { ...deps, maxDrainWaitMs: RECONCILE_MAX_DRAIN_WAIT_MS };
  if (observed) {
    const firingStates = scenario.insufficientData === 'firing' ? ['ALARM', 'INSUFFICIENT_DATA'] : ['ALARM'];
    const pinPriorities = new Set(
      SWING_RULE_SET.filter((spec) => spec.role === 'pin').map((spec) =>
        String(DEFAULT_READS_FIRST.basePriority + spec.offset),
      ),
    );
    world.elb.onRuleWrite = (rule, weights) => {
      reverse?.onRuleWrite();
      if (rule.RuleArn && pinPriorities.has(String(rule.Priority))) observed.pinArns.add(rule.RuleArn);
      const before = world.elb.currentRules.find((current) => current.RuleArn === rule.RuleArn);
      if (!before) observed.created.push(structuredClone(rule));
      // A rule created forwarding as the default action does moves nothing (the freeze's POST-read forwards).
      const asDefault = !before && weights !== undefined && sameWeights(weights, world.elb.weights);
      const from = before
        ? world.elb.ruleWeights(before)
        : asDefault
          ? world.elb.weights
          : { source: 999, target: 0 };
      const firing = [...world.cloudWatch.states.values()].some((value) => firingStates.includes(value));
      // A stale Freeze attempt's late rule (reverse capture's `late-rule`) is not a step's: invariants.ts skips it.
      const lateRule = reverse?.observation.lateRule;
      const stale = lateRule !== undefined && lateRule.logTo === undefined;
      if (weights && isIncrease(from, weights) && firing && !stale)
        observed.ruleIncreasesUnderAlarm.push(weights);
    };
  }

  const fired: FiredFault[] = [];
  const waits: OpenedWait[] = [];
  const gates: GateOutcome[] = [];
  const racers: RacerObservation[] = [];
  const pending: Promise<unknown>[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let execution: LocalExecution | undefined;
  let settled = false;
  let outage = false;
  let statusEventLostByFault = false;

  const executionEnded = () => execution?.events.some((event) => ENDED.has(event.type)) ?? false;
  const later = (ms: number, act: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      act();
    }, ms);
    timers.add(timer);
  };
  // An event EventBridge has taken is delivered even after the rollout ended: not cleared at the end.
  const deliverLater = (ms: number, act: () => void) => {
    pending.push(new Promise<void>((resolve) => setTimeout(resolve, ms)).then(act));
  };
  const follow = (target: { outcome?: string; outcomeAt?: number }, promise: Promise<unknown>) => {
    pending.push(
      promise.then(
        (value) => {
          target.outcome = String(value);
          target.outcomeAt = Date.now();
        },
        (error: unknown) => {
          target.outcome = error instanceof Error ? error.name : String(error);
          target.outcomeAt = Date.now();
        },
      ),
    );
  };

  function startRacer(): void {
    const index = racers.length;
    const elb = world.elb.connect(`racer-${index}`);
    // Its own alarms, all OK, so that it gets as far as the lock whatever the main rollout's alarms do.
    const cloudWatch = new FakeCloudWatch([ALARM]);
    const store = new CountingStore(world.store);
    const observation: RacerObservation = { modifyCalls: 0, storeWrites: 0, notified: [] };
    racers.push(observation);
    const racerDeps: EngineDeps = {
      ...deps,
      listener: new AlbListener(elb.client, LISTENER, { verifyAttempts: 1, verifyDelayMs: 0 }),
      ...(readsFirst
        ? { swingRules: new AlbSwingRules(elb.client, LISTENER, { verifyAttempts: 1, verifyDelayMs: 0 }) }
        : {}),
      alarms: new CloudWatchAlarms(cloudWatch.client, { alarmNames: [ALARM], attempts: 1, retryDelayMs: 0 }),
      store,
      notifier: {
        notify: async (notification) => {
          observation.notified.push(notification.outcome);
        },
      },
    };
    const racer = stepFunctions.start(racerDeps, { plan: '100' }, { name: `racer-${runs}-${index}` });
    pending.push(
      racer.result.then((result) => {
        observation.result = result;
        observation.modifyCalls = elb.mock.commandCalls(ModifyListenerCommand).length;
        observation.storeWrites = store.writes;
      }),
    );
  }

  function strike(fault: Fault, wait?: OpenedWait): void {
    const struck: FiredFault = {
      fault,
      firedAt: Date.now(),
      executionEnded: executionEnded(),
      settled,
      ...(wait ? { wait } : {}),
      elbLogAt: world.elb.log.length,
      eventsAt: execution?.events.length ?? 0,
      weightsAt: world.elb.weights,
    };
    fired.push(struck);
    // The in-memory store clones the record when called, so this is the record at this very moment.
    pending.push(
      world.store.get(LISTENER.listenerArn).then((record) => {
        struck.record = record;
      }),
    );
    switch (fault.kind) {
      case 'alarm': {
        world.cloudWatch.set(ALARM, fault.value);
        const event = alarmStateChange(ALARM, fault.value, 'Threshold Crossed: fault schedule');
        const deliver = (target: { outcome?: string; outcomeAt?: number }) => {
          const signal: EndingSignal = { kind: 'alarm-event', at: Date.now() };
          signals.push(signal);
          const handled = settling.run({ callMs: 0 }, () =>
            handleAlarmEvent({ ...deps, insufficientData: scenario.insufficientData }, event),
          );
          follow(signal, handled);
          follow(target, handled);
        };
        const { delivery } = fault;
        if (delivery.by === 'at-once' || delivery.by === 'twice') deliver(struck);
        if (delivery.by === 'late') deliverLater(delivery.lateMs, () => deliver(struck));
        // The duplicate's outcome is its own: the first delivery's is what the fault reports.
        if (delivery.by === 'twice') deliverLater(delivery.lateMs, () => deliver({}));
        break;
      }
      case 'slow-invocation':
      case 'lost-answer':
        // Struck through the executor's invocation hook, below.
        break;
      case 'throttle':
        world.elb.throttleModify += fault.times;
        break;
      case 'modify-error':
        world.elb.failModify += fault.times;
        break;
      case 'describe-error':
        world.cloudWatch.failDescribe += fault.times;
        break;
      case 'unhealthy-target':
        world.elb.setHealthyTargets(0);
        break;
      case 'outage':
        world.elb.failModify = Number.MAX_SAFE_INTEGER;
        outage = true;
        break;
      case 'abort': {
        const signal: EndingSignal = { kind: 'abort', at: Date.now() };
        signals.push(signal);
        const aborted = abortRollout(operator, 'fault schedule').then((result) => {
          signal.rollout = result.executionArn;
          return result.delivered;
        });
        follow(struck, aborted);
        follow(signal, aborted);
        break;
      }
      case 'stop':
        if (fault.statusEventLost) statusEventLostByFault = true;
        // A call during start() strikes before start() has returned the execution.
        if (execution) execution.stop();
        else queueMicrotask(() => execution?.stop());
        break;
      case 'drift':
        world.elb.setByHand(fault.weights);
        break;
      case 'reshape':
        world.elb.setDefaultActions(reshapedActions(fault.to));
        break;
      case 'racer':
        startRacer();
        break;
      case 'operator': {
        const hooks: OperatorHooks = {
          ...(deps.targetRequests ? { targetRequests: deps.targetRequests } : {}),
          stop: (arn) => {
            if (arn !== executionArn) return;
            if (executionEnded()) struck.stopFoundEnded = true;
            execution?.stop();
          },
          abort: () => {
            const signal: EndingSignal = { kind: 'abort', at: Date.now() };
            signals.push(signal);
            const aborted = abortRollout(operator, 'fault schedule').then((result) => {
              signal.rollout = result.executionArn;
              return result.delivered;
            });
            follow(signal, aborted);
            return aborted;
          },
          alarm: () => {
            world.cloudWatch.set(ALARM, 'ALARM');
            const signal: EndingSignal = { kind: 'alarm-event', at: Date.now() };
            signals.push(signal);
            const event = alarmStateChange(ALARM, 'ALARM', 'Threshold Crossed: fault schedule');
            const handled = handleAlarmEvent({ ...deps, insufficientData: scenario.insufficientData }, event);
            follow(signal, handled);
            return handled.then(String);
          },
        };
        if (isForceAfterLostStop(fault.command)) {
          // Stopped, its status event lost: the lock stays with the ended holder until the reconciler's run.
          statusEventLostByFault = true;
          hooks.stop(executionArn);
          const { command } = fault;
          deliverLater(fault.afterMs ?? 0, () =>
            follow(struck, runOperatorCommand(command, world, stepFunctions, hooks)),
          );
          break;
        }
        follow(struck, runOperatorCommand(fault.command, world, stepFunctions, hooks));
        break;
      }
      case 'stall': {
        const invocation = currentInvocation();
        if (invocation?.executionArn === executionArn) stallNextCall.set(invocation, fault.until);
        break;
      }
      case 'lost-stall':
        // Struck through the executor's invocation hook, below.
        break;
      case 'record-damage': {
        const damage =
          fault.damage === 'last-written-null'
            ? { lastWritten: null }
            : {
                startingWeights:
                  fault.damage === 'null'
                    ? null
                    : fault.damage === 'zero'
                      ? { source: 0, target: 0 }
                      : undefined,
              };
        // The in-memory store writes synchronously: the record is damaged at this very moment.
        follow(
          struck,
          world.store
            .update(LISTENER.listenerArn, executionArn, damage as unknown as RolloutPatch)
            .then(() => 'damaged'),
        );
        break;
      }
      case 'rule-drift': {
        // A re-weight needs a forward: the freeze's fixed-response rules (first by priority since the freeze has
        // nine) have none, and "re-weighting" one by hand would change nothing while the checks count a hand change.
        const rules = world.elb.swingRules.filter(
          (rule) => !fault.weights || rule.Actions?.some((action) => action.Type === 'forward'),
        );
        const rule = rules[fault.rule % Math.max(1, rules.length)];
        if (rule?.RuleArn) world.elb.setRuleByHand(rule.RuleArn, fault.weights);
        break;
      }
      case 'rule-throttle':
        world.elb.throttleRules += fault.times;
        break;
      case 'rule-fail':
        world.elb.failRules += fault.times;
        break;
      case 'replay-lag': {
        lagging = true;
        deliverLagEvent('ALARM', fault.alarm);
        later(fault.forMs, () => {
          lagging = false;
          deliverLagEvent('OK', fault.ok);
        });
        break;
      }
    }
  }

  /** The lag alarm's state change, delivered as EventBridge would: its OK releases a wait for the replayer. */
  function deliverLagEvent(value: 'ALARM' | 'OK', delivery: AlarmDelivery): void {
    const event = {
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      time: new Date().toISOString(),
      detail: { alarmName: REPLAY_LAG_ALARM, state: { value, reason: 'replayer lag' } },
    };
    const deliver = () =>
      follow(
        {},
        settling.run({ callMs: 0 }, () =>
          handleAlarmEvent({ ...deps, insufficientData: scenario.insufficientData }, event),
        ),
      );
    if (delivery.by === 'at-once' || delivery.by === 'twice') deliver();
    if (delivery.by === 'late' || delivery.by === 'twice') deliverLater(delivery.lateMs, deliver);
  }

  const byCall = new Map<number, Fault[]>();
  const byWait = new Map<number, Fault[]>();
  const byRuleWrite = new Map<number, Fault[]>();
  const byListenerWrite = new Map<number, Fault[]>();
  const byState = new Map<string, Fault[]>();
  const byInvocation: Fault[] = [];
  const byFrozen: Fault[] = [];
  const add = <K>(table: Map<K, Fault[]>, key: K, fault: Fault) =>
    table.set(key, [...(table.get(key) ?? []), fault]);
  for (const fault of scenario.faults) {
    if (fault.at.on === 'invocation') {
      byInvocation.push(fault);
      continue;
    }
    const at: Trigger = fault.at;
    if (at.on === 'call') add(byCall, at.n, fault);
    else if (at.on === 'wait') add(byWait, at.k, fault);
    else if (at.on === 'rule-write') add(byRuleWrite, at.n, fault);
    else if (at.on === 'listener-write') add(byListenerWrite, at.n, fault);
    else if (at.on === 'frozen') byFrozen.push(fault);
    else add(byState, `${at.state}#${at.n}`, fault);
  }

  const RULE_WRITES = new Set(['CreateRule', 'ModifyRule', 'DeleteRule']);
  let calls = 0;
  let ruleWrites = 0;
  let listenerWrites = 0;
  const callsInState = new Map<string, number>();
  const currentState = () => {
    const entered = execution?.events.filter((event) => event.type === 'StateEntered').at(-1) as
      | { state: { name: string } }
      | undefined;
    return entered?.state.name;
  };
  const onMainCall = (operation: string) => {
    calls += 1;
    if (prior && calls === prior.releaseAtCall) releasePrior();
    for (const fault of byCall.get(calls) ?? []) strike(fault);
    if (RULE_WRITES.has(operation)) {
      ruleWrites += 1;
      for (const fault of byRuleWrite.get(ruleWrites) ?? []) strike(fault);
    }
    if (operation === 'ModifyListener') {
      listenerWrites += 1;
      for (const fault of byListenerWrite.get(listenerWrites) ?? []) strike(fault);
    }
    const state = currentState();
    if (state && !executionEnded()) {
      const n = (callsInState.get(state) ?? 0) + 1;
      callsInState.set(state, n);
      for (const fault of byState.get(`${state}#${n}`) ?? []) strike(fault);
    }
    // The outage lasts until the execution has ended: then ELBv2 recovers and the safety net can act.
    if (operation === 'ModifyListener' && outage && executionEnded()) {
      world.elb.failModify = 0;
      outage = false;
    }
  };
  world.elb.beforeCall = (operation, caller) => {
    if (caller === 'swing') onMainCall(operation);
    // The safety net's or the reconciler's first call: no invocation of the execution makes it.
    if (caller === 'swing' && restorePathFrom === undefined && executionEnded() && !currentInvocation())
      restorePathFrom = world.elb.log.length;
    if (observed) {
      // Once the execution ended, the safety net and the reconciler act only after their wait (a task of it may
      // still run until then): from that moment on every write is a restore.
      const endedAt = execution?.events.find((event) => ENDED.has(event.type))?.timestamp;
      if (
        observed.restoreFrom === undefined &&
        endedAt !== undefined &&
        Date.now() >= endedAt + SAFETY_NET_WAIT_SECONDS * 1000
      )
        observed.restoreFrom = world.elb.log.length;
      // The call is logged right after this hook, synchronously: its time is now. Faults struck above may log
      // hand changes first, so the times are kept for every index up to the call's.
      for (let index = observed.elbTimes.length; index <= world.elb.log.length; index += 1) {
        (observed.elbTimes as number[])[index] = Date.now();
      }
    }
  };
  world.cloudWatch.beforeCall = onMainCall;

  const abortGate = () => {
    const signal: EndingSignal = { kind: 'abort', at: Date.now() };
    signals.push(signal);
    const aborted = abortRollout(operator, 'gate').then((result) => {
      signal.rollout = result.executionArn;
      return result.delivered;
    });
    follow(signal, aborted);
    return aborted;
  };

  // The executor asks this run how each of the main execution's invocations behaves.
  const entries = new Map<string, number>();
  const seenOfState = new Map<string, number>();
  let invocationsSeen = 0;
  const matches = (trigger: InvocationTrigger, stateName: string, nthOfState: number) =>
    trigger.state === undefined
      ? trigger.n === invocationsSeen
      : trigger.state === stateName && trigger.n === nthOfState;
  current = {
    invocation: (call) => {
      const base: InvocationTiming = { startDelayMs: scenario.latencyMs };
      if (call.executionArn !== executionArn) return base;
      invocationsSeen += 1;
      const nthOfState = (seenOfState.get(call.stateName) ?? 0) + 1;
      seenOfState.set(call.stateName, nthOfState);
      if (call.retryCount === 0) entries.set(call.stateName, (entries.get(call.stateName) ?? -1) + 1);
      const entry = entries.get(call.stateName) ?? 0;
      let timing = base;
      for (const fault of byInvocation) {
        if (fault.at.on !== 'invocation' || !matches(fault.at, call.stateName, nthOfState)) continue;
        if (fault.kind === 'record-damage') {
          // Between two states: the invocation itself runs as drawn.
          strike(fault);
          continue;
        }
        struck.push({ fault, stateName: call.stateName, entry, retryCount: call.retryCount });
        fired.push({
          fault,
          firedAt: Date.now(),
          executionEnded: executionEnded(),
          settled,
          elbLogAt: world.elb.log.length,
          eventsAt: execution?.events.length ?? 0,
          weightsAt: world.elb.weights,
        });
        if (fault.kind === 'slow-invocation') {
          timing = { ...timing, startDelayMs: scenario.latencyMs + fault.delayMs };
        } else if (fault.kind === 'lost-answer') {
          timing = {
            startDelayMs: scenario.latencyMs + fault.delayMs,
            answerLostAfterMs: fault.afterMs,
          };
        } else if (fault.kind === 'lost-stall') {
          timing = { ...timing, answerLostAfterMs: fault.afterMs };
          stallNthCall.set(call, { call: fault.call, until: fault.until });
        }
      }
      if (reverse) timing = reverse.timing(call, timing);
      if ((call.stateName === 'Rollback' || call.stateName === 'Rehearse') && restorePathFrom === undefined)
        restorePathFrom = world.elb.log.length;
      // The execution moved on to this invocation: stalls waiting for it end.
      for (const stall of [...waitingStalls]) {
        if (stall.until.state !== undefined && stall.until.state !== call.stateName) continue;
        stall.seen += 1;
        if (stall.seen >= stall.until.nth) stall.end();
      }
      return timing;
    },
    deliverStatusEvent: (arn, status) => {
      if (arn !== executionArn) return true;
      ended.resolve();
      if (scenario.statusEventLost || statusEventLostByFault) return false;
      raceTheSafetyNet(status);
      return true;
    },
  };

  // Settlers racing the status event's safety net, started as it is (SettleRace).
  const settlers: { by: 'twin' | 'reconciler'; action?: string }[] = [];
  const raceTheSafetyNet = (status: 'ABORTED' | 'FAILED') => {
    const race = scenario.settleRace;
    const settle = (by: 'twin' | 'reconciler', callMs: number, act: () => Promise<string>) => {
      const settler: { by: 'twin' | 'reconciler'; action?: string } = { by };
      settlers.push(settler);
      return settling.run({ callMs }, act).then(
        (action) => {
          settler.action = action;
        },
        (error: unknown) => {
          settler.action = `failed: ${error instanceof Error ? error.name : String(error)}`;
        },
      );
    };
    if (race?.twin) {
      // The same event delivered twice: the same time, so both wait until it + 75 s.
      const event = {
        source: 'aws.states',
        'detail-type': 'Step Functions Execution Status Change',
        time: new Date().toISOString(),
        detail: { executionArn, stateMachineArn: stepFunctions.stateMachineArn, status },
      };
      pending.push(
        settle('twin', race.twin.callMs, () => safetyNet({ ...deps, executions: stepFunctions }, event)),
      );
    }
    const reconciler = race?.reconciler;
    if (reconciler) {
      const at = SAFETY_NET_WAIT_SECONDS * 1000 + reconciler.afterMs;
      pending.push(
        new Promise<void>((resolve) => setTimeout(resolve, at)).then(() =>
          settle(
            'reconciler',
            reconciler.callMs,
            async () => (await stepFunctions.reconcile(reconcilerDeps)).action,
          ),
        ),
      );
    }
  };

  const gatedSteps = scenario.steps.flatMap((step, index) => (step.gate ? [index] : []));
  const cutoverIndex = steps.length;
  world.store.onUpdate = (owner, patch, rollout) => {
    if (owner !== executionArn) return;
    if (observed) {
      if (observed.cutoverRecordedAt === undefined && rollout.cutoverStartedAt !== undefined)
        observed.cutoverRecordedAt = world.elb.log.length;
      if (observed.restoreFrom === undefined && patch.status === 'rolling-back')
        observed.restoreFrom = world.elb.log.length;
    }
    if (patch.taskToken === undefined || !patch.taskKind) return;
    const k = waits.length;
    const kind = patch.taskKind;
    const bakeSeconds =
      readsFirst && rollout.stepIndex === cutoverIndex
        ? Math.max(1, cutoverBakeSeconds(scenario), readsFirst.scrollKeepAliveSeconds)
        : readsFirst && rollout.stepIndex === cutoverIndex + 1
          ? Math.max(1, cutoverBakeSeconds(scenario))
          : (steps[rollout.stepIndex]?.bakeSeconds ?? 0);
    const lengthMs =
      kind === 'bake'
        ? bakeSeconds * MS_PER_SECOND
        : kind === 'replay'
          ? (readsFirst?.replayWaitSeconds ?? 0) * MS_PER_SECOND
          : scenario.gate.timeoutSeconds * MS_PER_SECOND;
    const wait: OpenedWait = { kind, step: rollout.stepIndex, openedAt: Date.now(), lengthMs };
    waits.push(wait);
    const planned = byWait.get(k) ?? [];
    // Timers first, while the clock is where the wait's own timeout started from: work done before a timer is
    // created (a racer's synchronous start) would push it towards the timeout.
    for (const fault of planned) {
      if (fault.at.on === 'wait' && fault.at.afterMs > 0) later(fault.at.afterMs, () => strike(fault, wait));
    }
    if (kind === 'gate') {
      // The cutover gate opens after the last read step's bake (the record's step index is still that step's);
      // a gate of that step, when it has one, is the same Gate state.
      const cutoverGate =
        readsFirst?.cutoverGate === 'manual' &&
        !readsFirst.rehearsal &&
        rollout.stepIndex === cutoverIndex - 1;
      const resolution = cutoverGate
        ? readsFirst.cutoverResolution
        : scenario.gateResolutions[gatedSteps.indexOf(rollout.stepIndex)];
      if (resolution) {
        const gate: GateOutcome = { resolution };
        gates.push(gate);
        if (resolution.by !== 'timeout') {
          later(resolution.afterMs, () =>
            follow(
              gate,
              resolution.by === 'promote'
                ? promoteGate(operator).then((result) => result.delivered)
                : abortGate(),
            ),
          );
        }
      }
    }
    // Then what strikes at once; racers first: they must reach the lock while this wait holds it.
    const atOnce = planned
      .filter((fault) => fault.at.on === 'wait' && fault.at.afterMs === 0)
      .sort((a, b) => Number(b.kind === 'racer') - Number(a.kind === 'racer'));
    for (const fault of atOnce) strike(fault, wait);
  };

  const plan = scenario.asSpec ? formatPlanSpec({ steps }) : { steps };
  const input = readsFirst
    ? {
        plan,
        gate: scenario.gate,
        traffic: 'reads-first',
        readsFirst: {
          cutoverGate: readsFirst.cutoverGate,
          cutoverGateTimeoutSeconds: scenario.gate.timeoutSeconds,
          cutoverGateTimeoutAction: scenario.gate.action,
          afterCutover: readsFirst.afterCutover,
          cutoverBakeSeconds: cutoverBakeSeconds(scenario),
          scrollKeepAliveSeconds: readsFirst.scrollKeepAliveSeconds,
          replayWaitSeconds: readsFirst.replayWaitSeconds,
        },
        ...(readsFirst.rehearsal ? REHEARSAL : {}),
      }
    : { plan, gate: scenario.gate };
  execution = stepFunctions.start(deps, input, { name });
  const started = execution;
  void started.result.finally(() => ended.resolve()).catch(() => undefined);

  let result: MainResult;
  let safetyNetRedeliveries = 0;
  try {
    result = await onTheVirtualClock(started.result);
  } catch {
    // The executor's delivery of the status event threw (the safety net's ModifyListener failed, or its drain
    // outlasted the invocation: DrainPending). EventBridge invokes the safety net asynchronously and Lambda
    // retries a failed async invocation twice, a minute and then two minutes later.
    const aborted = started.events.some((event) => event.type === 'ExecutionAborted');
    const failure = started.events.find((event) => event.type === 'ExecutionFailed') as
      | { Error?: string; Cause?: string }
      | undefined;
    const status = aborted ? 'ABORTED' : 'FAILED';
    let action: SafetyNetAction | undefined;
    for (let attempt = 0; attempt < 2 && !action; attempt += 1) {
      safetyNetRedeliveries += 1;
      try {
        await onTheVirtualClock(new Promise((resolve) => setTimeout(resolve, (attempt + 1) * 60_000)));
        action = await onTheVirtualClock(
          safetyNet(deps, {
            source: 'aws.states',
            'detail-type': 'Step Functions Execution Status Change',
            time: new Date().toISOString(),
            detail: { executionArn, stateMachineArn: stepFunctions.stateMachineArn, status },
          }),
        );
      } catch {
        // Counted; the checks see a listener that was not restored.
      }
    }
    const ended: ExecutionResult = aborted
      ? { status: 'ABORTED' }
      : { status: 'FAILED', error: failure?.Error ?? 'Unknown', cause: failure?.Cause ?? '' };
    result = action ? { ...ended, safetyNet: action } : ended;
  }
  // The other rollout ends in any case (this one may have been refused before it released the listener).
  releasePrior();
  const settledAt = Date.now();
  settled = true;
  for (const timer of timers) clearTimeout(timer);
  timers.clear();
  // Operator calls, late alarm events, racers and Lambdas that are still running belong to this run: let them
  // finish.
  await onTheVirtualClock(started.idle);
  for (let seen = 0; seen < pending.length; ) {
    const batch = pending.slice(seen);
    seen = pending.length;
    await onTheVirtualClock(Promise.allSettled(batch));
  }
  current = undefined;
  if (observed) observed.rulesAtSettle = world.elb.swingRules.length;

  // EventBridge Scheduler runs the reconciler every few minutes: the runs after this one ended, until one of
  // them finds nothing left to wait for (the lock free, or settled by it).
  // A run that throws (ELBv2 refusing the restore) is retried by the next schedule.
  const reconciled: (ReconcileAction | `failed: ${string}`)[] = [];
  const waiting: string[] = ['holder-running', 'holder-just-ended', 'status-unknown'];
  // Reads-first: the runs go on while rules of Swing's are left (pins a hold keeps for the scroll keep-alive),
  // a few intervals more than the longest keep-alive the scenarios draw.
  const counts = () => {
    const rules = world.elb.swingRules;
    return { all: rules.length, pins: rules.filter(isPin).length };
  };
  for (let scheduled = 0; scheduled < (observed ? 6 : 4); scheduled += 1) {
    const next = new Promise<void>((resolve) => setTimeout(resolve, RECONCILE_INTERVAL_MINUTES * 60_000));
    let before = counts();
    const outcome = await onTheVirtualClock(
      next
        .then(() => {
          before = counts();
          return settling.run({ callMs: 0 }, () => stepFunctions.reconcile(reconcilerDeps));
        })
        .then(
          ({ action }) => action,
          (error: unknown) => `failed: ${error instanceof Error ? error.name : String(error)}` as const,
        ),
    );
    reconciled.push(outcome);
    const after = counts();
    observed?.reconcileRuns.push({
      at: Date.now(),
      before: before.all,
      after: after.all,
      pinsBefore: before.pins,
      pinsAfter: after.pins,
    });
    const rulesLeft = observed !== undefined && after.all > 0;
    if (!waiting.includes(outcome) && !outcome.startsWith('failed') && !rulesLeft) break;
  }

  return {
    scenario,
    steps,
    world,
    executionArn,
    result,
    safetyNetRedeliveries,
    settledAt,
    fired,
    waits,
    gates,
    racers,
    execution: started,
    struck,
    signals,
    startedAt,
    reconciled,
    settlers,
    ...(observed ? { readsFirst: observed } : {}),
    ...(reverse ? { reverse: reverse.observation } : {}),
    starting,
    stalled,
    ...(restorePathFrom !== undefined ? { restorePathFrom } : {}),
  };
}

/** The store as the main rollout's functions see it: each call (a DynamoDB call on AWS) may be stalled. */
function heldStore(inner: RolloutStore, holdCall: () => Promise<void> | undefined): RolloutStore {
  const held =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      const hold = holdCall();
      return hold ? hold.then(() => call(...args)) : call(...args);
    };
  // Every argument passed on as given (a guard, a fence): the wrapper only delays the call.
  return {
    get: held((...args: Parameters<RolloutStore['get']>) => inner.get(...args)),
    acquire: held((...args: Parameters<RolloutStore['acquire']>) => inner.acquire(...args)),
    update: held((...args: Parameters<RolloutStore['update']>) => inner.update(...args)),
    openWait: held((...args: Parameters<RolloutStore['openWait']>) => inner.openWait(...args)),
    release: held((...args: Parameters<RolloutStore['release']>) => inner.release(...args)),
    request: held((...args: Parameters<RolloutStore['request']>) => inner.request(...args)),
    refuse: held((...args: Parameters<RolloutStore['refuse']>) => inner.refuse(...args)),
  };
}

/**
 * Moves the fake clock from timer to timer until `promise` settles. Each step first lets every promise chain
 * run to its next timer (fake timers yield to the real event loop in between), so the order of events is the
 * virtual clock's, never the machine's load.
 */
async function onTheVirtualClock<T>(promise: Promise<T>): Promise<T> {
  let done = false;
  const watched = promise.finally(() => {
    done = true;
  });
  watched.catch(() => {});
  for (let idle = 0; !done; ) {
    if (vi.getTimerCount() > 0) {
      idle = 0;
      await vi.advanceTimersToNextTimerAsync();
      continue;
    }
    // No timer: what is left runs on promises alone, and settles within a few turns of the event loop.
    idle += 1;
    if (idle > 50)
      throw new Error('the run is stuck: nothing scheduled on the virtual clock, and not settled');
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return watched;
}
