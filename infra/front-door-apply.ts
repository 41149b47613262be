import { createRequire } from 'node:module';
import type { KubectlV34Layer } from '@aws-cdk/lambda-layer-kubectl-v34';
import { Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import { Construct } from 'constructs';
import type { FrontDoorConfig } from './front-door-config.ts';
import { type FrontDoorBindingTargets, frontDoorManifests } from './front-door-manifests.ts';

/**
 * `cdk deploy` applies the front door's Kubernetes side itself when the config names a kubectl role
 * (`frontDoor.kubernetes.apply`): aws-cdk-lib's KubernetesManifest on the imported cluster, run by its kubectl
 * provider (a nested stack: a Lambda function with the kubectl layer, which assumes the role). The same
 * manifests as the written files (front-door-manifests.ts), with the target groups and the ALB's security group
 * as tokens: CloudFormation creates the target groups first, so the bindings never name one that does not exist
 * yet, and `cdk destroy` deletes the bindings (the pods leave the target groups) before the target groups.
 *
 * The kubectl layer is kubectl 1.34 (kubectl works with API servers one minor version either side).
 */
export interface FrontDoorApplyProps {
  readonly config: FrontDoorConfig;
  readonly bound: FrontDoorBindingTargets;
  /** The front door's VPC: with a private cluster endpoint, the kubectl function runs in its subnets. */
  readonly vpc: ec2.IVpc;
}

/**
 * The layer's package holds a 37 MB kubectl archive: loaded only when a config applies the manifests, so that the
 * other modes synthesize (and their tests run) where it is not installed.
 */
function kubectlLayer(scope: Construct, id: string): KubectlV34Layer {
  const require = createRequire(import.meta.url);
  let layer: { KubectlV34Layer: typeof KubectlV34Layer };
  try {
    layer = require('@aws-cdk/lambda-layer-kubectl-v34');
  } catch {
    throw new Error(
      'frontDoor.kubernetes.apply needs the kubectl layer package @aws-cdk/lambda-layer-kubectl-v34: run npm ci',
    );
  }
  return new layer.KubectlV34Layer(scope, id);
}

export class FrontDoorApply extends Construct {
  readonly manifest: eks.KubernetesManifest;

  constructor(scope: Construct, id: string, props: FrontDoorApplyProps) {
    super(scope, id);
    const { kubernetes } = props.config;
    const apply = kubernetes.apply;
    if (!apply || !kubernetes.clusterName) {
      throw new Error('FrontDoorApply needs frontDoor.kubernetes.apply and kubernetes.clusterName');
    }
    // A private API endpoint: the kubectl function runs in the front door's subnets with the configured group.
    const privateEndpoint: Partial<eks.ClusterAttributes> = apply.kubectlSecurityGroupId
      ? {
          vpc: props.vpc,
          kubectlPrivateSubnetIds: props.config.subnetIds,
          kubectlSecurityGroupId: apply.kubectlSecurityGroupId,
        }
      : {};
    const cluster = eks.Cluster.fromClusterAttributes(this, 'Cluster', {
      clusterName: kubernetes.clusterName,
      kubectlRoleArn: apply.kubectlRoleArn,
      kubectlLayer: kubectlLayer(this, 'KubectlLayer'),
      ...privateEndpoint,
    });
    for (const index of props.config.subnetIds.keys()) {
      const subnet = cluster.node.tryFindChild(`KubectlSubnet${index}`);
      if (subnet) {
        Validations.of(subnet).acknowledge({
          id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
          reason:
            'The kubectl function only places interfaces in these subnets; nothing reads their route table.',
        });
      }
    }
    this.manifest = new eks.KubernetesManifest(this, 'Manifests', {
      cluster,
      manifest: frontDoorManifests(props.config, props.bound),
      // A later deploy updates what an earlier one applied (kubectl apply), and removes what the config no longer
      // writes (e.g. a Secret's mount taken out).
      overwrite: true,
      prune: true,
    });
    acknowledgeKubectlProvider(eks.KubectlProvider.getOrCreate(this, cluster));
  }
}

/** The kubectl provider is aws-cdk-lib's own nested stack: what AwsSolutions finds there, and why it stays. */
function acknowledgeKubectlProvider(provider: Construct): void {
  const reason = (what: string) =>
    `aws-cdk-lib's kubectl provider (aws-eks KubectlProvider), not Swing's code: ${what}. It runs only during a ` +
    'deploy that changes the manifests, and assumes the kubectl role named in the config.';
  const managed = (name: string) => `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${name}]`;
  Validations.of(provider).acknowledge(
    {
      id: managed('service-role/AWSLambdaBasicExecutionRole'),
      reason: reason('its functions write their logs with the AWS managed logging policy'),
    },
    {
      id: managed('service-role/AWSLambdaVPCAccessExecutionRole'),
      reason: reason(
        'with a private cluster endpoint its functions run in the VPC and manage their interfaces',
      ),
    },
    {
      id: managed('AmazonEC2ContainerRegistryPullOnly'),
      reason: reason('the managed ECR pull policy that the provider attaches for Helm charts from ECR'),
    },
    {
      id:
        'AwsSolutions-IAM4[Policy::{"Fn::If":["HandlerHasEcrPublic195AF58A",{"Fn::Join":["",["arn:",' +
        '{"Ref":"AWS::Partition"},":iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly"]]},' +
        '{"Ref":"AWS::NoValue"}]}]',
      reason: reason('the managed ECR Public read policy, attached in the aws partition only'),
    },
    {
      id: 'AwsSolutions-IAM5[Resource::<Handler886CB40B.Arn>:*]',
      reason: reason('the provider framework may invoke any version of its own kubectl function'),
    },
    {
      id: 'AwsSolutions-L1',
      reason: reason(
        'the kubectl function runs the Python runtime that aws-cdk-lib pins for its kubectl layer',
      ),
    },
  );
}
