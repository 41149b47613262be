import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ACMClient } from '@aws-sdk/client-acm';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import {
  DescribeListenersCommand,
  type DescribeListenersCommandOutput,
  DescribeRulesCommand,
  type DescribeRulesCommandOutput,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { type Command, CommanderError } from 'commander';
import type { RunnerTask } from 'vitest';
import { afterAll, expect, inject } from 'vitest';
import type { AwsClients, CliDeps } from '#cli/deps.ts';
import { makeProgram } from '#cli/program.ts';
import type { ListenerRecord } from '#domain/types.ts';
import { allowedActions, readIamPage } from './iam-page.ts';
import { type CliClient, iamActionsOf } from './sdk-calls.ts';

/** Recorded-shape AWS responses from test/fixtures/aws. */
export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/aws/${name}.json`, import.meta.url), 'utf8')) as T;
}

/** The listener record as the document client returns it: the GetItem fixture, unmarshalled. */
export function runningRecord(): ListenerRecord {
  return unmarshall(
    fixture<{ Item: Parameters<typeof unmarshall>[0] }>('dynamodb-get-item-running').Item,
  ) as ListenerRecord;
}

export const STACK = {
  stateMachineArn:
    'arn:aws:states:us-east-1:123456789012:stateMachine:SwingRolloutStateMachine6C9F7F4A-Xq3mPz1vR0aB',
  tableName: 'Swing-ControllerRolloutTable5A1B7C3D-1QW2E3R4T5Y6',
  listenerArn:
    'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/migration-alb/50dc6c495c0c9188/f2f7dc8efc522ab2',
  sourceTargetGroupArn:
    'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/capture-proxy/73e2d6bc24d8a067',
  targetTargetGroupArn:
    'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/target-proxy/09e2d6bc24d8a0aa',
  schedulerRoleArn: 'arn:aws:iam::123456789012:role/Swing-ControllerSchedulerRole8D6F1B2C-9KJH8GF7DS6A',
  scheduleDlqArn: 'arn:aws:sqs:us-east-1:123456789012:Swing-ControllerDeadLetterQueue7E5D3C1B-lKjHgFdSaQwE',
} as const;

export const RUNNING_EXECUTION =
  'arn:aws:states:us-east-1:123456789012:execution:SwingRolloutStateMachine6C9F7F4A-Xq3mPz1vR0aB:migrate-orders-3';

/** One mock per client class; mockClient replaces `send` on every instance of the class. */
export const aws = {
  sfn: mockClient(SFNClient),
  elbv2: mockClient(ElasticLoadBalancingV2Client),
  cloudWatch: mockClient(CloudWatchClient),
  dynamo: mockClient(DynamoDBDocumentClient),
  cloudFormation: mockClient(CloudFormationClient),
  scheduler: mockClient(SchedulerClient),
  secretsManager: mockClient(SecretsManagerClient),
  ssm: mockClient(SSMClient),
  acm: mockClient(ACMClient),
  // swing init --eks-cluster's own clients (CliDeps.eksPorts).
  eks: mockClient(EKSClient),
  ec2: mockClient(EC2Client),
};

/** The IAM actions that the SDK commands each `swing` command sent through the mocks need, over this test file. */
export const sentActions = new Map<string, Set<string>>();

function callCounts(): Map<CliClient, number> {
  return new Map(Object.entries(aws).map(([client, mock]) => [client as CliClient, mock.calls().length]));
}

/** Adds what the mocks received since `before` to `sentActions`, under the command that ran. */
function recordSent(command: string, before: Map<CliClient, number>): void {
  const actions = sentActions.get(command) ?? new Set<string>();
  for (const [client, mock] of Object.entries(aws) as [CliClient, (typeof aws)[CliClient]][]) {
    for (const call of mock.calls().slice(before.get(client) ?? 0)) {
      for (const action of iamActionsOf(client, (call.args[0] as object).constructor.name))
        actions.add(action);
    }
  }
  sentActions.set(command, actions);
}

/** `swing schedule add` for the `add` subcommand of `schedule`. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at?.parent; at = at.parent) names.unshift(at.name());
  return ['swing', ...names].join(' ');
}

/** Whether every test of the file ran and passed: only then is what it sent the whole of what it sends. */
function ranWhole(task: Readonly<RunnerTask>): boolean {
  if (task.type === 'suite') return task.tasks.every(ranWhole);
  return task.mode === 'run' && task.result?.state === 'pass';
}

/** The CLI test files that run `swing` through this harness. */
function harnessedFiles(): string[] {
  const folder = fileURLToPath(new URL('.', import.meta.url));
  return readdirSync(folder).filter(
    (name) =>
      name.endsWith('.test.ts') && readFileSync(join(folder, name), 'utf8').includes("from './harness.ts'"),
  );
}

/**
 * docs/iam.md against what the commands sent. Each file checks that its commands sent only what their rows list;
 * the file that completes the run's set of CLI test files (each leaves its record in a folder of this run) checks
 * that every action a row lists was sent by some test of that command.
 */
/** The test file this module was loaded for: the check below is registered for it alone. */
const checkedFile = expect.getState().testPath;

// biome-ignore lint/correctness/noEmptyPattern: vitest requires a pattern for the fixtures; the file comes second.
afterAll(({}, file) => {
  const { rows } = readIamPage();
  const unlisted = [...sentActions].flatMap(([command, actions]) => {
    const allowed = allowedActions(rows, command);
    return [...actions]
      .filter((action) => !allowed.has(action))
      .map((action) => `\`${command}\` sends ${action}`);
  });
  expect(
    unlisted,
    'actions sent that docs/iam.md does not list for the command: add them to its row',
  ).toEqual([]);

  if (!('filepath' in file) || !ranWhole(file)) return;
  const dir = inject('sentActionsDir');
  const record = Object.fromEntries([...sentActions].map(([command, actions]) => [command, [...actions]]));
  const name = basename(file.filepath);
  // Written whole, then renamed: a file that reads the folder at the same time sees all of it or none.
  writeFileSync(join(dir, `${name}.tmp`), JSON.stringify(record));
  renameSync(join(dir, `${name}.tmp`), join(dir, `${name}.json`));
  const recorded = new Set(readdirSync(dir));
  if (!harnessedFiles().every((test) => recorded.has(`${test}.json`))) return;
  const sent = new Map<string, Set<string>>();
  for (const recordFile of recorded) {
    if (!recordFile.endsWith('.json')) continue;
    const commands = JSON.parse(readFileSync(join(dir, recordFile), 'utf8')) as Record<string, string[]>;
    for (const [command, actions] of Object.entries(commands)) {
      sent.set(command, new Set([...(sent.get(command) ?? []), ...actions]));
    }
  }
  const unsent = [...rows].flatMap(([command, row]) =>
    [...row.actions]
      .filter((action) => !sent.get(command)?.has(action))
      .map((action) => `\`${command}\`: ${action}`),
  );
  expect(
    unsent,
    'actions docs/iam.md lists that no CLI test of the command sends: test the path that sends it, or drop it',
  ).toEqual([]);
});

