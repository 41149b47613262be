import type { CutoverFreezeRecord, FreezeRecord, LosslessVerdict } from './reverse-capture-types.ts';

// Shapes and ports shared by the handlers, the CLI and the local mode. Adapters (ELBv2, CloudWatch, DynamoDB,
// Step Functions, HTTP) implement the ports; AWS clients are passed to them, never created in domain code.

/** A pair of ALB forward weights (integers 0..999 each, never both 0). */
export interface Weights {
  readonly source: number;
  readonly target: number;
}

export interface PlanStep {
  /** Percent of 9200 traffic sent to the target after this step, in (0, 100], 0.1 resolution. */
  readonly targetPercent: number;
  /** How long the step bakes under alarm watch, 0..86400 s. */
  readonly bakeSeconds: number;
  /** Wait for an operator's `promote` (or `abort`) after the bake. */
  readonly gate: boolean;
}

export interface Plan {
  readonly steps: readonly PlanStep[];
}

/** The weighted 9200 listener and the two target groups it must forward to. */
export interface ListenerTarget {
  readonly listenerArn: string;
  readonly sourceTargetGroupArn: string;
  readonly targetTargetGroupArn: string;
}

export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
/** What INSUFFICIENT_DATA means for a rollout. Default `not-firing`: a 1 % step often has no datapoint. */
export type InsufficientDataPolicy = 'firing' | 'not-firing';

export interface AlarmStatus {
  readonly name: string;
  readonly state: AlarmStateValue | 'UNREADABLE' | 'MISSING';
  readonly reason: string;
  readonly firing: boolean;
}

export interface AlarmEvaluation {
  readonly alarms: readonly AlarmStatus[];
  readonly firing: readonly AlarmStatus[];
}

/** A rule of the listener other than its default rule, as a person reads it (DescribeRules). */
export interface ListenerRule {
  readonly arn: string;
  /** ELBv2's rule priority, `1` to `50000`: lower is evaluated first. */
  readonly priority: string;
  /** Each condition in words, e.g. `path-pattern /admin/*` or `http-header X-Canary: 1`. */
  readonly conditions: readonly string[];
  /** What the rule does with a request it matches, e.g. `fixed-response 503` or `forward to <group ARN>`. */
  readonly action: string;
}

/** A listener rule as the ListenerPort reads it: what the domain needs to judge it. */
export interface DescribedListenerRule extends ListenerRule {
  /** Which of the swung target groups the rule forwards to: the requests it matches bypass the weights. */
  readonly swungGroups: readonly ('source' | 'target')[];
  /** The rule's tags, when the port reads them. */
  readonly tags?: Readonly<Record<string, string>>;
  /** Its conditions as ELBv2 states them, when the port reads them: what Preflight needs to see what it takes. */
  readonly matchers?: readonly RuleMatcher[];
}

/**
 * One condition of a listener rule in ELBv2's terms: `values` (wildcard patterns, methods, CIDR blocks, or a
 * query-string's `key=value` and `value` forms), `regexValues` where the condition matches by regular expression,
 * and the header an `http-header` condition reads.
 */
export interface RuleMatcher {
  readonly field: string;
  readonly values: readonly string[];
  readonly regexValues?: readonly string[];
  readonly headerName?: string;
}

/** Reads and writes the 9200 listener's weighted default action. */
export interface ListenerPort {
  /** Describes the listener, checks its shape (else `ListenerShapeInvalid`) and returns its weights. */
  readWeights(): Promise<Weights>;
  /** Writes the weights (the rest of the action list as it was), reads them back (else `WeightsNotApplied`). */
  writeWeights(weights: Weights): Promise<void>;
  /** Healthy targets in the target target group (DescribeTargetHealth). */
  healthyTargetCount(): Promise<number>;
  /** Stickiness on the weighted action, if any: real traffic lags the weights by up to this long. */
  stickinessSeconds(): Promise<number | undefined>;
}

/** The listener's other rules, a port apart from ListenerPort: only Preflight's role holds DescribeRules. */
export interface ListenerRulesPort {
  /** The listener's rules other than its default rule, in priority order (DescribeRules). */
  readRules(): Promise<readonly DescribedListenerRule[]>;
}

/** How a rollout moves traffic: `all` splits every request by weight; `reads-first` ramps reads, then cuts writes over. */
export type TrafficMode = 'all' | 'reads-first';

/**
 * What a rule of Swing's is for: `pin` keeps requests that continue one cluster's state (scroll, point in time,
 * tasks, cursors) on the source until after the cutover; `writes` keeps writes a read pattern would also match
 * on the source until the cutover; `reads` carries the read share.
 */
