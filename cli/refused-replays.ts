import {
  type CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import { reverseCaptureOf } from '#domain/lossless.ts';
import type { Rollout } from '#domain/types.ts';

/**
 * Writes the target refused that the reverse replayer applied onto the source anyway. The Migration Assistant's
 * replayer cannot skip them (its filter sees the request alone), but it counts every replayed request by the answer
 * the client had (`sourceStatusCode`: here the target's) and the one its replay got (`targetStatusCode`: here the
 * source's), by status class and method, in its `tupleComparison` metric. `swing status` reads that count, so a
 * write the client saw fail and the source took is seen, not silent.
 */
export interface RefusedReplays {
  /** Replays of a write method the target answered 4xx/5xx and the source 2xx; absent when it could not be read. */
  readonly writes?: number;
  /** The same, by method: POST counts searches too (a failed POST _search replayed with success counts here). */
  readonly byMethod?: Readonly<Record<string, number>>;
  readonly from: string;
  readonly to: string;
  /** What was read, or why nothing could be. */
  readonly detail: string;
}

const WRITE_METHODS = new Set(['PUT', 'POST', 'DELETE', 'PATCH']);
/** Each series labelled "POST 500 200" (method, the client's answer, the replay's) by CloudWatch's dynamic labels. */
const LABEL = ['method', 'sourceStatusCode', 'targetStatusCode']
  .map((name) => `\${PROP('Dim.${name}')}`)
  .join(' ');
/** How long after the rollout's end a late replay is still counted (the drain's end, CloudWatch's delay). */
const AFTER_END_MS = 15 * 60_000;

/**
 * The search the Migration Assistant's own capture-and-replay dashboard runs for mismatched status codes (its
 * collector's dimensions, which Swing's reverse replayer's collector keeps), narrowed to one qualifier.
 */
export function refusedReplaysSearch(qualifier: string): string {
  const quoted = qualifier.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll("'", "\\'");
  return (
    "SEARCH('{OpenSearchMigrations,OTelLib,method,qualifier,sourceStatusCode,statusCodesMatch,targetStatusCode} " +
    `MetricName="tupleComparison" qualifier="${quoted}" statusCodesMatch="false"', 'Sum', 60)`
  );
}

/** Sums the series whose label says a write the target refused (4xx/5xx) and the source took (2xx). */
export function countRefusedWrites(
  series: readonly { readonly label: string; readonly values: readonly number[] }[],
): { writes: number; byMethod: Record<string, number> } {
  const byMethod: Record<string, number> = {};
  for (const { label, values } of series) {
    const [word, answered, replayed] = label.trim().split(/\s+/);
    const method = word?.toUpperCase() ?? '';
    // The replayer rounds a status down to its hundred: 503 is 500.
    if (!WRITE_METHODS.has(method) || !/^[45]00$/.test(answered ?? '') || replayed !== '200') continue;
    const sum = values.reduce((total, value) => total + value, 0);
    if (sum > 0) byMethod[method] = (byMethod[method] ?? 0) + sum;
  }
  return { writes: Object.values(byMethod).reduce((total, value) => total + value, 0), byMethod };
}

/** The `qualifier` dimension of the reverse lag alarm's metric: every metric of the reverse replayer carries it. */
function qualifierOf(alarm: MetricAlarm | undefined): string | undefined {
  const dimensions = [
    ...(alarm?.Dimensions ?? []),
    ...(alarm?.Metrics ?? []).flatMap((query) => query.MetricStat?.Metric?.Dimensions ?? []),
  ];
  return dimensions.find((dimension) => dimension.Name === 'qualifier')?.Value;
}

async function seriesOf(
  cloudWatch: CloudWatchClient,
  qualifier: string,
  window: { from: string; to: string },
) {
  const series: { label: string; values: number[] }[] = [];
  let nextToken: string | undefined;
  do {
    const answer = await cloudWatch.send(
      new GetMetricDataCommand({
        // A minute before the cutover: the period that holds it.
        StartTime: new Date(Date.parse(window.from) - 60_000),
        EndTime: new Date(window.to),
        MetricDataQueries: [
          { Id: 'refused', Expression: refusedReplaysSearch(qualifier), Period: 60, Label: LABEL },
        ],
        ...(nextToken ? { NextToken: nextToken } : {}),
      }),
    );
    for (const result of answer.MetricDataResults ?? []) {
      series.push({ label: result.Label ?? '', values: result.Values ?? [] });
    }
    nextToken = answer.NextToken;
  } while (nextToken);
  return series;
}

/**
 * For a rollout whose writes were cut over with reverse capture: how many writes the target refused the reverse
 * replayer applied onto the source, from the cutover to 15 minutes after the rollout's end (or now). Undefined
 * when that does not apply; never throws (status shows everything else without it).
 */
export async function refusedReplays(
  cloudWatch: CloudWatchClient,
  reverseLagAlarm: string | undefined,
  rollout: Rollout,
  now: Date,
): Promise<RefusedReplays | undefined> {
  const cutoverAt = rollout.cutoverAt ?? rollout.cutoverStartedAt;
  if (!cutoverAt || !reverseCaptureOf(rollout.losslessRollback)) return undefined;
  const end = rollout.endedAt
    ? Math.min(now.getTime(), Date.parse(rollout.endedAt) + AFTER_END_MS)
    : now.getTime();
  const window = { from: cutoverAt, to: new Date(Math.max(end, Date.parse(cutoverAt))).toISOString() };
  if (!reverseLagAlarm) {
    return {
      ...window,
      detail: 'not counted: this stack has no ReverseLagAlarm output to name the reverse replayer',
    };
  }
  try {
    const alarms = await cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: [reverseLagAlarm] }));
    const qualifier = qualifierOf(alarms.MetricAlarms?.[0]);
    if (!qualifier) {
      return {
        ...window,
        detail: `not counted: the metric of ${reverseLagAlarm} has no qualifier dimension to find the reverse replayer's by`,
      };
    }
    const { writes, byMethod } = countRefusedWrites(await seriesOf(cloudWatch, qualifier, window));
    return {
      ...window,
      writes,
      byMethod,
      detail: `the reverse replayer's tupleComparison (qualifier ${qualifier}), status codes not matching`,
    };
  } catch (error) {
    return { ...window, detail: `not counted: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** The `Refused` line of `swing status`. */
export function refusedReplaysText(refused: RefusedReplays): string {
  if (refused.writes === undefined)
    return `writes the target refused that the source took: ${refused.detail}`;
  const window = `from ${refused.from} to ${refused.to}`;
  if (refused.writes === 0) return `no write the target refused was replayed onto the source (${window})`;
  const methods = Object.entries(refused.byMethod ?? {})
    .map(([method, count]) => `${method} ${count}`)
    .join(', ');
  return (
    `${refused.writes} write${refused.writes === 1 ? '' : 's'} the target refused (4xx/5xx) the reverse replayer ` +
    `applied to the source (2xx) ${window} (${methods}; POST counts failed searches too): their clients saw them ` +
    "fail and the source has them; find them in the reverse replayer's tuples and reconcile the source"
  );
}