/** How many SDK commands the mocked clients received since the last reset, over all of them. */
export function commandsSent(): number {
  return Object.values(aws).reduce((sum, mock) => sum + mock.calls().length, 0);
}

export function resetAws(): void {
  for (const mock of Object.values(aws)) mock.reset();
}

type ListenersFixture = {
  Listeners: { DefaultActions: { ForwardConfig: { TargetGroups: { Weight: number }[] } }[] }[];
};

/** The recorded DescribeListeners answer with the two weights replaced. */
export function listenerAt(source: number, target: number): DescribeListenersCommandOutput {
  const described = fixture<ListenersFixture>('elbv2-describe-listeners');
  const groups = described.Listeners[0]?.DefaultActions[0]?.ForwardConfig.TargetGroups ?? [];
  groups[0]!.Weight = source;
  groups[1]!.Weight = target;
  return described as unknown as DescribeListenersCommandOutput;
}

/** The stack, listener, alarms and record of a rollout baking its second step, as AWS returns them. */
export function mockDeployedStack(record: ListenerRecord | undefined = runningRecord()): void {
  aws.cloudFormation.on(DescribeStacksCommand).resolves(fixture('cloudformation-describe-stacks'));
  aws.elbv2.on(DescribeListenersCommand).resolves(fixture('elbv2-describe-listeners'));
  // A listener with no rule but its default one (the recorded answer's last rule).
  const rules = fixture<DescribeRulesCommandOutput>('elbv2-describe-rules').Rules ?? [];
  aws.elbv2.on(DescribeRulesCommand).resolves({ Rules: rules.filter((rule) => rule.IsDefault) });
  aws.cloudWatch.on(DescribeAlarmsCommand).resolves(fixture('cloudwatch-describe-alarms'));
  aws.dynamo.on(GetCommand).resolves(record ? { Item: record } : {});
}

