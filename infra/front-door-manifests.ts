import { stringify } from 'yaml';
import type { FrontDoorConfig } from './front-door-config.ts';
import { kafkaPodParts, reverseReplayerManifests, targetProxyCaptureArgs } from './front-door-reverse.ts';
import type { KubernetesManifest } from './kubernetes-manifest.ts';

/**
 * The Kubernetes side of the front door, as plain manifests that people can review, commit (GitOps) and apply:
 * the target proxy (the Migration Assistant's capture-proxy image with --noCapture in front of the target, as
 * its classic deployment runs its "target cluster proxy": an ALB cannot route to a managed OpenSearch domain
 * directly) as a Deployment and a ClusterIP Service, and one TargetGroupBinding per side, which has the load
 * balancer controller register the pods' IPs in the stack's target groups and open the pods' security group to
 * the ALB's on the proxies' ports alone (`networking`).
 */

export type { KubernetesManifest };

/** What the deployed stack gives the TargetGroupBindings (its outputs, or tokens in the same CDK app). */
export interface FrontDoorBindingTargets {
  readonly sourceTargetGroupArn: string;
  readonly targetTargetGroupArn: string;
  /** The ALB's security group: the pods let it in on the proxies' ports. */
  readonly loadBalancerSecurityGroupId: string;
}

export const SOURCE_BINDING_NAME = 'swing-front-door-source';
export const TARGET_BINDING_NAME = 'swing-front-door-target';
const TLS_MOUNT = '/etc/swing-target-proxy-tls';
const AUTHORIZATION_VARIABLE = 'SWING_TARGET_AUTHORIZATION';

const labels = (name: string) => ({
  'app.kubernetes.io/name': name,
  'app.kubernetes.io/part-of': 'swing-front-door',
  'app.kubernetes.io/managed-by': 'swing',
});

/**
 * The capture proxy's own flags (its CaptureProxy.Parameters): listen, forward, and capture nothing, or, with
 * reverse capture, capture the writes to the target proxy's own topic.
 */
export function targetProxyArgs(door: FrontDoorConfig): string[] {
  const proxy = door.kubernetes.targetProxy;
  const reverse = door.kubernetes.reverseCapture;
  return [
    ...(reverse ? targetProxyCaptureArgs(reverse, proxy.name) : ['--noCapture']),
    '--listenPort',
    String(door.target.port),
    '--destinationUri',
    proxy.destinationUri,
    ...(proxy.insecureDestination ? ['--insecureDestination'] : []),
    ...(door.target.protocol === 'HTTPS'
      ? ['--sslCertChainFile', `${TLS_MOUNT}/tls.crt`, '--sslKeyFile', `${TLS_MOUNT}/tls.key`]
      : []),
    // Kubernetes expands $(VAR) in args from the container's environment: the value stays in the Secret.
    ...(proxy.authorizationSecret ? ['--setHeader', 'Authorization', `$(${AUTHORIZATION_VARIABLE})`] : []),
  ];
}

