import { CloudWatchAlarms } from '#adapters/alarms.ts';
import { AlbListener } from '#adapters/listener.ts';
import { AlbListenerRules } from '#adapters/listener-rules.ts';
import { MemoryRolloutStore } from '#adapters/store-memory.ts';
import { AlbSwingRules } from '#adapters/swing-rules.ts';
import { handleAlarmEvent } from '#domain/engine/alarm-event.ts';
import type { EngineDeps } from '#domain/engine/deps.ts';
import { TransientFailure } from '#domain/errors.ts';
import { silentLog } from '#domain/log.ts';
import type {
  InsufficientDataPolicy,
  ListenerPort,
  Notification,
  Rollout,
  RolloutPatch,
  SmokeReport,
  UpdateGuard,
  WaitOpening,
  Weights,
} from '#domain/types.ts';
import { isIncrease } from '#domain/weights.ts';
import { LocalStepFunctions } from '#local/executor.ts';
import { FakeCloudWatch, FakeElbv2, LISTENER } from './fake-aws.ts';

export const ALARM = 'swing-target-composite';

/**
 * The in-memory store, with a hook called once an update (or a wait's opening) is applied and before its caller resumes: a test
 * can act at the exact moment a bake or gate stores its task token.
 */
export class ObservedRolloutStore extends MemoryRolloutStore {
  onUpdate?: (executionArn: string, patch: RolloutPatch, rollout: Rollout) => void;

  override async update(
    listenerArn: string,
    executionArn: string,
    patch: RolloutPatch,
    fence?: string,
    guard?: UpdateGuard,
  ): Promise<Rollout> {
    const rollout = await super.update(listenerArn, executionArn, patch, fence, guard);
    this.onUpdate?.(executionArn, patch, rollout);
    return rollout;
  }

  override async openWait(
    listenerArn: string,
    executionArn: string,
    opening: WaitOpening,
    patch: RolloutPatch,
  ): Promise<Rollout | undefined> {
    const rollout = await super.openWait(listenerArn, executionArn, opening, patch);
    if (rollout) this.onUpdate?.(executionArn, patch, rollout);
    return rollout;
  }
}

const PASSING_SMOKE: SmokeReport = {
  ok: true,
  results: [{ name: 'GET /', path: 'source', ok: true, detail: '200', durationMs: 1 }],
};

export interface WorldOptions {
  readonly starting?: Weights;
  readonly alarms?: readonly string[];
  readonly smoke?: SmokeReport;
  /** Milliseconds per second of bake: 1 turns a 1000 s bake into 1 s. */
  readonly msPerSecond?: number;
  /**
   * An executor to share between worlds (its `msPerSecond` then applies): building one validates the ASL,
   * which costs far more than a short rollout, so tests that build hundreds of worlds pass one in.
   */
  readonly stepFunctions?: LocalStepFunctions;
  /** How the alarm checks read INSUFFICIENT_DATA. @default 'not-firing' */
  readonly insufficientData?: InsufficientDataPolicy;
  /** Group stickiness on the weighted forward, in seconds. @default off */
  readonly stickySeconds?: number;
}

/**
 * The real ASL and the real engine over stateful fakes of ELBv2 and CloudWatch (behind real SDK clients and
 * the real adapters), the in-memory record store, and the local Step Functions callbacks.
 */
export function makeWorld(options: WorldOptions = {}) {
  const alarmNames = options.alarms ?? [ALARM];
  const elb = new FakeElbv2(options.starting, LISTENER, options.stickySeconds);
  const cloudWatch = new FakeCloudWatch(alarmNames);
  const store = new ObservedRolloutStore();
  const sfn =
    options.stepFunctions ??
    new LocalStepFunctions({ msPerSecond: options.msPerSecond ?? 1, retryDelayMs: 1 });
  const notifications: Notification[] = [];
  /** Every weight increase made while a watched alarm was in ALARM (I2): must stay empty. */
  const increasesUnderAlarm: Weights[] = [];
  elb.onModify = (weights) => {
    if (isIncrease(elb.weights, weights) && cloudWatch.firing().length > 0) increasesUnderAlarm.push(weights);
  };
  const deps: EngineDeps = {
    listenerArn: LISTENER.listenerArn,
    watchedAlarms: alarmNames,
    listener: new AlbListener(elb.client, LISTENER, { verifyAttempts: 1, verifyDelayMs: 0 }),
    listenerRules: new AlbListenerRules(elb.client, LISTENER),
    // Reads-first's rules, on the same fake listener: every world can run either traffic mode.
    swingRules: new AlbSwingRules(elb.client, LISTENER, { verifyAttempts: 1, verifyDelayMs: 0 }),
    alarms: new CloudWatchAlarms(cloudWatch.client, {
      alarmNames,
      attempts: 1,
      retryDelayMs: 0,
      insufficientData: options.insufficientData ?? 'not-firing',
    }),
    store,
    callbacks: sfn,
    smoke: { run: async () => options.smoke ?? PASSING_SMOKE },
    notifier: { notify: async (notification) => void notifications.push(notification) },
    log: silentLog,
    now: () => new Date(),
  };

  async function rollout(): Promise<Rollout | undefined> {
    return (await store.get(LISTENER.listenerArn))?.rollout;
  }

  return {
    elb,
    cloudWatch,
    store,
    sfn,
    deps,
    notifications,
    increasesUnderAlarm,
    start: (input: unknown, name?: string) => sfn.start(deps, input, name ? { name } : {}),
    rollout,
    lockOwner: async () => (await store.get(LISTENER.listenerArn))?.lockOwner,
    /** Waits until the record says so (bounded: fails the test instead of hanging). */
    async until(predicate: (rollout: Rollout | undefined) => boolean, what: string, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const current = await rollout();
        if (predicate(current)) return current;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      throw new Error(`timed out waiting for: ${what}; record: ${JSON.stringify(await rollout())}`);
    },
    /** CloudWatch flips the alarm and EventBridge delivers the state change to the alarm-event handler. */
    async fireAlarm(
      name = alarmNames[0] ?? ALARM,
      value: 'ALARM' | 'INSUFFICIENT_DATA' = 'ALARM',
      insufficientData: InsufficientDataPolicy = 'not-firing',
    ) {
      cloudWatch.set(name, value);
      return handleAlarmEvent(
        { ...deps, insufficientData },
        alarmStateChange(name, value, 'Threshold Crossed: 5xx rate 12 % > 5 %'),
      );
    },
  };
}

