import { X509Certificate } from 'node:crypto';
import { type ACMClient, DescribeCertificateCommand, GetCertificateCommand } from '@aws-sdk/client-acm';
import {
  type Action,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  type ElasticLoadBalancingV2Client,
  type Listener,
  type LoadBalancer,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParametersCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { AlbListener, forwardedGroups } from '#adapters/listener.ts';
import type { Weights } from '#domain/types.ts';

/**
 * What the Migration Assistant's CDK deployment (opensearch-migrations, network stack) creates for a stage, by
 * name: nothing of it is exported as an ARN, so Swing finds it the way an operator would, then cross-checks it.
 */
export const migrationAssistantNames = (stage: string, deployId = 'default') => ({
  loadBalancer: `MigrationAssistant-${stage}`,
  sourceTargetGroup: `ALBSourceProxy-${stage}-TG`,
  targetTargetGroup: `ALBTargetProxy-${stage}-TG`,
  sourceUrlParameter: `/migration/${stage}/${deployId}/albSourceProxyUrl`,
  targetUrlParameter: `/migration/${stage}/${deployId}/albTargetProxyUrl`,
  listenerUrlParameter: `/migration/${stage}/${deployId}/albMigrationListenerUrl`,
});

export interface MigrationAssistantClients {
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly ssm: SSMClient;
  readonly acm: ACMClient;
}

export interface DiscoveryOverrides {
  readonly sourceUrl?: string;
  readonly targetUrl?: string;
  /** Skips the ACM look-up: the weighted listener's certificate, pinned by the operator. */
  readonly trustedCertificateSha256?: string;
}

export interface MigrationAssistantDeployment {
  readonly stage: string;
  readonly region: string;
  readonly account: string;
  readonly loadBalancer: {
    readonly arn: string;
    readonly name: string;
    readonly dnsName: string;
    readonly scheme: string;
    readonly vpcId: string;
    readonly subnetIds: string[];
    readonly securityGroupIds: string[];
  };
  readonly listener: { readonly arn: string; readonly port: number; readonly weights: Weights };
  readonly sourceTargetGroupArn: string;
  readonly targetTargetGroupArn: string;
  readonly sourceUrl: string;
  readonly targetUrl: string;
  readonly listenerUrl?: string;
  /** Set when the weighted listener serves a certificate no public CA vouches for (the MA's self-signed one). */
  readonly trustedCertificateSha256?: string;
  readonly certificateType?: string;
}

/** One or more things init could not find or that do not match, each named with its fix. Nothing was written. */
export class MigrationAssistantNotFound extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'MigrationAssistantNotFound';
  }
}

const errorName = (error: unknown) => (error instanceof Error ? error.name : 'Error');

