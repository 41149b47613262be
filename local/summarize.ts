import { runSteps } from '#domain/reads-first.ts';
import type { Plan, Rollout, TrafficMode, Weights } from '#domain/types.ts';
import { sameWeights } from '#domain/weights.ts';
import type { AlbTotals } from './alb.ts';
import type { ClientTrafficCounts } from './client-traffic.ts';
import type { ClusterStandIn } from './clusters.ts';
import { directWrites } from './divergence.ts';
import type { ExecutionResult } from './executor.ts';
import type {
  LocalCutoverFreeze,
  LocalDivergence,
  LocalExposure,
  LocalFreeze,
  LocalSummary,
  StepSummary,
} from './summary.ts';
import type { LocalTimeline } from './timeline.ts';

/** A local run's end, summarized from the record, the timeline and the stand-ins (LocalSummary). */

export interface Write {
  readonly at: number;
  readonly weights: Weights;
  /** The 9200 listener's counts when the write took effect: step boundaries for the per-step figures. */
  readonly totals: AlbTotals['weighted'];
}

/**
 * When writes were cut over: the cutover's write of the default action, the instant its weights event, the live
 * view and the report show. The record's cutoverAt is written a few milliseconds after it (or, when a crash
 * left it unwritten, is the cutover's start); it stands in only if no write is found.
 */
function cutoverWriteAt(
  rollout: Rollout | undefined,
  timeline: Pick<LocalTimeline, 'cutoverWriteAt'>,
): string | undefined {
  if (!rollout?.cutoverAt) return undefined;
  return timeline.cutoverWriteAt(rollout.cutoverStartedAt ?? rollout.cutoverAt) ?? rollout.cutoverAt;
}

/** Writes clients sent straight to the target stand-in, before and after the cutover (all of them before, if none). */
function targetWritesAround(
  target: Pick<ClusterStandIn, 'writes'>,
  cutoverAt: string | undefined,
): LocalSummary['targetWrites'] {
  const cutover = cutoverAt ? Date.parse(cutoverAt) : Number.POSITIVE_INFINITY;
  return {
    beforeCutover: directWrites(target, { to: cutover }).length,
    afterCutover: directWrites(target, { from: cutover }).length,
  };
}

