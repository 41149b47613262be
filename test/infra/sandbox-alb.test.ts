import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ValidationFailed } from '#domain/errors.ts';
import { parseSwingConfig } from '../../infra/config.ts';
import {
  exampleConfig,
  exampleConfigInput,
  grantedStatements,
  handlerFunction,
  nagViolations,
  type SynthesizedSwing,
  synthSwing,
} from './stacks.ts';

const CERTIFICATE = 'arn:aws:acm:us-east-1:111111111111:certificate/00000000-1111-2222-3333-444444444444';

const logicalIds = (template: Template, type: string, props: Record<string, unknown> = {}) =>
  Object.keys(template.findResources(type, props));

describe('Construct: SandboxAlb (create mode, the example config)', () => {
  let swing: SynthesizedSwing;
  let template: Template;

  beforeAll(() => {
    swing = synthSwing(exampleConfig('example-create.config.json'));
    template = swing.template;
    // A synth: allow for a machine busy with the other test files.
  }, 120_000);

  it('creates an internal ALB with access logs in a VPC with flow logs, named zones and no NAT', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'access_logs.s3.enabled', Value: 'true' }]),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
      ]),
    });
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
    template.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: 'us-east-1a' });
    template.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: 'us-east-1b' });
  });

  it('listens on 9200, 9201 and 9202, all HTTPS with the certificate and a TLS 1.3 policy', () => {
    for (const port of [9200, 9201, 9202]) {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Port: port,
        Protocol: 'HTTPS',
        Certificates: [{ CertificateArn: CERTIFICATE }],
        SslPolicy: Match.stringLikeRegexp('TLS13'),
      });
    }
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 3);
  });

  it('starts 9200 with all traffic on the source (999/0) and sends 9201 to the source, 9202 to the target', () => {
    const [source] = logicalIds(template, 'AWS::ElasticLoadBalancingV2::TargetGroup').filter((id) =>
      id.startsWith('SandboxSource'),
    );
    const [target] = logicalIds(template, 'AWS::ElasticLoadBalancingV2::TargetGroup').filter((id) =>
      id.startsWith('SandboxTarget'),
    );
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 9200,
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
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 9201,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: source } }],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 9202,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: target } }],
    });
  });

  it('health-checks two IP target groups with the configured path and codes, targets from the config', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetType: 'ip',
      Protocol: 'HTTPS',
      Port: 9200,
      HealthCheckProtocol: 'HTTPS',
      HealthCheckPath: '/',
      Matcher: { HttpCode: '200,401' },
      Targets: [{ Id: '10.42.0.10' }, { Id: '10.42.1.10' }],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Targets: [{ Id: '10.42.0.20' }, { Id: '10.42.1.20' }],
    });
  });

  it('admits only the allowed CIDRs on 9200-9202 and sends only to the targets', () => {
    const [albGroup] = logicalIds(template, 'AWS::EC2::SecurityGroup', {
      Properties: { GroupDescription: Match.stringLikeRegexp('Swing sandbox ALB') },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('Swing sandbox ALB'),
      SecurityGroupIngress: [
        {
          CidrIp: '10.0.0.0/8',
          FromPort: 9200,
          ToPort: 9202,
          IpProtocol: 'tcp',
          Description: Match.anyValue(),
        },
      ],
      SecurityGroupEgress: Match.arrayWith([
        Match.objectLike({ CidrIp: '10.42.0.20/32', FromPort: 9200, ToPort: 9200 }),
      ]),
    });
    const groups = template.findResources('AWS::EC2::SecurityGroup');
    expect(JSON.stringify(groups[albGroup!])).not.toContain('0.0.0.0/0');
  });

  it('runs the smoke-test function in the VPC, lets it reach 9201-9202, and points it at the domain name', () => {
    const smoke = handlerFunction(template, 'smoke-test');
    expect(smoke.VpcConfig).toMatchObject({
      SubnetIds: expect.any(Array),
      SecurityGroupIds: expect.any(Array),
    });
    const smokeGroup = (smoke.VpcConfig as { SecurityGroupIds: { 'Fn::GetAtt': [string] }[] })
      .SecurityGroupIds[0]!['Fn::GetAtt'][0];
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 9201,
      ToPort: 9202,
      SourceSecurityGroupId: { 'Fn::GetAtt': [smokeGroup, 'GroupId'] },
    });
    const variables = (smoke.Environment as { Variables: Record<string, string> }).Variables;
    expect(JSON.parse(variables.SMOKE_CONFIG!)).toMatchObject({
      sourceEndpoint: 'https://search-sandbox.example.com:9201',
      targetEndpoint: 'https://search-sandbox.example.com:9202',
    });
    // The isolated subnets reach the table through a gateway endpoint.
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.dynamodb']] },
    });
  });

  it('scopes ModifyListener to the created 9200 listener and alarms on its load balancer and target group', () => {
    const [weighted] = logicalIds(template, 'AWS::ElasticLoadBalancingV2::Listener', {
      Properties: { Port: 9200 },
    });
    const modify = grantedStatements(template).filter((s) =>
      s.actions.includes('elasticloadbalancing:ModifyListener'),
    );
    expect(modify).toHaveLength(4);
    for (const statement of modify) expect(statement.resources).toEqual([{ Ref: weighted }]);
    const [loadBalancer] = logicalIds(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    const [target] = logicalIds(template, 'AWS::ElasticLoadBalancingV2::TargetGroup').filter((id) =>
      id.startsWith('SandboxTarget'),
    );
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'SwingSandbox-target-unhealthy-hosts',
      Metrics: [
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              Dimensions: [
                { Name: 'LoadBalancer', Value: { 'Fn::GetAtt': [loadBalancer, 'LoadBalancerFullName'] } },
                { Name: 'TargetGroup', Value: { 'Fn::GetAtt': [target, 'TargetGroupFullName'] } },
              ],
            }),
          }),
        }),
      ],
    });
  });

  it('synthesizes with no context lookup, though the example names an account and region', () => {
    expect(swing.missingContext).toEqual([]);
  });

  it('passes cdk-nag AwsSolutions with no errors and no warnings', () => {
    expect(
      nagViolations(swing.app).map(
        (v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`,
      ),
    ).toEqual([]);
  });
});

describe('Construct: SandboxAlb (variants)', () => {
  it('uses plain HTTP listeners only when insecureHttp is set on purpose', () => {
    const { template } = synthSwing(
      exampleConfig('example-create.config.json', (raw) => {
        const create = raw.create as Record<string, unknown>;
        delete create.certificateArn;
        create.insecureHttp = true;
        delete create.domainName;
      }),
    );
    for (const port of [9200, 9201, 9202]) {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Port: port,
        Protocol: 'HTTP',
      });
    }
    // The endpoints name the ALB's DNS name, an attribute: the variable is a join around it.
    const smoke = JSON.stringify(
      (handlerFunction(template, 'smoke-test').Environment as { Variables: Record<string, unknown> })
        .Variables.SMOKE_CONFIG,
    );
    expect(smoke).toContain('\\"sourceEndpoint\\":\\"http://');
    expect(smoke).toContain('DNSName');
    expect(smoke).toContain(':9201');
  });

  it('refuses HTTPS without a certificate, naming the field and the fix', () => {
    const input = exampleConfigInput('example-create.config.json', (raw) => {
      delete (raw.create as Record<string, unknown>).certificateArn;
    });
    expect(() => parseSwingConfig(input)).toThrow(ValidationFailed);
    expect(() => parseSwingConfig(input)).toThrow(
      /config\.create\.certificateArn: is required for HTTPS listeners/,
    );
  });

  it('puts an internet-facing ALB in public subnets and keeps the smoke-test function out of the VPC', () => {
    const { template, app } = synthSwing(
      exampleConfig('example-create.config.json', (raw) => {
        (raw.create as Record<string, unknown>).internetFacing = true;
        (raw.create as Record<string, unknown>).allowedCidrs = ['203.0.113.0/24'];
      }),
    );
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
    });
    expect(handlerFunction(template, 'smoke-test').VpcConfig).toBeUndefined();
    expect(nagViolations(app)).toEqual([]);
  });

  it('adds a Secrets Manager endpoint when the smoke tests read a secret from the isolated subnets', () => {
    const { template } = synthSwing(
      exampleConfig('example-create.config.json', (raw) => {
        raw.smoke = {
          auth: {
            type: 'basic',
            secretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:smoke-AbCdEf',
          },
        };
      }),
    );
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      ServiceName: 'com.amazonaws.us-east-1.secretsmanager',
    });
  });
});