export function targetProxyManifests(door: FrontDoorConfig): KubernetesManifest[] {
  const { namespace, targetProxy: proxy } = door.kubernetes;
  const metadata = { name: proxy.name, namespace, labels: labels(proxy.name) };
  const selector = { 'app.kubernetes.io/name': proxy.name };
  const port = door.target.port;
  const tls = door.target.protocol === 'HTTPS' && proxy.tlsSecretName;
  const reverse = door.kubernetes.reverseCapture;
  const kafka = reverse
    ? kafkaPodParts(reverse, 'CAPTURE_PROXY_KAFKA_PASSWORD')
    : { env: [], volumeMounts: [], volumes: [] };
  const authorization = proxy.authorizationSecret && {
    name: AUTHORIZATION_VARIABLE,
    valueFrom: {
      secretKeyRef: { name: proxy.authorizationSecret.name, key: proxy.authorizationSecret.key },
    },
  };
  const env = [...(authorization ? [authorization] : []), ...kafka.env];
  const volumeMounts = [
    ...(tls ? [{ name: 'tls', mountPath: TLS_MOUNT, readOnly: true }] : []),
    ...kafka.volumeMounts,
  ];
  const volumes = [...(tls ? [{ name: 'tls', secret: { secretName: tls } }] : []), ...kafka.volumes];
  // Under MSK IAM the proxy writes the topic with its pod identity.
  const serviceAccountName =
    reverse?.kafka.authType === 'msk-iam' ? reverse.kafka.serviceAccountName : undefined;
  const deployment: KubernetesManifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata,
    spec: {
      replicas: proxy.replicas,
      selector: { matchLabels: selector },
      // One pod at a time, a new one ready before an old one goes: the target group never empties.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: metadata.labels },
        spec: {
          ...(serviceAccountName ? { serviceAccountName } : {}),
          // Spread over zones, as the ALB is: a zone's loss leaves the target side served.
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'topology.kubernetes.io/zone',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: selector },
            },
          ],
          // Longer than the target groups' deregistration delay (30 s): requests in flight finish.
          terminationGracePeriodSeconds: 45,
          containers: [
            {
              name: 'target-proxy',
              image: proxy.image,
              args: targetProxyArgs(door),
              ports: [{ name: 'proxy', containerPort: port, protocol: 'TCP' }],
              ...(env.length > 0 ? { env } : {}),
              // A TCP check: an HTTP one would reach the target cluster, whose health is the alarms' business.
              readinessProbe: { tcpSocket: { port: 'proxy' }, periodSeconds: 5, failureThreshold: 2 },
              livenessProbe: { tcpSocket: { port: 'proxy' }, periodSeconds: 10, failureThreshold: 3 },
              resources: {
                requests: { cpu: '500m', memory: '1Gi' },
                limits: { memory: '2Gi' },
              },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              ...(volumeMounts.length > 0 ? { volumeMounts } : {}),
            },
          ],
          ...(volumes.length > 0 ? { volumes } : {}),
        },
      },
    },
  };
  const service: KubernetesManifest = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata,
    spec: {
      type: 'ClusterIP',
      selector,
      ports: [{ name: 'proxy', port, targetPort: 'proxy', protocol: 'TCP' }],
    },
  };
  return [deployment, service];
}

export function targetGroupBindings(
  door: FrontDoorConfig,
  bound: FrontDoorBindingTargets,
): KubernetesManifest[] {
  const { namespace, targetGroupBindingApi, captureProxyService, targetProxy } = door.kubernetes;
  const binding = (name: string, serviceName: string, servicePort: number, podPort: number, arn: string) => ({
    apiVersion: targetGroupBindingApi,
    kind: 'TargetGroupBinding',
    metadata: { name, namespace, labels: labels(name) },
    spec: {
      serviceRef: { name: serviceName, port: servicePort },
      targetGroupARN: arn,
      targetType: 'ip',
      networking: {
        ingress: [
          {
            from: [{ securityGroup: { groupID: bound.loadBalancerSecurityGroupId } }],
            ports: [{ port: podPort, protocol: 'TCP' }],
          },
        ],
      },
    },
  });
  return [
    binding(
      SOURCE_BINDING_NAME,
      captureProxyService.name,
      captureProxyService.port,
      door.source.port,
      bound.sourceTargetGroupArn,
    ),
    binding(
      TARGET_BINDING_NAME,
      targetProxy.name,
      door.target.port,
      door.target.port,
      bound.targetTargetGroupArn,
    ),
  ];
}

/**
 * Every manifest the front door needs (with reverse capture, the reverse replayer's too); the bindings only once
 * the stack (its target groups) exists.
 */
export function frontDoorManifests(
  door: FrontDoorConfig,
  bound?: FrontDoorBindingTargets,
): KubernetesManifest[] {
  return [
    ...targetProxyManifests(door),
    ...reverseReplayerManifests(door),
    ...(bound ? targetGroupBindings(door, bound) : []),
  ];
}

/** One file per object, named `<name>.<kind>.yaml`, for `kubectl apply -f <dir>` and review. */
export function manifestFiles(manifests: readonly KubernetesManifest[]): { name: string; text: string }[] {
  return manifests.map((manifest) => ({
    name: `${manifest.metadata.name}.${manifest.kind.toLowerCase()}.yaml`,
    text: `# Written by swing (front door). Review, commit, then: kubectl apply -f <this folder>\n${stringify(manifest)}`,
  }));
}
