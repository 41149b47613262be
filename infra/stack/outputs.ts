import { CfnOutput, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { SwingConfig } from '../config.ts';
import type { RolloutController } from '../rollout-controller.ts';
import type { SwingAlb } from '../swing-alb.ts';
import { smokeSettings } from './controller-props.ts';
import type { ListenerPlacement } from './placement.ts';

/**
 * The stack's outputs: what an operator's tools (the swing CLI) need to find the state machine, the
 * listener, the watch list and the smoke checks without flags.
 */
export function swingStackOutputs(
  scope: Construct,
  props: {
    readonly config: SwingConfig;
    readonly controller: RolloutController;
    readonly placement: ListenerPlacement;
    /** The ALB this stack created, if any. */
    readonly alb?: SwingAlb;
  },
): void {
  const { controller, placement, alb } = props;
  const stack = Stack.of(scope);
  new CfnOutput(scope, 'StateMachineArn', {
    value: controller.stateMachine.stateMachineArn,
    description:
      'Start a rollout: aws stepfunctions start-execution --state-machine-arn <this> --input \'{"plan":"canary"}\'',
  });
  new CfnOutput(scope, 'TableName', {
    value: controller.table.tableName,
    description: 'Listener lock and rollout history',
  });
  new CfnOutput(scope, 'TopicArn', {
    value: controller.topic.topicArn,
    description: 'Rollout outcomes',
  });
  new CfnOutput(scope, 'DashboardName', { value: controller.dashboard.dashboardName });
  new CfnOutput(scope, 'ListenerArn', {
    value: placement.target.listenerArn,
    description: 'The weighted listener',
  });
  new CfnOutput(scope, 'SourceTargetGroupArn', { value: placement.target.sourceTargetGroupArn });
  new CfnOutput(scope, 'TargetTargetGroupArn', { value: placement.target.targetTargetGroupArn });
  new CfnOutput(scope, 'WatchedAlarms', {
    value: stack.toJsonString([...controller.watchedAlarmNames]),
    description: 'JSON array of the alarm names a rollout watches',
  });
  new CfnOutput(scope, 'ReadsFirstDefaults', {
    value: JSON.stringify(controller.readsFirstDefaults),
    description: 'JSON traffic mode and reads-first settings of rollouts that do not give theirs',
  });
  if (controller.replayLagAlarmName) {
    new CfnOutput(scope, 'ReplayLagAlarm', {
      value: controller.replayLagAlarmName,
      description: 'In ALARM while the replayer lags: reads-first steps wait for it',
    });
  }
  if (controller.reverseLagAlarmName) {
    new CfnOutput(scope, 'ReverseLagAlarm', {
      value: controller.reverseLagAlarmName,
      description:
        'OK once the reverse replayer has drained: a rollback after the write cutover waits for it',
    });
  }
  new CfnOutput(scope, 'ScheduleDlqArn', { value: controller.deadLetterQueue.queueArn });
  new CfnOutput(scope, 'SchedulerRoleArn', {
    value: controller.schedulerRole.roleArn,
    description: 'The role for schedules added with swing schedule add',
  });
  new CfnOutput(scope, 'SmokeConfig', {
    // Endpoints, checks and the secret's ARN only: never a secret value.
    value: stack.toJsonString(smokeSettings(props.config, placement)),
    description: 'JSON smoke-check config for `swing smoke`',
  });
  if (alb) {
    new CfnOutput(scope, 'LoadBalancerDnsName', { value: alb.loadBalancer.loadBalancerDnsName });
    new CfnOutput(scope, 'WeightedListenerArn', { value: alb.weightedListener.listenerArn });
  }
}
