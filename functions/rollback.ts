import { AlbListener } from '#adapters/listener.ts';
import { DynamoDbRolloutStore } from '#adapters/store-dynamodb.ts';
import { documentClient } from '#clients/dynamodb.ts';
import { elbv2Client } from '#clients/elbv2.ts';
import { listenerTargetFromEnv, requireEnv } from '#commons/config.ts';
import { type RollbackDeps, rollback, SHIFT_WEIGHTS_TIMEOUT_SECONDS } from '#domain/rollout.ts';
import { lambdaHandler } from '#powertools/handler.ts';
import { logger } from '#powertools/logger.ts';

const target = listenerTargetFromEnv();
const deps: RollbackDeps = {
  listenerArn: target.listenerArn,
  listener: new AlbListener(elbv2Client, target),
  store: new DynamoDbRolloutStore(documentClient, requireEnv('TABLE_NAME')),
  log: logger,
  now: () => new Date(),
  staleShiftWindowMs: SHIFT_WEIGHTS_TIMEOUT_SECONDS * 1000,
};

export const handler = lambdaHandler('rollback', (event) => rollback(deps, event));
