import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import {
  awsDeliveredSplitNotes,
  type DeliveredSplit,
  judgeDeliveredSplit,
  notMeasured,
  settledWholeMinutes,
} from '#domain/delivered-split.ts';
import type { ListenerTarget, StepRecord } from '#domain/types.ts';

type Group = 'source' | 'target';

/** One minute of the two target groups' ALB metrics; null where CloudWatch has no datapoint. */
export interface MinuteMetrics {
  /** Start of the minute, Unix seconds. */
  readonly t: number;
  readonly requests: Record<Group, number | null>;
  readonly errors5xx: Record<Group, number | null>;
  /** p99 of TargetResponseTime, milliseconds. */
  readonly p99LatencyMs: Record<Group, number | null>;
}

/** CloudWatch's ALB dimensions from the ARNs: `app/<name>/<id>` and `targetgroup/<name>/<id>`. */
export function albDimensions(target: ListenerTarget): {
  loadBalancer: string;
  targetGroups: Record<Group, string>;
} {
  const loadBalancer = /:listener\/(app\/[^/]+\/[^/]+)\//.exec(target.listenerArn)?.[1];
  const group = (arn: string) => /:(targetgroup\/[^/]+\/[^/]+)$/.exec(arn)?.[1];
  const source = group(target.sourceTargetGroupArn);
  const targetGroup = group(target.targetTargetGroupArn);
  if (!loadBalancer || !source || !targetGroup) {
    throw new Error(
      `cannot take CloudWatch dimensions from ${target.listenerArn}, ${target.sourceTargetGroupArn}, ` +
        `${target.targetTargetGroupArn}: expected an application load balancer listener and two target group ARNs`,
    );
  }
  return { loadBalancer, targetGroups: { source, target: targetGroup } };
}

const METRICS = [
  { key: 'requests', metric: 'RequestCount', stat: 'Sum' },
  { key: 'errors5xx', metric: 'HTTPCode_Target_5XX_Count', stat: 'Sum' },
  { key: 'p99LatencyMs', metric: 'TargetResponseTime', stat: 'p99' },
] as const;

/**
 * The two target groups' per-minute ALB metrics from CloudWatch (GetMetricData, one call per page). The
 * client is injected. Counts are per target group: every listener's traffic to it, smoke checks included.
 */
export class TargetGroupMetrics {
  constructor(
    private readonly cloudWatch: CloudWatchClient,
    private readonly target: ListenerTarget,
  ) {}

