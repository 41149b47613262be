import {
  ArnFormat,
  type CfnElement,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  Token,
  Validations,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import * as z from 'zod';
import { ReadsFirstSettingsSchema } from '#commons/config.ts';
import { ValidationFailed } from '#domain/errors.ts';
import { SWING_OWNER_TAG } from '#domain/listener-rules.ts';
import { DEFAULT_READS_FIRST } from '#domain/reads-first.ts';
import { RECONCILE_INTERVAL_MINUTES } from '#domain/reconciler.ts';
import { SHIFT_WEIGHTS_TIMEOUT_SECONDS } from '#domain/rollout.ts';
import { parseSmokeConfig, type SmokeConfigSchema } from '#domain/smoke-config.ts';
import type { InsufficientDataPolicy, PlanEnd, ReadsFirstSettings, TrafficMode } from '#domain/types.ts';
import { fieldIssuesFrom } from '#domain/validation.ts';
import { ASL_PATH, FUNCTION_PLACEHOLDERS } from '../statemachine/definition.ts';
import {
  checkScheduledPlan,
  DEFAULT_ROLLBACK_RESERVED_CONCURRENCY,
  LISTENER_ARN,
  LOAD_BALANCER_ARN,
  type ReplayLagMetric,
  ROLLBACK_RESERVED_CONCURRENCY_ERROR,
  ROLLBACK_RESERVED_CONCURRENCY_MAX,
  TARGET_GROUP_ARN,
} from './config.ts';
import {
  bundledHandler,
  HANDLER_NAMES,
  type HandlerFunctionFactory,
  type HandlerName,
} from './handler-functions.ts';
import {
  type AlarmSettings,
  type AlbMetricDimensions,
  loadBalancerDimension,
  RolloutAlarms,
  targetGroupDimension,
} from './rollout-alarms.ts';
import { RolloutDashboard, TARGET_WEIGHT_METRIC } from './rollout-dashboard.ts';

/** The handlers' SMOKE_CONFIG, as written (defaults apply in the handler). Endpoints may be tokens. */
export type SmokeSettings = z.input<typeof SmokeConfigSchema>;

export interface SmokeAccess {
  /** Customer managed KMS key of the basic-auth secret. @default the secret uses the AWS managed key */
  readonly secretKmsKeyArn?: string;
  /** OpenSearch domain or Serverless collection ARNs that SigV4 smoke requests read. @default none */
  readonly sigv4ResourceArns?: readonly string[];
}

/** Where the smoke-test function runs when :9201 / :9202 are reachable only inside a VPC. */
export interface SmokeNetwork {
  readonly vpc: ec2.IVpc;
  /** @default the VPC's private subnets */
  readonly subnets?: ec2.SubnetSelection;
  /** @default a new security group with outbound access only */
  readonly securityGroups?: readonly ec2.ISecurityGroup[];
}

/** A rollout that EventBridge Scheduler starts. */
export interface RolloutSchedule {
  /** Names the schedule and, by default, the execution's `requestedBy`. */
  readonly name: string;
  /** e.g. `ScheduleExpression.expression('cron(0 2 ? * TUE *)', TimeZone.EUROPE_BERLIN)` */
  readonly expression: scheduler.ScheduleExpression;
  /** A preset, a compact spec or `{ steps }`: checked at synth time as preflight will check it. */
  readonly plan: unknown;
  /** @default the stack's `traffic` */
  readonly traffic?: TrafficMode;
  /** `restore`: a rehearsal, back to the starting weights at its end. @default 'hold' */
  readonly then?: PlanEnd;
  /** An all-mode rehearsal leaves the writes it sent on the target: accepted only on purpose. @default false */
  readonly acceptWritesOnTarget?: boolean;
  /** @default `schedule:<name>` */
  readonly requestedBy?: string;
  /** @default true */
  readonly enabled?: boolean;
  readonly description?: string;
}

export interface RolloutControllerProps {
  /** The weighted listener (443 on the Migration Assistant). */
  readonly listenerArn: string;
  /** The Capture Proxy target group (source path). */
  readonly sourceTargetGroupArn: string;
  /** The Target Cluster Proxy target group (target path). */
  readonly targetTargetGroupArn: string;
  /**
   * CloudWatch dimensions of the load balancer and the target groups.
   * @default derived from listenerArn (or loadBalancerArn) and the target group ARNs
   */
  readonly metricDimensions?: AlbMetricDimensions;
  /** @default the load balancer in listenerArn */
  readonly loadBalancerArn?: string;
  /** Requests to :9201 and :9202 before any weight changes. */
  readonly smoke: SmokeSettings;
  /** @default nothing beyond the basic-auth secret named in `smoke.auth` */
  readonly smokeAccess?: SmokeAccess;
  /** @default the smoke-test function runs outside any VPC */
  readonly smokeNetwork?: SmokeNetwork;
  /** @default DEFAULT_ALARM_THRESHOLDS */
  readonly alarmThresholds?: Partial<AlarmSettings>;
  /** Alarms the rollout watches besides its own composite alarm. @default none */
  readonly extraWatchedAlarmNames?: readonly string[];
  /** @default 'not-firing': a 1 % step often has too few requests for a datapoint */
  readonly insufficientDataPolicy?: InsufficientDataPolicy;
  /** How rollouts that do not say move traffic. @default 'all' (every request split by weight) */
  readonly traffic?: TrafficMode;
  /** Reads-first settings for rollouts that do not give theirs. @default DEFAULT_READS_FIRST */
  readonly readsFirst?: Partial<ReadsFirstSettings>;
  /**
   * The replayer's lag, which a reads-first step waits on (`replayLagMetric` of the config).
   * @default none: no replay-lag alarm, and a reads-first rollout cannot pass its replay-lag check
   */
  readonly replayLag?: ReplayLagMetric;
  /** @default none */
  readonly schedules?: readonly RolloutSchedule[];
  /** Scheduler retries before a start goes to the dead-letter queue. @default 3 */
  readonly scheduleRetryAttempts?: number;
  /** A scheduled start older than this goes to the dead-letter queue instead. @default 15 minutes */
  readonly scheduleMaxDelay?: Duration;
  /** Subscribed to the outcome topic. @default none */
  readonly notificationEmails?: readonly string[];
  /** Starts alarm, dashboard and log group names. @default the stack name */
  readonly namePrefix?: string;
  /** The table holds the listener lock and the rollout history. @default RemovalPolicy.RETAIN */
  readonly tableRemovalPolicy?: RemovalPolicy;
  /** @default three months */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Concurrent executions reserved for each function of the rollback path (ROLLBACK_PATH), taken from the
   * account's unreserved pool, so that throttling elsewhere in the account cannot starve a rollback. `false`
   * reserves none, for an account whose concurrency quota is too low to reserve any.
   * @default 5
   */
  readonly rollbackReservedConcurrency?: number | false;
  /** Builds each handler's function. @default bundledHandler (esbuild, ESM, minified) */
  readonly handlerFunction?: HandlerFunctionFactory;
}

/** The functions that put the listener back after an alarm, an abort or a stopped execution. */
export const ROLLBACK_PATH: readonly HandlerName[] = ['alarm-event', 'rollback', 'safety-net', 'reconciler'];

/** DynamoDbRolloutStore issues GetItem and conditional UpdateItem only. */
const TABLE_READ = ['dynamodb:GetItem'];
const TABLE_READ_WRITE = ['dynamodb:GetItem', 'dynamodb:UpdateItem'];

/** Per handler: what it calls, and nothing else. */
const ACCESS: Record<
  HandlerName,
  {
    table: 'read' | 'read-write';
    describeElb?: readonly string[];
    modifyListener?: true;
    /**
     * Swing's own listener rules (reads-first): `read` finds them (by tag), `remove` also re-weights and deletes
     * them, `create` also creates them, tagged in the same call.
     */
    swingRules?: 'read' | 'remove' | 'create';
    describeAlarms?: true;
    /** cloudwatch:DescribeAlarms on the replay-lag alarm: the replay-lag check. */
    describeReplayLag?: true;
    /** states:SendTaskSuccess on this state machine: releases a step waiting for the replayer. */
    releaseReplayWait?: true;
    /**
     * cloudwatch:GetMetricData: the target groups' RequestCount, for the delivered split after a bake and the
     * requests the target took since the write cutover.
     */
    getMetricData?: true;
    publish?: true;
    failTasks?: true;
    /** states:DescribeExecution on this state machine's executions. */
    describeExecutions?: true;
    asyncFromEventBridge?: true;
    timeout: Duration;
  }
> = {
  preflight: {
    table: 'read-write',
    describeElb: ['DescribeListeners', 'DescribeRules', 'DescribeTargetHealth'],
    swingRules: 'read',
    describeAlarms: true,
    timeout: Duration.seconds(30),
  },
  'smoke-test': { table: 'read-write', timeout: Duration.seconds(60) },
  'shift-weights': {
    table: 'read-write',
    describeElb: ['DescribeListeners', 'DescribeTargetHealth'],
    modifyListener: true,
    // Read steps create and move the read rules; the write cutover removes them.
    swingRules: 'create',
    describeAlarms: true,
    describeReplayLag: true,
    // Rollback outlasts a stale attempt of this function for exactly this long (a lost answer runs on).
    timeout: Duration.seconds(SHIFT_WEIGHTS_TIMEOUT_SECONDS),
  },
  'check-alarms': {
    table: 'read-write',
    describeAlarms: true,
    getMetricData: true,
    timeout: Duration.seconds(30),
  },
  bake: {
    table: 'read-write',
    describeAlarms: true,
    // A wait for the replayer checks once more after storing its token, and releases it if caught up.
    describeReplayLag: true,
    releaseReplayWait: true,
    timeout: Duration.seconds(30),
  },
  'alarm-event': {
    table: 'read',
    failTasks: true,
    // The replay-lag alarm's return to OK releases the step waiting for the replayer.
    releaseReplayWait: true,
    asyncFromEventBridge: true,
    timeout: Duration.seconds(30),
  },
  rollback: {
    table: 'read-write',
    describeElb: ['DescribeListeners', 'DescribeTargetHealth'],
    modifyListener: true,
    swingRules: 'remove',
    // The requests the target took since the write cutover: the write-exposure report.
    getMetricData: true,
    // Room to outlast a stale ShiftWeights attempt (SHIFT_WEIGHTS_TIMEOUT_SECONDS) and restore once more.
    timeout: Duration.seconds(SHIFT_WEIGHTS_TIMEOUT_SECONDS * 2),
  },
  finalize: {
    table: 'read-write',
    describeElb: ['DescribeListeners', 'DescribeTargetHealth'],
    // The scroll pins go when the cutover's bake ends, not while a watched alarm fires (a raise of pinned reads).
    swingRules: 'remove',
    describeAlarms: true,
    publish: true,
    timeout: Duration.seconds(30),
  },
  'safety-net': {
    table: 'read-write',
    describeElb: ['DescribeListeners', 'DescribeTargetHealth'],
    modifyListener: true,
    swingRules: 'remove',
    // The requests the target took since the write cutover, when it restores after one: the write exposure.
    getMetricData: true,
    publish: true,
    asyncFromEventBridge: true,
    // It first waits out tasks of the stopped execution that may still act (SAFETY_NET_WAIT_SECONDS, 75 s).
    timeout: Duration.seconds(150),
  },
  reconciler: {
    table: 'read-write',
    describeElb: ['DescribeListeners', 'DescribeTargetHealth'],
    modifyListener: true,
    swingRules: 'remove',
    getMetricData: true,
    publish: true,
    describeExecutions: true,
    asyncFromEventBridge: true,
    // It never sleeps through the safety net's wait (the next run acts): one restore, with its retries.
    timeout: Duration.seconds(60),
  },
};

/** Finding Swing's rules: the rules, then their tags (ELBv2 lists no tags with DescribeRules). */
const SWING_RULES_DESCRIBE = ['DescribeRules', 'DescribeTags'];

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

const pascal = (name: string) =>
  name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');

/** A stack's region or account as cdk-nag names it in a finding: the literal, or `<AWS::Region>`. */
const nagText = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<${pseudo}>` : value);

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

function checkArn(field: string, value: string | undefined, pattern: RegExp, example: string) {
  if (value === undefined || Token.isUnresolved(value) || pattern.test(value)) return;
  throw new ValidationFailed([{ field, message: `is '${value}', not a valid ARN: e.g. ${example}` }]);
}

/**
 * Everything a Swing rollout needs in an account: the ten handlers with their own least-privilege roles,
 * the state machine from `statemachine/rollout.asl.json`, the alarms it watches, the EventBridge rules that
 * make rollback event-driven (I5) and the safety net (I7), the reconciler's schedule (I7 when an event is
 * lost), schedules, the listener-lock table, the outcome
 * topic and a dashboard. It works on an existing listener; `SandboxAlb` can create one.
 */
export class RolloutController extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly table: dynamodb.Table;
  readonly topic: sns.Topic;
  readonly topicKey: kms.Key;
  readonly alarms: RolloutAlarms;
  readonly dashboard: cloudwatch.Dashboard;
  readonly deadLetterQueue: sqs.Queue;
  readonly functions: Readonly<Record<HandlerName, lambda.Function>>;
  /** The composite alarm's name first, then the extra names: the handlers' WATCHED_ALARMS. */
  readonly watchedAlarmNames: readonly string[];
  readonly schedules: readonly scheduler.Schedule[];
  /** Runs the reconciler every RECONCILE_INTERVAL_MINUTES. */
  readonly reconcilerSchedule: scheduler.Schedule;
  /** The role EventBridge Scheduler starts rollouts with: the declared schedules and `swing schedule add`. */
  readonly schedulerRole: iam.Role;
  /**
   * In ALARM while the replayer lags; not a watched alarm: a lagging replayer holds a reads-first step, it
   * never rolls the target back. Absent without `replayLag`.
   */
  readonly replayLagAlarm?: cloudwatch.Alarm;
  /** Its name as written (not a reference), for environment variables and event patterns. */
  readonly replayLagAlarmName?: string;
  /** The stack's traffic mode and reads-first settings: the preflight function's READS_FIRST_DEFAULTS. */
  readonly readsFirstDefaults: { readonly traffic: TrafficMode; readonly settings: ReadsFirstSettings };

  constructor(scope: Construct, id: string, props: RolloutControllerProps) {
    // Checked before anything is created: bad input builds nothing.
    validateControllerProps(props);
    super(scope, id);
    const stack = Stack.of(this);
    const scheduleSpecs = props.schedules ?? [];

    const prefix = props.namePrefix ?? stack.stackName;
    const retention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const handlerFunction = props.handlerFunction ?? bundledHandler;
    const reservedConcurrency = props.rollbackReservedConcurrency ?? DEFAULT_ROLLBACK_RESERVED_CONCURRENCY;

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'listenerArn', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.tableRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    this.topicKey = new kms.Key(this, 'TopicKey', {
      description: `Encrypts the ${prefix} rollout outcome topic`,
      enableKeyRotation: true,
    });
    // The dead-letter alarm publishes to the encrypted topic: CloudWatch needs to use the key.
    this.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Swing rollout outcomes',
      masterKey: this.topicKey,
      enforceSSL: true,
    });
    for (const email of props.notificationEmails ?? []) {
      this.topic.addSubscription(new snsSubscriptions.EmailSubscription(email));
    }

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    const dimensions = props.metricDimensions ?? {
      loadBalancer: loadBalancerDimension(props.loadBalancerArn ?? props.listenerArn),
      sourceTargetGroup: targetGroupDimension(props.sourceTargetGroupArn),
      targetTargetGroup: targetGroupDimension(props.targetTargetGroupArn),
    };
    this.alarms = new RolloutAlarms(this, 'Alarms', {
      namePrefix: prefix,
      dimensions,
      thresholds: props.alarmThresholds,
    });
    const extraNames = [...(props.extraWatchedAlarmNames ?? [])];
    this.watchedAlarmNames = [this.alarms.healthAlarmName, ...extraNames];
    const watchedAlarmArns = [
      this.alarms.health.alarmArn,
      ...extraNames.map((name) =>
        stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: name,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ),
    ];

    this.readsFirstDefaults = {
      traffic: props.traffic ?? 'all',
      settings: { ...DEFAULT_READS_FIRST, ...props.readsFirst },
    };
    const lag = props.replayLag;
    if (lag) {
      this.replayLagAlarmName = `${prefix}-replay-lag`;
      this.replayLagAlarm = new cloudwatch.Alarm(this, 'ReplayLagAlarm', {
        alarmName: this.replayLagAlarmName,
        alarmDescription:
          `The replayer lags the source: ${lag.namespace} ${lag.metricName} (${lag.statistic}) above ${lag.threshold} ` +
          `in a period of the last ${lag.evaluationPeriods}` +
          (lag.missingData === 'lagging' ? ', or no datapoint. ' : '. ') +
          'Reads-first steps and the write cutover wait while it is in ALARM; it rolls nothing back.',
        metric: new cloudwatch.Metric({
          namespace: lag.namespace,
          metricName: lag.metricName,
          dimensionsMap: { ...lag.dimensions },
          statistic: lag.statistic,
          period: Duration.seconds(lag.periodSeconds),
        }),
        threshold: lag.threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: lag.evaluationPeriods,
        // Caught up (OK) means no period of the window above the threshold: one lagging period is lagging.
        datapointsToAlarm: 1,
        // An idle replayer and wrong dimensions both send no datapoint: never caught up unless the policy says so.
        treatMissingData:
          lag.missingData === 'lagging'
            ? cloudwatch.TreatMissingData.BREACHING
            : cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    const replayLagAlarm = this.replayLagAlarm;
    const replayLagAlarmName = this.replayLagAlarmName;

    const commonEnvironment: Record<string, string> = {
      LISTENER_ARN: props.listenerArn,
      SOURCE_TARGET_GROUP_ARN: props.sourceTargetGroupArn,
      TARGET_TARGET_GROUP_ARN: props.targetTargetGroupArn,
      TABLE_NAME: this.table.tableName,
      WATCHED_ALARMS: stack.toJsonString(this.watchedAlarmNames),
      INSUFFICIENT_DATA_POLICY: props.insufficientDataPolicy ?? 'not-firing',
      TOPIC_ARN: this.topic.topicArn,
      POWERTOOLS_SERVICE_NAME: TARGET_WEIGHT_METRIC.serviceName,
      POWERTOOLS_METRICS_NAMESPACE: TARGET_WEIGHT_METRIC.namespace,
    };

    const functions = {} as Record<HandlerName, lambda.Function>;
    for (const name of HANDLER_NAMES) {
      const id = pascal(name);
      const access = ACCESS[name];
      const role = new iam.Role(this, `${id}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Swing ${name} handler: only what it calls`,
      });
      const logGroup = new logs.LogGroup(this, `${id}Logs`, { retention });
      logGroup.grantWrite(role);
      const table = access.table === 'read' ? TABLE_READ : TABLE_READ_WRITE;
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: table, resources: [this.table.tableArn] }),
      );
      if (access.modifyListener) {
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['elasticloadbalancing:ModifyListener'],
            resources: [props.listenerArn],
          }),
        );
      }
      if (access.describeAlarms) {
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: watchedAlarmArns }),
        );
      }
      if (access.describeReplayLag && replayLagAlarm) {
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['cloudwatch:DescribeAlarms'],
            resources: [replayLagAlarm.alarmArn],
          }),
        );
      }
      if (access.publish) {
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn] }),
        );
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
            resources: [this.topicKey.keyArn],
          }),
        );
      }
      // Shift-weights writes TargetWeightPercent as EMF log lines (Powertools Metrics): no PutMetricData.
      const dependsOn: iam.Policy[] = [];
      if (access.swingRules && access.swingRules !== 'read') {
        dependsOn.push(this.grantSwingRules(id, role, props.listenerArn, access.swingRules));
      }
      if (access.getMetricData) {
        const metrics = new iam.Policy(this, `${id}GetMetricData`, {
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
        const describe = new iam.Policy(this, `${id}DescribeElb`, {
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

      const environment: Record<string, string> = { ...commonEnvironment };
      if (name === 'preflight') {
        // Whether a replay-lag alarm exists: without one, Preflight refuses reads-first at once instead of letting
        // its first step wait out replayWaitSeconds for a check that can never pass.
        environment.READS_FIRST_DEFAULTS = JSON.stringify({
          ...this.readsFirstDefaults,
          replayLagCheck: replayLagAlarmName !== undefined,
        });
      }
      if (replayLagAlarmName && lag && (access.describeReplayLag || access.releaseReplayWait)) {
        environment.REPLAY_LAG_ALARM = replayLagAlarmName;
        environment.REPLAY_LAG_MISSING_DATA = lag.missingData;
      }
      let network: Pick<lambda.FunctionOptions, 'vpc' | 'vpcSubnets' | 'securityGroups'> = {};
      if (name === 'smoke-test') {
        environment.SMOKE_CONFIG = stack.toJsonString(props.smoke);
        this.grantSmokeAccess(role, props.smoke, props.smokeAccess ?? {});
        if (props.smokeNetwork) {
          network = {
            vpc: props.smokeNetwork.vpc,
            vpcSubnets: props.smokeNetwork.subnets,
            securityGroups: props.smokeNetwork.securityGroups
              ? [...props.smokeNetwork.securityGroups]
              : undefined,
          };
          const eni = new iam.Policy(this, 'SmokeTestNetwork', {
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
          dependsOn.push(eni);
        }
      }

      const fn = handlerFunction(this, id, name, {
        description: `Swing ${name}`,
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 256,
        timeout: name === 'smoke-test' ? smokeTimeout(props.smoke) : access.timeout,
        role,
        logGroup,
        environment,
        ...network,
        ...(access.asyncFromEventBridge ? { deadLetterQueue: this.deadLetterQueue, retryAttempts: 2 } : {}),
        ...(reservedConcurrency !== false && ROLLBACK_PATH.includes(name)
          ? { reservedConcurrentExecutions: reservedConcurrency }
          : {}),
      });
      // Lambda checks the role's permissions (network interfaces) when it creates the function.
      for (const policy of dependsOn) fn.node.addDependency(policy);
      functions[name] = fn;
    }
    this.functions = functions;

    const stateMachineLogs = new logs.LogGroup(this, 'StateMachineLogs', {
      // Under /aws/vendedlogs/ the log group's resource policy does not grow with every state machine.
      logGroupName: `/aws/vendedlogs/states/${prefix}-rollout`,
      retention,
    });
    const definitionSubstitutions: Record<string, string> = {};
    for (const [placeholder, handler] of Object.entries(FUNCTION_PLACEHOLDERS)) {
      definitionSubstitutions[placeholder] = functions[handler].functionArn;
    }
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'Swing: progressive traffic swing of the weighted listener from source to target',
      definitionBody: sfn.DefinitionBody.fromFile(ASL_PATH),
      definitionSubstitutions,
      stateMachineType: sfn.StateMachineType.STANDARD,
      tracingEnabled: true,
      // Every state change and error, without inputs and outputs: Bake's and Gate's parameters carry the task
      // token, which would sit in the logs as a credential for the open task.
      logs: { destination: stateMachineLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    // The seven task functions by their exact, unqualified ARNs: the ASL calls no version or alias.
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [...new Set(Object.values(FUNCTION_PLACEHOLDERS))].map(
          (handler) => functions[handler].functionArn,
        ),
      }),
    );
    // Covers the state machine's role policy only (acknowledgements apply to the construct's subtree).
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'CDK grants these for state machine logging (logs:*LogDelivery*, DescribeResourcePolicies, ' +
        'DescribeLogGroups) and X-Ray tracing (xray:PutTraceSegments & co.): AWS supports only Resource "*" for them.',
    });

    // I5: one event hop from the watched alarm to the failed bake token.
    new events.Rule(this, 'AlarmStateChangeRule', {
      description: 'A watched alarm went to ALARM: fail the open bake or gate so the rollout rolls back',
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        // By ARN, not by name alone: an alarm of the same name in another account or region is not watched.
        account: [stack.account],
        resources: watchedAlarmArns,
        detail: {
          alarmName: [...this.watchedAlarmNames],
          // With the 'firing' policy, an alarm that lost its data (a dead target) rolls back as fast.
          state: {
            value: props.insufficientDataPolicy === 'firing' ? ['ALARM', 'INSUFFICIENT_DATA'] : ['ALARM'],
          },
        },
      },
      targets: [this.eventTarget(functions['alarm-event'])],
    });
    // I7: an execution that ended outside the catch paths still gets its listener restored.
    new events.Rule(this, 'ExecutionStoppedRule', {
      description: 'A rollout execution was aborted, failed or timed out: restore its starting weights',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [this.stateMachine.stateMachineArn],
          status: ['ABORTED', 'FAILED', 'TIMED_OUT'],
        },
      },
      targets: [this.eventTarget(functions['safety-net'])],
    });
    if (replayLagAlarm && replayLagAlarmName) {
      // Not in the watched alarms' rule: this one's return to OK matters, and it must never fail a bake.
      new events.Rule(this, 'ReplayLagStateChangeRule', {
        description:
          'The replay-lag alarm is OK again: release the reads-first step waiting for the replayer',
        eventPattern: {
          source: ['aws.cloudwatch'],
          detailType: ['CloudWatch Alarm State Change'],
          account: [stack.account],
          resources: [replayLagAlarm.alarmArn],
          detail: {
            alarmName: [replayLagAlarmName],
            // INSUFFICIENT_DATA releases only with missingData 'caught-up' (the handler decides); ALARM never.
            state: { value: ['OK', 'INSUFFICIENT_DATA'] },
          },
        },
        targets: [this.eventTarget(functions['alarm-event'])],
      });
    }
    // SendTaskFailure on this state machine only: the alarm-event function can fail no other task.
    functions['alarm-event'].addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:SendTaskFailure'],
        resources: [this.stateMachine.stateMachineArn],
      }),
    );
    // SendTaskSuccess on this state machine only, for the waits for the replayer. A policy of its own, not the
    // role's default policy: the state machine invokes bake, whose function waits for its default policy.
    for (const name of HANDLER_NAMES.filter((handler) => ACCESS[handler].releaseReplayWait)) {
      new iam.Policy(this, `${pascal(name)}ReleaseReplayWait`, {
        statements: [
          new iam.PolicyStatement({
            actions: ['states:SendTaskSuccess'],
            resources: [this.stateMachine.stateMachineArn],
          }),
        ],
      }).attachToRole(functions[name].role as iam.Role);
    }

    // I7 when the status event is lost: the reconciler reads the lock and asks Step Functions about its
    // holder. Only this state machine's executions: it can learn about no other.
    functions.reconciler.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:DescribeExecution'],
        resources: [
          stack.formatArn({
            service: 'states',
            resource: 'execution',
            resourceName: `${this.stateMachine.stateMachineName}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    const logicalIdOf = (construct: Construct) =>
      stack.resolve((construct.node.defaultChild as CfnElement).logicalId);
    // On the role: its default policy is in the role's subtree, not the function's.
    Validations.of(functions.reconciler.role as iam.Role).acknowledge({
      // As cdk-nag prints the resource: pseudo parameters and attributes in <>, a stack's literal env as is.
      id:
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${nagText(stack.region, 'AWS::Region')}:` +
        `${nagText(stack.account, 'AWS::AccountId')}:execution:<${logicalIdOf(this.stateMachine)}.Name>:*]`,
      reason:
        'DescribeExecution is granted on the executions of this one state machine: execution ARNs end in a ' +
        "name chosen at StartExecution, so '<state machine name>:*' is the narrowest resource that covers them.",
    });
    const reconcilerScheduleRole = new iam.Role(this, 'ReconcilerScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'EventBridge Scheduler runs the Swing reconciler with this role',
    });
    Validations.of(reconcilerScheduleRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(functions.reconciler)}.Arn>:*]`,
      reason:
        "The schedule target's grant (Function.grantInvoke) covers the reconciler function and its versions " +
        '(<function ARN>:*); no other function can be invoked with this role.',
    });
    this.reconcilerSchedule = new scheduler.Schedule(this, 'ReconcilerSchedule', {
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(RECONCILE_INTERVAL_MINUTES)),
      description: 'Swing: settle a listener lock whose rollout ended but whose status event was lost',
      target: new schedulerTargets.LambdaInvoke(functions.reconciler, {
        role: reconcilerScheduleRole,
        deadLetterQueue: this.deadLetterQueue,
        // The next run comes a few minutes later: a missed one is not worth a retry.
        retryAttempts: 0,
        maxEventAge: Duration.minutes(RECONCILE_INTERVAL_MINUTES),
      }),
    });

    // One role, also for schedules added later by `swing schedule add`, which cannot create IAM roles.
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'EventBridge Scheduler starts Swing rollouts with this role',
    });
    this.stateMachine.grantStartExecution(this.schedulerRole);
    this.deadLetterQueue.grantSendMessages(this.schedulerRole);

    this.schedules = scheduleSpecs.map(
      (spec) =>
        new scheduler.Schedule(this, `Schedule${pascal(spec.name)}`, {
          schedule: spec.expression,
          description: spec.description ?? `Swing: start a rollout (${spec.name})`,
          enabled: spec.enabled ?? true,
          target: new schedulerTargets.StepFunctionsStartExecution(this.stateMachine, {
            input: scheduler.ScheduleTargetInput.fromObject({
              plan: spec.plan,
              requestedBy: spec.requestedBy ?? `schedule:${spec.name}`,
              // Only what the schedule says: the rest is the stack's default when the rollout starts.
              ...(spec.traffic ? { traffic: spec.traffic } : {}),
              // biome-ignore lint/suspicious/noThenProperty: the execution input spells the plan's end `then`; never awaited.
              ...(spec.then ? { then: spec.then } : {}),
              ...(spec.acceptWritesOnTarget ? { acceptWritesOnTarget: true } : {}),
            }),
            role: this.schedulerRole,
            deadLetterQueue: this.deadLetterQueue,
            retryAttempts: props.scheduleRetryAttempts ?? 3,
            maxEventAge: props.scheduleMaxDelay ?? Duration.minutes(15),
          }),
        }),
    );

    // Something that should have reached a handler or started a rollout did not: say so, loudly.
    const undelivered = new cloudwatch.Alarm(this, 'UndeliveredAlarm', {
      alarmName: `${prefix}-undelivered-events`,
      alarmDescription:
        'A Swing alarm event, safety-net event or scheduled start was not delivered: read the dead-letter queue.',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    undelivered.addAlarmAction(new cloudwatchActions.SnsAction(this.topic));
    // enforceSSL gives the topic a policy of its own, which replaces SNS's default: without this statement
    // nothing allows CloudWatch to publish, and the alarm above fires into nothing.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': [undelivered.alarmArn] },
        },
      }),
    );

    this.dashboard = new RolloutDashboard(this, 'Dashboard', {
      dashboardName: `${prefix}-rollouts`,
      listenerArn: props.listenerArn,
      alarms: this.alarms,
      extraAlarms: extraNames.map((name, index) =>
        cloudwatch.Alarm.fromAlarmName(this, `ExtraAlarm${index}`, name),
      ),
      stateMachine: this.stateMachine,
    }).dashboard;

    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the dead-letter queue (of the EventBridge rule targets, the async handlers and the ' +
        'schedules); its depth raises the undelivered-events alarm to the outcome topic.',
    });
  }

  /**
   * The rule actions, on this listener's rules only: ModifyRule and DeleteRule on its rules tagged by Swing; CreateRule on
   * the listener and its rules, with AddTags on the rules only as part of CreateRule (tag on create: a rule is
   * Swing's by its tags, and no role here may tag an existing rule).
   */
  private grantSwingRules(id: string, role: iam.Role, listenerArn: string, level: 'remove' | 'create') {
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
    const policy = new iam.Policy(this, `${id}SwingRules`, { statements });
    policy.attachToRole(role);
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResource(Stack.of(this), rules)}]`,
      reason:
        "A listener rule's ARN ends in an id ELBv2 chooses when it creates the rule: '<listener's rule path>/*' " +
        "is the narrowest resource covering the rules Swing creates, and it covers only this listener's rules.",
    });
    return policy;
  }

  private eventTarget(fn: lambda.IFunction): eventTargets.LambdaFunction {
    return new eventTargets.LambdaFunction(fn, {
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 8,
      maxEventAge: Duration.hours(1),
    });
  }

  private grantSmokeAccess(role: iam.Role, smoke: SmokeSettings, access: SmokeAccess): void {
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
              StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
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
            message:
              'is required with sigv4 auth: list the domain or collection ARNs the smoke requests read',
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
}

/**
 * What preflight and the smoke-test handler would refuse at run time, refused at synth time instead: the
 * ARNs, the smoke config (the handler parses it at its cold start) and every scheduled plan.
 */
export function validateControllerProps(props: RolloutControllerProps): void {
  const example = 'arn:aws:elasticloadbalancing:REGION:ACCOUNT';
  checkArn('listenerArn', props.listenerArn, LISTENER_ARN, `${example}:listener/app/NAME/ID/ID`);
  checkArn(
    'sourceTargetGroupArn',
    props.sourceTargetGroupArn,
    TARGET_GROUP_ARN,
    `${example}:targetgroup/NAME/ID`,
  );
  checkArn(
    'targetTargetGroupArn',
    props.targetTargetGroupArn,
    TARGET_GROUP_ARN,
    `${example}:targetgroup/NAME/ID`,
  );
  checkArn(
    'loadBalancerArn',
    props.loadBalancerArn,
    LOAD_BALANCER_ARN,
    `${example}:loadbalancer/app/NAME/ID`,
  );
  const reserved = props.rollbackReservedConcurrency;
  if (
    reserved !== undefined &&
    reserved !== false &&
    !(Number.isInteger(reserved) && reserved >= 1 && reserved <= ROLLBACK_RESERVED_CONCURRENCY_MAX)
  ) {
    throw new ValidationFailed([
      {
        field: 'rollbackReservedConcurrency',
        message: `is ${reserved}: ${ROLLBACK_RESERVED_CONCURRENCY_ERROR}`,
      },
    ]);
  }
  if (props.traffic !== undefined && props.traffic !== 'all' && props.traffic !== 'reads-first') {
    throw new ValidationFailed([
      { field: 'traffic', message: `is '${props.traffic}': use 'all' (default) or 'reads-first'` },
    ]);
  }
  const settings = ReadsFirstSettingsSchema.safeParse({
    ...DEFAULT_READS_FIRST,
    ...props.readsFirst,
  });
  if (!settings.success) throw new ValidationFailed(fieldIssuesFrom(settings.error, 'readsFirst'));
  if (props.replayLag) {
    const lag = ReplayLagMetricSchema.safeParse(props.replayLag);
    if (!lag.success) throw new ValidationFailed(fieldIssuesFrom(lag.error, 'replayLag'));
  }
  const endpointsAreTokens =
    Token.isUnresolved(props.smoke.sourceEndpoint) || Token.isUnresolved(props.smoke.targetEndpoint);
  if (!endpointsAreTokens) parseSmokeConfig(props.smoke, 'smoke');
  (props.schedules ?? []).forEach((schedule, index) => {
    checkScheduledPlan(schedule, props.traffic ?? 'all', `schedules[${index}]`);
  });
}

/** What the replay-lag alarm needs to be a valid CloudWatch alarm (the config's replayLag checks the rest). */
const ReplayLagMetricSchema = z.object({
  metricName: z.string().min(1).max(255),
  namespace: z.string().min(1).max(255),
  dimensions: z
    .record(z.string().min(1), z.string().min(1))
    .refine((dimensions) => Object.keys(dimensions).length > 0, {
      error:
        'is empty: the replayer lag metric has dimensions, e.g. { qualifier: "dev", OTelLib: "replayer" }',
    }),
  statistic: z.string().min(1),
  threshold: z.number().gt(0),
  periodSeconds: z.number().int().min(10),
  evaluationPeriods: z.number().int().min(1).max(100),
  missingData: z.enum(['lagging', 'caught-up']),
});

/** Every check against both paths, each up to its timeout, plus the record writes. */
function smokeTimeout(smoke: SmokeSettings): Duration {
  const checks = smoke.checks?.length ?? 2;
  const perRequestMs = smoke.timeoutMs ?? 5000;
  const seconds = Math.ceil((checks * 2 * perRequestMs) / 1000) + 15;
  return Duration.seconds(Math.min(Math.max(seconds, 30), 900));
}
