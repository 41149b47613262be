import { formatPlanSpec } from '#domain/plan.ts';
import { runSteps } from '#domain/reads-first.ts';
import { formatWeights } from '#domain/weights.ts';
import type { ReportData, ReportEvent, ReportExposure, ReportStep, WeightSteps } from '#report/model.ts';
import { eventStepLabel } from '#report/step-names.ts';
import { freezeEventText, freezeNote } from './freeze-text.ts';
import type { LocalDivergence, LocalExposure, LocalSummary } from './summary.ts';
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

function eventOf(event: TimelineEvent): ReportEvent {
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
          ? ` (${eventStepLabel(Math.min(event.stepIndex + 1, event.steps), event.steps, event.stepKind)})`
          : '';
      const reason = event.reason ? `: ${event.reason.error}: ${event.reason.cause}` : '';
      const pins = (event.stepKind as string | undefined) === 'pins';
      const text =
        pins && (event.status === 'shifting' || event.status === 'baking')
          ? `${event.status === 'shifting' ? 'the pins go' : 'pins gone: the pinned reads bake on the target under alarm watch'}${stepText}`
          : event.status === 'gated' && event.cutoverGate
            ? `waiting at the cutover gate: writes move to the target next, after that a rollback reports the write exposure${stepText}`
            : event.status === 'shifting' && event.stepKind === 'cutover'
              ? `write cutover: writes move to the target${stepText}`
              : `${PHASE_TEXT[event.status] ?? event.status}${stepText}${event.status === 'rolling-back' ? reason : ''}`;
      return {
        at: event.at,
        kind: event.status === 'gated' ? 'gate' : event.status === 'rolling-back' ? 'rollback' : 'phase',
        text,
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
    case 'freeze':
      return {
        at: event.at,
        kind: event.stage === 'lifted' ? 'phase' : 'rollback',
        text: freezeEventText(event).text,
      };
    case 'alarm':
      return {
        at: event.at,
        kind: 'alarm',
        state: event.state,
        text: `${event.alarm}: ${event.previous} -> ${event.state}: ${event.reason}`,
      };
  }
}

/**
 * Every write as a point, and the last weights held to the end: the chart draws it as steps. In reads-first the
 * read share is a second line: a read rule's weights while one stands, the default action's once they are gone.
 */
function weightSteps(timeline: LocalSummary['timeline'], endedAt: string, readsFirst: boolean): WeightSteps {
  type Point = { at: number; write?: number; rule?: { route: string; percent: number | null } };
  const points: Point[] = timeline.events.flatMap((event) =>
    event.kind === 'weights' ? [{ at: Date.parse(event.at), write: event.targetPercent }] : [],
  );
  if (readsFirst) {
    for (const write of timeline.readRuleWrites ?? []) {
      points.push({ at: Date.parse(write.at), rule: { route: write.route, percent: write.targetPercent } });
    }
    points.sort((one, other) => one.at - other.at);
  }
  const t: number[] = [];
  const targetPercent: number[] = [];
  const readPercent: number[] = [];
  const rules = new Map<string, number>();
  let written = 0;
  for (const point of points) {
    if (point.write !== undefined) written = point.write;
    if (point.rule?.percent === null) rules.delete(point.rule.route);
    else if (point.rule) rules.set(point.rule.route, point.rule.percent);
    t.push(point.at / 1000);
    targetPercent.push(written);
    readPercent.push(rules.size > 0 ? Math.max(...rules.values()) : written);
  }
  if (t.length > 0) {
    t.push(Math.max(Date.parse(endedAt) / 1000, t.at(-1) ?? 0));
    targetPercent.push(targetPercent.at(-1)!);
    readPercent.push(readPercent.at(-1)!);
  }
  return readsFirst ? { t, targetPercent, readPercent } : { t, targetPercent };
}

