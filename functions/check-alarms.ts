import { CloudWatchAlarms } from '#adapters/alarms.ts';
import { DynamoDbRolloutStore } from '#adapters/store-dynamodb.ts';
import { deliveredSplitFromMinutes, TargetGroupMetrics } from '#adapters/target-group-metrics.ts';
import { cloudWatchClient } from '#clients/cloudwatch.ts';
import { documentClient } from '#clients/dynamodb.ts';
import { alarmOptionsFromEnv, listenerTargetFromEnv, requireEnv } from '#commons/config.ts';
import { type AfterBakeDeps, afterBake } from '#domain/engine/after-bake.ts';
import { lambdaHandler } from '#powertools/handler.ts';
import { logger } from '#powertools/logger.ts';

const metrics = new TargetGroupMetrics(cloudWatchClient, listenerTargetFromEnv());

const deps: AfterBakeDeps = {
  listenerArn: requireEnv('LISTENER_ARN'),
  alarms: new CloudWatchAlarms(cloudWatchClient, alarmOptionsFromEnv()),
  store: new DynamoDbRolloutStore(documentClient, requireEnv('TABLE_NAME')),
  log: logger,
  now: () => new Date(),
  // RequestCount is per minute and settles late: the bake's whole minutes that have settled by now.
  measureDeliveredSplit: async (step, until) => {
    const minutes = await metrics.minutes(new Date(Date.parse(step.startedAt) - 60_000), until, ['requests']);
    return deliveredSplitFromMinutes(step, until.toISOString(), minutes, { now: until });
  },
};

// The delivered-split measure is advice: it never takes the time the rest of the invocation needs (advisory.ts).
export const handler = lambdaHandler('check-alarms', (event, context) =>
  afterBake(context ? { ...deps, remainingMs: () => context.getRemainingTimeInMillis() } : deps, event),
);
