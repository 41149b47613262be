import { CloudWatchAlarms } from '#adapters/alarms.ts';
import { DynamoDbRolloutStore } from '#adapters/store-dynamodb.ts';
import { cloudWatchClient } from '#clients/cloudwatch.ts';
import { documentClient } from '#clients/dynamodb.ts';
import { alarmOptionsFromEnv, requireEnv } from '#commons/config.ts';
import { type AfterBakeDeps, afterBake } from '#domain/rollout.ts';
import { lambdaHandler } from '#powertools/handler.ts';
import { logger } from '#powertools/logger.ts';

const deps: AfterBakeDeps = {
  listenerArn: requireEnv('LISTENER_ARN'),
  alarms: new CloudWatchAlarms(cloudWatchClient, alarmOptionsFromEnv()),
  store: new DynamoDbRolloutStore(documentClient, requireEnv('TABLE_NAME')),
  log: logger,
  now: () => new Date(),
};

export const handler = lambdaHandler('check-alarms', (event) => afterBake(deps, event));
