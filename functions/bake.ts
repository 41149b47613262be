import { CloudWatchAlarms } from '#adapters/alarms.ts';
import { StepFunctionsCallbacks } from '#adapters/callbacks.ts';
import { DynamoDbRolloutStore } from '#adapters/store-dynamodb.ts';
import { cloudWatchClient } from '#clients/cloudwatch.ts';
import { documentClient } from '#clients/dynamodb.ts';
import { replayLagFromEnvironment, reverseReplayFromEnvironment } from '#clients/replay-lag.ts';
import { sfnClient } from '#clients/sfn.ts';
import { alarmOptionsFromEnv, requireEnv } from '#commons/config.ts';
import { openWaitTask, type WaitTaskDeps } from '#domain/engine/bake.ts';
import { eventField, openDrainTask } from '#domain/engine/drain.ts';
import { lambdaHandler } from '#powertools/handler.ts';
import { logger } from '#powertools/logger.ts';

// A rollback's Drain releases itself when the reverse replayer drained before its token was stored.
const reverseReplay = reverseReplayFromEnvironment();
const deps: WaitTaskDeps = {
  listenerArn: requireEnv('LISTENER_ARN'),
  alarms: new CloudWatchAlarms(cloudWatchClient, alarmOptionsFromEnv()),
  store: new DynamoDbRolloutStore(documentClient, requireEnv('TABLE_NAME')),
  log: logger,
  now: () => new Date(),
  // A wait for the replayer releases itself when the replayer caught up before its token was stored.
  replayLag: replayLagFromEnvironment(),
  callbacks: new StepFunctionsCallbacks(sfnClient),
  ...(reverseReplay ? { reverseReplay } : {}),
};

/**
 * Stores the bake's, gate's or replay wait's task token; the task stays open until a timeout, an alarm, an
 * operator or (a replay wait) the replay-lag alarm's return to OK.
 */
export const handler = lambdaHandler('bake', (event) =>
  eventField(event, 'kind') === 'drain' ? openDrainTask(deps, event) : openWaitTask(deps, event),
);
