import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  type Subnet,
} from '@aws-sdk/client-ec2';
import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import { DescribeLoadBalancersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Deployment } from 'kubernetes-models/apps/v1';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { aws, resetAws, swing } from '#test/cli/harness.ts';
import {
  type FakeCluster,
  migrationAssistantCluster,
  startFakeKubernetes,
} from '#test/support/fake-kubernetes.ts';
import { parseSwingConfig } from '../../infra/config.ts';
import { nagViolations, synthSwing } from '../infra/stacks.ts';

const CLUSTER = 'migration-eks-cluster-dev-us-east-1';
const CERTIFICATE = 'arn:aws:acm:us-east-1:123456789012:certificate/00000000-1111-2222-3333-444444444444';
const FRONT_DOOR_OUTPUTS = [
  { OutputKey: 'FrontDoorSecurityGroupId', OutputValue: 'sg-0fd00fd00fd00fd00' },
  {
    OutputKey: 'SourceTargetGroupArn',
    OutputValue:
      'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/Swing-Sourc/0123456789abcdef',
  },
  {
    OutputKey: 'TargetTargetGroupArn',
    OutputValue:
      'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/Swing-Targe/fedcba9876543210',
  },
];

type Fake = Awaited<ReturnType<typeof startFakeKubernetes>>;

const VPC = 'vpc-0a1b2c3d4e5f60718';
/**
 * The cluster's subnets as the 3.x solution's VPC has them: a public and a private one per zone. In us-east-1a a
 * second private subnet, tagged for internal load balancers, is the one the front door takes.
 */
const SUBNETS: Subnet[] = [
  { SubnetId: 'subnet-0aa11bb22cc33dd44', AvailabilityZone: 'us-east-1a', VpcId: VPC },
  {
    SubnetId: 'subnet-0ab00000000000001',
    AvailabilityZone: 'us-east-1a',
    VpcId: VPC,
    Tags: [{ Key: 'kubernetes.io/role/internal-elb', Value: '1' }],
  },
  { SubnetId: 'subnet-0ee55ff66aa77bb88', AvailabilityZone: 'us-east-1b', VpcId: VPC },
  { SubnetId: 'subnet-0f000000000000a1a', AvailabilityZone: 'us-east-1a', VpcId: VPC },
  { SubnetId: 'subnet-0f000000000000b1b', AvailabilityZone: 'us-east-1b', VpcId: VPC },
];
const PUBLIC_SUBNETS = ['subnet-0f000000000000a1a', 'subnet-0f000000000000b1b'];