  async minutes(
    from: Date,
    to: Date,
    only: ReadonlyArray<(typeof METRICS)[number]['key']> = ['requests', 'errors5xx', 'p99LatencyMs'],
  ): Promise<MinuteMetrics[]> {
    const { loadBalancer, targetGroups } = albDimensions(this.target);
    const queries: MetricDataQuery[] = METRICS.filter((metric) => only.includes(metric.key)).flatMap(
      (metric) =>
        (['source', 'target'] as const).map((group) => ({
          Id: `${metric.key.toLowerCase()}_${group}`,
          ReturnData: true,
          MetricStat: {
            Metric: {
              Namespace: 'AWS/ApplicationELB',
              MetricName: metric.metric,
              Dimensions: [
                { Name: 'TargetGroup', Value: targetGroups[group] },
                { Name: 'LoadBalancer', Value: loadBalancer },
              ],
            },
            Period: 60,
            Stat: metric.stat,
          },
        })),
    );
    const values = new Map<string, Map<number, number>>();
    let nextToken: string | undefined;
    do {
      const page = await this.cloudWatch.send(
        new GetMetricDataCommand({
          MetricDataQueries: queries,
          StartTime: from,
          EndTime: to,
          ScanBy: 'TimestampAscending',
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      for (const result of page?.MetricDataResults ?? []) {
        const series = values.get(result.Id ?? '') ?? new Map<number, number>();
        (result.Timestamps ?? []).forEach((timestamp, i) => {
          const value = result.Values?.[i];
          if (value !== undefined) series.set(Math.floor(new Date(timestamp).getTime() / 1000), value);
        });
        values.set(result.Id ?? '', series);
      }
      nextToken = page?.NextToken;
    } while (nextToken);
    const times = new Set<number>();
    for (const series of values.values()) for (const t of series.keys()) times.add(t);
    const read = (key: string, group: Group, t: number) =>
      values.get(`${key.toLowerCase()}_${group}`)?.get(t) ?? null;
    return [...times]
      .sort((a, b) => a - b)
      .map((t) => {
        const latency = (group: Group) => {
          const seconds = read('p99LatencyMs', group, t);
          return seconds === null ? null : Math.round(seconds * 100_000) / 100;
        };
        return {
          t,
          requests: { source: read('requests', 'source', t), target: read('requests', 'target', t) },
          errors5xx: { source: read('errors5xx', 'source', t), target: read('errors5xx', 'target', t) },
          p99LatencyMs: { source: latency('source'), target: latency('target') },
        };
      });
  }
}

/**
 * The delivered split of a step from per-minute RequestCount: only the whole minutes inside the step whose
 * datapoints have settled (see `settledWholeMinutes`); a shorter step is not measured.
 */
export function deliveredSplitFromMinutes(
  step: Pick<StepRecord, 'startedAt' | 'weights'>,
  endedAt: string | undefined,
  minutes: readonly MinuteMetrics[],
  options: { now: Date; stickinessSeconds?: number; settleSeconds?: number },
): DeliveredSplit {
  const window = settledWholeMinutes({
    startedAt: step.startedAt,
    ...(endedAt ? { endedAt } : {}),
    now: options.now,
    ...(options.settleSeconds !== undefined ? { settleSeconds: options.settleSeconds } : {}),
  });
  if (!window) {
    return notMeasured(
      step.weights,
      'no whole minute of the step has settled in CloudWatch yet (RequestCount is per minute and arrives late)',
    );
  }
  const from = Date.parse(window.from) / 1000;
  const to = Date.parse(window.to) / 1000;
  let source = 0;
  let target = 0;
  let datapoints = 0;
  for (const minute of minutes) {
    if (minute.t < from || minute.t >= to) continue;
    if (minute.requests.source !== null || minute.requests.target !== null) datapoints += 1;
    source += minute.requests.source ?? 0;
    target += minute.requests.target ?? 0;
  }
  // No datapoint at all is not "no requests": the metrics may have expired (1-minute data lives 15 days).
  if (datapoints === 0) {
    return notMeasured(
      step.weights,
      `CloudWatch has no RequestCount datapoint from ${window.from} to ${window.to}`,
    );
  }
  return judgeDeliveredSplit({
    weights: step.weights,
    requests: { source, target },
    from: window.from,
    to: window.to,
    notes: awsDeliveredSplitNotes(options.stickinessSeconds),
  });
}

/** Measures each step's split with one GetMetricData call; a failed call says so per step, never throws. */
export async function measureStepSplits(
  metrics: TargetGroupMetrics,
  steps: readonly StepRecord[],
  stepEnd: (step: StepRecord, position: number) => string | undefined,
  options: { now: Date; stickinessSeconds?: number },
): Promise<DeliveredSplit[]> {
  if (steps.length === 0) return [];
  const first = Math.min(...steps.map((step) => Date.parse(step.startedAt)));
  let minutes: MinuteMetrics[];
  try {
    minutes = await metrics.minutes(new Date(first - 60_000), options.now, ['requests']);
  } catch (error) {
    const why = `CloudWatch GetMetricData failed: ${error instanceof Error ? error.message : String(error)}`;
    return steps.map((step) => notMeasured(step.weights, why));
  }
  return steps.map((step, position) =>
    deliveredSplitFromMinutes(step, stepEnd(step, position), minutes, options),
  );
}
