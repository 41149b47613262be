import { StepFunctionsCallbacks } from '#adapters/callbacks.ts';
import { DynamoDbRolloutStore } from '#adapters/store-dynamodb.ts';
import { documentClient } from '#clients/dynamodb.ts';
import { sfnClient } from '#clients/sfn.ts';
import {
  insufficientDataPolicyFromEnv,
  replayLagFromEnv,
  requireEnv,
  reverseCaptureFromEnv,
  watchedAlarmsFromEnv,
} from '#commons/config.ts';
import { type AlarmEventDeps, handleAlarmEvent } from '#domain/engine/alarm-event.ts';
import { lambdaHandler } from '#powertools/handler.ts';
import { logger } from '#powertools/logger.ts';

const replayLag = replayLagFromEnv();
const reverseCapture = reverseCaptureFromEnv();
const deps: AlarmEventDeps = {
  listenerArn: requireEnv('LISTENER_ARN'),
  watchedAlarms: watchedAlarmsFromEnv(),
  insufficientData: insufficientDataPolicyFromEnv(),
  store: new DynamoDbRolloutStore(documentClient, requireEnv('TABLE_NAME')),
  callbacks: new StepFunctionsCallbacks(sfnClient),
  log: logger,
  ...(replayLag ? { replayLagAlarm: replayLag.alarmName, replayMissingData: replayLag.missingData } : {}),
  // The reverse lag alarm's return to OK releases a rollback's Drain.
  ...(reverseCapture ? { reverseCapture } : {}),
};

/**
 * EventBridge "CloudWatch Alarm State Change" -> SendTaskFailure(AlarmFired) on the open bake or gate; the
 * replay-lag alarm's return to OK -> SendTaskSuccess on the open wait for the replayer.
 */
export const handler = lambdaHandler('alarm-event', async (event) => ({
  action: await handleAlarmEvent(deps, event),
}));
