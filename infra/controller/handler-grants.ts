import { Fn, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { ValidationFailed } from '#domain/errors.ts';
import { SWING_OWNER_TAG } from '#domain/listener-rules.ts';
import { type HandlerAccess, SWING_RULES_DESCRIBE, TABLE_READ, TABLE_READ_WRITE } from './handler-access.ts';
import type { SmokeAccess, SmokeSettings } from './props.ts';

/** What the handlers' grants point at. */
export interface GrantTargets {
  readonly listenerArn: string;
  readonly table: dynamodb.ITable;
  readonly topic: sns.ITopic;
  readonly topicKey: kms.IKey;
  /** The composite alarm's ARN, then the extra watched alarms'. */
  readonly watchedAlarmArns: readonly string[];
  readonly replayLagAlarm?: cloudwatch.IAlarm;
  /** The reverse lag alarm: set when reverse capture is configured. */
  readonly reverseLagAlarm?: cloudwatch.IAlarm;
}

/**
 * Grants one handler's role what ACCESS says it calls. The policies of their own (created under `scope`,
 * named after `id`) come back: Lambda checks some of them when it creates the function, which must wait.
 */
export function grantHandlerAccess(
  scope: Construct,
  id: string,
  role: iam.Role,
  access: HandlerAccess,
  targets: GrantTargets,
): iam.Policy[] {
  const table = access.table === 'read' ? TABLE_READ : TABLE_READ_WRITE;
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: table, resources: [targets.table.tableArn] }));
  if (access.modifyListener) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['elasticloadbalancing:ModifyListener'],
        resources: [targets.listenerArn],
      }),
    );
  }
  if (access.describeAlarms) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:DescribeAlarms'],
        resources: [...targets.watchedAlarmArns],
      }),
    );
  }
  if (access.describeReplayLag && targets.replayLagAlarm) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:DescribeAlarms'],
        resources: [targets.replayLagAlarm.alarmArn],
      }),
    );
  }
  if (access.reverseLag === 'describe' && targets.reverseLagAlarm) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:DescribeAlarms'],
        resources: [targets.reverseLagAlarm.alarmArn],
      }),
    );
  }
  if (access.publish) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [targets.topic.topicArn] }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [targets.topicKey.keyArn],
      }),
    );
  }
  // Shift-weights writes TargetWeightPercent as EMF log lines (Powertools Metrics): no PutMetricData.
  const dependsOn: iam.Policy[] = [];
  // The freeze rules are created only where reverse capture is configured: elsewhere removing is enough.
  const swingRules = access.freezeRules && targets.reverseLagAlarm ? 'create' : access.swingRules;
  if (swingRules && swingRules !== 'read') {
    dependsOn.push(grantSwingRules(scope, id, role, targets.listenerArn, swingRules));
  }
  if (access.getMetricData) {
    const metrics = new iam.Policy(scope, `${id}GetMetricData`, {
      statements: [new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] })],
    });
    metrics.attachToRole(role);
    Validations.of(metrics).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudwatch:GetMetricData supports no resource-level permissions: AWS requires Resource "*". ' +
        "It is read-only: the delivered split reads the two target groups' RequestCount after each bake, " +
        "the write-exposure report the target group's RequestCount since the write cutover.",
    });
    dependsOn.push(metrics);
  }
  const describeElb = [
    ...new Set([...(access.describeElb ?? []), ...(access.swingRules ? SWING_RULES_DESCRIBE : [])]),
  ];
  if (describeElb.length > 0) {
    const describe = new iam.Policy(scope, `${id}DescribeElb`, {
      statements: [
        new iam.PolicyStatement({
          actions: describeElb.map((action) => `elasticloadbalancing:${action}`),
          resources: ['*'],
        }),
      ],
    });
    describe.attachToRole(role);
    Validations.of(describe).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ELBv2 Describe* actions support no resource-level permissions: AWS requires Resource "*". ' +
        'They are read-only; the writes (ModifyListener, and the rule actions) are scoped to the listener ' +
        'and its rules in other policies.',
    });
    dependsOn.push(describe);
  }
  return dependsOn;
}

/**
 * The ARNs of this listener's rules, `...:listener-rule/app/<lb-name>/<lb-id>/<listener-id>/*`, from the
 * listener's `...:listener/app/<lb-name>/<lb-id>/<listener-id>`. A token (a listener this stack creates) is
 * split in the template.
 */
export function listenerRulesArn(listenerArn: string): string {
  if (!Token.isUnresolved(listenerArn)) return `${listenerArn.replace(':listener/', ':listener-rule/')}/*`;
  const parts = Fn.split('/', listenerArn);
  const part = (index: number) => Fn.select(index, parts);
  // parts[0] ends in ':listener'; the rule ARN has the same account, region and path under ':listener-rule'.
  return Fn.join('', [part(0), '-rule/', part(1), '/', part(2), '/', part(3), '/', part(4), '/*']);
}

