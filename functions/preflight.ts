import { CloudWatchAlarms } from '#adapters/alarms.ts';
import { AlbListener } from '#adapters/listener.ts';
import { AlbListenerRules } from '#adapters/listener-rules.ts';
import { DynamoDbRolloutStore } from '#adapters/store-dynamodb.ts';
import { cloudWatchClient } from '#clients/cloudwatch.ts';
import { documentClient } from '#clients/dynamodb.ts';
import { elbv2Client } from '#clients/elbv2.ts';
import { reverseReplayFromEnvironment } from '#clients/replay-lag.ts';
import {
  alarmOptionsFromEnv,
  listenerTargetFromEnv,
  readsFirstDefaultsFromEnv,
  requireEnv,
  reverseCaptureFromEnv,
} from '#commons/config.ts';
import { type PreflightDeps, preflight } from '#domain/engine/preflight.ts';
import { lambdaHandler } from '#powertools/handler.ts';
import { logger } from '#powertools/logger.ts';

const target = listenerTargetFromEnv();
const reverseCapture = reverseCaptureFromEnv();
const reverseReplay = reverseReplayFromEnvironment();
const deps: PreflightDeps = {
  listenerArn: target.listenerArn,
  listener: new AlbListener(elbv2Client, target),
  listenerRules: new AlbListenerRules(elbv2Client, target),
  alarms: new CloudWatchAlarms(cloudWatchClient, alarmOptionsFromEnv()),
  store: new DynamoDbRolloutStore(documentClient, requireEnv('TABLE_NAME')),
  log: logger,
  now: () => new Date(),
  trafficDefaults: readsFirstDefaultsFromEnv(),
  // Whether a rollback after the cutover would be lossless, said before it (the record's losslessRollback).
  ...(reverseCapture ? { reverseCapture } : {}),
  ...(reverseReplay ? { reverseReplay } : {}),
};

export const handler = lambdaHandler('preflight', (event) => preflight(deps, event));
