import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { deliveredSplitFromMinutes, type MinuteMetrics } from '#adapters/target-group-metrics.ts';
import { reasonFrom } from '#domain/engine/reason.ts';
import { formatPlanSpec, resolvePlan } from '#domain/plan.ts';
import { DEFAULT_READS_FIRST, type RunStep, runSteps } from '#domain/reads-first.ts';
import type { Plan, ReadsFirstSettings, Weights, WriteExposure } from '#domain/types.ts';
import { formatWeights, weightsToPercent } from '#domain/weights.ts';
import type { ReportData, ReportEvent, ReportExposure, ReportRollback, ReportStep } from '#report/model.ts';
import { eventStepLabel } from '#report/step-names.ts';

interface ShiftedStep {
  index: number;
  targetPercent: number;
  weights: Weights;
  at: string;
  /** Reads-first: which part of the traffic the step moved (the step's output says). */
  kind?: ReportStep['kind'];
}

const STEP_KINDS: readonly string[] = ['reads', 'cutover', 'pins'];

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
  /** The steps the execution runs: the plan's, and in reads-first the write cutover and the pins' step. */
  runSteps: readonly RunStep[] | undefined;
  traffic: 'all' | 'reads-first';
  startedAt: string;
  endedAt: string | undefined;
  outcome: string;
  readonly shifted: ShiftedStep[];
  readonly events: ReportEvent[];
  startingWeights: Weights | undefined;
  failure: Failure | undefined;
  restoredAt: string | undefined;
  /** Reads-first: the write exposure the Rollback task reported. */
  exposure: WriteExposure | undefined;
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
  if (started?.traffic === 'reads-first') facts.traffic = 'reads-first';
  if (facts.plan) {
    const settings = started?.readsFirst as Partial<ReadsFirstSettings> | undefined;
    facts.runSteps = runSteps({
      plan: facts.plan,
      traffic: facts.traffic,
      readsFirst: { ...DEFAULT_READS_FIRST, ...settings },
      planEnd: started?.then === 'restore' ? 'restore' : 'hold',
    });
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
      const kind = STEP_KINDS.includes(step.kind ?? '') ? step.kind : undefined;
      // A step that says what it moved is reads-first, whatever the input left to the deployment's default.
      if (kind && facts.traffic === 'all') {
        facts.traffic = 'reads-first';
        if (facts.plan) facts.runSteps = runSteps({ plan: facts.plan, traffic: 'reads-first' });
      }
      facts.shifted.push({
        index: step.index,
        targetPercent: step.targetPercent ?? weightsToPercent(step.weights),
        weights: step.weights,
        at,
        ...(kind ? { kind } : {}),
      });
      facts.events.push({
        at,
        kind: 'weights',
        text: `${eventStepLabel(step.index + 1, facts.runSteps?.length, kind)}: weights ${formatWeights(step.weights)}`,
      });
    }
  }
  if (state === 'Rollback') {
    facts.restoredAt = at;
    const restored = output?.rollback as { weights?: unknown; exposure?: Partial<WriteExposure> } | undefined;
    if (isWeights(restored?.weights)) facts.startingWeights = restored.weights;
    const exposure = restored?.exposure;
    if (typeof exposure?.cutoverAt === 'string' && typeof exposure.endedAt === 'string')
      facts.exposure = exposure as WriteExposure;
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
    runSteps: undefined,
    traffic: 'all',
    startedAt: '',
    endedAt: undefined,
    outcome: 'running',
    shifted: [],
    events: [],
    startingWeights: undefined,
    failure: undefined,
    restoredAt: undefined,
    exposure: undefined,
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

/** A read step's split is not measurable on AWS: the target groups count reads and writes together. */
function readStepSplit(weights: Weights, from: string, to: string | undefined): ReportStep['delivered'] {
  return {
    askedPercent: Math.round(weightsToPercent(weights) * 100) / 100,
    verdict: 'not-measured',
    level: 0.001,
    from,
    ...(to ? { to } : {}),
    notes: [
      "ALB has no per-rule request counts: the target groups' counts mix the reads this step split with the writes, all on the source, so the reads' delivered split cannot be measured here",
    ],
  };
}

/** Every step the execution runs, numbered as the live view and the log number them, each with its write, its end and the split the target groups delivered meanwhile. */
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
  const planned: readonly RunStep[] =
    facts.runSteps ??
    [...latestByIndex.values()].map((step) => ({
      targetPercent: step.targetPercent,
      bakeSeconds: 0,
      gate: false,
      ...(step.kind ? { kind: step.kind } : {}),
    }));
  const of = Math.max(planned.length, lastReached + 1);
  return Array.from({ length: of }, (_, index): ReportStep => {
    const plannedStep = planned[index];
    const step = latestByIndex.get(index);
    const kind = step?.kind ?? plannedStep?.kind;
    const numbering = { index, number: index + 1, of, ...(kind ? { kind } : {}) };
    const gate = plannedStep?.gate ?? false;
    if (!step)
      return { ...numbering, percent: plannedStep?.targetPercent ?? 100, gate, state: 'not-reached' };
    const position = shifted.indexOf(step);
    const stepEnd = boundaries[position + 1] ?? endedAt;
    return {
      ...numbering,
      percent: step.targetPercent,
      weights: step.weights,
      gate,
      startedAt: step.at,
      ...(stepEnd ? { endedAt: stepEnd } : {}),
      delivered:
        kind === 'reads'
          ? readStepSplit(step.weights, step.at, stepEnd)
          : deliveredSplitFromMinutes(
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

/**
 * The weights as steps: the start, every write, the restore, held to the end. In reads-first the write share
 * (the default action's) and the read share (Swing's read rules', then the default's) are two series: a read
 * step moves the read share only, the cutover the write share, the pins' step neither.
 */
function weightSteps(facts: HistoryFacts, now: Date): ReportData['weights'] {
  const { startingWeights, startedAt, restoredAt } = facts;
  const readsFirst = facts.traffic === 'reads-first';
  const t: number[] = [];
  const targetPercent: number[] = [];
  const readPercent: number[] = [];
  const round = (percent: number) => Math.round(percent * 100) / 100;
  const add = (at: string, write: number, read: number) => {
    t.push(Date.parse(at) / 1000);
    targetPercent.push(round(write));
    readPercent.push(round(read));
  };
  const starting = startingWeights ? weightsToPercent(startingWeights) : 0;
  if (startingWeights && startedAt) add(startedAt, starting, starting);
  for (const step of facts.shifted) {
    const percent = weightsToPercent(step.weights);
    const write = step.kind === 'reads' ? (targetPercent.at(-1) ?? starting) : percent;
    const read =
      step.kind === 'cutover' || step.kind === 'pins' ? Math.max(readPercent.at(-1) ?? 0, percent) : percent;
    add(step.at, readsFirst ? write : percent, readsFirst ? read : percent);
  }
  if (restoredAt && startingWeights) add(restoredAt, starting, starting);
  const lastWrite = targetPercent.at(-1);
  const lastRead = readPercent.at(-1);
  if (lastWrite !== undefined && lastRead !== undefined)
    add(facts.endedAt ?? now.toISOString(), lastWrite, lastRead);
  return readsFirst ? { t, targetPercent, readPercent } : { t, targetPercent };
}

/** Reads-first: the write exposure the Rollback task reported, as the report shades it. */
function reportExposure(exposure: WriteExposure | undefined): ReportExposure | undefined {
  if (!exposure) return undefined;
  return {
    from: exposure.cutoverAt,
    to: exposure.endedAt,
    until: exposure.policy === 'hold' ? 'hold' : 'restore',
    windowMs: Math.max(0, Date.parse(exposure.endedAt) - Date.parse(exposure.cutoverAt)),
    ...(exposure.targetRequests !== undefined ? { targetRequests: exposure.targetRequests } : {}),
  };
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

function reportNotes(stickinessSeconds: number | undefined, readsFirst: boolean): string[] {
  return [
    ...(readsFirst
      ? [
          "Reads-first: the read share is the weights of Swing's read rules (the reads' own split), the write share the default action's; until the cutover every write goes to the source and is replayed. The exposure window (shaded) runs from the cutover's write to the restore's, as the Rollback task reported it: the writes in it are on the target only. A read step's delivered split cannot be measured on AWS (no per-rule counts).",
        ]
      : []),
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
  const readsFirst = facts.traffic === 'reads-first';
  const exposure = reportExposure(facts.exposure);
  const cutoverAt = exposure?.from ?? facts.shifted.find((step) => step.kind === 'cutover')?.at;
  const pinsRemovedAt = facts.shifted.find((step) => step.kind === 'pins')?.at;
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
    ...(readsFirst ? { traffic: 'reads-first' as const } : {}),
    ...(cutoverAt ? { cutoverAt } : {}),
    ...(pinsRemovedAt ? { pinsRemovedAt } : {}),
    ...(exposure ? { exposure } : {}),
    notes: reportNotes(input.stickinessSeconds, readsFirst),
    generatedAt: input.generatedAt ?? new Date().toISOString(),
  };
}
