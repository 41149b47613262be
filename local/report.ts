import { formatPlanSpec } from '#domain/plan.ts';
import { formatWeights } from '#domain/weights.ts';
import type { ReportData, ReportEvent, ReportStep, WeightSteps } from '#report/model.ts';
import type { LocalDivergence, LocalSummary } from './summary.ts';
import type { TimelineEvent } from './timeline.ts';

const PHASE_TEXT: Record<string, string> = {
  starting: 'starting',
  preflight: 'preflight',
  'smoke-testing': 'smoke testing 9201 and 9202',
  shifting: 'shifting the weights',
  baking: 'baking',
  gated: 'waiting at the gate for promote or abort',
  baked: 'baked with no alarm',
  'rolling-back': 'rolling back',
  completing: 'completing',
  completed: 'completed',
  'rolled-back': 'rolled back',
  halted: 'halted',
};

function eventOf(event: TimelineEvent, steps: number): ReportEvent {
  switch (event.kind) {
    case 'weights':
      return {
        at: event.at,
        kind: 'weights',
        text: `weights ${formatWeights(event.weights)}`,
      };
    case 'phase': {
      const stepText =
        event.status === 'baking' ||
        event.status === 'baked' ||
        event.status === 'gated' ||
        event.status === 'shifting'
          ? ` (step ${event.stepIndex + 1}/${steps})`
          : '';
      const reason = event.reason ? `: ${event.reason.error}: ${event.reason.cause}` : '';
      return {
        at: event.at,
        kind: event.status === 'gated' ? 'gate' : event.status === 'rolling-back' ? 'rollback' : 'phase',
        text: `${PHASE_TEXT[event.status] ?? event.status}${stepText}${event.status === 'rolling-back' ? reason : ''}`,
      };
    }
    case 'smoke':
      return {
        at: event.at,
        kind: 'phase',
        text: `smoke test ${event.ok ? 'passed' : 'FAILED'}: ${event.detail}`,
      };
    case 'operator':
      return {
        at: event.at,
        kind: 'phase',
        text:
          event.action === 'interrupt'
            ? 'Ctrl-C: execution stopped'
            : `${event.action} by ${event.by}: ${event.result}`,
      };
    case 'fault':
      return { at: event.at, kind: 'phase', text: `fault injected: ${event.detail}` };
    case 'alarm':
      return {
        at: event.at,
        kind: 'alarm',
        state: event.state,
        text: `${event.alarm}: ${event.previous} -> ${event.state}: ${event.reason}`,
      };
  }
}

/** Every write as a point, and the last weights held to the end: the chart draws it as steps. */
function weightSteps(events: readonly TimelineEvent[], endedAt: string): WeightSteps {
  const t: number[] = [];
  const targetPercent: number[] = [];
  for (const event of events) {
    if (event.kind !== 'weights') continue;
    t.push(Date.parse(event.at) / 1000);
    targetPercent.push(event.targetPercent);
  }
  const last = targetPercent.at(-1);
  if (last !== undefined) {
    t.push(Math.max(Date.parse(endedAt) / 1000, t.at(-1) ?? 0));
    targetPercent.push(last);
  }
  return { t, targetPercent };
}

function divergenceNote(divergence: LocalDivergence): string {
  const examples = (ids: string[]) => (ids.length > 0 ? ` (e.g. ${ids.slice(0, 3).join(', ')})` : '');
  const drained = divergence.replay.drained
    ? 'after the replay drained'
    : `with ${divergence.replay.pending} replayed writes still pending`;
  return (
    `Divergence, measured from the stand-ins' own documents ${drained}: ` +
    `${divergence.targetOnly} on the target only${examples(divergence.examples.targetOnly)}, ` +
    `${divergence.sourceOnly} on the source only${examples(divergence.examples.sourceOnly)}, ` +
    `${divergence.different} different${examples(divergence.examples.different)}; ` +
    `${divergence.wrongClusterScrolls} scroll continuations reached the wrong cluster; ` +
    `${divergence.targetDirectWrites} writes reached the target directly.`
  );
}

/** The report of a local run: its per-second series, its events and its steps as the summary has them. */
export function localReportData(summary: LocalSummary, generatedAt = new Date().toISOString()): ReportData {
  const { series, events } = summary.timeline;
  const recorded = new Map(summary.steps.map((step) => [step.index, step]));
  const rolledBack = summary.outcome !== 'completed';
  const lastReached = Math.max(-1, ...summary.steps.map((step) => step.index));
  const steps: ReportStep[] = summary.plan.steps.map((planned, index) => {
    const step = recorded.get(index);
    if (!step) return { index, percent: planned.targetPercent, gate: planned.gate, state: 'not-reached' };
    return {
      index,
      percent: step.percent,
      weights: step.weights,
      gate: step.gate,
      startedAt: step.startedAt,
      ...(step.endedAt ? { endedAt: step.endedAt } : {}),
      delivered: step.delivered,
      state: rolledBack && index === lastReached ? 'rolled-back' : 'passed',
    };
  });
  const reportEvents = events.map((event) => eventOf(event, summary.plan.steps.length));
  const rollback = summary.rollback;
  if (rollback?.restoredAt) {
    reportEvents.push({
      at: rollback.restoredAt,
      kind: 'rollback',
      text: `starting weights ${formatWeights(summary.startingWeights)} restored (${rollback.reason})`,
    });
  }
  reportEvents.push({
    at: summary.endedAt,
    kind: 'outcome',
    text: `${summary.outcome}${summary.error ? ` (${summary.error})` : ''}: final weights ${formatWeights(summary.finalWeights)}`,
  });
  reportEvents.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return {
    title: `Swing local run: ${summary.outcome}`,
    source: 'local',
    execution: 'local',
    outcome: summary.outcome,
    plan: formatPlanSpec(summary.plan),
    startedAt: summary.startedAt,
    endedAt: summary.endedAt,
    weights: weightSteps(events, summary.endedAt),
    series: {
      resolutionSeconds: 1,
      t: series.t,
      rps: series.rps,
      errorPercent: series.errorPercent,
      latencyMs: series.p99LatencyMs,
      latencyLabel: 'p99 over each second',
    },
    events: reportEvents,
    steps,
    ...(rollback
      ? {
          rollback: {
            error: rollback.reason,
            cause: rollback.cause,
            ...(rollback.alarm ? { alarm: rollback.alarm } : {}),
            ...(rollback.at ? { at: rollback.at } : {}),
            ...(rollback.restoredAt ? { restoredAt: rollback.restoredAt } : {}),
            ...(rollback.msFromAlarmToRestore !== undefined
              ? { msFromAlarmToRestore: rollback.msFromAlarmToRestore }
              : {}),
          },
        }
      : {}),
    notes: [
      'Local run: the local ALB stand-in counted every request of the weighted listener; smoke checks on its 9201/9202 listeners are not in these charts.',
      "Delivered split: the requests the weighted listener routed from the write of the step's weights to the next write, counted when it chose, so exactly. The stand-in has no stickiness.",
      'Requests sent straight to the target are not captured: writes that reached the target are not on the source.',
      ...(summary.divergence ? [divergenceNote(summary.divergence)] : []),
    ],
    generatedAt,
  };
}
