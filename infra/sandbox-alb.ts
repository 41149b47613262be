import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as elbv2Targets from 'aws-cdk-lib/aws-elasticloadbalancingv2-targets';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { albAccessLogsBucket } from './alb-access-logs.ts';
import type { AlbMetricDimensions } from './rollout-alarms.ts';
import type { SmokeNetwork } from './rollout-controller.ts';
import type { SwingAlb } from './swing-alb.ts';

export const WEIGHTED_PORT = 9200;
export const SOURCE_PORT = 9201;
export const TARGET_PORT = 9202;

export interface SandboxTargetGroupProps {
  /** @default 9200 */
  readonly port?: number;
  /** @default 'HTTPS' */
  readonly protocol?: 'HTTP' | 'HTTPS';
  /** @default path '/', codes '200', every 10 s */
  readonly healthCheck?: {
    readonly path?: string;
    readonly healthyHttpCodes?: string;
    readonly intervalSeconds?: number;
  };
  /** IP targets; `availabilityZone: 'all'` for an address outside the VPC. @default none */
  readonly targets?: readonly {
    readonly ip: string;
    readonly port?: number;
    readonly availabilityZone?: string;
  }[];
}

export interface SandboxAlbProps {
  /** ACM certificate of the three HTTPS listeners. Required unless `insecureHttp`. */
  readonly certificateArn?: string;
  /** Plain HTTP listeners, for a throwaway sandbox only. @default false */
  readonly insecureHttp?: boolean;
  /** @default false: internal, and the smoke-test function runs in the VPC */
  readonly internetFacing?: boolean;
  /** Who may reach 9200-9202. @default the VPC's CIDR */
  readonly allowedCidrs?: readonly string[];
  /** @default '10.42.0.0/16' */
  readonly vpcCidr?: string;
  /** @default two zones chosen by CDK (Fn::GetAZs when the stack has no concrete environment) */
  readonly availabilityZones?: readonly string[];
  /** A DNS name covered by the certificate, for the smoke endpoints. @default the ALB's DNS name */
  readonly domainName?: string;
  /** Stickiness on the weighted 9200 action. @default off */
  readonly stickiness?: Duration;
  /** The Capture Proxy side. */
  readonly source: SandboxTargetGroupProps;
  /** The Target Cluster Proxy side. */
  readonly target: SandboxTargetGroupProps;
}

/**
 * A sandbox of the migration's load balancer: a VPC and an ALB with 9200 (weighted, all to the source to
 * start with), 9201 (source only) and 9202 (target only), each HTTPS unless `insecureHttp` is set on purpose.
 */
export class SandboxAlb extends Construct implements SwingAlb {
  readonly vpc: ec2.Vpc;
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
  /** Set when the ALB is internal: the smoke-test function must run inside the VPC to reach it. */
  readonly smokeNetwork?: SmokeNetwork;

  constructor(scope: Construct, id: string, props: SandboxAlbProps) {
    super(scope, id);
    if (!props.insecureHttp && !props.certificateArn) {
      throw new Error('SandboxAlb: set certificateArn for HTTPS listeners, or insecureHttp: true on purpose');
    }
    const internetFacing = props.internetFacing ?? false;

    this.accessLogs = albAccessLogsBucket(this, 'AccessLogs');

    const subnetConfiguration: ec2.SubnetConfiguration[] = [
      { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
    ];
    if (internetFacing)
      subnetConfiguration.push({ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.vpcCidr ?? '10.42.0.0/16'),
      ...(props.availabilityZones ? { availabilityZones: [...props.availabilityZones] } : { maxAzs: 2 }),
      natGateways: 0,
      subnetConfiguration,
      flowLogs: {
        all: { destination: ec2.FlowLogDestination.toS3(this.accessLogs, 'vpc-flow-logs/') },
      },
    });
    // The smoke-test function in the isolated subnets records its results in DynamoDB.
    this.vpc.addGatewayEndpoint('DynamoDb', { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: this.vpc,
      description: 'Swing sandbox ALB: 9200-9202 from the allowed CIDRs, out to the configured targets only',
      allowAllOutbound: false,
    });
    for (const cidr of props.allowedCidrs ?? [this.vpc.vpcCidrBlock]) {
      this.securityGroup.addIngressRule(
        ec2.Peer.ipv4(cidr),
        ec2.Port.tcpRange(WEIGHTED_PORT, TARGET_PORT),
        'Swing listeners 9200-9202',
      );
    }

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: this.vpc,
      internetFacing,
      vpcSubnets: { subnetType: internetFacing ? ec2.SubnetType.PUBLIC : ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroup: this.securityGroup,
      dropInvalidHeaderFields: true,
    });
    this.loadBalancer.logAccessLogs(this.accessLogs, 'alb');

