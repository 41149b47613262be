import { DescribeVpcsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { type Cluster, DescribeClusterCommand, type EKSClient } from '@aws-sdk/client-eks';
import type { KubeConfig, V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import type { TargetGroupBindingApi } from '../infra/front-door-config.ts';
import {
  containerOptions,
  discoverReverseCapture,
  type FoundReverseCapture,
  optionValue,
} from './eks-reverse-capture.ts';
import { chooseFrontDoorSubnets } from './eks-subnets.ts';

/**
 * What a Migration Assistant 3.x deployment on EKS tells about itself, found the way an operator would: the
 * cluster's network from EKS (DescribeCluster), the VPC's address ranges from EC2, the capture proxy from the
 * Kubernetes API with the operator's kubeconfig. Its chart names each capture proxy's Service after the proxy,
 * selects its pods by `migrations/proxy: <name>` and lets a `CaptureProxy` resource own it.
 */

/** The ports init talks to; cli/eks-ports.ts builds them from the SDKs and the kubeconfig. */
export interface EksDiscoveryPorts {
  readonly eks: EKSClient;
  readonly ec2: EC2Client;
  readonly kubeConfig: KubeConfig;
}

export interface EksDiscoveryRequest {
  readonly clusterName: string;
  readonly namespace: string;
  /** The capture proxy's name, when the namespace has several. */
  readonly proxy?: string;
  readonly stage?: string;
  readonly targetEndpoint?: string;
  /** The front door's subnets, when the cluster's private ones are not the right ones. */
  readonly subnets?: readonly string[];
}

export interface EksDeployment {
  readonly region: string;
  readonly account: string;
  readonly cluster: {
    readonly name: string;
    readonly endpoint: string;
    readonly vpcId: string;
    readonly vpcCidrs: string[];
    readonly subnetIds: string[];
    readonly podSecurityGroupId: string;
    readonly autoModeLoadBalancing: boolean;
  };
  readonly namespace: string;
  readonly targetGroupBindingApi: TargetGroupBindingApi;
  readonly captureProxy: {
    readonly name: string;
    readonly service: string;
    readonly servicePort: number;
    readonly podPort: number;
    readonly protocol: 'HTTPS' | 'HTTP';
    readonly image: string;
    readonly podIps: string[];
  };
  readonly stage: string;
  readonly targetEndpoint: string;
  /** Reverse capture from the capture proxy's Kafka, or why it is left out. */
  readonly reverseCapture: FoundReverseCapture;
}

/** Init found something missing or wrong: each problem names its fix. Nothing was written. */
export class EksDeploymentNotFound extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'EksDeploymentNotFound';
  }
}

export const PROXY_LABEL = 'migrations/proxy';
/** The 3.x solution names its cluster migration-eks-cluster-<stage>-<region>. */
const CLUSTER_NAME = /^migration-eks-cluster-(.+)-[a-z]{2}(?:-[a-z]+)+-\d$/;

/** The CRDs that serve TargetGroupBinding, and the version each must serve. */
const BINDING_CRDS: readonly { api: TargetGroupBindingApi; crd: string; version: string }[] = [
  { api: 'eks.amazonaws.com/v1', crd: 'targetgroupbindings.eks.amazonaws.com', version: 'v1' },
  { api: 'elbv2.k8s.aws/v1beta1', crd: 'targetgroupbindings.elbv2.k8s.aws', version: 'v1beta1' },
];

const statusOf = (error: unknown) => (error as { code?: number }).code;

function ipv4ToNumber(ip: string): number | undefined {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255))
    return undefined;
  return parts.reduce((value, part) => value * 256 + part, 0);
}

export function cidrContains(cidr: string, ip: string): boolean {
  const [base = '', bits = '32'] = cidr.split('/');
  const network = ipv4ToNumber(base);
  const address = ipv4ToNumber(ip);
  if (network === undefined || address === undefined) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(network / size) === Math.floor(address / size);
}

async function describeCluster(ports: EksDiscoveryPorts, name: string): Promise<Cluster> {
  try {
    const { cluster } = await ports.eks.send(new DescribeClusterCommand({ name }));
    if (cluster?.resourcesVpcConfig?.vpcId) return cluster;
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
  }
  throw new EksDeploymentNotFound([
    `no EKS cluster named ${name} in this region: check --eks-cluster and --region (the Migration Assistant ` +
      'names it migration-eks-cluster-<stage>-<region>)',
  ]);
}