export type SwingRuleRole = 'pin' | 'writes' | 'reads' | 'freeze';

/**
 * What a freeze rule answers instead of forwarding (ELBv2's FixedResponseActionConfig: a status, a content type and
 * a body, no header: ALB cannot add `Retry-After`, so a client retries a 503 with its own backoff).
 */
export interface FixedResponse {
  readonly statusCode: string;
  readonly contentType: 'application/json' | 'text/plain';
  readonly messageBody: string;
}

/** A rule condition in ELBv2's terms (CreateRule), the subset Swing's rules use. */
export type SwingRuleCondition =
  | { readonly field: 'http-request-method'; readonly values: readonly string[] }
  | { readonly field: 'path-pattern'; readonly values: readonly string[] }
  | {
      readonly field: 'query-string';
      readonly values: readonly { readonly key?: string; readonly value: string }[];
    };

/** One rule of Swing's rule set (reads-first mode), as Swing creates it. */
export interface SwingRuleSpec {
  /** Stable name, also its `swing:rule` tag, e.g. `reads-get-head`. */
  readonly name: string;
  readonly role: SwingRuleRole;
  /** Added to the base priority: the pin rules come first, so they are evaluated before the read rules. */
  readonly offset: number;
  readonly conditions: readonly SwingRuleCondition[];
  /** A freeze rule answers what it matches itself (fixed-response) instead of forwarding: createRule ignores weights. */
  readonly respond?: FixedResponse;
}

/** A rule of Swing's as found on the listener, by its `swing:owner` tag. */
export interface FoundSwingRule {
  readonly arn: string;
  /** Its `swing:rule` tag. */
  readonly name: string;
  /** Its `swing:owner` tag: the execution ARN that created it. */
  readonly owner: string;
  readonly priority: number;
  /** Its conditions as read, in the spec's shape; a condition of another kind makes the rule not intact. */
  readonly conditions: readonly SwingRuleCondition[];
  /** The weights of its forward when it is one forward to exactly the two swung groups; absent otherwise. */
  readonly weights?: Weights;
  /** What it answers when its action is a fixed-response (a freeze rule); absent otherwise. */
  readonly respond?: FixedResponse;
}

/** Swing's own rules in reads-first mode: writes go only to rules it tagged (IAM: this listener's rules). */
export interface SwingRulesPort {
  /** Swing's rules on this listener (tagged `swing:owner`), in priority order. */
  readSwingRules(): Promise<readonly FoundSwingRule[]>;
  /**
   * Creates one rule at `priority` with a weighted forward at `weights`, tagged with its name and owner; a spec with
   * `respond` (a freeze rule) gets that fixed-response action instead, and `weights` is ignored.
   */
  createRule(spec: SwingRuleSpec, priority: number, weights: Weights, owner: string): Promise<string>;
  /** Sets a rule's weighted forward (the rest of it kept), then reads it back (else `WeightsNotApplied`). */
  setRuleWeights(ruleArn: string, weights: Weights): Promise<void>;
  /** Makes a rule answer `respond` itself (fixed-response), its conditions kept: the cutover's freeze. */
  setRuleResponse?(ruleArn: string, respond: FixedResponse): Promise<void>;
  /** Deletes a rule; one already gone is fine. */
  deleteRule(ruleArn: string): Promise<void>;
}

/** Whether the replayer has caught up with the source (reads-first mode checks it before each step). */
export interface ReplayLagVerdict {
  readonly caughtUp: boolean;
  /** What was read, in words: the metric's value and threshold, or that no datapoint came. */
  readonly detail: string;
  /** False when the alarm is missing or could not be read (then it is not caught up either). */
  readonly readable?: boolean;
  /** Until when the verdict speaks (alarm-evidence.ts); absent: the moment of the check (an exact port). */
  readonly coversUntil?: string;
}

export interface ReplayLagPort {
  check(): Promise<ReplayLagVerdict>;
  /** Whether the replayer applied every write the source took before `frozenAt`; stricter answers are fine. */
  appliedBefore?(frozenAt: Date): Promise<ReplayLagVerdict>;
}

export type {
  CutoverFreezeRecord,
  FreezeRecord,
  FrozenRequestsPort,
  LosslessVerdict,
  ReverseCaptureSettings,
  ReverseReplayPort,
  ReverseReplayVerdict,
} from './reverse-capture-types.ts';