/** Every step the rollout runs, reached or not, numbered as the live view and the log number them. */
function reportSteps(summary: LocalSummary): ReportStep[] {
  const recorded = new Map(summary.steps.map((step) => [step.index, step]));
  const rolledBack = summary.outcome !== 'completed';
  const lastReached = Math.max(-1, ...summary.steps.map((step) => step.index));
  const rehearsal = summary.steps[0] ? summary.steps[0].of === summary.plan.steps.length : false;
  const planned = runSteps({
    plan: summary.plan,
    traffic: summary.traffic,
    planEnd: rehearsal || summary.outcome === 'rehearsed' ? 'restore' : 'hold',
  });
  const of = summary.steps[0]?.of ?? planned.length;
  return Array.from({ length: Math.max(of, planned.length) }, (_, index): ReportStep => {
    const step = recorded.get(index);
    const plannedStep = planned[index];
    const kind = (step?.kind ?? (plannedStep as { kind?: ReportStep['kind'] } | undefined)?.kind) as
      | ReportStep['kind']
      | undefined;
    const numbering = { index, number: index + 1, of, ...(kind ? { kind } : {}) };
    if (!step) {
      return {
        ...numbering,
        percent: plannedStep?.targetPercent ?? 100,
        gate: plannedStep?.gate ?? false,
        state: 'not-reached',
      };
    }
    return {
      ...numbering,
      percent: step.percent,
      weights: step.weights,
      gate: step.gate,
      startedAt: step.startedAt,
      ...(step.endedAt ? { endedAt: step.endedAt } : {}),
      delivered: step.delivered,
      state: rolledBack && index === lastReached ? 'rolled-back' : 'passed',
    };
  });
}

/** The write exposure as measured here to the millisecond, or as the record has it. */
function reportExposure(exposure: LocalExposure | undefined): ReportExposure | undefined {
  if (!exposure) return undefined;
  const measured = exposure.measured;
  if (measured) {
    return {
      from: measured.from,
      to: measured.to,
      until: measured.until === 'restore' ? 'restore' : exposure.policy === 'hold' ? 'hold' : 'end-of-run',
      windowMs: measured.windowMs,
      targetRequests: measured.targetRequests.total,
      reads: measured.targetRequests.reads,
      writes: measured.targetRequests.writes,
    };
  }
  return {
    from: exposure.cutoverAt,
    to: exposure.endedAt,
    until: exposure.policy === 'hold' ? 'hold' : 'restore',
    windowMs: Math.max(0, Date.parse(exposure.endedAt) - Date.parse(exposure.cutoverAt)),
    ...(exposure.targetRequests !== undefined ? { targetRequests: exposure.targetRequests } : {}),
  };
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
  const readsFirst = summary.traffic === 'reads-first';
  const steps = reportSteps(summary);
  const exposure = reportExposure(summary.exposure);
  const pinsRemovedAt = summary.steps.find((step) => (step.kind as string | undefined) === 'pins')?.startedAt;
  const reportEvents = events.map(eventOf);
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
    weights: weightSteps(summary.timeline, summary.endedAt, readsFirst),
    traffic: summary.traffic,
    ...(summary.cutoverAt ? { cutoverAt: exposure?.from ?? summary.cutoverAt } : {}),
    ...(pinsRemovedAt ? { pinsRemovedAt } : {}),
    ...(exposure ? { exposure } : {}),
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
      readsFirst
        ? "Reads-first: the read share is the weights of Swing's read rules (the reads' own split), the write share the default action's; until the cutover every write goes to the source and is replayed. The exposure window (shaded) runs from the cutover's write to the restore's, measured to the millisecond: the writes in it are on the target only."
        : 'Requests sent straight to the target are not captured: writes that reached the target are not on the source.',
      ...(summary.divergence ? [divergenceNote(summary.divergence)] : []),
      ...(freezeNote(summary) ? [freezeNote(summary)!] : []),
    ],
    generatedAt,
  };
}
