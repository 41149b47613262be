import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { HttpSmokeTester, secretsManagerFetcher } from '#adapters/smoke.ts';
import { DynamoDbRolloutStore } from '#adapters/store-dynamodb.ts';
import { documentClient } from '#clients/dynamodb.ts';
import { requireEnv } from '#commons/config.ts';
import { type SmokeDeps, smokeTest } from '#domain/engine/smoke-test.ts';
import { parseSmokeConfig } from '#domain/smoke-config.ts';
import { lambdaHandler } from '#powertools/handler.ts';
import { logger } from '#powertools/logger.ts';

const config = parseSmokeConfig(JSON.parse(requireEnv('SMOKE_CONFIG')), 'SMOKE_CONFIG');
const deps: SmokeDeps = {
  listenerArn: requireEnv('LISTENER_ARN'),
  store: new DynamoDbRolloutStore(documentClient, requireEnv('TABLE_NAME')),
  smoke: new HttpSmokeTester(config, { fetchSecret: secretsManagerFetcher(new SecretsManagerClient({})) }),
  log: logger,
};

export const handler = lambdaHandler('smoke-test', (event) => smokeTest(deps, event));