/** Requests the target took, for the write-exposure report (the target group's RequestCount: reads included). */
export interface TargetRequestsPort {
  countBetween(from: Date, to: Date): Promise<number | undefined>;
}

/** What a rollback after the write cutover loses: every write the target took in the window is on the target only. */
export interface WriteExposure {
  readonly cutoverAt: string;
  /** When the starting weights were back (or, held, when the hold began). */
  readonly endedAt: string;
  readonly windowSeconds: number;
  /** Requests the target target group took in the window, reads included; absent when not measured. */
  readonly targetRequests?: number;
  /** `rolled-back`: the writes are on the target only; `held`: writes stay on the target, which keeps serving. */
  readonly policy: AfterCutoverPolicy;
  /**
   * Reverse capture: `drained`, every write the target took in the window was replayed onto the source before the
   * restore (nothing is on the target only); `timed-out`, the drain's bound passed first; `not-frozen`, the freeze
   * could not be made (or the path that restored made none). Absent: no reverse capture, the window's writes are on
   * the target only. Anything but `drained`: the window and the count are what may not have been replayed.
   */
  readonly reverseReplay?: 'drained' | 'timed-out' | 'not-frozen';
}

/** After the write cutover a failure either rolls back (availability first) or holds writes on the target (data first). */
export type AfterCutoverPolicy = 'rollback' | 'hold';

/** The reads-first settings of a rollout, as Preflight resolved them. */
export interface ReadsFirstSettings {
  /** Swing's first rule priority; its rules take `basePriority` .. `basePriority + n - 1`. */
  readonly basePriority: number;
  /** How long the pin rule keeps scroll and point-in-time contexts on the source after the cutover. */
  readonly scrollKeepAliveSeconds: number;
  /** `manual`: the cutover waits for `swing promote`; `replay-lag`: it goes once the replayer has caught up. */
  readonly cutoverGate: 'manual' | 'replay-lag';
  /** How long the cutover's manual gate waits, and what its timeout does (`rollback`: the reads go back). */
  readonly cutoverGateTimeoutSeconds: number;
  readonly cutoverGateTimeoutAction: 'rollback' | 'promote';
  /** How long a step waits for the replayer to catch up before it rolls back. */
  readonly replayWaitSeconds: number;
  /** The cutover step's bake (its keep-alive at least, so the pin can go when it ends). */
  readonly cutoverBakeSeconds: number;
  readonly afterCutover: AfterCutoverPolicy;
}

/** Evaluates the watched alarms. Unreadable alarm state counts as firing (fail closed). */
export interface AlarmPort {
  evaluate(): Promise<AlarmEvaluation>;
}

export type RolloutStatus =
  | 'preflight'
  | 'smoke-testing'
  | 'shifting'
  | 'baking'
  | 'gated'
  /** An operator's pause holds the rollout (PauseHold): it goes on with `swing resume` or `swing promote`. */
  | 'paused'
  | 'waiting-replay'
  | 'rolling-back'
  | 'completing'
  | 'completed'
  | 'rolled-back'
  | 'rehearsed'
  | 'halted'
  | 'refused';

/** `rehearsed`: a plan that ends by restoring its starting weights (`then: restore`) ran to its end. */
export type RolloutOutcome = 'completed' | 'rolled-back' | 'rehearsed' | 'halted';

/** What a plan does after its last step: hold it (a rollout) or restore the starting weights (a rehearsal). */
export type PlanEnd = 'hold' | 'restore';

export interface StepRecord {
  readonly index: number;
  readonly targetPercent: number;
  readonly weights: Weights;
  readonly startedAt: string;
  readonly bakedAt?: string;
  readonly endedAt?: string;
  /** The share the target really got during the bake, against the share asked (when measured). */
  readonly delivered?: DeliveredSplit;
  /**
   * Reads-first: `reads` moved the read rules; `cutover` moved writes (the default action); `pins` removed the
   * pins, sending the pinned reads to the target. Absent: all traffic.
   */
  readonly kind?: 'reads' | 'cutover' | 'pins';
}

export interface RollbackReason {
  /** The named Step Functions error, e.g. `AlarmFired`. */
  readonly error: string;
  readonly cause: string;
  /** The alarm that fired, when an alarm caused the rollback. */
  readonly alarm?: string;
  /** When the failure was signalled (alarm event, abort), ISO 8601. */
  readonly at: string;
}