const region = { region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } };

/** The SDK's own answer when the provider chain finds nothing. */
function noCredentials(): Promise<never> {
  const error = new Error('Could not load credentials from any providers');
  error.name = 'CredentialsProviderError';
  return Promise.reject(error);
}

/** What the clients are configured with: a region and credentials, or a machine that has one of them missing. */
function clientConfig(aws: HarnessOptions['aws']) {
  if (aws === 'no-region') return { credentials: region.credentials };
  if (aws === 'no-credentials') return { region: region.region, credentials: noCredentials };
  return region;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** How often the CLI asked for AWS clients: 0 means it made no AWS call at all. */
  readonly clientRequests: number;
  readonly questions: readonly string[];
}

export interface HarnessOptions {
  readonly isTTY?: boolean;
  readonly answer?: boolean;
  readonly now?: string;
  readonly runLocal?: CliDeps['runLocal'];
  readonly configureLocal?: CliDeps['configureLocal'];
  /** The kubeconfig `swing init --eks-cluster` reads (a fake API server's); EKS and EC2 are the mocks. */
  readonly kubeConfig?: import('@kubernetes/client-node').KubeConfig;
  /** A machine with no AWS region or no AWS credentials configured; default: both set. */
  readonly aws?: 'no-region' | 'no-credentials';
}

/** Runs `swing <argv>` through makeProgram with captured output and the mocked clients. */
export async function swing(argv: readonly string[], options: HarnessOptions = {}): Promise<RunResult> {
  // Loaded once for several files (vitest's isolate off), the check above would silently cover the first only.
  if (expect.getState().testPath !== checkedFile) {
    throw new Error(
      `test/cli/harness.ts was loaded for ${checkedFile}, not for this file: run the CLI tests isolated (vitest's default)`,
    );
  }
  let stdout = '';
  let stderr = '';
  let clientRequests = 0;
  const questions: string[] = [];
  let now = new Date(options.now ?? '2026-03-02T10:11:00.000Z').getTime();
  const config = clientConfig(options.aws);
  const clients: AwsClients = {
    sfn: new SFNClient(config),
    elbv2: new ElasticLoadBalancingV2Client(config),
    cloudWatch: new CloudWatchClient(config),
    dynamo: DynamoDBDocumentClient.from(new DynamoDBClient(config)),
    cloudFormation: new CloudFormationClient(config),
    scheduler: new SchedulerClient(config),
    secretsManager: new SecretsManagerClient(config),
    ssm: new SSMClient(config),
    acm: new ACMClient(config),
  };
  const deps: CliDeps = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    isTTY: options.isTTY ?? false,
    awsClients: () => {
      clientRequests += 1;
      return clients;
    },
    now: () => new Date(now),
    // Time moves only when the CLI waits: a watch loop runs instantly and deterministically.
    sleep: async (ms) => {
      now += ms;
    },
    confirm: async (question) => {
      questions.push(question);
      return options.answer ?? false;
    },
    requestedBy: 'cli:alice@laptop',
    runLocal: options.runLocal ?? (async () => 0),
    ...(options.configureLocal ? { configureLocal: options.configureLocal } : {}),
    ...(options.kubeConfig
      ? {
          eksPorts: async () => ({
            eks: new EKSClient(config),
            ec2: new EC2Client(config),
            kubeConfig: options.kubeConfig!,
          }),
        }
      : {}),
  };
  const program = makeProgram(deps);
  let ran: string | undefined;
  program.hook('preAction', (_program, actionCommand) => {
    ran = commandPath(actionCommand);
  });
  const before = callCounts();
  let code = 0;
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    code = error.exitCode;
  } finally {
    if (ran) recordSent(ran, before);
  }
  return { code, stdout, stderr, clientRequests, questions };
}
