import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ValidationFailed } from '#domain/errors.ts';
import { loadSwingConfig, parseSwingConfig } from '../../infra/config.ts';
import {
  exampleConfigInput,
  grantedStatements,
  handlerFunction,
  nagViolations,
  REPO_ROOT,
  type SynthesizedSwing,
  synthSwing,
} from './stacks.ts';

const EXAMPLE = 'example-eks.config.json';
const CERTIFICATE = 'arn:aws:acm:us-east-1:111111111111:certificate/00000000-1111-2222-3333-444444444444';
const POD_GROUP = 'sg-0c1d2e3f4a5b6c7d8';

const logicalIds = (template: Template, type: string, props: Record<string, unknown> = {}) =>
  Object.keys(template.findResources(type, props));

describe('Construct: FrontDoorAlb (front-door mode, infra/example-eks.config.json)', () => {
  let swing: SynthesizedSwing;
  let template: Template;
  let source: string | undefined;
  let target: string | undefined;
  let albGroup: string | undefined;

  beforeAll(() => {
    // The file as `cdk synth -c swing:configFile=infra/example-eks.config.json` reads it.
    const config = loadSwingConfig(
      (key) => (key === 'swing:configFile' ? `infra/${EXAMPLE}` : undefined),
      REPO_ROOT,
    );
    swing = synthSwing(config);
    template = swing.template;
    [source] = logicalIds(template, 'AWS::ElasticLoadBalancingV2::TargetGroup').filter((id) =>
      id.startsWith('FrontDoorSource'),
    );
    [target] = logicalIds(template, 'AWS::ElasticLoadBalancingV2::TargetGroup').filter((id) =>
      id.startsWith('FrontDoorTarget'),
    );
    [albGroup] = logicalIds(template, 'AWS::EC2::SecurityGroup', {
      Properties: { GroupDescription: Match.stringLikeRegexp('Swing front door') },
    });
  }, 180_000);

  it('creates an internal ALB in the configured subnets and nothing of the VPC', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
      Subnets: ['subnet-0aa11bb22cc33dd44', 'subnet-0ee55ff66aa77bb88'],
      SecurityGroups: [{ 'Fn::GetAtt': [albGroup, 'GroupId'] }],
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'access_logs.s3.enabled', Value: 'true' }]),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
      ]),
    });
    for (const type of [
      'AWS::EC2::VPC',
      'AWS::EC2::Subnet',
      'AWS::EC2::InternetGateway',
      'AWS::EC2::NatGateway',
      'AWS::EC2::RouteTable',
      'AWS::EC2::VPCEndpoint',
    ]) {
      template.resourceCountIs(type, 0);
    }
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: 'vpc-0a1b2c3d4e5f60718' });
  });

  it('listens on 443 with a weighted forward, all to the source (999/0), HTTPS with the certificate', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: CERTIFICATE }],
      SslPolicy: Match.stringLikeRegexp('TLS13'),
      DefaultActions: [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: { Ref: source }, Weight: 999 },
              { TargetGroupArn: { Ref: target }, Weight: 0 },
            ],
          },
        },
      ],
    });
  });

  it('sends 9201 to the source alone and 9202 to the target alone, both HTTPS: three listeners in all', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 9201,
      Protocol: 'HTTPS',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: source } }],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 9202,
      Protocol: 'HTTPS',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: target } }],
    });
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 3);
  });

  it("has two empty target groups of type ip in the VPC, with the proxies' protocols, ports and health checks", () => {
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 2);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetType: 'ip',
      VpcId: 'vpc-0a1b2c3d4e5f60718',
      Protocol: 'HTTPS',
      Port: 9201,
      HealthCheckProtocol: 'HTTPS',
      HealthCheckPath: '/',
      Matcher: { HttpCode: '200,401,403' },
      Targets: Match.absent(),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetType: 'ip',
      Protocol: 'HTTP',
      Port: 9200,
      HealthCheckProtocol: 'HTTP',
      Targets: Match.absent(),
    });
  });

  it("tags both target groups with the EKS cluster's name on Auto Mode (eks.amazonaws.com/v1), whose load balancing registers pods only there", () => {
    const groups = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup'));
    expect(groups).toHaveLength(2);
    for (const group of groups) {
      expect((group.Properties as { Tags?: unknown[] }).Tags).toEqual(
        expect.arrayContaining([
          { Key: 'eks:eks-cluster-name', Value: 'migration-eks-cluster-dev-us-east-1' },
        ]),
      );
    }
  });

  it("admits the clients' CIDRs on 443 only, the smoke-test function on 9201 and 9202, and sends only to the pods", () => {
    const group = template.findResources('AWS::EC2::SecurityGroup')[albGroup!]!.Properties as Record<
      string,
      unknown
    >;
    expect(group.SecurityGroupIngress).toEqual([
      {
        CidrIp: '10.0.0.0/16',
        FromPort: 443,
        ToPort: 443,
        IpProtocol: 'tcp',
        Description: expect.any(String),
      },
    ]);
    expect(group.SecurityGroupEgress).toEqual([
      expect.objectContaining({ DestinationSecurityGroupId: POD_GROUP, FromPort: 9201, ToPort: 9201 }),
      expect.objectContaining({ DestinationSecurityGroupId: POD_GROUP, FromPort: 9200, ToPort: 9200 }),
    ]);
    const smoke = handlerFunction(template, 'smoke-test');
    expect(smoke.VpcConfig).toMatchObject({
      SubnetIds: ['subnet-0aa11bb22cc33dd44', 'subnet-0ee55ff66aa77bb88'],
    });
    const smokeGroup = (smoke.VpcConfig as { SecurityGroupIds: { 'Fn::GetAtt': [string] }[] })
      .SecurityGroupIds[0]!['Fn::GetAtt'][0];
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map(
      (resource) => resource.Properties,
    );
    expect(ingress).toEqual([
      expect.objectContaining({
        GroupId: { 'Fn::GetAtt': [albGroup, 'GroupId'] },
        SourceSecurityGroupId: { 'Fn::GetAtt': [smokeGroup, 'GroupId'] },
        FromPort: 9201,
        ToPort: 9201,
      }),
      expect.objectContaining({
        GroupId: { 'Fn::GetAtt': [albGroup, 'GroupId'] },
        SourceSecurityGroupId: { 'Fn::GetAtt': [smokeGroup, 'GroupId'] },
        FromPort: 9202,
        ToPort: 9202,
      }),
    ]);
    const variables = (smoke.Environment as { Variables: Record<string, string> }).Variables;
    expect(JSON.parse(variables.SMOKE_CONFIG!)).toMatchObject({
      sourceEndpoint: 'https://search.migration.example.com:9201',
      targetEndpoint: 'https://search.migration.example.com:9202',
    });
  });

  it('builds the controller as in the other modes, on the created 443 listener and its target groups', () => {
    template.resourceCountIs('AWS::Lambda::Function', 10);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', {
      AlarmName: 'Swing-dev-rollout-health',
    });
    const [weighted] = logicalIds(template, 'AWS::ElasticLoadBalancingV2::Listener', {
      Properties: { Port: 443 },
    });
    const modify = grantedStatements(template).filter((s) =>
      s.actions.includes('elasticloadbalancing:ModifyListener'),
    );
    expect(modify.length).toBeGreaterThan(0);
    for (const statement of modify) expect(statement.resources).toEqual([{ Ref: weighted }]);
    // Reads first works as elsewhere: the replay-lag alarm on the stage the config names.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Swing-dev-replay-lag',
      Dimensions: Match.arrayWith([{ Name: 'qualifier', Value: 'dev' }]),
    });
    template.hasOutput('FrontDoorSecurityGroupId', { Value: { 'Fn::GetAtt': [albGroup, 'GroupId'] } });
    template.hasOutput('ListenerArn', { Value: { Ref: weighted } });
  });

  it('creates the optional Route 53 alias for the domain name in the private zone', () => {
    template.hasResourceProperties('AWS::Route53::RecordSet', {
      HostedZoneId: 'Z0123456789ABCDEFGHIJ',
      Name: 'search.migration.example.com.',
      Type: 'A',
    });
  });

  it('synthesizes with no context lookup and passes cdk-nag AwsSolutions with no findings', () => {
    expect(swing.missingContext).toEqual([]);
    expect(
      nagViolations(swing.app).map(
        (v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`,
      ),
    ).toEqual([]);
  });
});

describe('Config: front-door mode', () => {
  it('refuses a front-door config without its section or region, naming the fields', () => {
    const input = exampleConfigInput(EXAMPLE, (raw) => {
      delete raw.frontDoor;
      delete raw.env;
    });
    expect(() => parseSwingConfig(input)).toThrow(ValidationFailed);
    expect(() => parseSwingConfig(input)).toThrow(/config\.frontDoor: is required in front-door mode/);
    expect(() => parseSwingConfig(input)).toThrow(/config\.env\.region: is required in front-door mode/);
  });

  it('refuses one subnet, no client CIDRs, and an HTTPS target proxy without its TLS secret', () => {
    const input = exampleConfigInput(EXAMPLE, (raw) => {
      const door = raw.frontDoor as Record<string, unknown>;
      door.subnetIds = ['subnet-0aa11bb22cc33dd44'];
      door.allowedCidrs = [];
      door.target = { protocol: 'HTTPS', port: 9200 };
    });
    const issues = (() => {
      try {
        parseSwingConfig(input);
        return [];
      } catch (error) {
        return (error as ValidationFailed).issues.map((issue) => issue.field);
      }
    })();
    expect(issues).toEqual(
      expect.arrayContaining([
        'config.frontDoor.subnetIds',
        'config.frontDoor.allowedCidrs',
        'config.frontDoor.kubernetes.targetProxy.tlsSecretName',
      ]),
    );
  });

  it("refuses Auto Mode's API without the cluster's name (its target groups need the tag), and leaves the controller's untagged", () => {
    const autoMode = exampleConfigInput(EXAMPLE, (raw) => {
      delete ((raw.frontDoor as Record<string, unknown>).kubernetes as Record<string, unknown>).clusterName;
    });
    expect(() => parseSwingConfig(autoMode)).toThrow(
      /config\.frontDoor\.kubernetes\.clusterName: is required with targetGroupBindingApi eks\.amazonaws\.com\/v1: .*eks:eks-cluster-name/,
    );
    const controller = exampleConfigInput(EXAMPLE, (raw) => {
      const kubernetes = (raw.frontDoor as Record<string, unknown>).kubernetes as Record<string, unknown>;
      delete kubernetes.clusterName;
      kubernetes.targetGroupBindingApi = 'elbv2.k8s.aws/v1beta1';
    });
    const { template } = synthSwing(parseSwingConfig(controller));
    for (const group of Object.values(template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup'))) {
      expect(JSON.stringify(group.Properties)).not.toContain('eks:eks-cluster-name');
    }
  }, 180_000);

  it('refuses a Route 53 zone that does not hold the domain name', () => {
    const input = exampleConfigInput(EXAMPLE, (raw) => {
      (raw.frontDoor as Record<string, unknown>).route53 = {
        hostedZoneId: 'Z0123456789ABCDEFGHIJ',
        zoneName: 'elsewhere.example.com',
      };
    });
    expect(() => parseSwingConfig(input)).toThrow(/config\.frontDoor\.route53\.zoneName: does not contain/);
  });
});
