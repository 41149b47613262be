import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ValidationFailed } from '#domain/errors.ts';
import { formatWeights } from '#domain/weights.ts';
import { parseSwingConfig, type SwingConfigInput } from '../../infra/config.ts';
import { action } from '../action.ts';
import type { CliDeps } from '../deps.ts';
import { CliFailure, ExitCodes } from '../exit-codes.ts';
import {
  discoverMigrationAssistant,
  type MigrationAssistantDeployment,
  MigrationAssistantNotFound,
} from '../migration-assistant.ts';

type SmokeAuth = NonNullable<SwingConfigInput['smoke']>['auth'];

const AUTH_HELP =
  "none, basic:<Secrets Manager ARN of {username,password}>, sigv4:es or sigv4:aoss (the clusters' own auth)";

/** `--smoke-auth`: the one thing the Migration Assistant's ALB does not tell, so the operator says it. */
export function smokeAuthFrom(text: string | undefined, region: string): SmokeAuth {
  const [kind, ...rest] = (text ?? '').split(':');
  const value = rest.join(':');
  if (kind === 'none' && value === '') return { type: 'none' };
  if (kind === 'basic' && value.startsWith('arn:')) return { type: 'basic', secretArn: value };
  if (kind === 'sigv4' && (value === 'es' || value === 'aoss'))
    return { type: 'sigv4', service: value, region };
  throw new ValidationFailed([
    {
      field: '--smoke-auth',
      message:
        text === undefined
          ? `is required: how the smoke checks authenticate to the clusters through the proxies: ${AUTH_HELP}`
          : `is '${text}': use ${AUTH_HELP}`,
    },
  ]);
}

interface InitOptions {
  migrationStage: string;
  smokeAuth?: string;
  out: string;
  force?: boolean;
  sourceUrl?: string;
  targetUrl?: string;
  trustCertificateSha256?: string;
  smokeSecurityGroup?: string[];
  notify?: string[];
}