/** Which TargetGroupBinding API the cluster serves: Auto Mode's when its load balancing is on, else the controller's. */
async function bindingApi(
  ports: EksDiscoveryPorts,
  autoMode: boolean,
): Promise<TargetGroupBindingApi | undefined> {
  const { ApiextensionsV1Api } = await import('@kubernetes/client-node');
  const api = ports.kubeConfig.makeApiClient(ApiextensionsV1Api);
  const served: TargetGroupBindingApi[] = [];
  for (const candidate of BINDING_CRDS) {
    try {
      const crd = await api.readCustomResourceDefinition({ name: candidate.crd });
      if (crd.spec.versions.some((version) => version.name === candidate.version && version.served))
        served.push(candidate.api);
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }
  if (served.length > 1) return autoMode ? 'eks.amazonaws.com/v1' : 'elbv2.k8s.aws/v1beta1';
  return served[0];
}

function captureProxyServices(services: readonly V1Service[]): V1Service[] {
  return services.filter(
    (service) =>
      service.spec?.selector?.[PROXY_LABEL] !== undefined ||
      service.metadata?.ownerReferences?.some((owner) => owner.kind === 'CaptureProxy'),
  );
}

/**
 * The replayer's target: `--target-uri` (or `--targetUri`) of a Deployment in the namespace, as a flag or in the
 * `---INLINE-JSON` argument the Migration Assistant's workflow passes.
 */
function replayerTarget(deployments: readonly V1Deployment[]): string | undefined {
  for (const deployment of deployments) {
    const options = containerOptions(deployment.spec?.template.spec?.containers?.[0]);
    const target = optionValue(options, 'target-uri', 'targetUri');
    if (target) return target;
  }
  return undefined;
}

interface ProxyFacts {
  service?: V1Service;
  deployment?: V1Deployment;
  pods: V1Pod[];
}

async function readProxy(
  ports: EksDiscoveryPorts,
  request: EksDiscoveryRequest,
  problems: string[],
): Promise<ProxyFacts & { deployments: V1Deployment[] }> {
  const { AppsV1Api, CoreV1Api } = await import('@kubernetes/client-node');
  const core = ports.kubeConfig.makeApiClient(CoreV1Api);
  const apps = ports.kubeConfig.makeApiClient(AppsV1Api);
  const { namespace } = request;
  const [services, deployments] = await Promise.all([
    core.listNamespacedService({ namespace }).then((list) => list.items),
    apps.listNamespacedDeployment({ namespace }).then((list) => list.items),
  ]);
  const proxies = captureProxyServices(services);
  const names = proxies.map((service) => service.metadata?.name ?? '?');
  let service: V1Service | undefined;
  if (request.proxy) {
    service = proxies.find((candidate) => candidate.metadata?.name === request.proxy);
    if (!service) {
      problems.push(
        `no capture proxy Service named ${request.proxy} in namespace ${namespace} (its capture proxies: ` +
          `${names.join(', ') || 'none'}): check --proxy and --namespace`,
      );
    }
  } else if (proxies.length === 1) {
    service = proxies[0];
  } else if (proxies.length === 0) {
    problems.push(
      `no capture proxy Service in namespace ${namespace} (a Service selecting ${PROXY_LABEL}: <name>, as the ` +
        "Migration Assistant's chart creates for each CaptureProxy): check --namespace and that the capture proxy is deployed",
    );
  } else {
    problems.push(
      `namespace ${namespace} has ${proxies.length} capture proxies (${names.join(', ')}): pass --proxy <name>`,
    );
  }
  if (!service) return { deployments, pods: [] };
  const selector = service.spec?.selector ?? {};
  const deployment = deployments.find((candidate) =>
    Object.entries(selector).every(
      ([key, value]) => candidate.spec?.template.metadata?.labels?.[key] === value,
    ),
  );
  const labelSelector = Object.entries(selector)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  const pods = (await core.listNamespacedPod({ namespace, labelSelector })).items;
  return { service, deployment, pods, deployments };
}

/** The pods' port: the Service's targetPort, a number or the name of a container port. */
function podPort(service: V1Service, deployment: V1Deployment | undefined): number | undefined {
  const port = service.spec?.ports?.[0];
  const target = port?.targetPort ?? port?.port;
  if (typeof target === 'number') return target;
  const containers = deployment?.spec?.template.spec?.containers ?? [];
  return containers
    .flatMap((container) => container.ports ?? [])
    .find((candidate) => candidate.name === target)?.containerPort;
}

export async function discoverEksDeployment(
  ports: EksDiscoveryPorts,
  request: EksDiscoveryRequest,
): Promise<EksDeployment> {
  const cluster = await describeCluster(ports, request.clusterName);
  const network = cluster.resourcesVpcConfig!;
  const vpcId = network.vpcId!;
  const problems: string[] = [];
  const server = ports.kubeConfig.getCurrentCluster()?.server ?? '';
  const sameCluster =
    cluster.endpoint !== undefined && server.replace(/\/+$/, '') === cluster.endpoint.replace(/\/+$/, '');
  if (!sameCluster) {
    // Then every Kubernetes fact below would be another cluster's, whose proxy is not in this VPC.
    throw new EksDeploymentNotFound([
      `your kubeconfig's context reaches ${server || 'no cluster'}, not ${request.clusterName} (${cluster.endpoint}): ` +
        `a capture proxy found there is not in ${vpcId}; run aws eks update-kubeconfig --name ${request.clusterName} ` +
        'or pass --kube-context',
    ]);
  }
  const autoMode = cluster.kubernetesNetworkConfig?.elasticLoadBalancing?.enabled === true;
  const [vpcs, subnets, api, proxy] = await Promise.all([
    ports.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] })),
    chooseFrontDoorSubnets(ports.ec2, vpcId, network.subnetIds ?? [], request.subnets),
    bindingApi(ports, autoMode),
    readProxy(ports, request, problems),
  ]);
  problems.push(...subnets.problems);
  const vpcCidrs = (vpcs.Vpcs?.[0]?.CidrBlockAssociationSet ?? [])
    .filter((association) => association.CidrBlockState?.State === 'associated')
    .flatMap((association) => (association.CidrBlock ? [association.CidrBlock] : []));
  if (!api) {
    problems.push(
      'the cluster serves no TargetGroupBinding API (neither targetgroupbindings.eks.amazonaws.com v1, EKS Auto ' +
        "Mode's load balancing, nor targetgroupbindings.elbv2.k8s.aws v1beta1, the AWS Load Balancer Controller's): " +
        'enable Auto Mode load balancing or install the controller',
    );
  }
  const { service, deployment, pods, deployments } = proxy;
  const name = service?.metadata?.name ?? '';
  const image = deployment?.spec?.template.spec?.containers?.[0]?.image;
  if (service && !deployment) {
    problems.push(
      `no Deployment in ${request.namespace} runs the pods of Service ${name}: the capture proxy's image is needed`,
    );
  }
  const port = service ? podPort(service, deployment) : undefined;
  if (service && port === undefined)
    problems.push(`Service ${name}: cannot tell its pods' port from its targetPort`);
  const podIps = pods.flatMap((pod) => (pod.status?.podIP ? [pod.status.podIP] : []));
  const outside = podIps.filter((ip) => !vpcCidrs.some((cidr) => cidrContains(cidr, ip)));
  if (service && outside.length > 0) {
    problems.push(
      `the capture proxy's pods ${outside.join(', ')} are not in ${vpcId} (${vpcCidrs.join(', ') || 'no CIDR'}): ` +
        "the ALB registers pod IPs of its own VPC; the pods' network (an overlay CNI?) must be the VPC's",
    );
  } else if (service && podIps.length === 0) {
    problems.push(`the capture proxy ${name} has no running pod: start it, then run init again`);
  }
  const stage = request.stage ?? CLUSTER_NAME.exec(request.clusterName)?.[1];
  if (!stage) {
    problems.push(
      `cannot tell the stage from the cluster name ${request.clusterName}: pass --stage (the qualifier of the ` +
        "Migration Assistant's metrics)",
    );
  }
  const targetEndpoint = request.targetEndpoint ?? replayerTarget(deployments);
  if (!targetEndpoint) {
    problems.push(
      `no Deployment in ${request.namespace} names the target (--target-uri): pass --target-endpoint https://...`,
    );
  }
  if (problems.length > 0 || !api || !service || !image || port === undefined || !stage || !targetEndpoint) {
    throw new EksDeploymentNotFound(problems);
  }
  const [, , , region = '', account = ''] = (cluster.arn ?? '').split(':');
  const proxyOptions = containerOptions(deployment!.spec?.template.spec?.containers?.[0]);
  return {
    region,
    account,
    cluster: {
      name: request.clusterName,
      endpoint: cluster.endpoint ?? '',
      vpcId,
      vpcCidrs,
      subnetIds: subnets.subnetIds,
      podSecurityGroupId: network.clusterSecurityGroupId ?? '',
      autoModeLoadBalancing: autoMode,
    },
    namespace: request.namespace,
    targetGroupBindingApi: api,
    captureProxy: {
      name: service.spec?.selector?.[PROXY_LABEL] ?? name,
      service: name,
      servicePort: service.spec?.ports?.[0]?.port ?? port,
      podPort: port,
      // The proxy serves TLS when it is given a certificate.
      protocol: proxyOptions.has('sslCertChainFile') || proxyOptions.has('sslConfigFile') ? 'HTTPS' : 'HTTP',
      image,
      podIps,
    },
    stage,
    targetEndpoint,
    reverseCapture: discoverReverseCapture(deployment!, deployments, stage),
  };
}