/** A stack's region or account as cdk-nag names it in a finding: the literal, or `<AWS::Region>`. */
export const nagText = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<${pseudo}>` : value);

/** A resource as cdk-nag names it in a finding: intrinsics flattened, references in <>, the rest as JSON. */
function nagResource(stack: Stack, value: string): string {
  const visit = (node: unknown): string => {
    if (typeof node === 'string') return node;
    const object = node as Record<string, unknown>;
    if (Array.isArray(object['Fn::Join'])) {
      const [delimiter, items] = object['Fn::Join'] as [string, unknown[]];
      return items.map(visit).join(delimiter);
    }
    if (Array.isArray(object['Fn::GetAtt'])) {
      const [resource, attribute] = object['Fn::GetAtt'] as [unknown, unknown];
      return `<${visit(resource)}.${visit(attribute)}>`;
    }
    if (object.Ref !== undefined) return `<${visit(object.Ref)}>`;
    return JSON.stringify(node);
  };
  return visit(stack.resolve(value));
}

/**
 * The rule actions, on this listener's rules only: ModifyRule and DeleteRule on its rules tagged by Swing; CreateRule on
 * the listener and its rules, with AddTags on the rules only as part of CreateRule (tag on create: a rule is
 * Swing's by its tags, and no role here may tag an existing rule).
 */
function grantSwingRules(
  scope: Construct,
  id: string,
  role: iam.Role,
  listenerArn: string,
  level: 'remove' | 'create',
) {
  const rules = listenerRulesArn(listenerArn);
  const statements = [
    new iam.PolicyStatement({
      actions: ['elasticloadbalancing:ModifyRule', 'elasticloadbalancing:DeleteRule'],
      resources: [rules],
      // Only rules Swing tagged at creation: ELBv2 takes aws:ResourceTag on its listener-rule resources.
      conditions: { Null: { [`aws:ResourceTag/${SWING_OWNER_TAG}`]: 'false' } },
    }),
  ];
  if (level === 'create') {
    statements.push(
      new iam.PolicyStatement({
        actions: ['elasticloadbalancing:CreateRule'],
        resources: [listenerArn, rules],
      }),
      new iam.PolicyStatement({
        actions: ['elasticloadbalancing:AddTags'],
        resources: [rules],
        conditions: { StringEquals: { 'elasticloadbalancing:CreateAction': 'CreateRule' } },
      }),
    );
  }
  const policy = new iam.Policy(scope, `${id}SwingRules`, { statements });
  policy.attachToRole(role);
  Validations.of(policy).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagResource(Stack.of(scope), rules)}]`,
    reason:
      "A listener rule's ARN ends in an id ELBv2 chooses when it creates the rule: '<listener's rule path>/*' " +
      "is the narrowest resource covering the rules Swing creates, and it covers only this listener's rules.",
  });
  return policy;
}

/** The smoke-test function's reads of the clusters: the basic-auth secret (and its key), or SigV4 access. */
export function grantSmokeAccess(
  scope: Construct,
  role: iam.Role,
  smoke: SmokeSettings,
  access: SmokeAccess,
): void {
  const auth = smoke.auth;
  if (auth?.type === 'basic') {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [auth.secretArn] }),
    );
    if (access.secretKmsKeyArn) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [access.secretKmsKeyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(scope).region}.amazonaws.com` },
          },
        }),
      );
    }
  }
  if (auth?.type === 'sigv4') {
    const resources = [...(access.sigv4ResourceArns ?? [])];
    if (resources.length === 0) {
      throw new ValidationFailed([
        {
          field: 'smokeAccess.sigv4ResourceArns',
          message: 'is required with sigv4 auth: list the domain or collection ARNs the smoke requests read',
        },
      ]);
    }
    const statement =
      auth.service === 'es'
        ? new iam.PolicyStatement({
            actions: ['es:ESHttpGet', 'es:ESHttpHead', 'es:ESHttpPost'],
            resources: resources.flatMap((arn) => [arn, `${arn}/*`]),
          })
        : new iam.PolicyStatement({ actions: ['aoss:APIAccessAll'], resources });
    role.addToPrincipalPolicy(statement);
    if (auth.service === 'es') {
      Validations.of(role).acknowledge(
        ...resources.map((arn) => ({
          id: `AwsSolutions-IAM5[Resource::${arn}/*]`,
          reason:
            'OpenSearch HTTP permissions are granted per path: "<domain ARN>/*" covers the smoke check paths ' +
            'of the configured domains only, with the read and search methods only.',
        })),
      );
    }
  }
}

/** What Lambda needs to run the smoke-test function in a VPC: its network interfaces. */
export function grantSmokeNetwork(scope: Construct, role: iam.Role): iam.Policy {
  const eni = new iam.Policy(scope, 'SmokeTestNetwork', {
    statements: [
      new iam.PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
      }),
    ],
  });
  eni.attachToRole(role);
  Validations.of(eni).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'Lambda manages the VPC network interfaces of the smoke-test function; these EC2 actions are what ' +
      'the AWS managed AWSLambdaVPCAccessExecutionRole grants, on "*" as Lambda requires, without a managed policy.',
  });
  return eni;
}
