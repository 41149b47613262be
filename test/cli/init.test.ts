import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeCertificateCommand, GetCertificateCommand } from '@aws-sdk/client-acm';
import {
  DescribeListenersCommand,
  type DescribeListenersCommandInput,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  type Listener,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParametersCommand } from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it } from 'vitest';
import { aws, fixture, resetAws, swing } from '#test/cli/harness.ts';
import { parseSwingConfig } from '../../infra/config.ts';
import { nagViolations, synthSwing } from '../infra/stacks.ts';

type Listeners = { Listeners: Listener[] };

/** The Migration Assistant's stage `dev` as its CDK deployment leaves it, with `reshape` applied to the listeners. */
function mockMigrationAssistant(reshape: (listeners: Listener[]) => void = () => {}): void {
  const described = fixture<Listeners>('ma-elbv2-describe-listeners');
  reshape(described.Listeners);
  aws.elbv2.on(DescribeLoadBalancersCommand).resolves(fixture('ma-elbv2-describe-load-balancers'));
  aws.elbv2
    .on(DescribeTargetGroupsCommand, { Names: ['ALBSourceProxy-dev-TG'] })
    .resolves(fixture('ma-elbv2-describe-target-groups-source'))
    .on(DescribeTargetGroupsCommand, { Names: ['ALBTargetProxy-dev-TG'] })
    .resolves(fixture('ma-elbv2-describe-target-groups-target'));
  aws.elbv2.on(DescribeListenersCommand).callsFake((input: DescribeListenersCommandInput) => ({
    Listeners: input.ListenerArns
      ? described.Listeners.filter((listener) => input.ListenerArns?.includes(listener.ListenerArn ?? ''))
      : described.Listeners,
  }));
  aws.ssm.on(GetParametersCommand).resolves(fixture('ma-ssm-get-parameters'));
  aws.acm.on(DescribeCertificateCommand).resolves(fixture('ma-acm-describe-certificate'));
  aws.acm.on(GetCertificateCommand).resolves(fixture('ma-acm-get-certificate'));
}

const notFound = (name: string) => Object.assign(new Error(`${name}: not found`), { name, $metadata: {} });

