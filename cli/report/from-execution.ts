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
  const { events } = input;
  const name = input.executionArn.split(':').at(-1) ?? input.executionArn;
  let plan: Plan | undefined;
  let startedAt = '';
  let endedAt: string | undefined;
  let outcome = 'running';
  const shifted: ShiftedStep[] = [];
  const reportEvents: ReportEvent[] = [];
  let startingWeights: Weights | undefined;
  let failure: { error: string; cause: string; at: string; alarm?: string } | undefined;
  let restoredAt: string | undefined;
  let lastTerminalState: string | undefined;
  let currentState = '';

  for (const event of events) {
    const at = iso(event.timestamp);
    switch (event.type) {
      case 'ExecutionStarted': {
        startedAt = at;
        const started = parseJson(event.executionStartedEventDetails?.input);
        try {
          plan = resolvePlan(started?.plan);
        } catch {
          plan = undefined;
        }
        reportEvents.push({ at, kind: 'phase', text: 'execution started' });
        break;
      }
      case 'TaskStateEntered':
      case 'PassStateEntered':
      case 'ChoiceStateEntered': {
        currentState = event.stateEnteredEventDetails?.name ?? '';
        if (currentState === 'SmokeTest') reportEvents.push({ at, kind: 'phase', text: 'smoke testing' });
        if (currentState === 'Gate')
          reportEvents.push({ at, kind: 'gate', text: 'waiting at the gate for promote or abort' });
        if (currentState === 'Rollback') {
          reportEvents.push({ at, kind: 'rollback', text: 'rolling back' });
        }
        if (['Complete', 'RolledBack', 'Halt', 'ReportRefusal'].includes(currentState))
          lastTerminalState = currentState;
        break;
      }
      case 'TaskStateExited': {
        const state = event.stateExitedEventDetails?.name;
        const output = parseJson(event.stateExitedEventDetails?.output);
        if (state === 'ShiftWeights') {
          const step = output?.step as Partial<ShiftedStep> | undefined;
          if (step && typeof step.index === 'number' && isWeights(step.weights)) {
            shifted.push({
              index: step.index,
              targetPercent: step.targetPercent ?? weightsToPercent(step.weights),
              weights: step.weights,
              at,
            });
            reportEvents.push({
              at,
              kind: 'weights',
              text: `step ${step.index + 1}: weights ${formatWeights(step.weights)}`,
            });
          }
        }
        if (state === 'Rollback') {
          restoredAt = at;
          const restored = output?.rollback as { weights?: unknown } | undefined;
          if (isWeights(restored?.weights)) startingWeights = restored.weights;
          reportEvents.push({
            at,
            kind: 'rollback',
            text: `starting weights${startingWeights ? ` ${formatWeights(startingWeights)}` : ''} restored`,
          });
        }
        break;
      }
      case 'TaskFailed':
      case 'TaskTimedOut':
      case 'LambdaFunctionFailed': {
        const details = failureOf(event);
        // A bake that times out baked cleanly: not a failure.
        if (details?.error === 'States.Timeout' && currentState === 'Bake') {
          reportEvents.push({ at, kind: 'phase', text: 'baked cleanly' });
          break;
        }
        if (details?.error && !failure) {
          const reason = reasonFrom(
            { Error: details.error, ...(details.cause ? { Cause: details.cause } : {}) },
            new Date(at),
          );
          failure = {
            error: reason.error,
            cause: reason.cause,
            at: reason.at,
            ...(reason.alarm ? { alarm: reason.alarm } : {}),
          };
          if (reason.alarm) {
            reportEvents.push({
              at: reason.at,
              kind: 'alarm',
              state: 'ALARM',
              text: reason.cause.startsWith(reason.alarm) ? reason.cause : `${reason.alarm}: ${reason.cause}`,
            });
          }
          reportEvents.push({ at, kind: 'rollback', text: `${currentState} failed: ${details.error}` });
        }
        break;
      }
      case 'ExecutionSucceeded':
        endedAt = at;
        outcome = 'completed';
        reportEvents.push({ at, kind: 'outcome', text: 'completed' });
        break;
      case 'ExecutionFailed':
      case 'ExecutionAborted':
      case 'ExecutionTimedOut': {
        endedAt = at;
        outcome =
          event.type !== 'ExecutionFailed'
            ? event.type === 'ExecutionAborted'
              ? 'stopped'
              : 'timed-out'
            : lastTerminalState === 'RolledBack'
              ? 'rolled-back'
              : lastTerminalState === 'Halt'
                ? 'halted'
                : lastTerminalState === 'ReportRefusal'
                  ? 'refused'
                  : 'failed';
        const details = failureOf(event);
        reportEvents.push({
          at,
          kind: 'outcome',
          text: `${outcome}${details?.error ? ` (${details.error})` : ''}`,
        });
        break;
      }
      default:
        break;
    }
  }

  // A step runs from its write to the next write, the restore, or the end.
  const boundaries = [...shifted.map((step) => step.at), ...(restoredAt ? [restoredAt] : [])];
  const latestByIndex = new Map<number, ShiftedStep>();
  for (const step of shifted) latestByIndex.set(step.index, step);
  const rolledBack = outcome === 'rolled-back';
  const lastReached = Math.max(-1, ...shifted.map((step) => step.index));
  const planned =
    plan?.steps ??
    [...latestByIndex.values()].map((step) => ({ targetPercent: step.targetPercent, gate: false }));
  const steps: ReportStep[] = planned.map((plannedStep, index) => {
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
        input.minutes,
        {
          now: input.now,
          ...(input.stickinessSeconds ? { stickinessSeconds: input.stickinessSeconds } : {}),
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

  // The weights as steps: the start, every write, the restore, held to the end.
  const weightTimes: number[] = [];
  const weightValues: number[] = [];
  const addWeight = (at: string, percent: number) => {
    weightTimes.push(Date.parse(at) / 1000);
    weightValues.push(Math.round(percent * 100) / 100);
  };
  if (startingWeights && startedAt) addWeight(startedAt, weightsToPercent(startingWeights));
  for (const step of shifted) addWeight(step.at, weightsToPercent(step.weights));
  if (restoredAt && startingWeights) addWeight(restoredAt, weightsToPercent(startingWeights));
  const lastWeight = weightValues.at(-1);
  if (lastWeight !== undefined) addWeight(endedAt ?? input.now.toISOString(), lastWeight);

  const rate = (value: number | null) => (value === null ? null : Math.round((value / 60) * 100) / 100);
  const errorShare = (errors: number | null, requests: number | null) =>
    requests ? Math.round(((errors ?? 0) / requests) * 10_000) / 100 : requests === 0 ? 0 : null;
  const minutes = input.minutes;
  const alarmAt = failure?.alarm ? Date.parse(failure.at) : undefined;
  const rollback: ReportRollback | undefined =
    failure && outcome !== 'completed'
      ? {
          error: failure.error,
          cause: failure.cause,
          ...(failure.alarm ? { alarm: failure.alarm } : {}),
          at: failure.at,
          ...(restoredAt ? { restoredAt } : {}),
          ...(restoredAt && alarmAt !== undefined
            ? { msFromAlarmToRestore: Math.max(0, Date.parse(restoredAt) - alarmAt) }
            : {}),
        }
      : undefined;
  reportEvents.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));

  return {
    title: `Swing rollout ${name}: ${outcome}`,
    source: 'aws',
    execution: input.executionArn,
    outcome,
    plan: plan ? formatPlanSpec(plan) : '-',
    startedAt,
    ...(endedAt ? { endedAt } : {}),
    weights: { t: weightTimes, targetPercent: weightValues },
    series: {
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
    },
    events: reportEvents,
    steps,
    ...(rollback ? { rollback } : {}),
    notes: [
      "From CloudWatch: per-minute sums of each target group (RequestCount, HTTPCode_Target_5XX_Count) and p99 TargetResponseTime; requests per second are the minute's sum / 60.",
      'Smoke checks on the smoke listeners reach the same target groups and are counted too. ALB has no per-rule request counts: where reads and writes are split, these are the totals.',
      'Delivered split: only the whole minutes inside a step whose datapoints have settled (3 minutes after the minute) are judged; a shorter step is "not measured".',
      ...(input.stickinessSeconds
        ? [
            `Target-group stickiness (${input.stickinessSeconds} s) is on: clients keep their group, so the delivered share lags the weights.`,
          ]
        : []),
      "Alarm times are those the alarm event carried into the rollback; the alarm's full state history is in CloudWatch.",
    ],
    generatedAt: input.generatedAt ?? new Date().toISOString(),
  };
}
