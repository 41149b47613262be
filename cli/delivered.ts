import { measureStepSplits, TargetGroupMetrics } from '#adapters/target-group-metrics.ts';
import { type DeliveredSplit, describeDeliveredSplit, notMeasured } from '#domain/delivered-split.ts';
import type { Rollout } from '#domain/types.ts';
import type { CommandContext } from './context.ts';

const READ_STEP_NOT_MEASURED =
  "a read step (reads-first): the target groups' RequestCount counts writes too, so it cannot judge the read share";

/** A step ends when the next one starts, or when the rollout ended (its restore, or its completion). */
function stepEnd(rollout: Rollout, position: number): string | undefined {
  return rollout.steps[position + 1]?.startedAt ?? rollout.endedAt;
}

/**
 * The delivered split of each step of each rollout, measured now from the target groups' per-minute
 * RequestCount (one GetMetricData answer for all of them). Never fails the command: a step that cannot be
 * measured says why.
 */
export async function deliveredSplits(
  ctx: CommandContext,
  rollouts: readonly Rollout[],
  stickinessSeconds?: number,
): Promise<Map<string, DeliveredSplit[]>> {
  const result = new Map<string, DeliveredSplit[]>();
  const measured = rollouts.filter((rollout) => rollout.steps.length > 0);
  if (measured.length === 0) return result;
  const now = ctx.deps.now();
  let metrics: TargetGroupMetrics;
  try {
    metrics = new TargetGroupMetrics(ctx.clients.cloudWatch, await ctx.listenerTarget());
  } catch (error) {
    const why = `target groups unknown: ${error instanceof Error ? error.message : String(error)}`;
    for (const rollout of measured) {
      result.set(
        rollout.executionArn,
        rollout.steps.map((step) => notMeasured(step.weights, why)),
      );
    }
    return result;
  }
  // One answer serves every rollout: the steps of all of them, each with its own end.
  const all = measured.flatMap((rollout) =>
    rollout.steps.map((step, position) => ({ rollout, step, end: stepEnd(rollout, position) })),
  );
  const splits = await measureStepSplits(
    metrics,
    all.map((entry) => entry.step),
    (_, position) => all[position]?.end,
    { now, ...(stickinessSeconds ? { stickinessSeconds } : {}) },
  );
  all.forEach((entry, position) => {
    const list = result.get(entry.rollout.executionArn) ?? [];
    // A read step's weights are the read rules': the target groups' RequestCount, writes included, cannot judge them.
    list.push(
      entry.step.kind === 'reads'
        ? notMeasured(entry.step.weights, READ_STEP_NOT_MEASURED)
        : splits[position]!,
    );
    result.set(entry.rollout.executionArn, list);
  });
  return result;
}

/** "step 1 (5 %): asked 5.01 %, delivered 4.98 % of 12000 (as asked ...)", one line per step. */
export function deliveredLines(rollout: Rollout, splits: readonly DeliveredSplit[] | undefined): string[] {
  if (!splits) return [];
  return rollout.steps.map(
    (step, position) => `step ${step.index + 1}: ${describeDeliveredSplit(splits[position])}`,
  );
}

/** "2 as asked, 1 OFF" for a table cell. */
export function deliveredSummary(splits: readonly DeliveredSplit[] | undefined): string {
  if (!splits || splits.length === 0) return '-';
  const counts = new Map<string, number>();
  const label = { 'as-asked': 'as asked', off: 'OFF', 'too-few': 'too few', 'not-measured': 'not measured' };
  for (const split of splits) counts.set(label[split.verdict], (counts.get(label[split.verdict]) ?? 0) + 1);
  return [...counts].map(([text, count]) => `${count} ${text}`).join(', ');
}
