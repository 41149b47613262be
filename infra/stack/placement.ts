import { Duration, Fn, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import type { CreateModeConfig, ImportModeConfig, SwingConfig } from '../config.ts';
import type { RolloutControllerProps, SmokeNetwork } from '../rollout-controller.ts';
import { SandboxAlb } from '../sandbox-alb.ts';
import type { SwingAlb } from '../swing-alb.ts';

/** Where the listener a rollout moves is, and how the smoke-test function reaches its two paths. */
export interface ListenerPlacement {
  readonly target: Pick<
    RolloutControllerProps,
    'listenerArn' | 'sourceTargetGroupArn' | 'targetTargetGroupArn' | 'loadBalancerArn' | 'metricDimensions'
  >;
  readonly smokeNetwork?: SmokeNetwork;
  /** The smoke endpoints of an ALB Swing created; an imported listener's come from the config. */
  readonly endpoints: { readonly source?: string; readonly target?: string };
}

/** An ALB this stack created: its weighted listener, target groups and smoke endpoints. */
export function createdAlbPlacement(alb: SwingAlb): ListenerPlacement {
  return {
    target: {
      listenerArn: alb.weightedListener.listenerArn,
      sourceTargetGroupArn: alb.sourceTargetGroup.targetGroupArn,
      targetTargetGroupArn: alb.targetTargetGroup.targetGroupArn,
      metricDimensions: alb.metricDimensions,
    },
    smokeNetwork: alb.smokeNetwork,
    endpoints: { source: alb.smokeEndpoints.source, target: alb.smokeEndpoints.target },
  };
}

/** An existing listener, by the ARNs of the config (import mode). */
export function importedPlacement(scope: Construct, imported: ImportModeConfig): ListenerPlacement {
  return {
    target: {
      listenerArn: imported.listenerArn,
      sourceTargetGroupArn: imported.sourceTargetGroupArn,
      targetTargetGroupArn: imported.targetTargetGroupArn,
      loadBalancerArn: imported.loadBalancerArn,
    },
    smokeNetwork: imported.smokeVpc ? importedSmokeNetwork(scope, imported.smokeVpc) : undefined,
    endpoints: {},
  };
}

/** Create mode's sandbox ALB (`Sandbox`), with the private way to Secrets Manager its smoke tests may need. */
export function sandboxAlb(
  scope: Construct,
  create: CreateModeConfig,
  smoke: SwingConfig['smoke'],
): SandboxAlb {
  const sandbox = new SandboxAlb(scope, 'Sandbox', {
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
  if (sandbox.smokeNetwork && smoke.auth.type === 'basic') {
    // The isolated subnets have no route out: the smoke-test function reaches Secrets Manager privately.
    sandbox.vpc.addInterfaceEndpoint('SecretsManager', {
      service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    });
  }
  return sandbox;
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
