import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { deliveredSplitFromMinutes, type MinuteMetrics } from '#adapters/target-group-metrics.ts';
import { reasonFrom } from '#domain/engine/reason.ts';
import { formatPlanSpec, resolvePlan } from '#domain/plan.ts';
import type { Plan, Weights } from '#domain/types.ts';
import { formatWeights, weightsToPercent } from '#domain/weights.ts';
import type { ReportData, ReportEvent, ReportRollback, ReportStep } from '#report/model.ts';

interface ShiftedStep {
  index: number;
  targetPercent: number;
  weights: Weights;
  at: string;
}

function parseJson(text: string | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isWeights(value: unknown): value is Weights {
  const weights = value as Weights | undefined;
  return typeof weights?.source === 'number' && typeof weights.target === 'number';
}

function iso(date: Date | string | undefined): string {
  return new Date(date ?? 0).toISOString();
}

/** The failure details of any *Failed / *TimedOut event, whatever its type. */
function failureOf(event: HistoryEvent): { error?: string; cause?: string } | undefined {
  const details =
    event.taskFailedEventDetails ??
    event.lambdaFunctionFailedEventDetails ??
    event.executionFailedEventDetails ??
    event.taskTimedOutEventDetails;
  return details
    ? {
        ...(details.error ? { error: details.error } : {}),
        ...(details.cause ? { cause: details.cause } : {}),
      }
    : undefined;
}

type Failure = { error: string; cause: string; at: string; alarm?: string };

/** What the history says, gathered event by event in order. */
interface HistoryFacts {
  plan: Plan | undefined;
  startedAt: string;
  endedAt: string | undefined;
  outcome: string;
  readonly shifted: ShiftedStep[];
  readonly events: ReportEvent[];
  startingWeights: Weights | undefined;
  failure: Failure | undefined;
  restoredAt: string | undefined;
  lastTerminalState: string | undefined;
  currentState: string;
}

function onExecutionStarted(facts: HistoryFacts, event: HistoryEvent, at: string): void {
  facts.startedAt = at;
  const started = parseJson(event.executionStartedEventDetails?.input);
  try {
    facts.plan = resolvePlan(started?.plan);
  } catch {
    facts.plan = undefined;
  }
  facts.events.push({ at, kind: 'phase', text: 'execution started' });
}

function onStateEntered(facts: HistoryFacts, event: HistoryEvent, at: string): void {
  const currentState = event.stateEnteredEventDetails?.name ?? '';
  facts.currentState = currentState;
  if (currentState === 'SmokeTest') facts.events.push({ at, kind: 'phase', text: 'smoke testing' });
  if (currentState === 'Gate')
    facts.events.push({ at, kind: 'gate', text: 'waiting at the gate for promote or abort' });
  if (currentState === 'Rollback') {
    facts.events.push({ at, kind: 'rollback', text: 'rolling back' });
  }
  if (['Complete', 'RolledBack', 'Halt', 'ReportRefusal'].includes(currentState))
    facts.lastTerminalState = currentState;
}

function onTaskStateExited(facts: HistoryFacts, event: HistoryEvent, at: string): void {
  const state = event.stateExitedEventDetails?.name;
  const output = parseJson(event.stateExitedEventDetails?.output);
  if (state === 'ShiftWeights') {
    const step = output?.step as Partial<ShiftedStep> | undefined;
    if (step && typeof step.index === 'number' && isWeights(step.weights)) {
      facts.shifted.push({
        index: step.index,
        targetPercent: step.targetPercent ?? weightsToPercent(step.weights),
        weights: step.weights,
        at,
      });
      facts.events.push({
        at,
        kind: 'weights',
        text: `step ${step.index + 1}: weights ${formatWeights(step.weights)}`,
      });
    }
  }
  if (state === 'Rollback') {
    facts.restoredAt = at;
    const restored = output?.rollback as { weights?: unknown } | undefined;
    if (isWeights(restored?.weights)) facts.startingWeights = restored.weights;
    const { startingWeights } = facts;
    facts.events.push({
      at,
      kind: 'rollback',
      text: `starting weights${startingWeights ? ` ${formatWeights(startingWeights)}` : ''} restored`,
    });
  }
}

function onTaskFailed(facts: HistoryFacts, event: HistoryEvent, at: string): void {
  const details = failureOf(event);
  // A bake that times out baked cleanly: not a failure.
  if (details?.error === 'States.Timeout' && facts.currentState === 'Bake') {
    facts.events.push({ at, kind: 'phase', text: 'baked cleanly' });
    return;
  }
  if (!details?.error || facts.failure) return;
  const reason = reasonFrom(
    { Error: details.error, ...(details.cause ? { Cause: details.cause } : {}) },
    new Date(at),
  );
  facts.failure = {
    error: reason.error,
    cause: reason.cause,
    at: reason.at,
    ...(reason.alarm ? { alarm: reason.alarm } : {}),
  };
  if (reason.alarm) {
    facts.events.push({
      at: reason.at,
      kind: 'alarm',
      state: 'ALARM',
      text: reason.cause.startsWith(reason.alarm) ? reason.cause : `${reason.alarm}: ${reason.cause}`,
    });
  }
  facts.events.push({ at, kind: 'rollback', text: `${facts.currentState} failed: ${details.error}` });
}

/** An ExecutionFailed is told apart by the terminal state the execution last entered. */
function outcomeOfEnd(type: HistoryEvent['type'], lastTerminalState: string | undefined): string {
  if (type === 'ExecutionAborted') return 'stopped';
  if (type !== 'ExecutionFailed') return 'timed-out';
  if (lastTerminalState === 'RolledBack') return 'rolled-back';
  if (lastTerminalState === 'Halt') return 'halted';
  if (lastTerminalState === 'ReportRefusal') return 'refused';
  return 'failed';
}

function onExecutionEnded(facts: HistoryFacts, event: HistoryEvent, at: string): void {
  facts.endedAt = at;
  facts.outcome = outcomeOfEnd(event.type, facts.lastTerminalState);
  const details = failureOf(event);
  facts.events.push({
    at,
    kind: 'outcome',
    text: `${facts.outcome}${details?.error ? ` (${details.error})` : ''}`,
  });
}

/** Reads the execution history: the plan, the weight writes, the restore, the failure and the outcome. */
function readExecutionHistory(events: readonly HistoryEvent[]): HistoryFacts {
  const facts: HistoryFacts = {
    plan: undefined,
    startedAt: '',
    endedAt: undefined,
    outcome: 'running',
    shifted: [],
    events: [],
    startingWeights: undefined,
    failure: undefined,
    restoredAt: undefined,
    lastTerminalState: undefined,
    currentState: '',
  };
  for (const event of events) {
    const at = iso(event.timestamp);
    switch (event.type) {
      case 'ExecutionStarted':
        onExecutionStarted(facts, event, at);
        break;
      case 'TaskStateEntered':
      case 'PassStateEntered':
      case 'ChoiceStateEntered':
        onStateEntered(facts, event, at);
        break;
      case 'TaskStateExited':
        onTaskStateExited(facts, event, at);
        break;
      case 'TaskFailed':
      case 'TaskTimedOut':
      case 'LambdaFunctionFailed':
        onTaskFailed(facts, event, at);
        break;
      case 'ExecutionSucceeded':
        facts.endedAt = at;
        facts.outcome = 'completed';
        facts.events.push({ at, kind: 'outcome', text: 'completed' });
        break;
      case 'ExecutionFailed':
      case 'ExecutionAborted':
      case 'ExecutionTimedOut':
        onExecutionEnded(facts, event, at);
        break;
      default:
        break;
    }
  }
  return facts;
}

/** The plan's steps, each with its write, its end and the split the target groups delivered meanwhile. */
function reportSteps(
  facts: HistoryFacts,
  metrics: {
    readonly minutes: readonly MinuteMetrics[];
    readonly now: Date;
    readonly stickinessSeconds?: number;
  },
): ReportStep[] {
  const { shifted, restoredAt, endedAt } = facts;
  // A step runs from its write to the next write, the restore, or the end.
  const boundaries = [...shifted.map((step) => step.at), ...(restoredAt ? [restoredAt] : [])];
  const latestByIndex = new Map<number, ShiftedStep>();
  for (const step of shifted) latestByIndex.set(step.index, step);
  const rolledBack = facts.outcome === 'rolled-back';
  const lastReached = Math.max(-1, ...shifted.map((step) => step.index));
  const planned =
    facts.plan?.steps ??
    [...latestByIndex.values()].map((step) => ({ targetPercent: step.targetPercent, gate: false }));
  return planned.map((plannedStep, index) => {
    const step = latestByIndex.get(index);
    if (!step)
      return { index, percent: plannedStep.targetPercent, gate: plannedStep.gate, state: 'not-reached' };
    const position = shifted.indexOf(step);
    const stepEnd = boundaries[position + 1] ?? endedAt;
    return {
      index,
      percent: step.targetPercent,
      weights: step.weights,
      gate: plannedStep.gate,
      startedAt: step.at,
      ...(stepEnd ? { endedAt: stepEnd } : {}),
      delivered: deliveredSplitFromMinutes(
        { startedAt: step.at, weights: step.weights },
        stepEnd,
        metrics.minutes,
        {
          now: metrics.now,
          ...(metrics.stickinessSeconds ? { stickinessSeconds: metrics.stickinessSeconds } : {}),
        },
      ),
      state:
        endedAt === undefined && index === lastReached
          ? 'running'
          : rolledBack && index === lastReached
            ? 'rolled-back'
            : 'passed',
    };
  });
}

/** The weights as steps: the start, every write, the restore, held to the end. */
function weightSteps(facts: HistoryFacts, now: Date): ReportData['weights'] {
  const { startingWeights, startedAt, restoredAt } = facts;
  const weightTimes: number[] = [];
  const weightValues: number[] = [];
  const addWeight = (at: string, percent: number) => {
    weightTimes.push(Date.parse(at) / 1000);
    weightValues.push(Math.round(percent * 100) / 100);
  };
  if (startingWeights && startedAt) addWeight(startedAt, weightsToPercent(startingWeights));
  for (const step of facts.shifted) addWeight(step.at, weightsToPercent(step.weights));
  if (restoredAt && startingWeights) addWeight(restoredAt, weightsToPercent(startingWeights));
  const lastWeight = weightValues.at(-1);
  if (lastWeight !== undefined) addWeight(facts.endedAt ?? now.toISOString(), lastWeight);
  return { t: weightTimes, targetPercent: weightValues };
}

/** The target groups' per-minute metrics as the report's series. */
function metricSeries(minutes: readonly MinuteMetrics[]): ReportData['series'] {
  const rate = (value: number | null) => (value === null ? null : Math.round((value / 60) * 100) / 100);
  const errorShare = (errors: number | null, requests: number | null) =>
    requests ? Math.round(((errors ?? 0) / requests) * 10_000) / 100 : requests === 0 ? 0 : null;
  return {
    resolutionSeconds: 60,
    t: minutes.map((minute) => minute.t),
    rps: {
      source: minutes.map((minute) => rate(minute.requests.source)),
      target: minutes.map((minute) => rate(minute.requests.target)),
    },
    errorPercent: {
      source: minutes.map((minute) => errorShare(minute.errors5xx.source, minute.requests.source)),
      target: minutes.map((minute) => errorShare(minute.errors5xx.target, minute.requests.target)),
    },
    latencyMs: {
      source: minutes.map((minute) => minute.p99LatencyMs.source),
      target: minutes.map((minute) => minute.p99LatencyMs.target),
    },
    latencyLabel: 'p99 TargetResponseTime per minute',
  };
}

/** The rollback's record: what failed, when, the alarm, and how long until the starting weights were back. */
function rollbackRecord(facts: HistoryFacts): ReportRollback | undefined {
  const { failure, restoredAt } = facts;
  if (!failure || facts.outcome === 'completed') return undefined;
  const alarmAt = failure.alarm ? Date.parse(failure.at) : undefined;
  return {
    error: failure.error,
    cause: failure.cause,
    ...(failure.alarm ? { alarm: failure.alarm } : {}),
    at: failure.at,
    ...(restoredAt ? { restoredAt } : {}),
    ...(restoredAt && alarmAt !== undefined
      ? { msFromAlarmToRestore: Math.max(0, Date.parse(restoredAt) - alarmAt) }
      : {}),
  };
}

function reportNotes(stickinessSeconds: number | undefined): string[] {
  return [
    "From CloudWatch: per-minute sums of each target group (RequestCount, HTTPCode_Target_5XX_Count) and p99 TargetResponseTime; requests per second are the minute's sum / 60.",
    'Smoke checks on the smoke listeners reach the same target groups and are counted too. ALB has no per-rule request counts: where reads and writes are split, these are the totals.',
    'Delivered split: only the whole minutes inside a step whose datapoints have settled (3 minutes after the minute) are judged; a shorter step is "not measured".',
    ...(stickinessSeconds
      ? [
          `Target-group stickiness (${stickinessSeconds} s) is on: clients keep their group, so the delivered share lags the weights.`,
        ]
      : []),
    "Alarm times are those the alarm event carried into the rollback; the alarm's full state history is in CloudWatch.",
  ];
}

/**
 * What a report shows of one execution, read from its GetExecutionHistory events and the target groups'
 * per-minute metrics. Only named fields are taken from the events: task parameters (which carry the bake's
 * and the gate's task tokens) are never read, so no token can reach the report.
 */
export function executionReportData(input: {
  readonly executionArn: string;
  readonly events: readonly HistoryEvent[];
  readonly minutes: readonly MinuteMetrics[];
  readonly now: Date;
  readonly stickinessSeconds?: number;
  readonly generatedAt?: string;
}): ReportData {
  const name = input.executionArn.split(':').at(-1) ?? input.executionArn;
  const facts = readExecutionHistory(input.events);
  const steps = reportSteps(facts, input);
  const weights = weightSteps(facts, input.now);
  const rollback = rollbackRecord(facts);
  const reportEvents = facts.events;
  reportEvents.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const { outcome, plan, startedAt, endedAt } = facts;
  return {
    title: `Swing rollout ${name}: ${outcome}`,
    source: 'aws',
    execution: input.executionArn,
    outcome,
    plan: plan ? formatPlanSpec(plan) : '-',
    startedAt,
    ...(endedAt ? { endedAt } : {}),
    weights,
    series: metricSeries(input.minutes),
    events: reportEvents,
    steps,
    ...(rollback ? { rollback } : {}),
    notes: reportNotes(input.stickinessSeconds),
    generatedAt: input.generatedAt ?? new Date().toISOString(),
  };
}
