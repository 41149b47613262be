import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandOutput,
} from '@aws-sdk/client-cloudwatch';
import { albDimensions } from '#adapters/target-group-metrics.ts';
import { classifyAwsError } from '#domain/errors.ts';
import type { ListenerTarget, TargetRequestsPort } from '#domain/types.ts';

const MINUTE_MS = 60_000;

/**
 * The requests the target target group took between two times, for the write-exposure report: the Sum of its
 * ALB `RequestCount` over the whole minutes that overlap the window (so up to a minute on each side is counted
 * too: an upper bound, which is the safe side for "what may exist only on the target"). It counts reads as well
 * as writes, and every listener's traffic to that group. CloudWatch publishes RequestCount a minute or two
 * late, and not at all for a minute without requests: with no datapoint in the window the count is unknown
 * (undefined), never 0; a count taken right after the window may miss its last minute or two.
 */
export class CloudWatchTargetRequests implements TargetRequestsPort {
  constructor(
    private readonly cloudWatch: CloudWatchClient,
    private readonly target: ListenerTarget,
  ) {}

  async countBetween(from: Date, to: Date): Promise<number | undefined> {
    const { loadBalancer, targetGroups } = albDimensions(this.target);
    const start = Math.floor(from.getTime() / MINUTE_MS) * MINUTE_MS;
    const end = Math.max(Math.ceil(to.getTime() / MINUTE_MS) * MINUTE_MS, start + MINUTE_MS);
    let sum = 0;
    let datapoints = 0;
    let nextToken: string | undefined;
    do {
      let page: GetMetricDataCommandOutput | undefined;
      try {
        page = await this.cloudWatch.send(
          new GetMetricDataCommand({
            MetricDataQueries: [
              {
                Id: 'requests_target',
                ReturnData: true,
                MetricStat: {
                  Metric: {
                    Namespace: 'AWS/ApplicationELB',
                    MetricName: 'RequestCount',
                    Dimensions: [
                      { Name: 'TargetGroup', Value: targetGroups.target },
                      { Name: 'LoadBalancer', Value: loadBalancer },
                    ],
                  },
                  Period: 60,
                  Stat: 'Sum',
                },
              },
            ],
            StartTime: new Date(start),
            EndTime: new Date(end),
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        );
      } catch (error) {
        throw classifyAwsError(error, `GetMetricData RequestCount of ${targetGroups.target}`);
      }
      for (const result of page?.MetricDataResults ?? []) {
        for (const value of result.Values ?? []) {
          sum += value;
          datapoints += 1;
        }
      }
      nextToken = page?.NextToken;
    } while (nextToken);
    return datapoints === 0 ? undefined : sum;
  }
}
