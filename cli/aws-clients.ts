import { ACMClient } from '@aws-sdk/client-acm';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { AwsClientOptions, AwsClients } from './deps.ts';

/**
 * The clients as the AWS CLI would configure them: region and credentials from the environment and
 * ~/.aws files unless `--region` / `--profile` say otherwise. The SDK reads a client's `profile` for both
 * credentials and region, so no environment variable has to be changed.
 */
export function defaultAwsClients(options: AwsClientOptions): AwsClients {
  const config = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    customUserAgent: 'swing-cli',
    maxAttempts: 4,
  };
  const cache = new Map<keyof AwsClients, unknown>();
  const lazy = <K extends keyof AwsClients>(key: K, build: () => AwsClients[K]): AwsClients[K] => {
    if (!cache.has(key)) cache.set(key, build());
    return cache.get(key) as AwsClients[K];
  };
  return {
    get sfn() {
      return lazy('sfn', () => new SFNClient(config));
    },
    get elbv2() {
      return lazy('elbv2', () => new ElasticLoadBalancingV2Client(config));
    },
    get cloudWatch() {
      return lazy('cloudWatch', () => new CloudWatchClient(config));
    },
    get dynamo() {
      return lazy('dynamo', () =>
        DynamoDBDocumentClient.from(new DynamoDBClient(config), {
          marshallOptions: { removeUndefinedValues: true },
        }),
      );
    },
    get cloudFormation() {
      return lazy('cloudFormation', () => new CloudFormationClient(config));
    },
    get scheduler() {
      return lazy('scheduler', () => new SchedulerClient(config));
    },
    get secretsManager() {
      return lazy('secretsManager', () => new SecretsManagerClient(config));
    },
    get ssm() {
      return lazy('ssm', () => new SSMClient(config));
    },
    get acm() {
      return lazy('acm', () => new ACMClient(config));
    },
  };
}

/** SigV4 credentials for the smoke checks, from the same profile as the clients. */
export function defaultSmokeCredentials(options: AwsClientOptions): AwsCredentialIdentityProvider {
  return defaultProvider(options.profile ? { profile: options.profile } : {});
}