export function summarize(input: {
  result: ExecutionResult;
  rollout: Rollout | undefined;
  interrupted: boolean;
  startingWeights: Weights;
  finalWeights: Weights;
  writes: Write[];
  firstAlarmAt: number | undefined;
  transitions: number;
  clients: ClientTrafficCounts;
  divergence: LocalDivergence | undefined;
  traffic: TrafficMode;
  /** The target stand-in, whose own log tells the writes clients sent it (absent with upstream clusters). */
  target: Pick<ClusterStandIn, 'writes'> | undefined;
  swingRulesLeft: number;
  startedAt: number;
  endTotals: AlbTotals['weighted'];
  plan: Plan;
  timeline: LocalTimeline;
}): LocalSummary {
  const { result, rollout, writes } = input;
  const cutoverAt = cutoverWriteAt(rollout, input.timeline);
  const outcome: LocalSummary['outcome'] = input.interrupted
    ? 'interrupted'
    : result.status === 'SUCCEEDED'
      ? rollout?.outcome === 'rehearsed'
        ? 'rehearsed'
        : 'completed'
      : (rollout?.outcome ?? 'failed');
  // Each step runs from its write to the next write (the next step, or the restore) or to the end.
  const delivered = input.timeline.stepSplits(rollout?.steps ?? []);
  // One numbering everywhere: 1-based over the steps the rollout runs, the write cutover the last of them.
  const of = rollout ? runSteps(rollout).length : input.plan.steps.length;
  const steps: StepSummary[] = (rollout?.steps ?? []).map((step, position) => {
    const at = writes.findIndex(
      (write) => write.at >= Date.parse(step.startedAt) - 5 && sameWeights(write.weights, step.weights),
    );
    const from = writes[at]?.totals;
    const to = writes[at + 1]?.totals ?? input.endTotals;
    const delta = (group: 'source' | 'target', key: 'requests' | 'errors5xx') =>
      from ? to[group][key] - from[group][key] : 0;
    const endedAt = writes[at + 1] ? new Date(writes[at + 1]!.at).toISOString() : rollout?.endedAt;
    return {
      index: step.index,
      number: step.index + 1,
      of,
      ...(step.kind ? { kind: step.kind } : {}),
      percent: step.targetPercent,
      weights: step.weights,
      startedAt: step.startedAt,
      ...(endedAt ? { endedAt } : {}),
      requests: { source: delta('source', 'requests'), target: delta('target', 'requests') },
      errors: { source: delta('source', 'errors5xx'), target: delta('target', 'errors5xx') },
      delivered: delivered[position]!,
      gate: input.plan.steps[step.index]?.gate ?? false,
    };
  });
  const reason = rollout?.reason;
  const restoredAt = outcome === 'rolled-back' ? writes.at(-1)?.at : undefined;
  const alarmAt = reason?.alarm ? Date.parse(reason.at) : input.firstAlarmAt;
  const clients = input.clients;
  const explained = Object.entries(clients.failedByCluster)
    .filter(([cluster]) => cluster !== 'unknown')
    .reduce((sum, [, count]) => sum + count, 0);
  return {
    outcome,
    ...(result.status === 'FAILED' ? { error: result.error } : {}),
    finalWeights: input.finalWeights,
    startingWeights: input.startingWeights,
    steps,
    ...(reason && outcome !== 'completed'
      ? {
          rollback: {
            reason: reason.error,
            cause: reason.cause,
            ...(reason.alarm ? { alarm: reason.alarm } : {}),
            at: reason.at,
            ...(restoredAt !== undefined ? { restoredAt: new Date(restoredAt).toISOString() } : {}),
            ...(restoredAt !== undefined && alarmAt !== undefined && reason.alarm
              ? { msFromAlarmToRestore: Math.max(0, restoredAt - alarmAt) }
              : {}),
          },
        }
      : {}),
    stateTransitions: input.transitions,
    clientRequests: {
      sent: clients.sent,
      ok: clients.ok,
      failed: clients.failed,
      failedByCluster: clients.failedByCluster,
      failedBySwitching: clients.failed - explained,
      unknownApi: clients.unknownApi,
      scrolls: clients.scrolls,
      ...(clients.writeRetries ? { writeRetries: clients.writeRetries } : {}),
    },
    ...(input.divergence ? { divergence: input.divergence } : {}),
    traffic: input.traffic,
    ...(cutoverAt ? { cutoverAt } : {}),
    ...(input.target ? { targetWrites: targetWritesAround(input.target, cutoverAt) } : {}),
    ...(rollout?.exposure ? { exposure: localExposure(rollout, input.timeline) } : {}),
    ...(rollout?.freeze ? { freeze: localFreeze(rollout.freeze) } : {}),
    ...(rollout?.cutoverFreeze ? { cutoverFreeze: localCutoverFreeze(rollout.cutoverFreeze) } : {}),
    swingRulesLeft: input.swingRulesLeft,
    startedAt: new Date(input.startedAt).toISOString(),
    endedAt: new Date().toISOString(),
    durationMs: Date.now() - input.startedAt,
    plan: input.plan,
    timeline: input.timeline.data(),
  };
}

/** The record's exposure report, with the local mode's own measure of it (to the millisecond, reads and writes). */
function localExposure(rollout: Rollout, timeline: LocalTimeline): LocalExposure | undefined {
  if (!rollout.exposure) return undefined;
  const measured = timeline.exposure(rollout.cutoverStartedAt ?? rollout.exposure.cutoverAt);
  return { ...rollout.exposure, ...(measured ? { measured } : {}) };
}

/** The cutover's freeze as the record has it, with its duration in milliseconds. */
function localCutoverFreeze(freeze: NonNullable<Rollout['cutoverFreeze']>): LocalCutoverFreeze {
  if (!freeze.frozenAt || !freeze.liftedAt) return freeze;
  return { ...freeze, durationMs: Math.max(0, Date.parse(freeze.liftedAt) - Date.parse(freeze.frozenAt)) };
}

/** The freeze as the record has it, with its duration, its drain's and its bound in milliseconds. */
export function localFreeze(freeze: NonNullable<Rollout['freeze']>): LocalFreeze {
  const between = (from: string | undefined, to: string | undefined) =>
    from !== undefined && to !== undefined ? Math.max(0, Date.parse(to) - Date.parse(from)) : undefined;
  const durationMs = between(freeze.frozenAt, freeze.liftedAt);
  const drainMs = between(freeze.frozenAt, freeze.drainEndedAt);
  return {
    ...freeze,
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(drainMs !== undefined ? { drainMs } : {}),
    drainTimeoutMs: between(freeze.frozenAt ?? freeze.startedAt, freeze.drainDeadline) ?? 0,
  };
}
