import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** The listener lock and the rollout history, one item per listener: retained unless told otherwise. */
export function listenerLockTable(scope: Construct, removalPolicy = RemovalPolicy.RETAIN): dynamodb.Table {
  return new dynamodb.Table(scope, 'Table', {
    partitionKey: { name: 'listenerArn', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    removalPolicy,
  });
}

/** The encrypted topic that rollout outcomes (and the undelivered-events alarm) go to, with its key. */
export function outcomeTopic(
  scope: Construct,
  prefix: string,
  emails: readonly string[] = [],
): { topic: sns.Topic; key: kms.Key } {
  const key = new kms.Key(scope, 'TopicKey', {
    description: `Encrypts the ${prefix} rollout outcome topic`,
    enableKeyRotation: true,
  });
  // The dead-letter alarm publishes to the encrypted topic: CloudWatch needs to use the key.
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
  );
  const topic = new sns.Topic(scope, 'Topic', {
    displayName: 'Swing rollout outcomes',
    masterKey: key,
    enforceSSL: true,
  });
  for (const email of emails) topic.addSubscription(new snsSubscriptions.EmailSubscription(email));
  return { topic, key };
}

/** Where events and scheduled starts that reached no handler go: of the rules, the async handlers, the schedules. */
export function deadLetterQueue(scope: Construct): sqs.Queue {
  const queue = new sqs.Queue(scope, 'DeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      'This queue is the dead-letter queue (of the EventBridge rule targets, the async handlers and the ' +
      'schedules); its depth raises the undelivered-events alarm to the outcome topic.',
  });
  return queue;
}
