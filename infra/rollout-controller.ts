import { Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DEFAULT_READS_FIRST } from '#domain/reads-first.ts';
import type { ReadsFirstSettings, TrafficMode } from '#domain/types.ts';
import { DEFAULT_ROLLBACK_RESERVED_CONCURRENCY } from './config.ts';
import {
  replayLagAlarm,
  reverseLagAlarm,
  undeliveredEventsAlarm,
  watchedAlarms,
} from './controller/alarms.ts';
import { rolloutEventRules } from './controller/event-rules.ts';
import { handlerFunctions } from './controller/functions.ts';
import type { RolloutControllerProps } from './controller/props.ts';
import {
  grantDescribeExecutions,
  reconcilerSchedule,
  rolloutSchedules,
  schedulerRole,
} from './controller/schedules.ts';
import { rolloutStateMachine } from './controller/state-machine.ts';
import { deadLetterQueue, listenerLockTable, outcomeTopic } from './controller/stores.ts';
import { validateControllerProps } from './controller/validation.ts';
import { bundledHandler, type HandlerName } from './handler-functions.ts';
import type { RolloutAlarms } from './rollout-alarms.ts';
import { RolloutDashboard } from './rollout-dashboard.ts';

// The construct's public surface (the package's `construct` entry): its parts live in ./controller/.
export { ROLLBACK_PATH } from './controller/handler-access.ts';
export { listenerRulesArn } from './controller/handler-grants.ts';
export type {
  RolloutControllerProps,
  RolloutSchedule,
  SmokeAccess,
  SmokeNetwork,
  SmokeSettings,
} from './controller/props.ts';
export { validateControllerProps } from './controller/validation.ts';

/**
 * Everything a Swing rollout needs in an account: the ten handlers with their own least-privilege roles,
 * the state machine from `statemachine/rollout.asl.json`, the alarms it watches, the EventBridge rules that
 * make rollback event-driven (I5) and the safety net (I7), the reconciler's schedule (I7 when an event is
 * lost), schedules, the listener-lock table, the outcome
 * topic and a dashboard. It works on an existing listener; `SandboxAlb` can create one.
 *
 * Each part is built by a function of ./controller/ directly under this construct, so that every resource
 * keeps the logical id it had when this constructor built them all (test/infra/template-snapshots.test.ts).
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
  /** OK once the reverse replayer has drained. Absent without reverse capture. */
  readonly reverseLagAlarm?: cloudwatch.Alarm;
  readonly reverseLagAlarmName?: string;
  /** The stack's traffic mode and reads-first settings: the preflight function's READS_FIRST_DEFAULTS. */
  readonly readsFirstDefaults: { readonly traffic: TrafficMode; readonly settings: ReadsFirstSettings };

  constructor(scope: Construct, id: string, props: RolloutControllerProps) {
    // Checked before anything is created: bad input builds nothing.
    validateControllerProps(props);
    super(scope, id);
    const prefix = props.namePrefix ?? Stack.of(this).stackName;
    const retention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;

    this.table = listenerLockTable(this, props.tableRemovalPolicy);
    const outcomes = outcomeTopic(this, prefix, props.notificationEmails);
    this.topic = outcomes.topic;
    this.topicKey = outcomes.key;
    this.deadLetterQueue = deadLetterQueue(this);

    const watched = watchedAlarms(this, prefix, props);
    this.alarms = watched.alarms;
    this.watchedAlarmNames = watched.names;
    this.readsFirstDefaults = {
      traffic: props.traffic ?? 'all',
      settings: { ...DEFAULT_READS_FIRST, ...props.readsFirst },
    };
    const replayLag = props.replayLag && replayLagAlarm(this, prefix, props.replayLag);
    this.replayLagAlarm = replayLag?.alarm;
    this.replayLagAlarmName = replayLag?.name;
    const reverse = props.reverseCapture;
    const reverseLag = reverse && reverseLagAlarm(this, prefix, reverse.metric);
    this.reverseLagAlarm = reverseLag?.alarm;
    this.reverseLagAlarmName = reverseLag?.name;

    this.functions = handlerFunctions(this, {
      listenerArn: props.listenerArn,
      sourceTargetGroupArn: props.sourceTargetGroupArn,
      targetTargetGroupArn: props.targetTargetGroupArn,
      insufficientDataPolicy: props.insufficientDataPolicy,
      smoke: props.smoke,
      smokeAccess: props.smokeAccess,
      smokeNetwork: props.smokeNetwork,
      table: this.table,
      topic: this.topic,
      topicKey: this.topicKey,
      watchedAlarmNames: this.watchedAlarmNames,
      watchedAlarmArns: watched.arns,
      readsFirstDefaults: this.readsFirstDefaults,
      replayLagAlarm: replayLag?.alarm,
      replayLag: replayLag && props.replayLag && { alarmName: replayLag.name, metric: props.replayLag },
      reverseLagAlarm: reverseLag?.alarm,
      reverseCapture: reverseLag && reverse && { alarmName: reverseLag.name, ...reverse },
      deadLetterQueue: this.deadLetterQueue,
      retention,
      reservedConcurrency: props.rollbackReservedConcurrency ?? DEFAULT_ROLLBACK_RESERVED_CONCURRENCY,
      handlerFunction: props.handlerFunction ?? bundledHandler,
    });
    this.stateMachine = rolloutStateMachine(this, { functions: this.functions, prefix, retention });
    rolloutEventRules(this, {
      functions: this.functions,
      stateMachine: this.stateMachine,
      watchedAlarmNames: this.watchedAlarmNames,
      watchedAlarmArns: watched.arns,
      insufficientDataPolicy: props.insufficientDataPolicy,
      replayLag,
      reverseLag,
      deadLetterQueue: this.deadLetterQueue,
    });

    // After its wait the safety net asks whether the execution was redriven meanwhile.
    grantDescribeExecutions(this.functions['safety-net'], this.stateMachine);
    this.reconcilerSchedule = reconcilerSchedule(this, {
      reconciler: this.functions.reconciler,
      stateMachine: this.stateMachine,
      deadLetterQueue: this.deadLetterQueue,
    });
    this.schedulerRole = schedulerRole(this, this.stateMachine, this.deadLetterQueue);
    this.schedules = rolloutSchedules(this, props.schedules ?? [], {
      stateMachine: this.stateMachine,
      role: this.schedulerRole,
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: props.scheduleRetryAttempts,
      maxDelay: props.scheduleMaxDelay,
    });

    undeliveredEventsAlarm(this, prefix, this.deadLetterQueue, this.topic);
    this.dashboard = new RolloutDashboard(this, 'Dashboard', {
      dashboardName: `${prefix}-rollouts`,
      listenerArn: props.listenerArn,
      alarms: this.alarms,
      extraAlarms: watched.extraNames.map((name, index) =>
        cloudwatch.Alarm.fromAlarmName(this, `ExtraAlarm${index}`, name),
      ),
      stateMachine: this.stateMachine,
    }).dashboard;
  }
}