/** The rollout part of the one record per listener. */
export interface Rollout {
  readonly executionArn: string;
  readonly startedAt: string;
  readonly plan: Plan;
  /** What rollback restores. */
  readonly startingWeights: Weights;
  /** The weights Swing last wrote and verified (starting weights before the first write). */
  readonly lastWritten: Weights;
  /** Set just before a write so that a crash between ModifyListener and the record is not taken for drift. */
  readonly pendingWeights?: Weights;
  /**
   * When the latest ShiftWeights attempt passed its fence and went on to write. An attempt whose answer was
   * lost runs on, and its ModifyListener can land until its function times out: Rollback outlasts it.
   */
  readonly lastShiftAt?: string;
  readonly stepIndex: number;
  readonly status: RolloutStatus;
  readonly steps: readonly StepRecord[];
  /**
   * Rules of the listener that answer or route what they match themselves (not to the swung groups), as
   * preflight found them: that traffic is not swung. At most MAX_RECORDED_RULES; `unswungRuleCount` has all.
   */
  readonly unswungRules?: readonly ListenerRule[];
  readonly unswungRuleCount?: number;
  /** The open bake or gate task token; an alarm or an abort fails it. Never logged. */
  readonly taskToken?: string;
  readonly taskKind?: WaitKind;
  readonly bakeEndsAt?: string;
  /**
   * The latest task attempt that wrote the record (a fenced update, or a wait storing its token; see
   * `attemptKey`): an older attempt, still running after Step Functions gave up on it, writes nothing more.
   */
  readonly lastAttempt?: string;
  readonly abortRequested?: boolean;
  /**
   * Reads-first: the abort landed while the write cutover was being written (its ModifyListener under way, which
   * nothing can call back): the writes moved, then the rollback restored them, and its reason says so.
   */
  readonly abortDuringCutover?: boolean;
  readonly pauseRequested?: boolean;
  readonly reason?: RollbackReason;
  readonly endedAt?: string;
  /**
   * Set when the lock is released: until then an attempt of this rollout's functions may still act on the
   * listener (a Lambda runs on after its state moved on), so no new rollout takes the lock (quiet.ts).
   */
  readonly quietUntil?: string;
  /**
   * When `swing rollback --force` restored the listener under this rollout's lock: the rules of Swing's found
   * missing from then on are its doing, not a hand change, and whoever settles the rollout sweeps the rest.
   */
  readonly forcedRollbackAt?: string;
  readonly outcome?: RolloutOutcome;
  /** True once rollback or the safety net has put the starting weights back. */
  readonly restored?: boolean;
  /**
   * Runs in a row in which the reconciler could not learn the lock holder's status (DescribeExecution
   * failed); it notifies once this reaches its threshold. Cleared when it learns the status.
   */
  readonly reconcileFailures?: number;
  /** Absent: `all` (every request split by the default action's weights). */
  readonly traffic?: TrafficMode;
  readonly readsFirst?: ReadsFirstSettings;
  /** Absent: `hold` (a rollout ends at its last step). */
  readonly planEnd?: PlanEnd;
  /** Reads-first: the weights Swing last wrote on its read rules; absent before it created them. */
  readonly readsWritten?: Weights;
  /** Reads-first: set just before rule writes, as `pendingWeights` is for the listener. */
  readonly pendingReads?: Weights;
  /** Reads-first: when the step at `stepIndex` first waited for the replayer (the wait's bound counts from it). */
  readonly replayWaitSince?: { readonly stepIndex: number; readonly at: string };
  /** Reads-first: set just before the write cutover's ModifyListener, so that a crash after it counts as cut over. */
  readonly cutoverStartedAt?: string;
  /** Reads-first: when the write cutover was verified. Every write after it is on the target only. */
  readonly cutoverAt?: string;
  /** What a rollback (or a hold) after the cutover left on the target only. */
  readonly exposure?: WriteExposure;
  /** The write freeze of a rollback after the cutover (reverse capture): absent when none was begun. */
  readonly freeze?: FreezeRecord;
  /** Reads-first: the write cutover's own freeze, while the forward replayer empties (absent before it). */
  readonly cutoverFreeze?: CutoverFreezeRecord;
  /** Preflight's verdict: would a rollback after the cutover lose nothing (reverse capture configured)? */
  readonly losslessRollback?: LosslessVerdict;
  /** The outcome notification this rollout sent: one per rollout, whoever finished it (see `notifyOnce`). */
  readonly notified?: NotificationOutcome;
}

