import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseSwingConfig, type SwingConfigInput } from '../../infra/config.ts';
import { frontDoorManifests } from '../../infra/front-door-manifests.ts';
import type { CommandContext } from '../context.ts';
import { discoverEksDeployment, type EksDeployment, EksDeploymentNotFound } from '../eks-front-door.ts';
import { defaultEksPorts } from '../eks-ports.ts';
import { CliFailure, ExitCodes } from '../exit-codes.ts';
import { deployedFrontDoor, writeManifests } from '../front-door-files.ts';
import { smokeAuthFrom } from '../smoke-auth.ts';

/** `swing init --eks-cluster`: Migration Assistant 3.x on EKS, where Swing brings the front door. */
export interface EksInitOptions {
  eksCluster: string;
  namespace: string;
  proxy?: string;
  stage?: string;
  targetEndpoint?: string;
  certificateArn?: string;
  domainName?: string;
  allowedCidr?: string[];
  subnet?: string[];
  kubeContext?: string;
  smokeAuth?: string;
  out: string;
  manifestsDir: string;
  force?: boolean;
  notify?: string[];
}

const SMOKE_CHECKS = [
  { name: 'root', path: '/', expectStatus: 200 },
  { name: 'cluster health', path: '/_cluster/health', expectJson: { pointer: '/status', notEqual: 'red' } },
  { name: 'document count', path: '/_count', compare: { pointer: '/count', tolerancePercent: 1 } },
];

/** The front-door config the CDK app deploys as it is. */
export function eksInitConfig(
  found: EksDeployment,
  options: EksInitOptions,
): SwingConfigInput & { $comment: string } {
  const proxy = found.captureProxy;
  return {
    $comment:
      `Written by swing init --eks-cluster ${found.cluster.name} --namespace ${found.namespace} (capture proxy ` +
      `${proxy.name}, stage ${found.stage}). Deploy with: npx cdk deploy --no-notices -c swing:configFile=${options.out}; ` +
      `then: swing front-door manifests --config ${options.out} --manifests-dir ${options.manifestsDir}`,
    stackName: `Swing-${found.stage}`,
    env: { account: found.account, region: found.region },
    mode: 'front-door',
    frontDoor: {
      vpcId: found.cluster.vpcId,
      subnetIds: found.cluster.subnetIds,
      podSecurityGroupId: found.cluster.podSecurityGroupId,
      certificateArn: options.certificateArn ?? '',
      domainName: options.domainName ?? '',
      // Who reaches 443: the VPC's own ranges unless the operator names the clients'.
      allowedCidrs: options.allowedCidr?.length ? options.allowedCidr : found.cluster.vpcCidrs,
      source: { protocol: proxy.protocol, port: proxy.podPort },
      target: { protocol: 'HTTP', port: 9200 },
      kubernetes: {
        namespace: found.namespace,
        clusterName: found.cluster.name,
        targetGroupBindingApi: found.targetGroupBindingApi,
        captureProxyService: { name: proxy.service, port: proxy.servicePort },
        targetProxy: {
          name: 'swing-target-proxy',
          image: proxy.image,
          destinationUri: found.targetEndpoint,
          replicas: 2,
        },
        ...(found.reverseCapture.config ? { reverseCapture: found.reverseCapture.config } : {}),
      },
    },
    smoke: { timeoutMs: 5000, auth: smokeAuthFrom(options.smokeAuth, found.region), checks: SMOKE_CHECKS },
    replayLag: { qualifier: found.stage },
    insufficientDataPolicy: 'not-firing',
    notificationEmails: options.notify ?? [],
  };
}

/** Whether a rollback after the write cutover can be lossless with what init wrote. */
function reverseCaptureLine(found: EksDeployment): string {
  const { config, reason } = found.reverseCapture;
  return config
    ? `Reverse capture: the target proxy captures to ${config.topic} on ${config.kafka.bootstrapServers}, the ` +
        `reverse replayer applies it to ${config.replayer.sourceUri} (qualifier ${config.replayer.qualifier}, source ` +
        'auth none: set replayer.auth if the source needs its own credentials)'
    : `Reverse capture: not configured (${reason}): the target proxy runs with --noCapture and a rollback after ` +
        'the write cutover reports its exposure; docs/migration-assistant.md says how to set it';
}

/** Flags that init needs whatever it finds: checked before any call, so a missing one costs no discovery. */
function refuseMissingFlags(options: EksInitOptions): void {
  const missing = [
    ...(options.certificateArn
      ? []
      : ['--certificate-arn (the ACM certificate of the front door: it covers --domain-name)']),
    ...(options.domainName ? [] : ['--domain-name (the name clients will use for the front door)']),
  ];
  if (missing.length > 0) throw new CliFailure(ExitCodes.BadInput, `missing ${missing.join(' and ')}`);
  smokeAuthFrom(options.smokeAuth, 'us-east-1');
}

export async function runEksInit(ctx: CommandContext, options: EksInitOptions): Promise<void> {
  refuseMissingFlags(options);
  const ports = await (ctx.deps.eksPorts ?? defaultEksPorts)(ctx.awsOptions, options.kubeContext);
  let found: EksDeployment;
  try {
    found = await discoverEksDeployment(ports, {
      clusterName: options.eksCluster,
      namespace: options.namespace,
      ...(options.proxy ? { proxy: options.proxy } : {}),
      ...(options.stage ? { stage: options.stage } : {}),
      ...(options.targetEndpoint ? { targetEndpoint: options.targetEndpoint } : {}),
      ...(options.subnet?.length ? { subnets: options.subnet } : {}),
    });
  } catch (error) {
    if (!(error instanceof EksDeploymentNotFound)) throw error;
    throw new CliFailure(ExitCodes.BadInput, `nothing written: ${error.message}`);
  }
  const config = eksInitConfig(found, options);
  // The CDK app parses the file with this very schema: refuse here what `cdk synth` would refuse there.
  const parsed = parseSwingConfig(
    JSON.parse(JSON.stringify(config), (key, value) => (key === '$comment' ? undefined : value)),
  );
  const path = resolve(options.out);
  if (existsSync(path) && !options.force) {
    throw new CliFailure(
      ExitCodes.BadInput,
      `nothing written: ${options.out} exists: choose another --out, or pass --force`,
    );
  }
  // With the stack already deployed, the bindings can name its target groups now; otherwise after the deploy.
  const bound = await deployedFrontDoor(ctx.clients.cloudFormation, parsed.stackName);
  const manifests = writeManifests(
    options.manifestsDir,
    frontDoorManifests(parsed.frontDoor!, bound),
    options.force === true,
  );
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
  ctx.result({ written: path, manifests, deployment: found }, () =>
    [
      `Found ${found.cluster.name} (${found.cluster.vpcId}): capture proxy ${found.captureProxy.service}:${found.captureProxy.servicePort} ` +
        `in ${found.namespace}, TargetGroupBinding ${found.targetGroupBindingApi}, stage ${found.stage}`,
      reverseCaptureLine(found),
      `Wrote ${path}`,
      ...manifests.map((manifest) => `Wrote ${manifest}`),
      `Next: npx cdk deploy --no-notices -c swing:configFile=${options.out}` +
        (bound
          ? `, then kubectl apply -f ${options.manifestsDir}`
          : `, then swing front-door manifests --config ${options.out} --manifests-dir ${options.manifestsDir} ` +
            '(the bindings name the deployed target groups) and kubectl apply -f ' +
            options.manifestsDir),
    ].join('\n'),
  );
}