function forwardTargets(actions: readonly Action[] | undefined): string[] {
  const forward = (actions ?? []).find((action) => action.Type === 'forward');
  return forward ? forwardedGroups(forward).map((group) => group.arn) : [];
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((item) => b.includes(item));

function describeListener(listener: Listener, names: ReadonlyMap<string, string>): string {
  const targets = forwardTargets(listener.DefaultActions).map((arn) => names.get(arn) ?? arn);
  const action =
    targets.length > 0 ? `forward to ${targets.join(' + ')}` : (listener.DefaultActions?.[0]?.Type ?? 'none');
  return `${listener.Port} (${action})`;
}

function portOf(url: string): number | undefined {
  try {
    const parsed = new URL(url);
    return Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  } catch {
    return undefined;
  }
}

/**
 * Finds a stage's ALB, its weighted listener (whatever its port: 443 since MA 2.2.2, 9200 before), the two
 * proxy target groups and the smoke URLs, and checks they fit together: the weighted listener's default action
 * forwards to exactly the two groups (read with the same adapter a rollout uses), and the smoke URLs reach
 * listeners that forward to one group each. Collects every problem before failing, so one run names them all.
 */
export async function discoverMigrationAssistant(
  clients: MigrationAssistantClients,
  stage: string,
  overrides: DiscoveryOverrides = {},
): Promise<MigrationAssistantDeployment> {
  const names = migrationAssistantNames(stage);
  const problems: string[] = [];
  const loadBalancer = await findLoadBalancer(clients, names);
  const { source, target } = await findTargetGroups(clients, names, loadBalancer.LoadBalancerArn, problems);
  const listeners = await listListeners(clients, loadBalancer.LoadBalancerArn);
  const groupNames = new Map<string, string>([
    ...(source ? ([[source, names.sourceTargetGroup]] as const) : []),
    ...(target ? ([[target, names.targetTargetGroup]] as const) : []),
  ]);
  const listed = listeners.map((listener) => describeListener(listener, groupNames)).join(', ') || 'none';
  const weighted =
    source && target ? findWeighted(listeners, names, source, target, listed, problems) : undefined;
  const weights =
    weighted?.ListenerArn && source && target
      ? await readWeights(clients, weighted, source, target, problems)
      : undefined;
  const parameters = await migrationParameters(clients, names);
  const sourceUrl = overrides.sourceUrl ?? parameters.get(names.sourceUrlParameter);
  const targetUrl = overrides.targetUrl ?? parameters.get(names.targetUrlParameter);
  const smoke = { listeners, listed, groupNames, loadBalancerName: names.loadBalancer };
  checkSmokeUrl(smoke, sourceUrl, names.sourceUrlParameter, '--source-url', source, problems);
  checkSmokeUrl(smoke, targetUrl, names.targetUrlParameter, '--target-url', target, problems);
  const certificate = await listenerCertificate(clients, weighted, overrides, problems);

  if (
    problems.length > 0 ||
    !weighted?.ListenerArn ||
    !weights ||
    !source ||
    !target ||
    !sourceUrl ||
    !targetUrl
  ) {
    throw new MigrationAssistantNotFound(problems);
  }
  const [, , , region = '', account = ''] = loadBalancer.LoadBalancerArn.split(':');
  const listenerUrl = parameters.get(names.listenerUrlParameter);
  return {
    stage,
    region,
    account,
    loadBalancer: {
      arn: loadBalancer.LoadBalancerArn,
      name: names.loadBalancer,
      dnsName: loadBalancer.DNSName ?? '',
      scheme: loadBalancer.Scheme ?? 'internal',
      vpcId: loadBalancer.VpcId ?? '',
      subnetIds: (loadBalancer.AvailabilityZones ?? []).flatMap((zone) =>
        zone.SubnetId ? [zone.SubnetId] : [],
      ),
      securityGroupIds: loadBalancer.SecurityGroups ?? [],
    },
    listener: { arn: weighted.ListenerArn, port: weighted.Port ?? 0, weights },
    sourceTargetGroupArn: source,
    targetTargetGroupArn: target,
    sourceUrl,
    targetUrl,
    ...(listenerUrl ? { listenerUrl } : {}),
    ...(certificate.trustedCertificateSha256
      ? { trustedCertificateSha256: certificate.trustedCertificateSha256 }
      : {}),
    ...(certificate.certificateType ? { certificateType: certificate.certificateType } : {}),
  };
}

type Names = ReturnType<typeof migrationAssistantNames>;

/** The stage's ALB, or a failure at once: nothing else can be found without it. */
async function findLoadBalancer(
  clients: MigrationAssistantClients,
  names: Names,
): Promise<LoadBalancer & { LoadBalancerArn: string }> {
  let loadBalancer: LoadBalancer | undefined;
  try {
    const answer = await clients.elbv2.send(
      new DescribeLoadBalancersCommand({ Names: [names.loadBalancer] }),
    );
    loadBalancer = answer.LoadBalancers?.find(
      (candidate) => candidate.LoadBalancerName === names.loadBalancer,
    );
  } catch (error) {
    if (errorName(error) !== 'LoadBalancerNotFoundException') throw error;
  }
  if (!loadBalancer?.LoadBalancerArn) {
    throw new MigrationAssistantNotFound([
      `no load balancer named ${names.loadBalancer} in this region: check --migration-stage and --region ` +
        '(the Migration Assistant names its ALB MigrationAssistant-<stage>), and that the stage was deployed ' +
        'with its ALB enabled. Migration Assistant 3.x on EKS has no ALB: Swing brings its own front door there, ' +
        'see swing init --eks-cluster and docs/migration-assistant.md',
    ]);
  }
  if (loadBalancer.Type !== 'application') {
    throw new MigrationAssistantNotFound([
      `${names.loadBalancer} is a ${loadBalancer.Type} load balancer: Swing swings an Application Load Balancer's weighted listener`,
    ]);
  }
  return loadBalancer as LoadBalancer & { LoadBalancerArn: string };
}

/** The two proxies' target groups, by name, attached to the ALB; a problem for each one missing. */
async function findTargetGroups(
  clients: MigrationAssistantClients,
  names: Names,
  loadBalancerArn: string,
  problems: string[],
): Promise<{ source?: string; target?: string }> {
  const groupArns = new Map<'source' | 'target', string>();
  for (const [role, name] of [
    ['source', names.sourceTargetGroup],
    ['target', names.targetTargetGroup],
  ] as const) {
    try {
      const answer = await clients.elbv2.send(new DescribeTargetGroupsCommand({ Names: [name] }));
      const group = answer.TargetGroups?.find((candidate) => candidate.TargetGroupName === name);
      if (group?.TargetGroupArn && group.LoadBalancerArns?.includes(loadBalancerArn)) {
        groupArns.set(role, group.TargetGroupArn);
      } else if (group?.TargetGroupArn) {
        problems.push(
          `target group ${name} is not attached to ${names.loadBalancer}: check --migration-stage, or redeploy the ` +
            "Migration Assistant's network stack",
        );
      } else {
        throw Object.assign(new Error(name), { name: 'TargetGroupNotFoundException' });
      }
    } catch (error) {
      if (errorName(error) !== 'TargetGroupNotFoundException') throw error;
      problems.push(
        `no target group named ${name} (the ${role === 'source' ? 'Capture Proxy' : 'Target Cluster Proxy'}): ` +
          'check --migration-stage, and that the Migration Assistant deployed its proxies behind the ALB',
      );
    }
  }
  return { source: groupArns.get('source'), target: groupArns.get('target') };
}

async function listListeners(
  clients: MigrationAssistantClients,
  loadBalancerArn: string,
): Promise<Listener[]> {
  const listeners: Listener[] = [];
  let marker: string | undefined;
  do {
    const page = await clients.elbv2.send(
      new DescribeListenersCommand({
        LoadBalancerArn: loadBalancerArn,
        ...(marker ? { Marker: marker } : {}),
      }),
    );
    listeners.push(...(page.Listeners ?? []));
    marker = page.NextMarker;
  } while (marker);
  return listeners;
}

/** The one listener whose default action forwards to exactly the two proxies. */
function findWeighted(
  listeners: readonly Listener[],
  names: Names,
  source: string,
  target: string,
  listed: string,
  problems: string[],
): Listener | undefined {
  const candidates = listeners.filter((listener) =>
    sameSet(forwardTargets(listener.DefaultActions), [source, target]),
  );
  if (candidates.length === 0) {
    problems.push(
      `no listener of ${names.loadBalancer} forwards to exactly ${names.sourceTargetGroup} and ` +
        `${names.targetTargetGroup} (its listeners: ${listed}): restore the weighted listener's default action ` +
        '(a weighted forward, source 1 / target 0) before Swing can swing it',
    );
  } else if (candidates.length > 1) {
    problems.push(
      `${candidates.length} listeners of ${names.loadBalancer} forward to both proxies ` +
        `(${candidates.map((listener) => listener.Port).join(', ')}): leave one weighted listener`,
    );
  }
  return candidates.length === 1 ? candidates[0] : undefined;
}

async function readWeights(
  clients: MigrationAssistantClients,
  weighted: Listener,
  source: string,
  target: string,
  problems: string[],
): Promise<Weights | undefined> {
  try {
    // The very check a rollout's preflight makes, so init never writes a config preflight would refuse.
    return await new AlbListener(clients.elbv2, {
      listenerArn: weighted.ListenerArn ?? '',
      sourceTargetGroupArn: source,
      targetTargetGroupArn: target,
    }).readWeights();
  } catch (error) {
    problems.push(
      `the weighted listener on ${weighted.Port}: ${error instanceof Error ? error.message : String(error)}`,
    );
    return undefined;
  }
}

/** The smoke and listener URLs the Migration Assistant wrote to SSM. */
async function migrationParameters(
  clients: MigrationAssistantClients,
  names: Names,
): Promise<Map<string, string>> {
  const parameters = new Map<string, string>();
  const wanted = [names.sourceUrlParameter, names.targetUrlParameter, names.listenerUrlParameter];
  const answer = await clients.ssm.send(new GetParametersCommand({ Names: wanted }));
  for (const parameter of answer.Parameters ?? []) {
    if (parameter.Name && parameter.Value) parameters.set(parameter.Name, parameter.Value);
  }
  return parameters;
}

/** A smoke URL must reach a listener of the ALB that forwards to its one group alone. */
function checkSmokeUrl(
  smoke: {
    readonly listeners: readonly Listener[];
    readonly listed: string;
    readonly groupNames: ReadonlyMap<string, string>;
    readonly loadBalancerName: string;
  },
  url: string | undefined,
  parameter: string,
  flag: '--source-url' | '--target-url',
  group: string | undefined,
  problems: string[],
): void {
  if (!url) {
    problems.push(`SSM parameter ${parameter} is missing: pass ${flag} https://<alb name>:<port>`);
    return;
  }
  const port = portOf(url);
  const smokeListener = smoke.listeners.find((listener) => listener.Port === port);
  if (!smokeListener) {
    problems.push(
      `${flag.slice(2)} ${url}: ${smoke.loadBalancerName} has no listener on port ${port} (its listeners: ${smoke.listed})`,
    );
  } else if (group && !sameSet(forwardTargets(smokeListener.DefaultActions), [group])) {
    problems.push(
      `${flag.slice(2)} ${url}: the listener on ${port} does not forward to ${smoke.groupNames.get(group)} alone ` +
        `(${describeListener(smokeListener, smoke.groupNames)}), so a smoke test there would not test that path: pass ${flag}`,
    );
  }
}

/** The weighted listener's certificate: pinned when imported (the MA's self-signed one), unless given. */
async function listenerCertificate(
  clients: MigrationAssistantClients,
  weighted: Listener | undefined,
  overrides: DiscoveryOverrides,
  problems: string[],
): Promise<{ trustedCertificateSha256?: string; certificateType?: string }> {
  let trustedCertificateSha256 = overrides.trustedCertificateSha256;
  let certificateType: string | undefined;
  const certificateArn = weighted?.Certificates?.[0]?.CertificateArn;
  if (!trustedCertificateSha256 && certificateArn) {
    try {
      const described = await clients.acm.send(
        new DescribeCertificateCommand({ CertificateArn: certificateArn }),
      );
      certificateType = described.Certificate?.Type;
      // An imported certificate is the MA's self-signed one (or the operator's own): pin exactly it.
      if (certificateType === 'IMPORTED') {
        const { Certificate: pem } = await clients.acm.send(
          new GetCertificateCommand({ CertificateArn: certificateArn }),
        );
        if (pem) trustedCertificateSha256 = new X509Certificate(pem).fingerprint256;
      }
    } catch (error) {
      problems.push(
        `cannot read the listener's certificate ${certificateArn} (${errorName(error)}): grant ` +
          'acm:DescribeCertificate and acm:GetCertificate, or pass --trust-certificate-sha256 with its fingerprint ' +
          '(openssl s_client -connect <alb>:443 </dev/null | openssl x509 -noout -fingerprint -sha256)',
      );
    }
  }
  return { trustedCertificateSha256, certificateType };
}