export interface ListenerRecord {
  readonly listenerArn: string;
  /** Execution ARN that holds the lock; absent when free. */
  readonly lockOwner?: string;
  /** The running rollout, or the last one when free. */
  readonly rollout?: Rollout;
  /** Finished rollouts, newest last, bounded. */
  readonly history: readonly Rollout[];
  /** Executions whose start was reported refused (the newest, bounded): none of them may take the lock after. */
  readonly refusedStarts?: readonly string[];
  /** DynamoDB only: bumped with every refusedStarts write, the condition that orders concurrent refusals. */
  readonly refusedStartsVersion?: number;
}

export type RolloutPatch = Partial<Omit<Rollout, 'executionArn' | 'startedAt' | 'plan' | 'startingWeights'>>;

/**
 * The waits the state machine opens with a task token: a bake, a gate (the plan's, or the write cutover's), a
 * wait for the replayer, the hold of a pause (PauseHold), or a rollback's wait for the reverse replayer (Drain).
 */
export type WaitKind = 'bake' | 'gate' | 'replay' | 'pause' | 'drain';

export interface WaitOpening {
  /** Which wait opens (for logs): the condition is on `attempt` alone. */
  readonly kind: WaitKind;
  readonly stepIndex: number;
  /**
   * The attempt's key (`attemptKey`: `$$.State.EnteredTime` then `$$.State.RetryCount`). A retried bake has
   * the same step and status as the attempt it replaces, so only this tells the two apart.
   */
  readonly attempt: string;
}

/**
 * What an update refuses besides a stale attempt: an operator's request that stops the rollout going on. One
 * conditional write orders the request and the update: either the update sees it, or the request sees the update.
 */
export interface UpdateGuard {
  /** Refuse with `Paused`, changing nothing, while a pause is requested. */
  readonly notPaused?: boolean;
  /** Refuse with `Aborted`, changing nothing, once an abort is requested. */
  readonly notAborted?: boolean;
  /** Refuse with `Aborted`, changing nothing, once `swing rollback --force` recorded `forcedRollbackAt`. */
  readonly notForced?: boolean;
  /** Refuse with `Superseded`, changing nothing, once Complete marked the rollout `completing`. */
  readonly notCompleting?: boolean;
  /** Refuse with `Superseded`, changing nothing, once the rollout's outcome was notified (`notified`). */
  readonly notNotified?: boolean;
  /** Refuse with `Superseded`, changing nothing, unless the freeze began then (`null`: none): a settler's claim. */
  readonly freezeStartedAt?: string | null;
  /** Refuse with its error, changing nothing, once a rollback recorded the halt it found (`recordedHalt`). */
  readonly noRecordedHalt?: boolean;
}

/** The rollout record and the per-listener lock (I3). */
export type AcquireResult = 'acquired' | 'already-held';

export interface RolloutStore {
  get(listenerArn: string): Promise<ListenerRecord | undefined>;
  /**
   * Takes the lock atomically (a conditional write) if it is free and `rollout`'s execution has not already
   * released it; throws `RolloutLocked` naming the holder (`LockLost` for an execution that already released).
   * Returns `already-held`, writing nothing, when the execution holds it already: a retried or late preflight
   * attempt must never replace the rollout that is running.
   */
  acquire(listenerArn: string, rollout: Rollout): Promise<AcquireResult>;
  /**
   * Updates the rollout if `executionArn` still holds the lock; throws `LockLost` otherwise. With `fence` (the
   * writing task's attempt, as `attemptKey` builds it), also throws `Superseded`, changing nothing, when a later
   * attempt of any state has written the record (`lastAttempt` sorts above `fence`) or the rollout is rolling
   * back or completing: the writer is a stale attempt that Step Functions already gave up on. A fenced write
   * records `fence` as `lastAttempt`. With `guard`, also refuses while the operator's request it names stands.
   */
  update(
    listenerArn: string,
    executionArn: string,
    patch: RolloutPatch,
    fence?: string,
    guard?: UpdateGuard,
  ): Promise<Rollout>;
  /**
   * Releases the lock held by `executionArn`, recording the outcome and moving the rollout to history.
   * Returns false (and changes nothing) if `executionArn` does not hold it, so it is safe to repeat.
   */
  release(listenerArn: string, executionArn: string, final: RolloutPatch): Promise<boolean>;
  /**
   * Stores an open wait's token for one attempt, if `executionArn` holds the lock, the rollout is not rolling
   * back or completing, and no later attempt of any state has written the record; records the attempt as
   * `lastAttempt`. Nothing else is asked of the record: the live wait is the latest attempt, so its token is
   * always stored (an alarm and an abort always reach it), whatever a stale attempt wrote before. Returns
   * undefined (and changes nothing) when the attempt is stale: its state already ended, and its token is dead.
   * Throws `LockLost` when `executionArn` does not hold the lock.
   */
  openWait(
    listenerArn: string,
    executionArn: string,
    opening: WaitOpening,
    patch: RolloutPatch,
  ): Promise<Rollout | undefined>;
  /**
   * Records, with a conditional write, that `executionArn`'s start was reported refused, so that no late attempt
   * of its preflight takes the lock after (acquire throws `LockLost`). Returns `held`, writing nothing, when that
   * execution holds the lock (a stale attempt took it): the caller releases it, then records.
   */
  refuse(listenerArn: string, executionArn: string): Promise<'recorded' | 'held'>;
  /** Operator requests (abort, pause) on whoever holds the lock; throws `LockLost` if nobody does. */
  request(
    listenerArn: string,
    flags: Pick<RolloutPatch, 'abortRequested' | 'pauseRequested' | 'abortDuringCutover'>,
  ): Promise<Rollout>;
}

