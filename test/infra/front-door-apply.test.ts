import type { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ValidationFailed } from '#domain/errors.ts';
import { loadSwingConfig, parseSwingConfig } from '../../infra/config.ts';
import {
  exampleConfig,
  exampleConfigInput,
  nagViolations,
  REPO_ROOT,
  type SynthesizedSwing,
  synthSwing,
} from './stacks.ts';

const EXAMPLE = 'example-eks-apply.config.json';
const KUBECTL_ROLE = 'arn:aws:iam::111111111111:role/swing-front-door-kubectl';
const MANIFEST = 'Custom::AWSCDK-EKS-KubernetesResource';

type Json = Record<string, unknown>;

/**
 * The manifest property as CloudFormation gets it: a Fn::Join of JSON text around the stack's tokens. Each token
 * becomes a marker string, so that the objects parse as JSON and the tokens can be asserted where they stand.
 */
function manifestObjects(property: unknown): Json[] {
  const parts = (property as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  const text = parts
    .map((part) => (typeof part === 'string' ? part : `TOKEN(${JSON.stringify(part).replace(/"/g, "'")})`))
    .join('');
  return JSON.parse(text) as Json[];
}

describe('Construct: FrontDoorApply (cdk deploy applies the manifests, infra/example-eks-apply.config.json)', () => {
  let swing: SynthesizedSwing;
  let manifests: Json[];
  let provider: Template;
  let sourceGroup: string;
  let targetGroup: string;
  let albGroup: string;

  beforeAll(() => {
    // The file as `cdk synth -c swing:configFile=infra/example-eks-apply.config.json` reads it.
    const config = loadSwingConfig(
      (key) => (key === 'swing:configFile' ? `infra/${EXAMPLE}` : undefined),
      REPO_ROOT,
    );
    swing = synthSwing(config);
    const resources = swing.template.findResources(MANIFEST);
    expect(Object.keys(resources)).toHaveLength(1);
    manifests = manifestObjects(Object.values(resources)[0]!.Properties.Manifest);
    const groups = Object.keys(swing.template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup'));
    sourceGroup = groups.find((id) => id.startsWith('FrontDoorSource'))!;
    targetGroup = groups.find((id) => id.startsWith('FrontDoorTarget'))!;
    albGroup = Object.keys(
      swing.template.findResources('AWS::EC2::SecurityGroup', {
        Properties: { GroupDescription: Match.stringLikeRegexp('Swing front door') },
      }),
    )[0]!;
    const nested = swing.stack.node
      .findAll()
      .find((construct): construct is eks.KubectlProvider => construct instanceof eks.KubectlProvider);
    provider = Template.fromStack(nested as unknown as Stack);
  }, 180_000);

  it('applies the manifests (reverse capture included) on the imported cluster with the configured kubectl role', () => {
    swing.template.hasResourceProperties(MANIFEST, {
      ClusterName: 'migration-eks-cluster-dev-us-east-1',
      RoleArn: KUBECTL_ROLE,
      Overwrite: true,
    });
    expect(manifests.map((object) => `${object.kind}/${(object.metadata as Json).name}`)).toEqual([
      'Deployment/swing-target-proxy',
      'Service/swing-target-proxy',
      'KafkaTopic/swing-target-traffic',
      'ConfigMap/swing-reverse-replayer-otel',
      'Deployment/swing-reverse-replayer',
      'TargetGroupBinding/swing-front-door-source',
      'TargetGroupBinding/swing-front-door-target',
    ]);
    for (const object of manifests) expect((object.metadata as Json).namespace).toBe('ma');
  });

  it("binds the stack's own target groups and security group: CloudFormation creates them before the bindings", () => {
    const [source, target] = manifests.filter((object) => object.kind === 'TargetGroupBinding');
    const ingressFrom = (binding: Json | undefined) =>
      ((binding!.spec as Json).networking as { ingress: { from: unknown[] }[] }).ingress[0]!.from;
    expect(source).toMatchObject({
      apiVersion: 'eks.amazonaws.com/v1',
      spec: { targetGroupARN: `TOKEN({'Ref':'${sourceGroup}'})`, serviceRef: { name: 'capture-proxy' } },
    });
    expect(target).toMatchObject({
      spec: { targetGroupARN: `TOKEN({'Ref':'${targetGroup}'})`, serviceRef: { name: 'swing-target-proxy' } },
    });
    expect(ingressFrom(source)).toEqual([
      { securityGroup: { groupID: `TOKEN({'Fn::GetAtt':['${albGroup}','GroupId']})` } },
    ]);
  });

  it('runs kubectl from the kubectl layer, in the front door subnets with the configured group (private endpoint)', () => {
    provider.hasResourceProperties('AWS::Lambda::Function', {
      Layers: Match.anyValue(),
      VpcConfig: {
        SubnetIds: ['subnet-0aa11bb22cc33dd44', 'subnet-0ee55ff66aa77bb88'],
        SecurityGroupIds: ['sg-0d1e2f3a4b5c6d7e8'],
      },
    });
    expect(
      Object.keys(swing.template.findResources('AWS::Lambda::LayerVersion')).some((id) =>
        id.includes('KubectlLayer'),
      ),
    ).toBe(true);
    // The handler may assume the kubectl role, and nothing else of IAM.
    provider.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'sts:AssumeRole', Effect: 'Allow', Resource: KUBECTL_ROLE }),
        ]),
      },
    });
  });

  it('synthesizes with no context lookup and passes cdk-nag AwsSolutions, the nested kubectl stack included', () => {
    expect(swing.missingContext).toEqual([]);
    expect(nagViolations(swing.app).map((violation) => violation.ruleName)).toEqual([]);
  });
});

describe('Config: frontDoor.kubernetes.apply', () => {
  it('is optional: the example without it applies nothing and has no kubectl stack', () => {
    const { template } = synthSwing(exampleConfig('example-eks.config.json'));
    template.resourceCountIs(MANIFEST, 0);
    template.resourceCountIs('AWS::CloudFormation::Stack', 0);
  }, 180_000);

  it("refuses it without the cluster's name, and a kubectl role that is not a role ARN", () => {
    const input = exampleConfigInput(EXAMPLE, (raw) => {
      const kubernetes = (raw.frontDoor as Json).kubernetes as Json;
      delete kubernetes.clusterName;
      kubernetes.targetGroupBindingApi = 'elbv2.k8s.aws/v1beta1';
      (kubernetes.apply as Json).kubectlRoleArn = 'swing-kubectl';
    });
    const issues = (() => {
      try {
        parseSwingConfig(input);
        return [];
      } catch (error) {
        return (error as ValidationFailed).issues.map((issue) => `${issue.field}: ${issue.message}`);
      }
    })();
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^config\.frontDoor\.kubernetes\.clusterName: is required with kubernetes\.apply/,
        ),
        expect.stringMatching(/^config\.frontDoor\.kubernetes\.apply\.kubectlRoleArn: /),
      ]),
    );
  });
});
