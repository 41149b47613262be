import {
  CloudWatchClient,
  CloudWatchServiceException,
  GetMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchTargetRequests } from '#adapters/target-requests.ts';
import type { ListenerTarget } from '#domain/types.ts';

const ACCOUNT = 'arn:aws:elasticloadbalancing:us-east-1:123456789012';
const TARGET: ListenerTarget = {
  listenerArn: `${ACCOUNT}:listener/app/migration-alb/50dc6c495c0c9188/f2f7dc8efc522ab2`,
  sourceTargetGroupArn: `${ACCOUNT}:targetgroup/capture-proxy/73e2d6bc24d8a067`,
  targetTargetGroupArn: `${ACCOUNT}:targetgroup/target-proxy/09e2d6bc24d8a0aa`,
};

const cloudWatch = mockClient(CloudWatchClient);
const client = new CloudWatchClient({ region: 'us-east-1' });

function cloudWatchError(name: string, httpStatusCode: number): Error {
  return new CloudWatchServiceException({
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
    message: `${name} from CloudWatch`,
  });
}

const minute = (time: string) => new Date(`2026-11-27T${time}Z`);

beforeEach(() => {
  cloudWatch.reset();
});

describe('Class: CloudWatchTargetRequests', () => {
  describe('Method: countBetween', () => {
    it('sums the target group’s RequestCount over every page, for the whole minutes the window touches', async () => {
      cloudWatch
        .on(GetMetricDataCommand)
        .resolvesOnce({
          MetricDataResults: [
            {
              Id: 'requests_target',
              Timestamps: [minute('07:00:00'), minute('07:01:00')],
              Values: [120, 80],
            },
          ],
          NextToken: 'page-2',
        })
        .resolves({
          MetricDataResults: [{ Id: 'requests_target', Timestamps: [minute('07:02:00')], Values: [40] }],
        });

      const count = await new CloudWatchTargetRequests(client, TARGET).countBetween(
        minute('07:00:30'),
        minute('07:02:10'),
      );

      expect(count).toBe(240);
      expect(cloudWatch).toReceiveCommandTimes(GetMetricDataCommand, 2);
      expect(cloudWatch).toReceiveNthCommandWith(GetMetricDataCommand, 1, {
        StartTime: minute('07:00:00'),
        EndTime: minute('07:03:00'),
        MetricDataQueries: [
          {
            Id: 'requests_target',
            ReturnData: true,
            MetricStat: {
              Metric: {
                Namespace: 'AWS/ApplicationELB',
                MetricName: 'RequestCount',
                Dimensions: [
                  { Name: 'TargetGroup', Value: 'targetgroup/target-proxy/09e2d6bc24d8a0aa' },
                  { Name: 'LoadBalancer', Value: 'app/migration-alb/50dc6c495c0c9188' },
                ],
              },
              Period: 60,
              Stat: 'Sum',
            },
          },
        ],
      });
      expect(cloudWatch).toReceiveNthCommandWith(GetMetricDataCommand, 2, { NextToken: 'page-2' });
    });

    it('asks for at least one minute when the window is shorter', async () => {
      cloudWatch
        .on(GetMetricDataCommand)
        .resolves({ MetricDataResults: [{ Id: 'requests_target', Values: [7] }] });

      await new CloudWatchTargetRequests(client, TARGET).countBetween(minute('07:00:00'), minute('07:00:00'));

      expect(cloudWatch).toReceiveCommandWith(GetMetricDataCommand, {
        StartTime: minute('07:00:00'),
        EndTime: minute('07:01:00'),
      });
    });

    it('reports a count of 0 that CloudWatch measured as 0', async () => {
      cloudWatch
        .on(GetMetricDataCommand)
        .resolves({ MetricDataResults: [{ Id: 'requests_target', Values: [0, 0] }] });

      expect(
        await new CloudWatchTargetRequests(client, TARGET).countBetween(
          minute('07:00:00'),
          minute('07:05:00'),
        ),
      ).toBe(0);
    });

    it('reports no count, not 0, when CloudWatch has no datapoint for the window yet', async () => {
      cloudWatch
        .on(GetMetricDataCommand)
        .resolves({ MetricDataResults: [{ Id: 'requests_target', Timestamps: [], Values: [] }] });

      expect(
        await new CloudWatchTargetRequests(client, TARGET).countBetween(
          minute('07:00:00'),
          minute('07:05:00'),
        ),
      ).toBeUndefined();
    });

    it('turns a throttled GetMetricData into TransientFailure and lets other errors through', async () => {
      cloudWatch
        .on(GetMetricDataCommand)
        .rejectsOnce(cloudWatchError('Throttling', 400))
        .rejects(cloudWatchError('AccessDenied', 403));
      const requests = new CloudWatchTargetRequests(client, TARGET);

      await expect(requests.countBetween(minute('07:00:00'), minute('07:05:00'))).rejects.toMatchObject({
        name: 'TransientFailure',
        message: expect.stringContaining(
          'GetMetricData RequestCount of targetgroup/target-proxy/09e2d6bc24d8a0aa',
        ),
      });
      await expect(requests.countBetween(minute('07:00:00'), minute('07:05:00'))).rejects.toMatchObject({
        name: 'AccessDenied',
      });
    });
  });
});
