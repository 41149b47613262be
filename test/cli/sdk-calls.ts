import type { AwsClients } from '#cli/deps.ts';

/** The clients the CLI uses: the common ones, and EKS and EC2 of `swing init --eks-cluster` (cli/eks-ports.ts). */
export type CliClient = keyof AwsClients | 'eks' | 'ec2';

/** The IAM service prefix of each client the CLI uses. */
const SERVICE_PREFIX: Record<CliClient, string> = {
  eks: 'eks',
  ec2: 'ec2',
  sfn: 'states',
  elbv2: 'elasticloadbalancing',
  cloudWatch: 'cloudwatch',
  dynamo: 'dynamodb',
  cloudFormation: 'cloudformation',
  scheduler: 'scheduler',
  secretsManager: 'secretsmanager',
  ssm: 'ssm',
  acm: 'acm',
};

/** The document client's commands are named after the items they carry, not after the API operation. */
const DOCUMENT_CLIENT_OPERATIONS: Record<string, string> = {
  GetCommand: 'GetItem',
  PutCommand: 'PutItem',
  UpdateCommand: 'UpdateItem',
  DeleteCommand: 'DeleteItem',
  QueryCommand: 'Query',
  ScanCommand: 'Scan',
  BatchGetCommand: 'BatchGetItem',
  BatchWriteCommand: 'BatchWriteItem',
  TransactGetCommand: 'TransactGetItems',
  TransactWriteCommand: 'TransactWriteItems',
};

/**
 * What IAM checks besides the operation itself (the Service Authorization Reference's "dependent actions"): a
 * schedule that runs as a role needs the caller to pass that role.
 */
const DEPENDENT_ACTIONS: Record<string, readonly string[]> = {
  'scheduler:CreateSchedule': ['iam:PassRole'],
  'scheduler:UpdateSchedule': ['iam:PassRole'],
};

/** The IAM actions that one SDK command sent through one of the CLI's clients needs. */
export function iamActionsOf(client: CliClient, commandName: string): string[] {
  const operation =
    client === 'dynamo' && commandName in DOCUMENT_CLIENT_OPERATIONS
      ? DOCUMENT_CLIENT_OPERATIONS[commandName]
      : commandName.replace(/Command$/, '');
  const action = `${SERVICE_PREFIX[client]}:${operation}`;
  return [action, ...(DEPENDENT_ACTIONS[action] ?? [])];
}