    this.sourceTargetGroup = this.targetGroup('Source', props.source);
    this.targetTargetGroup = this.targetGroup('Target', props.target);

    const protocol = props.insecureHttp ? elbv2.ApplicationProtocol.HTTP : elbv2.ApplicationProtocol.HTTPS;
    const tls: Partial<elbv2.BaseApplicationListenerProps> = props.insecureHttp
      ? {}
      : {
          certificates: [elbv2.ListenerCertificate.fromArn(props.certificateArn!)],
          sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        };
    const listener = (listenerId: string, port: number, defaultAction: elbv2.ListenerAction) =>
      this.loadBalancer.addListener(listenerId, { port, protocol, ...tls, open: false, defaultAction });
    // Everything to the source to start with; Swing's weights sum to 999 (0.1 % steps).
    this.weightedListener = listener(
      'Weighted',
      WEIGHTED_PORT,
      elbv2.ListenerAction.weightedForward(
        [
          { targetGroup: this.sourceTargetGroup, weight: 999 },
          { targetGroup: this.targetTargetGroup, weight: 0 },
        ],
        props.stickiness ? { stickinessDuration: props.stickiness } : {},
      ),
    );
    this.sourceListener = listener(
      'Source',
      SOURCE_PORT,
      elbv2.ListenerAction.forward([this.sourceTargetGroup]),
    );
    this.targetListener = listener(
      'Target',
      TARGET_PORT,
      elbv2.ListenerAction.forward([this.targetTargetGroup]),
    );

    const scheme = props.insecureHttp ? 'http' : 'https';
    const host = props.domainName ?? this.loadBalancer.loadBalancerDnsName;
    this.smokeEndpoints = {
      source: `${scheme}://${host}:${SOURCE_PORT}`,
      target: `${scheme}://${host}:${TARGET_PORT}`,
    };
    this.metricDimensions = {
      loadBalancer: this.loadBalancer.loadBalancerFullName,
      sourceTargetGroup: this.sourceTargetGroup.targetGroupFullName,
      targetTargetGroup: this.targetTargetGroup.targetGroupFullName,
    };
    if (!internetFacing) {
      this.smokeNetwork = { vpc: this.vpc, subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } };
    }
  }

  /** Lets the smoke-test function (or anything with connections) reach 9201 and 9202. */
  allowSmokeFrom(other: ec2.IConnectable): void {
    this.securityGroup.connections.allowFrom(
      other,
      ec2.Port.tcpRange(SOURCE_PORT, TARGET_PORT),
      'Swing smoke tests',
    );
  }

  private targetGroup(id: string, props: SandboxTargetGroupProps): elbv2.ApplicationTargetGroup {
    const port = props.port ?? 9200;
    const https = (props.protocol ?? 'HTTPS') === 'HTTPS';
    const targets = props.targets ?? [];
    for (const target of targets) {
      this.securityGroup.addEgressRule(
        ec2.Peer.ipv4(`${target.ip}/32`),
        ec2.Port.tcp(target.port ?? port),
        `${id.toLowerCase()} target ${target.ip}`,
      );
    }
    return new elbv2.ApplicationTargetGroup(this, `${id}TargetGroup`, {
      vpc: this.vpc,
      port,
      protocol: https ? elbv2.ApplicationProtocol.HTTPS : elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      targets: targets.map(
        (target) => new elbv2Targets.IpTarget(target.ip, target.port, target.availabilityZone),
      ),
      deregistrationDelay: Duration.seconds(30),
      healthCheck: {
        path: props.healthCheck?.path ?? '/',
        protocol: https ? elbv2.Protocol.HTTPS : elbv2.Protocol.HTTP,
        healthyHttpCodes: props.healthCheck?.healthyHttpCodes ?? '200',
        interval: Duration.seconds(props.healthCheck?.intervalSeconds ?? 10),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
      },
    });
  }
}
