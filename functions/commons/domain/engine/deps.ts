import type { DeliveredSplit } from '../delivered-split.ts';
import { ListenerShapeInvalid } from '../errors.ts';
import type { LogPort } from '../log.ts';
import type { TrafficDefaults } from '../reads-first.ts';
import type {
  AlarmPort,
  FrozenRequestsPort,
  ListenerPort,
  ListenerRulesPort,
  NotifierPort,
  ReplayLagPort,
  ReverseCaptureSettings,
  ReverseReplayPort,
  RolloutStore,
  SmokePort,
  StepRecord,
  SwingRulesPort,
  TargetRequestsPort,
  TaskCallbackPort,
  Weights,
} from '../types.ts';

/**
 * The rollout engine: one module per state-machine task (engine/<state>.ts), each a function that Lambda
 * handlers, the local mode and the tests call with their own adapters; nothing here knows whether it runs in
 * AWS. This is what they are given: the ports and the settings. Each state takes a Pick of EngineDeps, so a
 * handler builds only the clients its state uses.
 */
export interface EngineDeps {
  readonly listenerArn: string;
  readonly watchedAlarms: readonly string[];
  readonly listener: ListenerPort;
  readonly listenerRules: ListenerRulesPort;
  readonly alarms: AlarmPort;
  readonly store: RolloutStore;
  readonly callbacks: TaskCallbackPort;
  readonly smoke: SmokePort;
  readonly notifier: NotifierPort;
  readonly log: LogPort;
  readonly now: () => Date;
  /** Called after each verified write, e.g. to emit the target-weight metric. */
  readonly onWeightsWritten?: (weights: Weights, targetPercent: number) => void;
  /**
   * Measures the split the target really got from the step's start until `until`; its answer goes in the
   * step record and a split the binomial test rejects is logged as a warning. Absent: not measured.
   */
  readonly measureDeliveredSplit?: (step: StepRecord, until: Date) => Promise<DeliveredSplit>;
  /** How long AfterBake waits for that measure. @default ADVISORY_MEASURE_DEADLINE_MS */
  readonly measureDeadlineMs?: number;
  /** Swing's own listener rules (reads-first). Absent: this deployment cannot run reads-first rollouts. */
  readonly swingRules?: SwingRulesPort;
  /** Whether the replayer has caught up (reads-first checks it before each step). Absent: no check configured. */
  readonly replayLag?: ReplayLagPort;
  /** Requests the target took, for the write-exposure report. Absent: not measured. */
  readonly targetRequests?: TargetRequestsPort;
  /** The stack's traffic mode and reads-first settings for inputs that do not say. @default all */
  readonly trafficDefaults?: TrafficDefaults;
  /** The alarm on the replayer's lag: its return to OK releases a step waiting for the replayer. */
  readonly replayLagAlarm?: string;
  /**
   * Reverse capture (REVERSE_LAG_ALARM & co on AWS): a rollback after the write cutover freezes writes, waits for
   * the reverse replayer to drain (bounded by `drainTimeoutSeconds`), restores, then lifts the freeze. Its lag
   * alarm's return to OK releases Drain. Absent: not configured, the exposure is reported as before.
   */
  readonly reverseCapture?: ReverseCaptureSettings;
  /** The reverse replayer's lag, read when Drain opens and when DrainCheck re-checks. Absent: never drained. */
  readonly reverseReplay?: ReverseReplayPort;
  /** How long the write cutover keeps writes frozen for the replayer. @default CUTOVER_FREEZE_TIMEOUT_MS */
  readonly cutoverFreezeTimeoutMs?: number;
  /** How long ALB may route by a listener's old rules after a change. @default RULE_SETTLE_MS; 0 locally */
  readonly ruleSettleMs?: number;
  /** The non-reads the freeze answered 503, for the record. Absent: not counted (AWS). */
  readonly frozenRequests?: FrozenRequestsPort;
  /**
   * How long after a release no rollout may take the lock (QUIET_AFTER_RELEASE_SECONDS on AWS, quiet.ts).
   * @default 0, where no invocation outlives its state (the local mode)
   */
  readonly quietAfterReleaseMs?: number;
}

/** The rules port, which a reads-first rollout cannot do without. */
export function rulesPort(deps: { swingRules?: SwingRulesPort }, listenerArn: string): SwingRulesPort {
  if (deps.swingRules) return deps.swingRules;
  throw new ListenerShapeInvalid(
    `this deployment of Swing cannot manage listener rules on ${listenerArn} (no rules port was given to this ` +
      'function): a reads-first rollout needs them. Deploy the current stack, or start with traffic all',
  );
}

// Global setTimeout, not node:timers/promises: test fake timers drive it.
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
