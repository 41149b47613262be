import { ArnFormat, type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { RECONCILE_INTERVAL_MINUTES } from '#domain/reconciler.ts';
import { pascal } from './functions.ts';
import { nagText } from './handler-grants.ts';
import type { RolloutSchedule } from './props.ts';

/**
 * I7 when the status event is lost: the reconciler, run every RECONCILE_INTERVAL_MINUTES, reads the lock and
 * asks Step Functions about its holder. Only this state machine's executions: it can learn about no other.
 */
export function reconcilerSchedule(
  scope: Construct,
  props: {
    readonly reconciler: lambda.Function;
    readonly stateMachine: sfn.StateMachine;
    readonly deadLetterQueue: sqs.IQueue;
  },
): scheduler.Schedule {
  const { reconciler, stateMachine } = props;
  const stack = Stack.of(scope);
  grantDescribeExecutions(reconciler, stateMachine);
  const logicalIdOf = (construct: Construct) =>
    stack.resolve((construct.node.defaultChild as CfnElement).logicalId);
  const role = new iam.Role(scope, 'ReconcilerScheduleRole', {
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
    description: 'EventBridge Scheduler runs the Swing reconciler with this role',
  });
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(reconciler)}.Arn>:*]`,
    reason:
      "The schedule target's grant (Function.grantInvoke) covers the reconciler function and its versions " +
      '(<function ARN>:*); no other function can be invoked with this role.',
  });
  return new scheduler.Schedule(scope, 'ReconcilerSchedule', {
    schedule: scheduler.ScheduleExpression.rate(Duration.minutes(RECONCILE_INTERVAL_MINUTES)),
    description: 'Swing: settle a listener lock whose rollout ended but whose status event was lost',
    target: new schedulerTargets.LambdaInvoke(reconciler, {
      role,
      deadLetterQueue: props.deadLetterQueue,
      // The next run comes a few minutes later: a missed one is not worth a retry.
      retryAttempts: 0,
      maxEventAge: Duration.minutes(RECONCILE_INTERVAL_MINUTES),
    }),
  });
}

/**
 * states:DescribeExecution on this state machine's executions only: the reconciler asks whether a lock's holder
 * still runs, the safety net whether the execution it settles was redriven after its stop.
 */
export function grantDescribeExecutions(fn: lambda.Function, stateMachine: sfn.StateMachine): void {
  const stack = Stack.of(fn);
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['states:DescribeExecution'],
      resources: [
        stack.formatArn({
          service: 'states',
          resource: 'execution',
          resourceName: `${stateMachine.stateMachineName}:*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    }),
  );
  const logicalId = stack.resolve((stateMachine.node.defaultChild as CfnElement).logicalId);
  // On the role: its default policy is in the role's subtree, not the function's.
  Validations.of(fn.role as iam.Role).acknowledge({
    // As cdk-nag prints the resource: pseudo parameters and attributes in <>, a stack's literal env as is.
    id:
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${nagText(stack.region, 'AWS::Region')}:` +
      `${nagText(stack.account, 'AWS::AccountId')}:execution:<${logicalId}.Name>:*]`,
    reason:
      'DescribeExecution is granted on the executions of this one state machine: execution ARNs end in a ' +
      "name chosen at StartExecution, so '<state machine name>:*' is the narrowest resource that covers them.",
  });
}

/** One role, also for schedules added later by `swing schedule add`, which cannot create IAM roles. */
export function schedulerRole(
  scope: Construct,
  stateMachine: sfn.StateMachine,
  deadLetterQueue: sqs.IQueue,
): iam.Role {
  const role = new iam.Role(scope, 'SchedulerRole', {
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
    description: 'EventBridge Scheduler starts Swing rollouts with this role',
  });
  stateMachine.grantStartExecution(role);
  deadLetterQueue.grantSendMessages(role);
  return role;
}

/** The declared rollouts that EventBridge Scheduler starts (`Schedule<Name>` under `scope`). */
export function rolloutSchedules(
  scope: Construct,
  specs: readonly RolloutSchedule[],
  props: {
    readonly stateMachine: sfn.IStateMachine;
    readonly role: iam.IRole;
    readonly deadLetterQueue: sqs.IQueue;
    readonly retryAttempts?: number;
    readonly maxDelay?: Duration;
  },
): scheduler.Schedule[] {
  return specs.map(
    (spec) =>
      new scheduler.Schedule(scope, `Schedule${pascal(spec.name)}`, {
        schedule: spec.expression,
        description: spec.description ?? `Swing: start a rollout (${spec.name})`,
        enabled: spec.enabled ?? true,
        target: new schedulerTargets.StepFunctionsStartExecution(props.stateMachine, {
          input: scheduler.ScheduleTargetInput.fromObject({
            plan: spec.plan,
            requestedBy: spec.requestedBy ?? `schedule:${spec.name}`,
            // Only what the schedule says: the rest is the stack's default when the rollout starts.
            ...(spec.traffic ? { traffic: spec.traffic } : {}),
            // biome-ignore lint/suspicious/noThenProperty: the execution input spells the plan's end `then`; never awaited.
            ...(spec.then ? { then: spec.then } : {}),
            ...(spec.acceptWritesOnTarget ? { acceptWritesOnTarget: true } : {}),
          }),
          role: props.role,
          deadLetterQueue: props.deadLetterQueue,
          retryAttempts: props.retryAttempts ?? 3,
          maxEventAge: props.maxDelay ?? Duration.minutes(15),
        }),
      }),
  );
}
