import { CfnOutput, Duration, Fn, Tags, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { albAccessLogsBucket } from './alb-access-logs.ts';
import { FrontDoorApply } from './front-door-apply.ts';
import {
  AUTO_MODE_API,
  AUTO_MODE_CLUSTER_TAG,
  FRONT_DOOR_OUTPUTS,
  type FrontDoorConfig,
} from './front-door-config.ts';
import type { AlbMetricDimensions } from './rollout-alarms.ts';
import type { SmokeNetwork } from './rollout-controller.ts';
import type { SwingAlb } from './swing-alb.ts';

/** Swing owns the weights: they sum to 999 (0.1 % steps), all on the source to start with. */
const START_WEIGHTS = { source: 999, target: 0 } as const;

/**
 * The front door: an internal ALB that Swing brings into an existing VPC (the EKS cluster's) where the migration
 * has no weighted listener of its own. The weighted listener (443) forwards 999/0 to the capture proxy's pods;
 * 9201 and 9202 reach each side alone for the smoke tests. The target groups are of type `ip` and start empty:
 * the TargetGroupBindings (front-door-manifests.ts) register the pods. Nothing of the VPC is created.
 *
 * Security groups: the ALB's own group lets the clients' CIDRs reach the weighted listener, the smoke-test
 * function reach 9201 and 9202 (allowSmokeFrom), and sends only to the pods' group on the proxies' ports. The
 * pods' side is opened by the TargetGroupBindings' `networking` section, from this group to those ports alone.
 */
export class FrontDoorAlb extends Construct implements SwingAlb {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.ISubnet[];
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly securityGroup: ec2.SecurityGroup;
  readonly weightedListener: elbv2.ApplicationListener;
  readonly sourceListener: elbv2.ApplicationListener;
  readonly targetListener: elbv2.ApplicationListener;
  readonly sourceTargetGroup: elbv2.ApplicationTargetGroup;
  readonly targetTargetGroup: elbv2.ApplicationTargetGroup;
  readonly accessLogs: s3.Bucket;
  readonly smokeEndpoints: { readonly source: string; readonly target: string };
  readonly metricDimensions: AlbMetricDimensions;
  /** The ALB is internal: the smoke-test function runs in its subnets. */
  readonly smokeNetwork: SmokeNetwork;
  readonly record?: route53.ARecord;
  private readonly config: FrontDoorConfig;

  constructor(scope: Construct, id: string, config: FrontDoorConfig) {
    super(scope, id);
    this.config = config;

    // Attributes, not Vpc.fromLookup: synth never calls AWS. The subnets are explicit, so the zone list only
    // satisfies fromVpcAttributes and appears nowhere in the template.
    this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: config.vpcId,
      availabilityZones: [Fn.select(0, Fn.getAzs())],
    });
    this.subnets = config.subnetIds.map((subnetId, i) => {
      const subnet = ec2.Subnet.fromSubnetId(this, `Subnet${i}`, subnetId);
      Validations.of(subnet).acknowledge({
        id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
        reason:
          'The ALB and the smoke-test function only place interfaces here; nothing reads the route table.',
      });
      return subnet;
    });

    this.accessLogs = albAccessLogsBucket(this, 'AccessLogs');

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: this.vpc,
      description: `Swing front door: ${config.listenerPort} from the clients, out to the proxy pods only`,
      allowAllOutbound: false,
    });
    for (const cidr of config.allowedCidrs) {
      this.securityGroup.addIngressRule(
        ec2.Peer.ipv4(cidr),
        ec2.Port.tcp(config.listenerPort),
        `Swing front door clients (${config.listenerPort})`,
      );
    }
    const pods = ec2.Peer.securityGroupId(config.podSecurityGroupId);
    for (const port of new Set([config.source.port, config.target.port])) {
      this.securityGroup.addEgressRule(pods, ec2.Port.tcp(port), `to the proxy pods on ${port}`);
    }

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: this.vpc,
      internetFacing: false,
      vpcSubnets: { subnets: this.subnets },
      securityGroup: this.securityGroup,
      dropInvalidHeaderFields: true,
    });
    this.loadBalancer.logAccessLogs(this.accessLogs, 'front-door');

    this.sourceTargetGroup = this.targetGroup('Source', config.source);
    this.targetTargetGroup = this.targetGroup('Target', config.target);

    const listener = (listenerId: string, port: number, defaultAction: elbv2.ListenerAction) =>
      this.loadBalancer.addListener(listenerId, {
        port,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [elbv2.ListenerCertificate.fromArn(config.certificateArn)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        // The security group's rules above are the only way in.
        open: false,
        defaultAction,
      });
    this.weightedListener = listener(
      'Weighted',
      config.listenerPort,
      elbv2.ListenerAction.weightedForward(
        [
          { targetGroup: this.sourceTargetGroup, weight: START_WEIGHTS.source },
          { targetGroup: this.targetTargetGroup, weight: START_WEIGHTS.target },
        ],
        config.stickinessSeconds ? { stickinessDuration: Duration.seconds(config.stickinessSeconds) } : {},
      ),
    );
    this.sourceListener = listener(
      'Source',
      config.sourcePort,
      elbv2.ListenerAction.forward([this.sourceTargetGroup]),
    );
    this.targetListener = listener(
      'Target',
      config.targetPort,
      elbv2.ListenerAction.forward([this.targetTargetGroup]),
    );

    this.smokeEndpoints = {
      source: `https://${config.domainName}:${config.sourcePort}`,
      target: `https://${config.domainName}:${config.targetPort}`,
    };
    this.metricDimensions = {
      loadBalancer: this.loadBalancer.loadBalancerFullName,
      sourceTargetGroup: this.sourceTargetGroup.targetGroupFullName,
      targetTargetGroup: this.targetTargetGroup.targetGroupFullName,
    };
    this.smokeNetwork = { vpc: this.vpc, subnets: { subnets: this.subnets } };

    if (config.route53) {
      const zone = route53.PrivateHostedZone.fromHostedZoneAttributes(this, 'Zone', {
        hostedZoneId: config.route53.hostedZoneId,
        zoneName: config.route53.zoneName,
      });
      this.record = new route53.ARecord(this, 'Record', {
        zone,
        recordName: `${config.domainName}.`,
        target: route53.RecordTarget.fromAlias(new route53Targets.LoadBalancerTarget(this.loadBalancer)),
      });
    }

    if (config.kubernetes.apply) {
      new FrontDoorApply(this, 'Kubernetes', {
        config,
        vpc: this.vpc,
        bound: {
          sourceTargetGroupArn: this.sourceTargetGroup.targetGroupArn,
          targetTargetGroupArn: this.targetTargetGroup.targetGroupArn,
          loadBalancerSecurityGroupId: this.securityGroup.securityGroupId,
        },
      });
    }
  }

  /** Lets the smoke-test function (or anything with connections) reach the source-only and target-only listeners. */
  allowSmokeFrom(other: ec2.IConnectable): void {
    for (const port of [this.config.sourcePort, this.config.targetPort]) {
      this.securityGroup.connections.allowFrom(other, ec2.Port.tcp(port), `Swing smoke tests (${port})`);
    }
  }

  private targetGroup(id: string, side: FrontDoorConfig['source']): elbv2.ApplicationTargetGroup {
    const https = side.protocol === 'HTTPS';
    const targetGroup = new elbv2.ApplicationTargetGroup(this, `${id}TargetGroup`, {
      vpc: this.vpc,
      port: side.port,
      protocol: https ? elbv2.ApplicationProtocol.HTTPS : elbv2.ApplicationProtocol.HTTP,
      // Pod IPs, registered by the TargetGroupBinding.
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: Duration.seconds(30),
      healthCheck: {
        path: side.healthCheck.path,
        protocol: https ? elbv2.Protocol.HTTPS : elbv2.Protocol.HTTP,
        healthyHttpCodes: side.healthCheck.healthyHttpCodes,
        interval: Duration.seconds(side.healthCheck.intervalSeconds),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
      },
    });
    const { targetGroupBindingApi, clusterName } = this.config.kubernetes;
    // EKS Auto Mode's load balancing may RegisterTargets only in target groups tagged with its cluster's name.
    if (targetGroupBindingApi === AUTO_MODE_API && clusterName) {
      Tags.of(targetGroup).add(AUTO_MODE_CLUSTER_TAG, clusterName);
    }
    return targetGroup;
  }
}

export function frontDoorOutputs(scope: Construct, frontDoor: FrontDoorAlb): void {
  new CfnOutput(scope, FRONT_DOOR_OUTPUTS.securityGroupId, {
    value: frontDoor.securityGroup.securityGroupId,
    description:
      "The front door ALB's security group: the TargetGroupBindings let it reach the proxies' pods",
  });
}
