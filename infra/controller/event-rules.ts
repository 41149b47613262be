import { Duration, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { InsufficientDataPolicy } from '#domain/types.ts';
import { HANDLER_NAMES, type HandlerName } from '../handler-functions.ts';
import { pascal } from './functions.ts';
import { ACCESS } from './handler-access.ts';

export interface EventRulesProps {
  readonly functions: Readonly<Record<HandlerName, lambda.Function>>;
  readonly stateMachine: sfn.IStateMachine;
  readonly watchedAlarmNames: readonly string[];
  readonly watchedAlarmArns: readonly string[];
  readonly insufficientDataPolicy?: InsufficientDataPolicy;
  readonly replayLag?: { readonly alarm: cloudwatch.IAlarm; readonly name: string };
  readonly reverseLag?: { readonly alarm: cloudwatch.IAlarm; readonly name: string };
  readonly deadLetterQueue: sqs.IQueue;
}

/**
 * The EventBridge rules that make rollback event-driven (I5) and the safety net (I7), and the grants of the
 * functions they wake on the state machine's tasks: fail the open bake, release a wait for the replayer.
 */
export function rolloutEventRules(scope: Construct, props: EventRulesProps): void {
  const { functions, stateMachine } = props;
  const account = Stack.of(scope).account;
  const target = (fn: lambda.IFunction) =>
    new eventTargets.LambdaFunction(fn, {
      deadLetterQueue: props.deadLetterQueue,
      retryAttempts: 8,
      maxEventAge: Duration.hours(1),
    });
  // I5: one event hop from the watched alarm to the failed bake token.
  new events.Rule(scope, 'AlarmStateChangeRule', {
    description: 'A watched alarm went to ALARM: fail the open bake or gate so the rollout rolls back',
    eventPattern: {
      source: ['aws.cloudwatch'],
      detailType: ['CloudWatch Alarm State Change'],
      // By ARN, not by name alone: an alarm of the same name in another account or region is not watched.
      account: [account],
      resources: [...props.watchedAlarmArns],
      detail: {
        alarmName: [...props.watchedAlarmNames],
        // With the 'firing' policy, an alarm that lost its data (a dead target) rolls back as fast.
        state: {
          value: props.insufficientDataPolicy === 'firing' ? ['ALARM', 'INSUFFICIENT_DATA'] : ['ALARM'],
        },
      },
    },
    targets: [target(functions['alarm-event'])],
  });
  // I7: an execution that ended outside the catch paths still gets its listener restored.
  new events.Rule(scope, 'ExecutionStoppedRule', {
    description: 'A rollout execution was aborted, failed or timed out: restore its starting weights',
    eventPattern: {
      source: ['aws.states'],
      detailType: ['Step Functions Execution Status Change'],
      detail: {
        stateMachineArn: [stateMachine.stateMachineArn],
        status: ['ABORTED', 'FAILED', 'TIMED_OUT'],
      },
    },
    targets: [target(functions['safety-net'])],
  });
  if (props.replayLag) {
    // Not in the watched alarms' rule: this one's return to OK matters, and it must never fail a bake.
    new events.Rule(scope, 'ReplayLagStateChangeRule', {
      description: 'The replay-lag alarm is OK again: release the reads-first step waiting for the replayer',
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        account: [account],
        resources: [props.replayLag.alarm.alarmArn],
        detail: {
          alarmName: [props.replayLag.name],
          // INSUFFICIENT_DATA releases only with missingData 'caught-up' (the handler decides); ALARM never.
          state: { value: ['OK', 'INSUFFICIENT_DATA'] },
        },
      },
      targets: [target(functions['alarm-event'])],
    });
  }
  if (props.reverseLag) {
    new events.Rule(scope, 'ReverseLagStateChangeRule', {
      description:
        'The reverse lag alarm is OK again: release the rollback waiting for the reverse replayer to drain',
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        account: [account],
        resources: [props.reverseLag.alarm.alarmArn],
        detail: {
          alarmName: [props.reverseLag.name],
          // INSUFFICIENT_DATA releases only with missingData 'caught-up' (the handler decides); ALARM never.
          state: { value: ['OK', 'INSUFFICIENT_DATA'] },
        },
      },
      targets: [target(functions['alarm-event'])],
    });
  }
  // SendTaskFailure on this state machine only: the alarm-event function can fail no other task.
  functions['alarm-event'].addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['states:SendTaskFailure'],
      resources: [stateMachine.stateMachineArn],
    }),
  );
  // SendTaskSuccess on this state machine only, for the waits for the replayer. A policy of its own, not the
  // role's default policy: the state machine invokes bake, whose function waits for its default policy.
  for (const name of HANDLER_NAMES.filter((handler) => ACCESS[handler].releaseReplayWait)) {
    new iam.Policy(scope, `${pascal(name)}ReleaseReplayWait`, {
      statements: [
        new iam.PolicyStatement({
          actions: ['states:SendTaskSuccess'],
          resources: [stateMachine.stateMachineArn],
        }),
      ],
    }).attachToRole(functions[name].role as iam.Role);
  }
}
