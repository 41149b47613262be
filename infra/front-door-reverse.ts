import { stringify } from 'yaml';
import type { FrontDoorConfig } from './front-door-config.ts';
import type { ReverseCaptureConfig } from './front-door-reverse-config.ts';
import type { KubernetesManifest } from './kubernetes-manifest.ts';

/**
 * The Kubernetes side of reverse capture, built from the Migration Assistant's own parts and flags (its
 * CaptureProxy.Parameters and KafkaConfig.KafkaParameters, TrafficReplayer.Parameters), wired to its Kafka the way
 * its EKS workflow wires its own capture proxy and replayer (setupCapture.ts, replayer.ts): the SCRAM password
 * from a Secret in CAPTURE_PROXY_KAFKA_PASSWORD / TRAFFIC_REPLAYER_KAFKA_TRAFFIC_PASSWORD, a client.properties
 * trusting the cluster's CA (PEM) mounted at /config/kafka-auth, the CA's Secret at /config/kafka-ca.
 */

const KAFKA_AUTH_MOUNT = '/config/kafka-auth';
const KAFKA_PROPERTIES_FILE = `${KAFKA_AUTH_MOUNT}/client.properties`;
const KAFKA_CA_MOUNT = '/config/kafka-ca';
const COLLECTOR_CONFIG_MOUNT = '/etc/otel';
/** The collector beside the replayer listens on the pod's loopback: nothing else sends to it. */
const COLLECTOR_ENDPOINT = 'http://localhost:4317';
/** Reads never change the source: the target proxy does not capture them (the replayer would only re-read). */
const READ_METHODS = 'GET|HEAD';

type Json = Record<string, unknown>;

const labels = (name: string) => ({
  'app.kubernetes.io/name': name,
  'app.kubernetes.io/part-of': 'swing-front-door',
  'app.kubernetes.io/managed-by': 'swing',
});

const kafkaConfigMapName = (reverse: ReverseCaptureConfig) => `${reverse.replayer.name}-kafka`;
const collectorConfigMapName = (reverse: ReverseCaptureConfig) => `${reverse.replayer.name}-otel`;
const isScram = (reverse: ReverseCaptureConfig) => reverse.kafka.authType === 'scram-sha-512';

/** The capture proxy's Kafka flags (KafkaParameters): same brokers and auth as the Migration Assistant's proxy. */
export function targetProxyCaptureArgs(reverse: ReverseCaptureConfig, proxyName: string): string[] {
  const { kafka } = reverse;
  return [
    '--kafkaConnection',
    kafka.bootstrapServers,
    '--kafkaTopic',
    reverse.topic,
    '--kafkaClientId',
    proxyName,
    ...(kafka.authType === 'none' ? [] : ['--kafkaAuthType', kafka.authType]),
    ...(kafka.listenerName ? ['--kafkaListenerName', kafka.listenerName] : []),
    ...(isScram(reverse)
      ? ['--kafkaUserName', kafka.userName!, '--kafkaPropertyFile', KAFKA_PROPERTIES_FILE]
      : []),
    '--suppressCaptureForMethod',
    READ_METHODS,
  ];
}

/** What a pod talking to the Kafka needs besides flags: the SCRAM password, the client properties and the CA. */
export function kafkaPodParts(
  reverse: ReverseCaptureConfig,
  passwordVariable: string,
): { env: Json[]; volumeMounts: Json[]; volumes: Json[] } {
  if (!isScram(reverse)) return { env: [], volumeMounts: [], volumes: [] };
  const { passwordSecret, caSecretName } = reverse.kafka;
  return {
    env: [
      {
        name: passwordVariable,
        valueFrom: { secretKeyRef: { name: passwordSecret!.name, key: passwordSecret!.key } },
      },
    ],
    volumeMounts: [
      { name: 'kafka-auth-config', mountPath: KAFKA_AUTH_MOUNT, readOnly: true },
      { name: 'kafka-ca', mountPath: KAFKA_CA_MOUNT, readOnly: true },
    ],
    volumes: [
      { name: 'kafka-auth-config', configMap: { name: kafkaConfigMapName(reverse) } },
      { name: 'kafka-ca', secret: { secretName: caSecretName! } },
    ],
  };
}

/** The replayer's flags (TrafficReplayer.Parameters): the target proxy's topic, applied to the source. */
export function reverseReplayerArgs(reverse: ReverseCaptureConfig): string[] {
  const { kafka, replayer } = reverse;
  const { auth } = replayer;
  return [
    '--target-uri',
    replayer.sourceUri,
    '--kafka-traffic-brokers',
    kafka.bootstrapServers,
    '--kafka-traffic-topic',
    reverse.topic,
    '--kafka-traffic-group-id',
    replayer.groupId,
    ...(kafka.authType === 'none' ? [] : ['--kafka-traffic-auth-type', kafka.authType]),
    ...(kafka.listenerName ? ['--kafka-traffic-listener-name', kafka.listenerName] : []),
    ...(isScram(reverse)
      ? ['--kafka-traffic-user-name', kafka.userName!, '--kafka-traffic-property-file', KAFKA_PROPERTIES_FILE]
      : []),
    ...(replayer.insecure ? ['--insecure'] : []),
    ...(auth.type === 'sigv4'
      ? ['--sigv4-auth-header-service-region', `${auth.service},${auth.region}`]
      : []),
    '--otelMetricsCollectorEndpoint',
    COLLECTOR_ENDPOINT,
  ];
}

