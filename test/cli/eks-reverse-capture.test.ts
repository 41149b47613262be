import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { containerOptions, discoverReverseCapture } from '../../cli/eks-reverse-capture.ts';
import { parseSwingConfig } from '../../infra/config.ts';
import { frontDoorManifests } from '../../infra/front-door-manifests.ts';
import { exampleConfigInput } from '../infra/stacks.ts';

type Json = Record<string, unknown>;

const PROXY_IMAGE = 'public.ecr.aws/opensearchproject/opensearch-migrations-traffic-capture-proxy:3.0.0';
const REPLAYER_IMAGE = 'public.ecr.aws/opensearchproject/opensearch-migrations-traffic-replayer:3.0.0';

/**
 * The capture proxy's Deployment as the Migration Assistant's EKS workflow writes it (setupCapture.ts,
 * makeProxyDeploymentManifest): one `---INLINE-JSON` argument, base64 of the options, the SCRAM password from
 * the Kafka user's Secret, the cluster CA's Secret mounted as `kafka-ca`.
 */
function workflowCaptureProxy(options: Json): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'capture-proxy', namespace: 'ma' },
    spec: {
      selector: { matchLabels: { 'migrations/proxy': 'capture-proxy' } },
      template: {
        metadata: { labels: { 'migrations/proxy': 'capture-proxy' } },
        spec: {
          containers: [
            {
              name: 'proxy',
              image: PROXY_IMAGE,
              args: ['---INLINE-JSON', Buffer.from(JSON.stringify(options)).toString('base64')],
              env: [
                {
                  name: 'CAPTURE_PROXY_KAFKA_PASSWORD',
                  valueFrom: { secretKeyRef: { name: 'migration-app', key: 'password', optional: false } },
                },
              ],
            },
          ],
          volumes: [
            { name: 'kafka-auth-config', configMap: { name: 'capture-proxy-kafka-auth' } },
            { name: 'kafka-ca', secret: { secretName: 'default-cluster-ca-cert', optional: false } },
          ],
        },
      },
    },
  };
}

/** The replayer's Deployment (replayer.ts): its options inline too. */
const workflowReplayer: V1Deployment = {
  metadata: { name: 'replayer', namespace: 'ma' },
  spec: {
    selector: { matchLabels: { app: 'replayer' } },
    template: {
      spec: {
        containers: [
          {
            name: 'replayer',
            image: REPLAYER_IMAGE,
            args: [
              '---INLINE-JSON',
              JSON.stringify({ targetUri: 'https://target:9200', kafkaTrafficTopic: 'capture-proxy' }),
            ],
          },
        ],
      },
    },
  },
};

const SCRAM_OPTIONS = {
  destinationUri: 'https://elasticsearch-master:9200',
  insecureDestination: true,
  listenPort: 9201,
  kafkaConnection: 'default-kafka-bootstrap:9093',
  kafkaTopic: 'capture-proxy',
  kafkaListenerName: 'tls',
  kafkaAuthType: 'scram-sha-512',
  kafkaUserName: 'migration-app',
  kafkaPropertyFile: '/config/kafka-auth/client.properties',
};

describe("swing init --eks-cluster: reverse capture from the Migration Assistant's workflow Deployments", () => {
  it('reads the options from the inline JSON, base64 or plain, and from flags', () => {
    const inline = containerOptions(workflowCaptureProxy(SCRAM_OPTIONS).spec!.template.spec!.containers[0]);
    expect(inline.get('kafkaConnection')).toBe('default-kafka-bootstrap:9093');
    expect(inline.get('insecureDestination')).toBe(true);
    expect(inline.get('listenPort')).toBe('9201');
    const flags = containerOptions({ name: 'p', args: ['--noCapture', '--destinationUri=https://x:443'] });
    expect(flags.get('noCapture')).toBe(true);
    expect(flags.get('destinationUri')).toBe('https://x:443');
  });

  it('writes SCRAM Kafka, the Strimzi cluster and the source as the capture proxy has them; the manifests follow', () => {
    const found = discoverReverseCapture(workflowCaptureProxy(SCRAM_OPTIONS), [workflowReplayer], 'dev');
    expect(found.reason).toBeUndefined();
    expect(found.config).toMatchObject({
      topic: 'swing-target-traffic',
      kafka: {
        bootstrapServers: 'default-kafka-bootstrap:9093',
        authType: 'scram-sha-512',
        listenerName: 'tls',
        userName: 'migration-app',
        passwordSecret: { name: 'migration-app', key: 'password' },
        caSecretName: 'default-cluster-ca-cert',
        strimziCluster: 'default',
      },
      replayer: {
        image: REPLAYER_IMAGE,
        sourceUri: 'https://elasticsearch-master:9200',
        insecure: true,
        qualifier: 'dev-reverse',
      },
    });
    // What init writes is a section the config accepts, and it yields the SCRAM manifests.
    const config = parseSwingConfig(
      exampleConfigInput('example-eks.config.json', (raw) => {
        ((raw.frontDoor as Json).kubernetes as Json).reverseCapture = JSON.parse(
          JSON.stringify(found.config),
        );
      }),
    );
    const kinds = frontDoorManifests(config.frontDoor!).map((m) => `${m.kind}/${m.metadata.name}`);
    expect(kinds).toContain('ConfigMap/swing-reverse-replayer-kafka');
    expect(kinds).toContain('KafkaTopic/swing-target-traffic');
  });

  it('leaves reverse capture out, saying why, when the proxy captures nothing, has no Kafka or no replayer is found', () => {
    const noCapture = workflowCaptureProxy({ destinationUri: 'https://s:9200', noCapture: true });
    expect(discoverReverseCapture(noCapture, [workflowReplayer], 'dev')).toEqual({
      reason: 'the capture proxy captures nothing (--noCapture)',
    });
    const file = workflowCaptureProxy({ destinationUri: 'https://s:9200', traceDirectory: '/tmp' });
    expect(discoverReverseCapture(file, [workflowReplayer], 'dev').reason).toMatch(/names no Kafka/);
    expect(discoverReverseCapture(workflowCaptureProxy(SCRAM_OPTIONS), [], 'dev').reason).toMatch(
      /no replayer Deployment/,
    );
    const scramWithoutCa = workflowCaptureProxy(SCRAM_OPTIONS);
    scramWithoutCa.spec!.template.spec!.volumes = [];
    expect(discoverReverseCapture(scramWithoutCa, [workflowReplayer], 'dev').reason).toMatch(
      /SCRAM user, password Secret or CA Secret/,
    );
  });
});