function mockSubnets(subnets: readonly Subnet[] = SUBNETS): void {
  aws.ec2.on(DescribeSubnetsCommand).callsFake(({ SubnetIds }: { SubnetIds: string[] }) => ({
    Subnets: subnets.filter((subnet) => SubnetIds.includes(subnet.SubnetId!)),
  }));
  aws.ec2.on(DescribeRouteTablesCommand).resolves({
    RouteTables: [
      {
        // The main table: a NAT gateway, so the subnets without their own table are private.
        Associations: [{ Main: true }],
        Routes: [{ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-0123456789abcdef0' }],
      },
      {
        Associations: PUBLIC_SUBNETS.map((SubnetId) => ({ SubnetId, Main: false })),
        Routes: [
          { DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local' },
          { DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-0123456789abcdef0' },
        ],
      },
    ],
  });
}

/** EKS and EC2 as the 3.x solution's CloudFormation leaves them: an Auto Mode cluster with load balancing on. */
function mockEks(endpoint: string): void {
  aws.eks.on(DescribeClusterCommand, { name: CLUSTER }).resolves({
    cluster: {
      name: CLUSTER,
      arn: `arn:aws:eks:us-east-1:123456789012:cluster/${CLUSTER}`,
      endpoint,
      resourcesVpcConfig: {
        vpcId: 'vpc-0a1b2c3d4e5f60718',
        subnetIds: SUBNETS.map((subnet) => subnet.SubnetId!),
        clusterSecurityGroupId: 'sg-0c1d2e3f4a5b6c7d8',
      },
      kubernetesNetworkConfig: { elasticLoadBalancing: { enabled: true } },
    },
  });
  aws.eks
    .on(DescribeClusterCommand, { name: 'nope' })
    .rejects(
      Object.assign(new Error('No cluster found for name: nope.'), { name: 'ResourceNotFoundException' }),
    );
  aws.ec2.on(DescribeVpcsCommand).resolves({
    Vpcs: [
      {
        VpcId: 'vpc-0a1b2c3d4e5f60718',
        CidrBlockAssociationSet: [{ CidrBlock: '10.0.0.0/16', CidrBlockState: { State: 'associated' } }],
      },
    ],
  });
  mockSubnets();
  aws.cloudFormation
    .on(DescribeStacksCommand)
    .rejects(Object.assign(new Error('Stack with id Swing-dev does not exist'), { name: 'ValidationError' }));
}

describe('Command: swing init --eks-cluster (a fake Kubernetes API on 127.0.0.1, mocked EKS and EC2)', () => {
  let dir: string;
  let out: string;
  let manifests: string;
  let cluster: FakeCluster;
  let fake: Fake | undefined;

  const init = async (extra: string[] = [], kube?: Fake, subnets?: Subnet[]) => {
    fake = kube ?? (await startFakeKubernetes(cluster));
    mockEks(fake.url);
    if (subnets) mockSubnets(subnets);
    return swing(
      [
        'init',
        '--eks-cluster',
        CLUSTER,
        '--namespace',
        'ma',
        '--smoke-auth',
        'none',
        '--certificate-arn',
        CERTIFICATE,
        '--domain-name',
        'search.migration.example.com',
        '--out',
        out,
        '--manifests-dir',
        manifests,
        ...extra,
      ],
      { kubeConfig: fake.kubeConfig() },
    );
  };
  const nothingWritten = () => {
    expect(existsSync(out)).toBe(false);
    expect(existsSync(manifests) ? readdirSync(manifests) : []).toEqual([]);
  };

  beforeEach(() => {
    resetAws();
    cluster = migrationAssistantCluster();
    dir = mkdtempSync(join(tmpdir(), 'swing-init-eks-'));
    out = join(dir, 'swing.config.json');
    manifests = join(dir, 'k8s');
  });
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  it('writes a front-door config that the CDK app synthesizes, cdk-nag clean, and the target proxy manifests', async () => {
    const result = await init();

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const written = JSON.parse(readFileSync(out, 'utf8'));
    const config = parseSwingConfig(
      JSON.parse(JSON.stringify(written), (key, value) => (key === '$comment' ? undefined : value)),
    );
    expect(config).toMatchObject({
      stackName: 'Swing-dev',
      env: { account: '123456789012', region: 'us-east-1' },
      mode: 'front-door',
      replayLag: { qualifier: 'dev' },
      frontDoor: {
        vpcId: 'vpc-0a1b2c3d4e5f60718',
        // Private, one per zone, the internal-elb one first: none of the public ones.
        subnetIds: ['subnet-0ab00000000000001', 'subnet-0ee55ff66aa77bb88'],
        podSecurityGroupId: 'sg-0c1d2e3f4a5b6c7d8',
        certificateArn: CERTIFICATE,
        allowedCidrs: ['10.0.0.0/16'],
        source: { protocol: 'HTTPS', port: 9201 },
        kubernetes: {
          namespace: 'ma',
          clusterName: CLUSTER,
          targetGroupBindingApi: 'eks.amazonaws.com/v1',
          captureProxyService: { name: 'capture-proxy', port: 9201 },
          targetProxy: {
            image: 'public.ecr.aws/opensearchproject/opensearch-migrations-traffic-capture-proxy:3.0.0',
            destinationUri: 'https://vpc-target-abc123.us-east-1.es.amazonaws.com:443',
          },
          // From the capture proxy's --kafkaConnection and --destinationUri, and the replayer's image.
          reverseCapture: {
            kafka: { bootstrapServers: 'kafka:9092', authType: 'none' },
            replayer: {
              image: 'public.ecr.aws/opensearchproject/opensearch-migrations-traffic-replayer:3.0.0',
              sourceUri: 'https://source.ma.svc:9200',
              qualifier: 'dev-reverse',
            },
          },
        },
      },
    });
    expect(result.stdout).toMatch(
      /Reverse capture: the target proxy captures to swing-target-traffic on kafka:9092/,
    );
    // The stack is not deployed yet: no bindings; they come with swing front-door manifests.
    expect(readdirSync(manifests).sort()).toEqual([
      'swing-reverse-replayer-otel.configmap.yaml',
      'swing-reverse-replayer.deployment.yaml',
      'swing-target-proxy.deployment.yaml',
      'swing-target-proxy.service.yaml',
    ]);
    const deployment = parseYaml(readFileSync(join(manifests, 'swing-target-proxy.deployment.yaml'), 'utf8'));
    expect(() => new Deployment(deployment).validate()).not.toThrow();
    expect(result.stdout).toContain('swing front-door manifests --config');
    expect(fake!.requests).toContain(
      'GET /apis/apiextensions.k8s.io/v1/customresourcedefinitions/targetgroupbindings.eks.amazonaws.com',
    );

    const synthesized = synthSwing(config);
    synthesized.template.resourceCountIs('AWS::EC2::VPC', 0);
    synthesized.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
    });
    expect(nagViolations(synthesized.app)).toEqual([]);
  }, 180_000);

  it("writes the TargetGroupBindings too once the stack is deployed, and takes the controller's API where Auto Mode's is not served", async () => {
    cluster.crds = {
      'targetgroupbindings.elbv2.k8s.aws': {
        metadata: { name: 'targetgroupbindings.elbv2.k8s.aws' },
        spec: { group: 'elbv2.k8s.aws', versions: [{ name: 'v1beta1', served: true, storage: true }] },
      },
    };
    fake = await startFakeKubernetes(cluster);
    mockEks(fake.url);
    aws.cloudFormation.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'Swing-dev',
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date(),
          Outputs: FRONT_DOOR_OUTPUTS,
        },
      ],
    });
    const result = await swing(
      [
        'init',
        '--eks-cluster',
        CLUSTER,
        '--smoke-auth',
        'none',
        '--certificate-arn',
        CERTIFICATE,
        '--domain-name',
        'search.migration.example.com',
        '--out',
        out,
        '--manifests-dir',
        manifests,
      ],
      { kubeConfig: fake.kubeConfig() },
    );

    expect(result.stderr).toBe('');
    expect(readdirSync(manifests).sort()).toEqual([
      'swing-front-door-source.targetgroupbinding.yaml',
      'swing-front-door-target.targetgroupbinding.yaml',
      'swing-reverse-replayer-otel.configmap.yaml',
      'swing-reverse-replayer.deployment.yaml',
      'swing-target-proxy.deployment.yaml',
      'swing-target-proxy.service.yaml',
    ]);
    const source = parseYaml(
      readFileSync(join(manifests, 'swing-front-door-source.targetgroupbinding.yaml'), 'utf8'),
    );
    expect(source).toMatchObject({
      apiVersion: 'elbv2.k8s.aws/v1beta1',
      spec: {
        serviceRef: { name: 'capture-proxy', port: 9201 },
        targetGroupARN: FRONT_DOOR_OUTPUTS[1]!.OutputValue,
        networking: { ingress: [{ from: [{ securityGroup: { groupID: 'sg-0fd00fd00fd00fd00' } }] }] },
      },
    });
  });

  it("reads the Migration Assistant workflow's ---INLINE-JSON arguments (base64): the target, TLS and the Kafka", async () => {
    type Json = Record<string, unknown>;
    type Container = { args: string[] };
    const containerOf = (name: string) =>
      (
        (
          (cluster.deployments.find((d) => (d.metadata as { name: string }).name === name)!.spec as Json)
            .template as Json
        ).spec as { containers: Container[] }
      ).containers[0]!;
    const inline = (options: Json) => [
      '---INLINE-JSON',
      Buffer.from(JSON.stringify(options)).toString('base64'),
    ];
    containerOf('capture-proxy').args = inline({
      destinationUri: 'https://source.ma.svc:9200',
      listenPort: 9201,
      sslCertChainFile: '/certs/tls.crt',
      sslKeyFile: '/certs/tls.key',
      kafkaConnection: 'default-kafka-bootstrap:9092',
      kafkaTopic: 'capture-proxy',
    });
    containerOf('replayer').args = inline({ targetUri: 'https://vpc-other.us-east-1.es.amazonaws.com:443' });
    const result = await init();
    expect(result.stderr).toBe('');
    const written = JSON.parse(readFileSync(out, 'utf8'));
    expect(written.frontDoor.source).toEqual({ protocol: 'HTTPS', port: 9201 });
    expect(written.frontDoor.kubernetes.targetProxy.destinationUri).toBe(
      'https://vpc-other.us-east-1.es.amazonaws.com:443',
    );
    expect(written.frontDoor.kubernetes.reverseCapture.kafka).toEqual({
      bootstrapServers: 'default-kafka-bootstrap:9092',
      authType: 'none',
      strimziCluster: 'default',
    });
  });

  it('refuses, writing nothing, when the namespace has no capture proxy Service', async () => {
    cluster.services = cluster.services.filter(
      (service) => (service.metadata as { name: string }).name !== 'capture-proxy',
    );
    const result = await init();
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /nothing written: no capture proxy Service in namespace ma .*migrations\/proxy/,
    );
    nothingWritten();
  });

  it("refuses, writing nothing, when the cluster's private subnets are in one zone, naming the field and --subnet", async () => {
    const result = await init(
      [],
      undefined,
      SUBNETS.filter((subnet) => subnet.AvailabilityZone === 'us-east-1a'),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /frontDoor\.subnetIds: the cluster's private subnets in vpc-0a1b2c3d4e5f60718 span 1 zone\(s\) \(subnet-0ab00000000000001 \(us-east-1a\); public, .*subnet-0f000000000000a1a\).*private subnets in two zones or more: pass --subnet <id>/,
    );
    nothingWritten();
  });

  it("takes --subnet instead of the cluster's, and refuses two in one zone or one outside the VPC", async () => {
    fake = await startFakeKubernetes(cluster);
    const subnets = [
      ...SUBNETS,
      {
        SubnetId: 'subnet-0c0c0c0c0c0c0c0c0',
        AvailabilityZone: 'us-east-1c',
        VpcId: 'vpc-0ffffffffffffffff',
      },
    ];
    const twoInOneZone = await init(
      ['--subnet', 'subnet-0aa11bb22cc33dd44', '--subnet', 'subnet-0ab00000000000001'],
      fake,
      subnets,
    );
    expect(twoInOneZone.code).toBe(2);
    expect(twoInOneZone.stderr).toMatch(
      /frontDoor\.subnetIds: two of --subnet .* are in one zone: .*one per zone/,
    );
    expect(twoInOneZone.stderr).toMatch(/--subnet gives 1 zone\(s\): an ALB needs two zones or more/);
    const elsewhere = await init(
      ['--subnet', 'subnet-0aa11bb22cc33dd44', '--subnet', 'subnet-0c0c0c0c0c0c0c0c0'],
      fake,
      subnets,
    );
    expect(elsewhere.stderr).toMatch(
      /subnet-0c0c0c0c0c0c0c0c0 not in vpc-0a1b2c3d4e5f60718: pass subnets of the cluster's VPC/,
    );
    nothingWritten();

    const chosen = await init(
      ['--subnet', 'subnet-0f000000000000a1a', '--subnet', 'subnet-0ee55ff66aa77bb88'],
      fake,
      subnets,
    );
    expect(chosen.stderr).toBe('');
    expect(JSON.parse(readFileSync(out, 'utf8')).frontDoor.subnetIds).toEqual([
      'subnet-0f000000000000a1a',
      'subnet-0ee55ff66aa77bb88',
    ]);
  });

  it('refuses, writing nothing, when neither TargetGroupBinding API is served', async () => {
    cluster.crds = {};
    const result = await init();
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /nothing written: .*serves no TargetGroupBinding API.*install the controller/,
    );
    nothingWritten();
  });

  it("refuses, writing nothing, when the capture proxy's pods are not in the cluster's VPC", async () => {
    for (const [index, pod] of cluster.pods.entries())
      (pod.status as { podIP: string }).podIP = `192.168.7.${index + 10}`;
    const result = await init();
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /pods 192\.168\.7\.10, 192\.168\.7\.11 are not in vpc-0a1b2c3d4e5f60718 \(10\.0\.0\.0\/16\)/,
    );
    nothingWritten();
  });

  it("refuses, writing nothing, when the kubeconfig reaches another cluster than --eks-cluster's", async () => {
    fake = await startFakeKubernetes(cluster);
    mockEks('https://ABCDEF.gr7.us-east-1.eks.amazonaws.com');
    const result = await swing(
      [
        'init',
        '--eks-cluster',
        CLUSTER,
        '--smoke-auth',
        'none',
        '--certificate-arn',
        CERTIFICATE,
        '--domain-name',
        'search.migration.example.com',
        '--out',
        out,
        '--manifests-dir',
        manifests,
      ],
      { kubeConfig: fake.kubeConfig() },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /kubeconfig's context reaches http:\/\/127\.0\.0\.1:\d+, not migration-eks-cluster-dev-us-east-1 .*not in vpc-0a1b2c3d4e5f60718/,
    );
    expect(fake.requests).toEqual([]);
    nothingWritten();
  });

  it('names every missing fact in one run: no stage in the cluster name, no target, no such cluster', async () => {
    cluster.deployments = cluster.deployments.filter(
      (deployment) => (deployment.metadata as { name: string }).name !== 'replayer',
    );
    fake = await startFakeKubernetes(cluster);
    mockEks(fake.url);
    aws.eks.on(DescribeClusterCommand, { name: 'my-cluster' }).resolves({
      cluster: {
        name: 'my-cluster',
        arn: 'arn:aws:eks:us-east-1:123456789012:cluster/my-cluster',
        endpoint: fake.url,
        resourcesVpcConfig: {
          vpcId: 'vpc-0a1b2c3d4e5f60718',
          subnetIds: ['subnet-0aa11bb22cc33dd44'],
          clusterSecurityGroupId: 'sg-0c1d2e3f4a5b6c7d8',
        },
      },
    });
    const base = [
      'init',
      '--smoke-auth',
      'none',
      '--certificate-arn',
      CERTIFICATE,
      '--domain-name',
      'search.migration.example.com',
      '--out',
      out,
      '--manifests-dir',
      manifests,
    ];
    const result = await swing([...base, '--eks-cluster', 'my-cluster'], { kubeConfig: fake.kubeConfig() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot tell the stage from the cluster name my-cluster: pass --stage/);
    expect(result.stderr).toMatch(/names the target \(--target-uri\): pass --target-endpoint/);
    const missing = await swing([...base, '--eks-cluster', 'nope'], { kubeConfig: fake.kubeConfig() });
    expect(missing.stderr).toMatch(/no EKS cluster named nope in this region/);
    nothingWritten();
  });

  it('asks for --certificate-arn and --domain-name before any call', async () => {
    fake = await startFakeKubernetes(cluster);
    const result = await swing(['init', '--eks-cluster', CLUSTER, '--smoke-auth', 'none', '--out', out], {
      kubeConfig: fake.kubeConfig(),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/missing --certificate-arn .* and --domain-name/);
    expect(result.clientRequests).toBe(0);
    expect(fake.requests).toEqual([]);
  });
});