/** Step Functions' status of an execution (DescribeExecution). */
export type ExecutionStatus =
  | 'RUNNING'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'TIMED_OUT'
  | 'ABORTED'
  | 'PENDING_REDRIVE';

export interface ExecutionView {
  readonly status: ExecutionStatus;
  /** When it ended; absent while it runs. */
  readonly stoppedAt?: Date;
}

/** What the reconciler asks Step Functions. Throws when the status cannot be learned (throttling, access). */
export interface ExecutionStatusPort {
  describe(executionArn: string): Promise<ExecutionView>;
}

/** Step Functions task-token callbacks. */
export interface TaskCallbackPort {
  /** Returns `stale` when the token already timed out or finished: that is fine, not an error. */
  fail(token: string, error: string, cause: string): Promise<'sent' | 'stale'>;
  succeed(token: string, output: unknown): Promise<'sent' | 'stale'>;
}

export interface SmokeCheckResult {
  readonly name: string;
  readonly path: 'source' | 'target' | 'compare';
  readonly ok: boolean;
  readonly detail: string;
  readonly durationMs: number;
}

export interface SmokeReport {
  readonly ok: boolean;
  readonly results: readonly SmokeCheckResult[];
}

export interface SmokePort {
  run(): Promise<SmokeReport>;
}

/**
 * A rollout's outcome; `refused`: preflight turned the start down; `stuck`: the reconciler cannot learn
 * whether the lock holder still runs, so the lock stays held until someone looks.
 */
export type NotificationOutcome = RolloutOutcome | 'refused' | 'stuck';

export interface Notification {
  readonly outcome: NotificationOutcome;
  readonly listenerArn: string;
  readonly executionArn: string;
  /** Who started it (`schedule:<name>`, `cli:<user>`), when the execution input says. */
  readonly requestedBy?: string;
  readonly finalWeights?: Weights;
  readonly reason?: RollbackReason;
  /** Reads-first, after the write cutover: what the rollback (or hold) left on the target only. */
  readonly exposure?: WriteExposure;
}

export interface NotifierPort {
  notify(notification: Notification): Promise<void>;
}

/** The delivered split (delivered-split.ts judges it): what a step really served against what it asked. */

/** Requests each target group served in the measured window. */
export interface RequestCounts {
  readonly source: number;
  readonly target: number;
}

export type DeliveredVerdict =
  /** The test does not reject the asked share. */
  | 'as-asked'
  /** A two-sided binomial test rejects the asked share at `level`: traffic did not follow the weights. */
  | 'off'
  /** Too few requests to judge; the figures are shown, not judged. */
  | 'too-few'
  /** Nothing to measure yet: no settled whole minute inside the step (AWS), or no window at all. */
  | 'not-measured';

export interface DeliveredSplit {
  /** The target's share the weights asked for, percent (from the weights, so 1/998 is 0.1 %, not 0). */
  readonly askedPercent: number;
  readonly verdict: DeliveredVerdict;
  /** The window the counts cover, ISO 8601; absent when not measured. */
  readonly from?: string;
  readonly to?: string;
  readonly requests?: RequestCounts;
  /** The target's share of the requests served, percent. */
  readonly deliveredPercent?: number;
  /** Two-sided exact binomial p-value of the target's count under the asked share. */
  readonly pValue?: number;
  /** The significance level the test used. */
  readonly level: number;
  /** Why it was not judged, or what limits the figure (stickiness, smoke checks in the counts). */
  readonly notes?: readonly string[];
}