/** The EventBridge event CloudWatch sends when an alarm leaves OK. */
export function alarmStateChange(alarmName: string, value: 'ALARM' | 'INSUFFICIENT_DATA', reason: string) {
  return {
    source: 'aws.cloudwatch',
    'detail-type': 'CloudWatch Alarm State Change',
    time: new Date().toISOString(),
    detail: { alarmName, state: { value, reason }, previousState: { value: 'OK' } },
  };
}

/** What an operator's command (abort, pause, promote) acts through, for this world's listener. */
export function operatorOf(world: { store: MemoryRolloutStore; sfn: LocalStepFunctions }) {
  return { listenerArn: LISTENER.listenerArn, store: world.store, callbacks: world.sfn };
}

export const baking = (index: number) => (rollout: Rollout | undefined) =>
  rollout?.status === 'baking' &&
  rollout.stepIndex === index &&
  rollout.taskKind === 'bake' &&
  !!rollout.taskToken;

export const gated = (index: number) => (rollout: Rollout | undefined) =>
  rollout?.status === 'gated' &&
  rollout.stepIndex === index &&
  rollout.taskKind === 'gate' &&
  !!rollout.taskToken;

/** Held for an operator's pause (PauseHold open) with the listener at step `index`. */
export const paused = (index: number) => (rollout: Rollout | undefined) =>
  rollout?.status === 'paused' &&
  rollout.stepIndex === index &&
  rollout.taskKind === 'pause' &&
  !!rollout.taskToken;

/** An executor whose executions' status events are never delivered (EventBridge's best effort, lost). */
export function losingStatusEvents(): LocalStepFunctions {
  return new LocalStepFunctions({ msPerSecond: 1, retryDelayMs: 1, deliverStatusEvent: () => false });
}

/** Another rollout's execution, holding the listener in tests of a start that meets it. */
export const HOLDER = 'arn:aws:states:us-east-1:000000000000:execution:swing-rollout:holder';

/**
 * Another rollout holds the listener, baking its one step: it took the lock at `startingWeights` and wrote
 * `lastWritten`, the weights a start that reads the listener meanwhile finds.
 */
export async function holdListener(
  store: MemoryRolloutStore,
  holder: {
    readonly startingWeights: Weights;
    readonly lastWritten: Weights;
    readonly step: { readonly targetPercent: number; readonly bakeSeconds: number };
    readonly executionArn?: string;
  },
): Promise<void> {
  await store.acquire(LISTENER.listenerArn, {
    executionArn: holder.executionArn ?? HOLDER,
    startedAt: new Date().toISOString(),
    plan: { steps: [{ ...holder.step, gate: false }] },
    startingWeights: holder.startingWeights,
    lastWritten: holder.lastWritten,
    stepIndex: 0,
    status: 'baking',
    steps: [],
  });
}

/**
 * The listener port, running `act` right after its first read of the weights (Preflight's, before it takes the
 * lock): what it acts on changes between Preflight's read and its acquire.
 */
export function actingAfterFirstRead(listener: ListenerPort, act: () => unknown): ListenerPort {
  let reads = 0;
  return {
    ...listener,
    stickinessSeconds: () => listener.stickinessSeconds(),
    readWeights: async () => {
      reads += 1;
      const weights = await listener.readWeights();
      if (reads === 1) await act();
      return weights;
    },
  };
}

/** DynamoDB refusing a release for a while (throttled): the ASL's Retry is meant for it. */
export const throttledRelease = () =>
  new TransientFailure('UpdateItem releasing the lock: ProvisionedThroughputExceededException');

/**
 * The store's releases whose final patch `matches` fail (`error()` is thrown) the first `times` times, then go
 * through; `failed` counts the failures.
 */
export function failingReleases(
  store: MemoryRolloutStore,
  matches: (final: RolloutPatch) => boolean,
  times: number,
  error: () => Error = throttledRelease,
): { readonly failed: number } {
  const counter = { failed: 0 };
  const release = store.release.bind(store);
  store.release = async (listenerArn, executionArn, final) => {
    if (matches(final) && counter.failed < times) {
      counter.failed += 1;
      throw error();
    }
    return release(listenerArn, executionArn, final);
  };
  return counter;
}

/** Writes to the listener or its rules: what Swing must not do once they were changed by hand (I4). */
const LISTENER_WRITES = new Set(['CreateRule', 'ModifyRule', 'DeleteRule', 'ModifyListener']);

/** The fake listener's writes (rules or default action) from its log's `from`th entry on. */
export function listenerWritesSince(elb: FakeElbv2, from: number) {
  return elb.log.slice(from).filter((event) => event.kind === 'call' && LISTENER_WRITES.has(event.operation));
}

/**
 * The listener's record after a start refused before it held the lock: nothing but the refusal, which
 * ReportRefusal records so that a late attempt of that Preflight never takes the lock.
 */
export const refusalOnly = (executionArn: string) => ({
  listenerArn: LISTENER.listenerArn,
  history: [],
  refusedStarts: [executionArn],
});