/**
 * The collector beside the reverse replayer: the Migration Assistant's own EKS collector configuration (OTLP in,
 * awsemf to namespace OpenSearchMigrations with the resource attributes as dimensions), except that it upserts
 * the reverse replayer's qualifier where the Migration Assistant's upserts the stage.
 */
export function collectorConfig(reverse: ReverseCaptureConfig): Json {
  return {
    receivers: { otlp: { protocols: { grpc: { endpoint: '127.0.0.1:4317' } } } },
    processors: {
      batch: { timeout: '10s' },
      cumulativetodelta: {},
      'resource/metrics': {
        attributes: [{ key: 'qualifier', value: reverse.replayer.qualifier, action: 'upsert' }],
      },
      'resource/remove_default_attributes': {
        attributes: [
          'telemetry.sdk.name',
          'telemetry.sdk.version',
          'telemetry.sdk.language',
          'service.name',
        ].map((key) => ({ key, action: 'delete' })),
      },
    },
    exporters: {
      'awsemf/app': {
        namespace: 'OpenSearchMigrations',
        dimension_rollup_option: 'NoDimensionRollup',
        resource_to_telemetry_conversion: { enabled: true },
      },
    },
    service: {
      pipelines: {
        'metrics/app': {
          receivers: ['otlp'],
          processors: [
            'batch',
            'resource/remove_default_attributes',
            'resource/metrics',
            'cumulativetodelta',
          ],
          exporters: ['awsemf/app'],
        },
      },
    },
  };
}

function replayerEnv(reverse: ReverseCaptureConfig): Json[] {
  const { auth } = reverse.replayer;
  // The replayer takes its target's basic credentials from TARGET_USERNAME / TARGET_PASSWORD (its target is the
  // source here), as the Migration Assistant's replayer Deployment passes them.
  const basic =
    auth.type === 'basic'
      ? ['username', 'password'].map((key) => ({
          name: `TARGET_${key.toUpperCase()}`,
          valueFrom: { secretKeyRef: { name: auth.secretName, key } },
        }))
      : [];
  return [...kafkaPodParts(reverse, 'TRAFFIC_REPLAYER_KAFKA_TRAFFIC_PASSWORD').env, ...basic];
}

function reverseReplayerDeployment(namespace: string, reverse: ReverseCaptureConfig): KubernetesManifest {
  const { replayer } = reverse;
  const selector = { 'app.kubernetes.io/name': replayer.name };
  const kafka = kafkaPodParts(reverse, 'TRAFFIC_REPLAYER_KAFKA_TRAFFIC_PASSWORD');
  const env = replayerEnv(reverse);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: replayer.name, namespace, labels: labels(replayer.name) },
    spec: {
      replicas: replayer.replicas,
      selector: { matchLabels: selector },
      // As the Migration Assistant's replayer: the old consumers leave the group before new ones join.
      strategy: { type: 'Recreate' },
      template: {
        metadata: { labels: labels(replayer.name) },
        spec: {
          // Its pod identity signs for a SigV4 source, reads an MSK topic and lets the collector write metrics.
          serviceAccountName: replayer.serviceAccountName,
          containers: [
            {
              name: 'reverse-replayer',
              image: replayer.image,
              args: reverseReplayerArgs(reverse),
              ...(env.length > 0 ? { env } : {}),
              resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '2Gi' } },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              ...(kafka.volumeMounts.length > 0 ? { volumeMounts: kafka.volumeMounts } : {}),
            },
            {
              name: 'otel-collector',
              image: replayer.collectorImage,
              args: [`--config=${COLLECTOR_CONFIG_MOUNT}/collector.yaml`],
              env: [
                // The region the Migration Assistant's chart records for its own collector.
                {
                  name: 'AWS_REGION',
                  valueFrom: { configMapKeyRef: { name: 'aws-metadata', key: 'AWS_REGION' } },
                },
              ],
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              volumeMounts: [{ name: 'otel-config', mountPath: COLLECTOR_CONFIG_MOUNT, readOnly: true }],
            },
          ],
          volumes: [
            ...kafka.volumes,
            { name: 'otel-config', configMap: { name: collectorConfigMapName(reverse) } },
          ],
        },
      },
    },
  };
}

/** The reverse replayer and what it mounts: its collector's config, the Kafka client properties under SCRAM. */
export function reverseReplayerManifests(door: FrontDoorConfig): KubernetesManifest[] {
  const reverse = door.kubernetes.reverseCapture;
  if (!reverse) return [];
  const { namespace } = door.kubernetes;
  const configMap = (name: string, data: Record<string, string>): KubernetesManifest => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, labels: labels(name) },
    data,
  });
  const { strimziCluster } = reverse.kafka;
  const topic: KubernetesManifest[] = strimziCluster
    ? [
        {
          // The Migration Assistant's workflow declares its own topics the same way (setupKafka.ts).
          apiVersion: 'kafka.strimzi.io/v1',
          kind: 'KafkaTopic',
          metadata: {
            name: reverse.topic,
            namespace,
            labels: { ...labels(reverse.topic), 'strimzi.io/cluster': strimziCluster },
          },
          spec: { partitions: reverse.topicPartitions },
        },
      ]
    : [];
  return [
    ...topic,
    ...(isScram(reverse)
      ? [
          configMap(kafkaConfigMapName(reverse), {
            'client.properties': `ssl.truststore.type=PEM\nssl.truststore.location=${KAFKA_CA_MOUNT}/ca.crt\n`,
          }),
        ]
      : []),
    configMap(collectorConfigMapName(reverse), { 'collector.yaml': stringify(collectorConfig(reverse)) }),
    reverseReplayerDeployment(namespace, reverse),
  ];
}
