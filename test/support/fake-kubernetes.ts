import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

type Json = Record<string, unknown>;

/** What the fake API server holds: one namespace's objects and the cluster's CRDs. */
export interface FakeCluster {
  services: Json[];
  deployments: Json[];
  pods: Json[];
  /** By name, e.g. targetgroupbindings.eks.amazonaws.com. */
  crds: Record<string, Json>;
}

/**
 * A Migration Assistant 3.x namespace on EKS as its chart leaves it: the capture proxy's Service named after
 * the proxy (selector migrations/proxy, owned by a CaptureProxy, an internal NLB in IP mode), its Deployment
 * and pods, and the replayer, which names the target; EKS Auto Mode's TargetGroupBinding CRD.
 */
export function migrationAssistantCluster(): FakeCluster {
  const labels = { 'migrations/proxy': 'capture-proxy' };
  return {
    services: [
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: {
          name: 'capture-proxy',
          namespace: 'ma',
          annotations: {
            'service.beta.kubernetes.io/aws-load-balancer-type': 'external',
            'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
            'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internal',
          },
          ownerReferences: [
            {
              apiVersion: 'migrations.opensearch.org/v1alpha1',
              kind: 'CaptureProxy',
              name: 'capture-proxy',
              uid: '5f0c2a8e-1111-2222-3333-444455556666',
              controller: true,
            },
          ],
        },
        spec: {
          type: 'LoadBalancer',
          selector: labels,
          ports: [{ name: 'proxy', port: 9201, targetPort: 9201, protocol: 'TCP' }],
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'kafka', namespace: 'ma' },
        spec: { type: 'ClusterIP', selector: { app: 'kafka' }, ports: [{ port: 9092 }] },
      },
    ],
    deployments: [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'capture-proxy', namespace: 'ma' },
        spec: {
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [
                {
                  name: 'capture-proxy',
                  image: 'public.ecr.aws/opensearchproject/opensearch-migrations-traffic-capture-proxy:3.0.0',
                  args: [
                    '--destinationUri',
                    'https://source.ma.svc:9200',
                    '--listenPort',
                    '9201',
                    '--sslCertChainFile',
                    '/certs/tls.crt',
                    '--sslKeyFile',
                    '/certs/tls.key',
                    '--kafkaConnection',
                    'kafka:9092',
                  ],
                  ports: [{ name: 'proxy', containerPort: 9201 }],
                },
              ],
            },
          },
        },
      },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'replayer', namespace: 'ma' },
        spec: {
          selector: { matchLabels: { app: 'replayer' } },
          template: {
            metadata: { labels: { app: 'replayer' } },
            spec: {
              containers: [
                {
                  name: 'replayer',
                  image: 'public.ecr.aws/opensearchproject/opensearch-migrations-traffic-replayer:3.0.0',
                  args: ['--target-uri', 'https://vpc-target-abc123.us-east-1.es.amazonaws.com:443'],
                },
              ],
            },
          },
        },
      },
    ],
    pods: ['10.0.1.23', '10.0.2.45'].map((ip, index) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `capture-proxy-7d9f-${index}`, namespace: 'ma', labels },
      spec: { containers: [{ name: 'capture-proxy', image: 'x' }] },
      status: { phase: 'Running', podIP: ip },
    })),
    crds: {
      'targetgroupbindings.eks.amazonaws.com': {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'targetgroupbindings.eks.amazonaws.com' },
        spec: {
          group: 'eks.amazonaws.com',
          names: { kind: 'TargetGroupBinding', plural: 'targetgroupbindings' },
          scope: 'Namespaced',
          versions: [{ name: 'v1', served: true, storage: true }],
        },
      },
    },
  };
}

const notFound = (what: string) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: `${what} not found`,
  reason: 'NotFound',
  code: 404,
});

/** A Kubernetes API server on 127.0.0.1 serving `cluster` for the reads swing init makes; records each request. */
export async function startFakeKubernetes(
  cluster: FakeCluster,
): Promise<{ url: string; requests: string[]; kubeConfig: () => KubeConfig; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    requests.push(`${request.method} ${url.pathname}`);
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'GET') return send(405, notFound(request.method ?? ''));
    const list = (kind: string, items: Json[]) => send(200, { kind, apiVersion: 'v1', metadata: {}, items });
    const path = url.pathname;
    if (path === '/api/v1/namespaces/ma/services') return list('ServiceList', cluster.services);
    if (path === '/apis/apps/v1/namespaces/ma/deployments')
      return list('DeploymentList', cluster.deployments);
    if (path === '/api/v1/namespaces/ma/pods') {
      const wanted = (url.searchParams.get('labelSelector') ?? '').split(',').filter(Boolean);
      return list(
        'PodList',
        cluster.pods.filter((pod) =>
          wanted.every((term) => {
            const [key = '', value] = term.split('=');
            return ((pod.metadata as Json).labels as Record<string, string>)[key] === value;
          }),
        ),
      );
    }
    if (/^\/api(s\/apps)?\/v1\/namespaces\/[^/]+\/(services|deployments|pods)$/.test(path)) {
      return list('List', []);
    }
    const crd = /^\/apis\/apiextensions\.k8s\.io\/v1\/customresourcedefinitions\/([^/]+)$/.exec(path);
    if (crd) {
      const found = cluster.crds[crd[1]!];
      return found ? send(200, found) : send(404, notFound(`customresourcedefinitions ${crd[1]}`));
    }
    return send(404, notFound(path));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeConfig = () => {
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'migration-eks', server: url, skipTLSVerify: true }],
      users: [{ name: 'operator', token: 'fake-token' }],
      contexts: [{ name: 'migration-eks', cluster: 'migration-eks', user: 'operator' }],
      currentContext: 'migration-eks',
    });
    return config;
  };
  return {
    url,
    requests,
    kubeConfig,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