/** The import-mode config the CDK app deploys as it is (`-c swing:configFile=<file>`). */
export function initConfig(
  found: MigrationAssistantDeployment,
  options: InitOptions,
): SwingConfigInput & {
  $comment: string;
} {
  const { loadBalancer } = found;
  const securityGroupIds = options.smokeSecurityGroup?.length
    ? options.smokeSecurityGroup
    : loadBalancer.securityGroupIds;
  return {
    $comment:
      `Written by swing init --migration-stage ${found.stage} from the Migration Assistant deployment ` +
      `${loadBalancer.name} (weighted listener on ${found.listener.port}, now ${formatWeights(found.listener.weights)}). ` +
      `Deploy with: npx cdk deploy --no-notices -c swing:configFile=${options.out}`,
    stackName: `Swing-${found.stage}`,
    env: { account: found.account, region: found.region },
    mode: 'import',
    import: {
      listenerArn: found.listener.arn,
      sourceTargetGroupArn: found.sourceTargetGroupArn,
      targetTargetGroupArn: found.targetTargetGroupArn,
      // The ALB is internal: the smoke-test function runs beside it, in its VPC and subnets.
      smokeVpc: {
        vpcId: loadBalancer.vpcId,
        subnetIds: loadBalancer.subnetIds,
        ...(securityGroupIds.length > 0 ? { securityGroupIds } : {}),
      },
    },
    smoke: {
      sourceEndpoint: found.sourceUrl,
      targetEndpoint: found.targetUrl,
      timeoutMs: 5000,
      ...(found.trustedCertificateSha256 ? { trustedCertificateSha256: found.trustedCertificateSha256 } : {}),
      auth: smokeAuthFrom(options.smokeAuth, found.region),
      checks: [
        { name: 'root', path: '/', expectStatus: 200 },
        {
          name: 'cluster health',
          path: '/_cluster/health',
          expectJson: { pointer: '/status', notEqual: 'red' },
        },
        { name: 'document count', path: '/_count', compare: { pointer: '/count', tolerancePercent: 1 } },
      ],
    },
    insufficientDataPolicy: 'not-firing',
    notificationEmails: options.notify ?? [],
  };
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerInit(program: Command, deps: CliDeps): void {
  program
    .command('init')
    .description("Write a Swing config for a Migration Assistant deployment, found by its stage's names")
    .requiredOption('--migration-stage <stage>', 'the Migration Assistant stage, e.g. dev')
    .option('--smoke-auth <auth>', `how smoke checks authenticate: ${AUTH_HELP}`)
    .option('--out <file>', 'where to write the config', 'swing.config.json')
    .option('--force', 'overwrite --out if it exists')
    .option('--source-url <url>', 'the source smoke URL, when SSM has no albSourceProxyUrl')
    .option('--target-url <url>', 'the target smoke URL, when SSM has no albTargetProxyUrl')
    .option('--trust-certificate-sha256 <fingerprint>', "pin the ALB's certificate without reading ACM")
    .option(
      '--smoke-security-group <sg-id>',
      "security group of the smoke-test function (repeatable; default: the ALB's own groups)",
      collect,
    )
    .option('--notify <email>', 'who is told about each outcome (repeatable)', collect)
    .addHelpText(
      'after',
      `
Finds, by the names the Migration Assistant's CDK deployment gives them: the ALB MigrationAssistant-<stage>,
its weighted listener (443 since MA 2.2.2, 9200 before: whichever forwards to both proxies), the target
groups ALBSourceProxy-<stage>-TG and ALBTargetProxy-<stage>-TG, and the smoke URLs in SSM
(/migration/<stage>/default/albSourceProxyUrl, albTargetProxyUrl). It checks they fit together, pins the
ALB's self-signed certificate (read from ACM) so the smoke checks can reach it, and writes an import-mode
config. Anything missing or shaped otherwise is named with its fix, and nothing is written.
Needs: elasticloadbalancing:Describe*, ssm:GetParameters, acm:DescribeCertificate, acm:GetCertificate.

Examples:
  $ swing init --migration-stage dev --smoke-auth none
  $ swing init --migration-stage prod --region eu-west-1 --smoke-auth basic:arn:aws:secretsmanager:...`,
    )
    .action(
      action(deps, async (ctx, command) => {
        const options = command.opts<InitOptions>();
        // Checked before any AWS call: a missing flag should not cost a discovery.
        smokeAuthFrom(options.smokeAuth, 'us-east-1');
        let found: MigrationAssistantDeployment;
        try {
          found = await discoverMigrationAssistant(
            { elbv2: ctx.clients.elbv2, ssm: ctx.clients.ssm, acm: ctx.clients.acm },
            options.migrationStage,
            {
              ...(options.sourceUrl ? { sourceUrl: options.sourceUrl } : {}),
              ...(options.targetUrl ? { targetUrl: options.targetUrl } : {}),
              ...(options.trustCertificateSha256
                ? { trustedCertificateSha256: options.trustCertificateSha256 }
                : {}),
            },
          );
        } catch (error) {
          if (!(error instanceof MigrationAssistantNotFound)) throw error;
          throw new CliFailure(ExitCodes.BadInput, `nothing written: ${error.message}`);
        }
        const config = initConfig(found, options);
        // The CDK app parses the file with this very schema: refuse here what `cdk synth` would refuse there.
        parseSwingConfig(
          JSON.parse(JSON.stringify(config), (key, value) => (key === '$comment' ? undefined : value)),
        );
        const path = resolve(options.out);
        try {
          writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { flag: options.force ? 'w' : 'wx' });
        } catch (error) {
          if ((error as { code?: string }).code !== 'EEXIST') throw error;
          throw new CliFailure(
            ExitCodes.BadInput,
            `${options.out} exists: choose another --out, or pass --force`,
          );
        }
        ctx.result({ written: path, deployment: found }, () =>
          [
            `Found ${found.loadBalancer.name}: weighted listener on ${found.listener.port} at ${formatWeights(found.listener.weights)}`,
            `  source ${found.sourceUrl}, target ${found.targetUrl}` +
              (found.trustedCertificateSha256 ? ', certificate pinned (self-signed)' : ''),
            `Wrote ${path}. Next: npx cdk deploy --no-notices -c swing:configFile=${options.out}`,
          ].join('\n'),
        );
      }),
    );
}
