import { CloudWatchAlarms } from '#adapters/alarms.ts';
import { DynamoDbRolloutStore } from '#adapters/store-dynamodb.ts';
import { cloudWatchClient } from '#clients/cloudwatch.ts';
import { documentClient } from '#clients/dynamodb.ts';
import { alarmOptionsFromEnv, requireEnv } from '#commons/config.ts';
import { openWaitTask, type WaitTaskDeps } from '#domain/rollout.ts';
import { lambdaHandler } from '#powertools/handler.ts';
import { logger } from '#powertools/logger.ts';

const deps: WaitTaskDeps = {
  listenerArn: requireEnv('LISTENER_ARN'),
  alarms: new CloudWatchAlarms(cloudWatchClient, alarmOptionsFromEnv()),
  store: new DynamoDbRolloutStore(documentClient, requireEnv('TABLE_NAME')),
  log: logger,
  now: () => new Date(),
};

/** Stores the bake's or gate's task token; the task stays open until a timeout, an alarm or an operator. */
export const handler = lambdaHandler('bake', (event) => openWaitTask(deps, event));
