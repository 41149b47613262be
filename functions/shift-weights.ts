import { CloudWatchAlarms } from '#adapters/alarms.ts';
import { AlbListener } from '#adapters/listener.ts';
import { DynamoDbRolloutStore } from '#adapters/store-dynamodb.ts';
import { AlbSwingRules } from '#adapters/swing-rules.ts';
import { cloudWatchClient } from '#clients/cloudwatch.ts';
import { documentClient } from '#clients/dynamodb.ts';
import { elbv2Client } from '#clients/elbv2.ts';
import { replayLagFromEnvironment } from '#clients/replay-lag.ts';
import { alarmOptionsFromEnv, listenerTargetFromEnv, requireEnv } from '#commons/config.ts';
import { type ShiftDeps, shiftWeights } from '#domain/engine/shift-weights.ts';
import { lambdaHandler } from '#powertools/handler.ts';
import { logger } from '#powertools/logger.ts';
import { emitTargetWeight } from '#powertools/metrics.ts';

const target = listenerTargetFromEnv();
const deps: ShiftDeps = {
  listenerArn: target.listenerArn,
  listener: new AlbListener(elbv2Client, target),
  alarms: new CloudWatchAlarms(cloudWatchClient, alarmOptionsFromEnv()),
  store: new DynamoDbRolloutStore(documentClient, requireEnv('TABLE_NAME')),
  log: logger,
  now: () => new Date(),
  onWeightsWritten: (_weights, targetPercent) => emitTargetWeight(target.listenerArn, targetPercent),
  swingRules: new AlbSwingRules(elbv2Client, target),
  replayLag: replayLagFromEnvironment(),
};

export const handler = lambdaHandler('shift-weights', (event) => shiftWeights(deps, event));
