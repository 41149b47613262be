import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ValidationFailed } from '#domain/errors.ts';
import { formatWeights } from '#domain/weights.ts';
import { parseSwingConfig, type SwingConfigInput } from '../../infra/config.ts';
import type { CommandHandler } from '../action.ts';
import { CliFailure, ExitCodes } from '../exit-codes.ts';
import {
  discoverMigrationAssistant,
  type MigrationAssistantDeployment,
  MigrationAssistantNotFound,
} from '../migration-assistant.ts';
import { smokeAuthFrom } from '../smoke-auth.ts';
import type { EksInitOptions } from './init-eks.ts';

interface InitOptions {
  migrationStage?: string;
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

/** `swing init`: see its definition in cli/definitions/init.ts. */
export const runInit: CommandHandler = async (ctx, command) => {
  const options = command.opts<InitOptions & Partial<EksInitOptions>>();
  if (options.eksCluster) {
    // Migration Assistant 3.x on EKS: EKS, EC2 and the Kubernetes client load only for this path.
    const { runEksInit } = await import('./init-eks.ts');
    return runEksInit(ctx, options as EksInitOptions);
  }
  if (!options.migrationStage) {
    throw new ValidationFailed([
      {
        field: '--migration-stage',
        message:
          'or --eks-cluster is required: --migration-stage for a classic (ECS) Migration Assistant, --eks-cluster ' +
          'for 3.x on EKS (docs/migration-assistant.md)',
      },
    ]);
  }
  const { migrationStage } = options;
  // Checked before any AWS call: a missing flag should not cost a discovery.
  smokeAuthFrom(options.smokeAuth, 'us-east-1');
  let found: MigrationAssistantDeployment;
  try {
    found = await discoverMigrationAssistant(
      { elbv2: ctx.clients.elbv2, ssm: ctx.clients.ssm, acm: ctx.clients.acm },
      migrationStage,
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
    throw new CliFailure(ExitCodes.BadInput, `${options.out} exists: choose another --out, or pass --force`);
  }
  ctx.result({ written: path, deployment: found }, () =>
    [
      `Found ${found.loadBalancer.name}: weighted listener on ${found.listener.port} at ${formatWeights(found.listener.weights)}`,
      `  source ${found.sourceUrl}, target ${found.targetUrl}` +
        (found.trustedCertificateSha256 ? ', certificate pinned (self-signed)' : ''),
      // The classic Target Cluster Proxy is --noCapture by construction: nothing here can turn it on.
      'Reverse capture: not configured: the classic target proxy runs with --noCapture, so a rollback after the ' +
        'write cutover reports its exposure; docs/migration-assistant.md says what to change for a lossless one',
      `Wrote ${path}. Next: npx cdk deploy --no-notices -c swing:configFile=${options.out}`,
    ].join('\n'),
  );
};
