import type { ACMClient } from '@aws-sdk/client-acm';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { Command } from 'commander';
import type { EksDiscoveryPorts } from './eks-front-door.ts';

/** Every AWS client the CLI uses. Built lazily by the real factory: a command builds only what it calls. */
export interface AwsClients {
  readonly sfn: SFNClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly cloudWatch: CloudWatchClient;
  readonly dynamo: DynamoDBDocumentClient;
  readonly cloudFormation: CloudFormationClient;
  readonly scheduler: SchedulerClient;
  readonly secretsManager: SecretsManagerClient;
  readonly ssm: SSMClient;
  readonly acm: ACMClient;
}

/** `--region` and `--profile`; absent means the SDK's standard environment and config files. */
export interface AwsClientOptions {
  readonly region?: string;
  readonly profile?: string;
}

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly isTTY: boolean;
}

/** What `swing` needs from the outside world; tests inject fakes, cli/main.ts the real thing. */
export interface CliDeps extends CliIo {
  /**
   * Called before a command's action runs (never for `--help` or `--version`): the process's deps load the AWS
   * SDK there, so that `awsClients` and `smokeCredentials` work from then on and help starts without it.
   */
  readonly beforeRun?: () => Promise<void>;
  readonly awsClients: (options: AwsClientOptions) => AwsClients;
  /** SigV4 credentials for `swing smoke` against managed OpenSearch; the default provider chain if absent. */
  readonly smokeCredentials?: (options: AwsClientOptions) => AwsCredentialIdentityProvider;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  /** Asks a yes/no question on the terminal. Only called when `isTTY` is true. */
  readonly confirm: (question: string) => Promise<boolean>;
  /** Who asks, recorded as the execution's `requestedBy`, e.g. `cli:alice@laptop`. */
  readonly requestedBy: string;
  /** Adds the local mode's flags to the `local` command; without it `local` passes any flag through. */
  readonly configureLocal?: (command: Command) => Command;
  /** EKS, EC2 and the kubeconfig's cluster for `swing init --eks-cluster`; cli/eks-ports.ts if absent. */
  readonly eksPorts?: (options: AwsClientOptions, kubeContext?: string) => Promise<EksDiscoveryPorts>;
  /** Runs the local mode with the `local` command's parsed options and returns its exit code. */
  readonly runLocal: (options: Record<string, unknown>, io: CliIo) => Promise<number>;
}
