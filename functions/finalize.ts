import { CloudWatchAlarms } from '#adapters/alarms.ts';
import { AlbListener } from '#adapters/listener.ts';
import { DynamoDbRolloutStore } from '#adapters/store-dynamodb.ts';
import { AlbSwingRules } from '#adapters/swing-rules.ts';
import { cloudWatchClient } from '#clients/cloudwatch.ts';
import { documentClient } from '#clients/dynamodb.ts';
import { elbv2Client } from '#clients/elbv2.ts';
import { notifierFromEnv } from '#clients/notifier.ts';
import { alarmOptionsFromEnv, listenerTargetFromEnv, requireEnv } from '#commons/config.ts';
import { type FinalizeDeps, finalize } from '#domain/engine/finalize.ts';
import { QUIET_AFTER_RELEASE_SECONDS } from '#domain/quiet.ts';
import { lambdaHandler } from '#powertools/handler.ts';
import { logger } from '#powertools/logger.ts';

const target = listenerTargetFromEnv();
const deps: FinalizeDeps = {
  listenerArn: target.listenerArn,
  listener: new AlbListener(elbv2Client, target),
  swingRules: new AlbSwingRules(elbv2Client, target),
  // Complete checks the watched alarms before it removes the scroll pins.
  alarms: new CloudWatchAlarms(cloudWatchClient, alarmOptionsFromEnv()),
  store: new DynamoDbRolloutStore(documentClient, requireEnv('TABLE_NAME')),
  notifier: notifierFromEnv(),
  log: logger,
  now: () => new Date(),
  // Attempts of the ended rollout may still act until then: no rollout starts before (quiet.ts).
  quietAfterReleaseMs: QUIET_AFTER_RELEASE_SECONDS * 1000,
};

export const handler = lambdaHandler('finalize', (event) => finalize(deps, event));