describe('Command: swing init --migration-stage', () => {
  let dir: string;
  let out: string;
  const init = (...extra: string[]) =>
    swing(['init', '--migration-stage', 'dev', '--smoke-auth', 'none', '--out', out, ...extra]);

  beforeEach(() => {
    resetAws();
    dir = mkdtempSync(join(tmpdir(), 'swing-init-'));
    out = join(dir, 'swing.config.json');
  });

  it("writes an import-mode config for the stage's ALB that the CDK app synthesizes, cdk-nag clean", async () => {
    mockMigrationAssistant();

    const result = await init();

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const written = JSON.parse(readFileSync(out, 'utf8'));
    const config = parseSwingConfig(
      JSON.parse(JSON.stringify(written), (key, value) => (key === '$comment' ? undefined : value)),
    );
    expect(config.import).toMatchObject({
      listenerArn: expect.stringMatching(
        /listener\/app\/MigrationAssistant-dev\/8c1f2e3d4a5b6c7d\/a1b2c3d4e5f60718$/,
      ),
      sourceTargetGroupArn: expect.stringMatching(/targetgroup\/ALBSourceProxy-dev-TG\//),
      targetTargetGroupArn: expect.stringMatching(/targetgroup\/ALBTargetProxy-dev-TG\//),
      smokeVpc: {
        vpcId: 'vpc-0a1b2c3d4e5f60718',
        subnetIds: ['subnet-0aa11bb22cc33dd44', 'subnet-0ee55ff66aa77bb88'],
        securityGroupIds: ['sg-0c1d2e3f4a5b6c7d8'],
      },
    });
    expect(config.env).toEqual({ account: '123456789012', region: 'us-east-1' });
    expect(config.smoke).toMatchObject({
      sourceEndpoint: 'https://alb.migration.dev.local:9201',
      targetEndpoint: 'https://alb.migration.dev.local:9202',
      auth: { type: 'none' },
      insecureTls: false,
    });
    expect(config.smoke.checks?.map((check) => check.path)).toEqual(['/', '/_cluster/health', '/_count']);
    const { template, app, missingContext } = synthSwing(config);
    expect(missingContext).toEqual([]);
    expect(nagViolations(app)).toEqual([]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Swing smoke-test',
      VpcConfig: { SubnetIds: ['subnet-0aa11bb22cc33dd44', 'subnet-0ee55ff66aa77bb88'] },
    });
    // The stage in the ALB's name is the qualifier of the replayer's metrics: reads-first works without more.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Swing-dev-replay-lag',
      Dimensions: [
        { Name: 'OTelLib', Value: 'replayer' },
        { Name: 'qualifier', Value: 'dev' },
      ],
    });
    expect(result.stdout).toMatch(/weighted listener on 443 at source 1 \/ target 0 \(0\.0 % target\)/);
    // The classic target proxy cannot capture without changing the Migration Assistant: init says so.
    expect(result.stdout).toMatch(
      /Reverse capture: not configured: the classic target proxy runs with --noCapture/,
    );
    // Synthesizing the stack and running cdk-nag take seconds of CPU, more on a loaded machine.
  }, 120_000);

  it("pins the weighted listener's self-signed certificate, read from ACM, so the smoke checks can reach it", async () => {
    mockMigrationAssistant();
    const pem = fixture<{ Certificate: string }>('ma-acm-get-certificate').Certificate;

    await init();

    const written = JSON.parse(readFileSync(out, 'utf8'));
    expect(written.smoke.trustedCertificateSha256).toBe(new X509Certificate(pem).fingerprint256);
    expect(aws.acm.commandCalls(GetCertificateCommand)[0]?.args[0].input.CertificateArn).toMatch(
      /certificate\/5e0c7a1b/,
    );
  });

  it('finds the weighted listener on whatever port it is (9200 before MA 2.2.2)', async () => {
    mockMigrationAssistant((listeners) => {
      listeners[0]!.Port = 9200;
    });

    const result = await init('--json');

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).deployment.listener.port).toBe(9200);
  });

  it('takes the cluster auth from --smoke-auth, which the ALB cannot tell', async () => {
    mockMigrationAssistant();
    const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:migration-source-AbCdEf';

    await swing(['init', '--migration-stage', 'dev', '--smoke-auth', `basic:${secretArn}`, '--out', out]);

    expect(JSON.parse(readFileSync(out, 'utf8')).smoke.auth).toEqual({ type: 'basic', secretArn });
  });

  it('refuses without --smoke-auth, naming the choices, before any AWS call', async () => {
    const result = await swing(['init', '--migration-stage', 'dev', '--out', out]);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--smoke-auth: is required: .*none, basic:.*sigv4:es or sigv4:aoss/);
    expect(result.clientRequests).toBe(0);
    expect(existsSync(out)).toBe(false);
  });

  describe('refuses, naming the fix and writing nothing, when', () => {
    it('the stage has no ALB', async () => {
      mockMigrationAssistant();
      aws.elbv2.on(DescribeLoadBalancersCommand).rejects(notFound('LoadBalancerNotFoundException'));

      const result = await init();

      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        /nothing written: no load balancer named MigrationAssistant-dev.*--migration-stage and --region/,
      );
      expect(existsSync(out)).toBe(false);
    });

    it('a proxy target group is missing', async () => {
      mockMigrationAssistant();
      aws.elbv2
        .on(DescribeTargetGroupsCommand, { Names: ['ALBTargetProxy-dev-TG'] })
        .rejects(notFound('TargetGroupNotFoundException'));

      const result = await init();

      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        /no target group named ALBTargetProxy-dev-TG \(the Target Cluster Proxy\)/,
      );
      expect(existsSync(out)).toBe(false);
    });

    it('no listener forwards to exactly the two proxies', async () => {
      mockMigrationAssistant((listeners) => {
        const forward = listeners[0]!.DefaultActions![0]!.ForwardConfig!;
        forward.TargetGroups!.push({
          TargetGroupArn:
            'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/other/0123456789abcdef',
          Weight: 0,
        });
      });

      const result = await init();

      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        /no listener of MigrationAssistant-dev forwards to exactly ALBSourceProxy-dev-TG and ALBTargetProxy-dev-TG \(its listeners: 443 \(forward to .*other.*\), 9201 \(forward to ALBSourceProxy-dev-TG\)/,
      );
      expect(existsSync(out)).toBe(false);
    });

    it("the weighted listener's default action is shaped otherwise than a rollout accepts", async () => {
      mockMigrationAssistant((listeners) => {
        // The forward is not what ALB performs last: a rollout could not swing this listener.
        listeners[0]!.DefaultActions![0]!.Order = 1;
        listeners[0]!.DefaultActions!.push({
          Type: 'fixed-response',
          Order: 2,
          FixedResponseConfig: { StatusCode: '503' },
        });
      });

      const result = await init();

      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/the weighted listener on 443: /);
      expect(existsSync(out)).toBe(false);
    });

    it('the smoke URLs are not in SSM, and says which flag gives them', async () => {
      mockMigrationAssistant();
      aws.ssm.on(GetParametersCommand).resolves({
        Parameters: [],
        InvalidParameters: [
          '/migration/dev/default/albSourceProxyUrl',
          '/migration/dev/default/albTargetProxyUrl',
        ],
      });

      const result = await init();

      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        /SSM parameter \/migration\/dev\/default\/albSourceProxyUrl is missing: pass --source-url/,
      );
      expect(result.stderr).toMatch(/albTargetProxyUrl is missing: pass --target-url/);
      expect(existsSync(out)).toBe(false);
    });

    it('a smoke URL reaches a listener that does not test its path alone', async () => {
      mockMigrationAssistant();

      const result = await init('--source-url', 'https://alb.migration.dev.local:9202');

      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        /source-url .*:9202: the listener on 9202 does not forward to ALBSourceProxy-dev-TG alone/,
      );
      expect(existsSync(out)).toBe(false);
    });

    it("the listener's certificate cannot be read, and says how to pin it by hand", async () => {
      mockMigrationAssistant();
      aws.acm.on(DescribeCertificateCommand).rejects(notFound('AccessDeniedException'));

      const result = await init();

      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/AccessDeniedException.*--trust-certificate-sha256/);
      expect(existsSync(out)).toBe(false);
    });

    it('the file exists, unless --force', async () => {
      mockMigrationAssistant();
      writeFileSync(out, 'mine\n');

      const refused = await init();
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/exists: choose another --out, or pass --force/);
      expect(readFileSync(out, 'utf8')).toBe('mine\n');

      expect((await init('--force')).code).toBe(0);
      expect(readFileSync(out, 'utf8')).toMatch(/"mode": "import"/);
    });
  });
});