describe('Command: swing front-door manifests', () => {
  it("writes the manifests (the example's reverse capture included) from a config and its deployed stack, and refuses before the deploy", async () => {
    resetAws();
    const dir = mkdtempSync(join(tmpdir(), 'swing-front-door-'));
    const manifests = join(dir, 'k8s');
    aws.cloudFormation
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(new Error('Stack with id Swing-dev does not exist'), { name: 'ValidationError' }),
      );
    const config = 'infra/example-eks.config.json';
    const before = await swing(['front-door', 'manifests', '--config', config, '--manifests-dir', manifests]);
    expect(before.code).toBe(2);
    expect(before.stderr).toMatch(/nothing written: stack Swing-dev does not exist: deploy it first/);
    expect(existsSync(manifests)).toBe(false);

    aws.cloudFormation.on(DescribeStacksCommand, { StackName: 'Swing-dev' }).resolves({
      Stacks: [{ StackName: 'Swing-dev', StackStatus: 'CREATE_IN_PROGRESS', CreationTime: new Date() }],
    });
    const during = await swing(['front-door', 'manifests', '--config', config, '--manifests-dir', manifests]);
    expect(during.code).toBe(2);
    expect(during.stderr).toMatch(
      /nothing written: stack Swing-dev is CREATE_IN_PROGRESS: wait until cdk deploy has finished .*then run swing front-door manifests/,
    );
    aws.cloudFormation.on(DescribeStacksCommand, { StackName: 'Swing-dev' }).resolves({
      Stacks: [{ StackName: 'Swing-dev', StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date() }],
    });
    const failed = await swing(['front-door', 'manifests', '--config', config, '--manifests-dir', manifests]);
    expect(failed.stderr).toMatch(/stack Swing-dev is ROLLBACK_COMPLETE: its deploy failed/);
    expect(existsSync(manifests)).toBe(false);

    aws.cloudFormation.on(DescribeStacksCommand, { StackName: 'Swing-dev' }).resolves({
      Stacks: [
        {
          StackName: 'Swing-dev',
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date(),
          Outputs: FRONT_DOOR_OUTPUTS,
        },
      ],
    });
    const after = await swing(['front-door', 'manifests', '--config', config, '--manifests-dir', manifests]);
    expect(after.stderr).toBe('');
    expect(readdirSync(manifests).sort()).toEqual([
      'swing-front-door-source.targetgroupbinding.yaml',
      'swing-front-door-target.targetgroupbinding.yaml',
      'swing-reverse-replayer-otel.configmap.yaml',
      'swing-reverse-replayer.deployment.yaml',
      'swing-target-proxy.deployment.yaml',
      'swing-target-proxy.service.yaml',
      'swing-target-traffic.kafkatopic.yaml',
    ]);
  });
});

describe('Command: swing init --migration-stage on an EKS deployment', () => {
  it('says there is no ALB on 3.x on EKS and points at --eks-cluster and docs/migration-assistant.md', async () => {
    resetAws();
    aws.elbv2
      .on(DescribeLoadBalancersCommand)
      .rejects(Object.assign(new Error('not found'), { name: 'LoadBalancerNotFoundException' }));
    const dir = mkdtempSync(join(tmpdir(), 'swing-init-'));
    const result = await swing([
      'init',
      '--migration-stage',
      'dev',
      '--smoke-auth',
      'none',
      '--out',
      join(dir, 'x.json'),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /no load balancer named MigrationAssistant-dev.*3\.x on EKS has no ALB.*swing init --eks-cluster and docs\/migration-assistant\.md/,
    );
  });
});
