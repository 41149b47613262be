import { CfnOutput, Duration, Fn, Stack, type StackProps, TimeZone, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { Construct } from 'constructs';
import { type ImportModeConfig, replayLagMetric, type ScheduleConfig, type SwingConfig } from './config.ts';
import { FrontDoorAlb, frontDoorOutputs } from './front-door.ts';
import type { HandlerFunctionFactory } from './handler-functions.ts';
import { RolloutController, type RolloutControllerProps, type SmokeNetwork } from './rollout-controller.ts';
import { SandboxAlb } from './sandbox-alb.ts';

export interface SwingStackProps extends StackProps {
  /** Parsed with `parseSwingConfig` / `loadSwingConfig`. */
  readonly config: SwingConfig;
  /** @default bundledHandler */
  readonly handlerFunction?: HandlerFunctionFactory;
}

export function scheduleExpression(schedule: ScheduleConfig): scheduler.ScheduleExpression {
  const zone = TimeZone.of(schedule.timezone);
  return schedule.cron !== undefined
    ? scheduler.ScheduleExpression.expression(`cron(${schedule.cron.trim()})`, zone)
    : scheduler.ScheduleExpression.expression(`at(${schedule.at})`, zone);
}

/** The subnets (and groups) the smoke-test function runs in, beside an internal ALB Swing did not create. */
function importedSmokeNetwork(
  scope: Construct,
  { vpcId, subnetIds, securityGroupIds }: NonNullable<ImportModeConfig['smokeVpc']>,
): SmokeNetwork {
  return {
    // Attributes, not Vpc.fromLookup: synth never calls AWS. The subnets are explicit, so the zone list
    // only satisfies fromVpcAttributes and appears nowhere in the template.
    vpc: ec2.Vpc.fromVpcAttributes(scope, 'SmokeVpc', {
      vpcId,
      availabilityZones: [Fn.select(0, Fn.getAzs())],
    }),
    subnets: {
      subnets: subnetIds.map((subnetId, i) => {
        const subnet = ec2.Subnet.fromSubnetId(scope, `SmokeSubnet${i}`, subnetId);
        Validations.of(subnet).acknowledge({
          id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
          reason: 'Lambda only places the smoke-test network interfaces here; nothing reads the route table.',
        });
        return subnet;
      }),
    },
    securityGroups: securityGroupIds?.map((sg, i) =>
      ec2.SecurityGroup.fromSecurityGroupId(scope, `SmokeSg${i}`, sg),
    ),
  };
}

/**
 * The Swing app's one stack: import mode wraps an existing listener; create mode builds a sandbox ALB too;
 * front-door mode builds an ALB in an existing VPC (Migration Assistant 3.x on EKS).
 */
export class SwingStack extends Stack {
  readonly controller: RolloutController;
  readonly sandbox?: SandboxAlb;
  readonly frontDoor?: FrontDoorAlb;
  private readonly zones?: string[];

  constructor(scope: Construct, id: string, props: SwingStackProps) {
    const { config } = props;
    super(scope, id, {
      description: `Swing: progressive traffic swing of a migration ALB listener (${config.mode} mode)`,
      ...props,
      env: props.env ?? config.env,
    });
    this.zones = config.create?.availabilityZones;

    let target: Pick<
      RolloutControllerProps,
      'listenerArn' | 'sourceTargetGroupArn' | 'targetTargetGroupArn' | 'loadBalancerArn' | 'metricDimensions'
    >;
    let smokeNetwork: SmokeNetwork | undefined;
    let endpoints: { source?: string; target?: string } = {};

    if (config.mode === 'create' && config.create) {
      const create = config.create;
      this.sandbox = new SandboxAlb(this, 'Sandbox', {
        certificateArn: create.certificateArn,
        insecureHttp: create.insecureHttp,
        internetFacing: create.internetFacing,
        allowedCidrs: create.allowedCidrs,
        vpcCidr: create.vpcCidr,
        domainName: create.domainName,
        stickiness: create.stickinessSeconds ? Duration.seconds(create.stickinessSeconds) : undefined,
        source: create.source,
        target: create.target,
      });
      target = {
        listenerArn: this.sandbox.weightedListener.listenerArn,
        sourceTargetGroupArn: this.sandbox.sourceTargetGroup.targetGroupArn,
        targetTargetGroupArn: this.sandbox.targetTargetGroup.targetGroupArn,
        metricDimensions: this.sandbox.metricDimensions,
      };
      smokeNetwork = this.sandbox.smokeNetwork;
      endpoints = { source: this.sandbox.smokeEndpoints.source, target: this.sandbox.smokeEndpoints.target };
      if (smokeNetwork && config.smoke.auth.type === 'basic') {
        // The isolated subnets have no route out: the smoke-test function reaches Secrets Manager privately.
        this.sandbox.vpc.addInterfaceEndpoint('SecretsManager', {
          service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
        });
      }
    } else if (config.mode === 'front-door' && config.frontDoor) {
      this.frontDoor = new FrontDoorAlb(this, 'FrontDoor', config.frontDoor);
      target = {
        listenerArn: this.frontDoor.weightedListener.listenerArn,
        sourceTargetGroupArn: this.frontDoor.sourceTargetGroup.targetGroupArn,
        targetTargetGroupArn: this.frontDoor.targetTargetGroup.targetGroupArn,
        metricDimensions: this.frontDoor.metricDimensions,
      };
      smokeNetwork = this.frontDoor.smokeNetwork;
      endpoints = this.frontDoor.smokeEndpoints;
    } else if (config.import) {
      const imported = config.import;
      target = {
        listenerArn: imported.listenerArn,
        sourceTargetGroupArn: imported.sourceTargetGroupArn,
        targetTargetGroupArn: imported.targetTargetGroupArn,
        loadBalancerArn: imported.loadBalancerArn,
      };
      if (imported.smokeVpc) smokeNetwork = importedSmokeNetwork(this, imported.smokeVpc);
    } else {
      throw new Error(
        `config.mode is ${config.mode} but config.${config.mode} is missing: parse it with parseSwingConfig`,
      );
    }

    this.controller = new RolloutController(this, 'Controller', {
      ...target,
      smoke: {
        ...config.smoke,
        sourceEndpoint: config.smoke.sourceEndpoint ?? endpoints.source!,
        targetEndpoint: config.smoke.targetEndpoint ?? endpoints.target!,
      },
      smokeAccess: config.smokeAccess,
      smokeNetwork,
      alarmThresholds: config.alarms,
      extraWatchedAlarmNames: config.alarms.extraWatchedAlarmNames,
      insufficientDataPolicy: config.insufficientDataPolicy,
      traffic: config.traffic,
      readsFirst: config.readsFirst,
      replayLag: replayLagMetric(config),
      rollbackReservedConcurrency: config.rollbackReservedConcurrency,
      notificationEmails: config.notificationEmails,
      schedules: config.schedules.map((schedule) => ({
        name: schedule.name,
        expression: scheduleExpression(schedule),
        plan: schedule.plan,
        traffic: schedule.traffic,
        // biome-ignore lint/suspicious/noThenProperty: the execution input spells the plan's end `then`; never awaited.
        then: schedule.then,
        acceptWritesOnTarget: schedule.acceptWritesOnTarget,
        requestedBy: schedule.requestedBy,
        enabled: schedule.enabled,
        description: schedule.description,
      })),
      scheduleRetryAttempts: config.scheduleDelivery.retryAttempts,
      scheduleMaxDelay: Duration.seconds(config.scheduleDelivery.maxDelaySeconds),
      handlerFunction: props.handlerFunction,
    });
    if (this.sandbox && smokeNetwork) this.sandbox.allowSmokeFrom(this.controller.functions['smoke-test']);
    this.frontDoor?.allowSmokeFrom(this.controller.functions['smoke-test']);

    new CfnOutput(this, 'StateMachineArn', {
      value: this.controller.stateMachine.stateMachineArn,
      description:
        'Start a rollout: aws stepfunctions start-execution --state-machine-arn <this> --input \'{"plan":"canary"}\'',
    });
    new CfnOutput(this, 'TableName', {
      value: this.controller.table.tableName,
      description: 'Listener lock and rollout history',
    });
    new CfnOutput(this, 'TopicArn', {
      value: this.controller.topic.topicArn,
      description: 'Rollout outcomes',
    });
    new CfnOutput(this, 'DashboardName', { value: this.controller.dashboard.dashboardName });
    // What an operator's tools (the swing CLI) need to find the listener and the watch list without flags.
    new CfnOutput(this, 'ListenerArn', {
      value: target.listenerArn,
      description: 'The weighted listener',
    });
    new CfnOutput(this, 'SourceTargetGroupArn', { value: target.sourceTargetGroupArn });
    new CfnOutput(this, 'TargetTargetGroupArn', { value: target.targetTargetGroupArn });
    new CfnOutput(this, 'WatchedAlarms', {
      value: this.toJsonString([...this.controller.watchedAlarmNames]),
      description: 'JSON array of the alarm names a rollout watches',
    });
    new CfnOutput(this, 'ReadsFirstDefaults', {
      value: JSON.stringify(this.controller.readsFirstDefaults),
      description: 'JSON traffic mode and reads-first settings of rollouts that do not give theirs',
    });
    if (this.controller.replayLagAlarmName) {
      new CfnOutput(this, 'ReplayLagAlarm', {
        value: this.controller.replayLagAlarmName,
        description: 'In ALARM while the replayer lags: reads-first steps wait for it',
      });
    }
    new CfnOutput(this, 'ScheduleDlqArn', { value: this.controller.deadLetterQueue.queueArn });
    new CfnOutput(this, 'SchedulerRoleArn', {
      value: this.controller.schedulerRole.roleArn,
      description: 'The role for schedules added with swing schedule add',
    });
    new CfnOutput(this, 'SmokeConfig', {
      // Endpoints, checks and the secret's ARN only: never a secret value.
      value: this.toJsonString({
        ...config.smoke,
        sourceEndpoint: config.smoke.sourceEndpoint ?? endpoints.source,
        targetEndpoint: config.smoke.targetEndpoint ?? endpoints.target,
      }),
      description: 'JSON smoke-check config for `swing smoke`',
    });
    const created = this.sandbox ?? this.frontDoor;
    if (created) {
      new CfnOutput(this, 'LoadBalancerDnsName', { value: created.loadBalancer.loadBalancerDnsName });
      new CfnOutput(this, 'WeightedListenerArn', { value: created.weightedListener.listenerArn });
    }
    if (this.frontDoor) frontDoorOutputs(this, this.frontDoor);
  }

  /**
   * With a concrete account and region, CDK would look the zones up in the account (a context lookup that
   * needs credentials). Naming them keeps `cdk synth` offline: `create.availabilityZones`, else the region's
   * "a" and "b" zones.
   */
  override get availabilityZones(): string[] {
    if (Token.isUnresolved(this.account) || Token.isUnresolved(this.region)) return super.availabilityZones;
    return this.zones ?? [`${this.region}a`, `${this.region}b`];
  }
}
