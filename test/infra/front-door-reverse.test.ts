import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { ValidationFailed } from '#domain/errors.ts';
import { parseSwingConfig } from '../../infra/config.ts';
import type { FrontDoorConfig } from '../../infra/front-door-config.ts';
import {
  type FrontDoorBindingTargets,
  frontDoorManifests,
  type KubernetesManifest,
  manifestFiles,
} from '../../infra/front-door-manifests.ts';
import { exampleConfigInput } from './stacks.ts';

type Json = Record<string, unknown>;

const BOUND: FrontDoorBindingTargets = {
  sourceTargetGroupArn:
    'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/Source/0123456789abcdef',
  targetTargetGroupArn:
    'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/Target/fedcba9876543210',
  loadBalancerSecurityGroupId: 'sg-0fd00fd00fd00fd00',
};

/**
 * The flags the Migration Assistant's binaries take, and how many values each, as its sources declare them
 * (opensearch-project/opensearch-migrations at 631dc8f: CaptureProxy.Parameters with KafkaConfig.KafkaParameters;
 * TrafficReplayer.Parameters). A flag Swing writes that is not here would stop the pod at start (JCommander
 * refuses unknown flags); a value taken for a flag would shift every later one.
 */
const CAPTURE_PROXY_FLAGS: Record<string, number> = {
  '--noCapture': 0,
  '--listenPort': 1,
  '--destinationUri': 1,
  '--insecureDestination': 0,
  '--sslCertChainFile': 1,
  '--sslKeyFile': 1,
  '--setHeader': 2,
  '--suppressCaptureForMethod': 1,
  '--kafkaTopic': 1,
  '--kafkaConnection': 1,
  '--kafkaClientId': 1,
  '--kafkaAuthType': 1,
  '--kafkaListenerName': 1,
  '--kafkaUserName': 1,
  '--kafkaPropertyFile': 1,
};
const REPLAYER_FLAGS: Record<string, number> = {
  '--target-uri': 1,
  '--insecure': 0,
  '--sigv4-auth-header-service-region': 1,
  '--kafka-traffic-brokers': 1,
  '--kafka-traffic-topic': 1,
  '--kafka-traffic-group-id': 1,
  '--kafka-traffic-auth-type': 1,
  '--kafka-traffic-listener-name': 1,
  '--kafka-traffic-user-name': 1,
  '--kafka-traffic-property-file': 1,
  '--otelMetricsCollectorEndpoint': 1,
};

/** The args as flag -> values, refusing an unknown flag or a value where a flag should be. */
function flagsOf(args: readonly string[], known: Record<string, number>): Map<string, string[]> {
  const flags = new Map<string, string[]>();
  for (let index = 0; index < args.length; ) {
    const flag = args[index]!;
    const arity = known[flag];
    if (arity === undefined) throw new Error(`unknown flag ${flag} at ${index} in ${args.join(' ')}`);
    const values = args.slice(index + 1, index + 1 + arity);
    if (values.length < arity || values.some((value) => value.startsWith('--')))
      throw new Error(`${flag} lacks its value in ${args.join(' ')}`);
    flags.set(flag, values);
    index += 1 + arity;
  }
  return flags;
}

function frontDoor(patch: (reverse: Json) => void = () => {}): FrontDoorConfig {
  return parseSwingConfig(
    exampleConfigInput('example-eks.config.json', (raw) =>
      patch(((raw.frontDoor as Json).kubernetes as Json).reverseCapture as Json),
    ),
  ).frontDoor!;
}

function issuesOf(patch: (reverse: Json) => void) {
  try {
    frontDoor(patch);
  } catch (error) {
    if (error instanceof ValidationFailed) return error.issues;
    throw error;
  }
  throw new Error('expected ValidationFailed, nothing was thrown');
}

const find = (manifests: readonly KubernetesManifest[], kind: string, name: string) => {
  const found = manifests.find((manifest) => manifest.kind === kind && manifest.metadata.name === name);
  if (!found) throw new Error(`no ${kind}/${name} in ${manifests.map((m) => m.metadata.name).join(', ')}`);
  return found as Json;
};
const podOf = (deployment: Json) => ((deployment.spec as Json).template as Json).spec as Json;
const containersOf = (deployment: Json) => podOf(deployment).containers as Json[];

describe('Front door manifests with reverse capture', () => {
  const manifests = frontDoorManifests(frontDoor(), BOUND);
  const proxy = find(manifests, 'Deployment', 'swing-target-proxy');
  const replayer = find(manifests, 'Deployment', 'swing-reverse-replayer');

  it('add the topic, the collector config and the reverse replayer beside the target proxy, all in the namespace', () => {
    expect(manifests.map((manifest) => `${manifest.kind}/${manifest.metadata.name}`)).toEqual([
      'Deployment/swing-target-proxy',
      'Service/swing-target-proxy',
      'KafkaTopic/swing-target-traffic',
      'ConfigMap/swing-reverse-replayer-otel',
      'Deployment/swing-reverse-replayer',
      'TargetGroupBinding/swing-front-door-source',
      'TargetGroupBinding/swing-front-door-target',
    ]);
    for (const manifest of manifests) expect(manifest.metadata.namespace).toBe('ma');
  });

  it('validate against the Kubernetes schemas (both Deployments, the ConfigMap)', () => {
    for (const deployment of [proxy, replayer]) {
      expect(() => new Deployment(deployment as never).validate()).not.toThrow();
    }
    expect(() =>
      new ConfigMap(find(manifests, 'ConfigMap', 'swing-reverse-replayer-otel') as never).validate(),
    ).not.toThrow();
    const broken = structuredClone(replayer);
    (podOf(broken).volumes as Json[])[0]!.configMap = { name: 7 };
    expect(() => new Deployment(broken as never).validate()).toThrow(/name must be string/);
  });

  it("run the target proxy capturing to its own topic on the capture proxy's Kafka, not with --noCapture, reads not captured", () => {
    const [container] = containersOf(proxy);
    const flags = flagsOf(container!.args as string[], CAPTURE_PROXY_FLAGS);
    expect(flags.has('--noCapture')).toBe(false);
    expect(Object.fromEntries(flags)).toEqual({
      '--kafkaConnection': ['default-kafka-bootstrap:9092'],
      '--kafkaTopic': ['swing-target-traffic'],
      '--kafkaClientId': ['swing-target-proxy'],
      '--suppressCaptureForMethod': ['GET|HEAD'],
      '--listenPort': ['9200'],
      '--destinationUri': ['https://vpc-target-abc123.us-east-1.es.amazonaws.com:443'],
    });
    // The topic exists before the proxy writes: the Migration Assistant's Strimzi brokers do not create topics.
    expect(find(manifests, 'KafkaTopic', 'swing-target-traffic')).toMatchObject({
      apiVersion: 'kafka.strimzi.io/v1',
      metadata: { labels: { 'strimzi.io/cluster': 'default' } },
      spec: { partitions: 1 },
    });
  });

  it('run the reverse replayer on that topic against the source, with its basic credentials from the Secret', () => {
    const [main, collector] = containersOf(replayer);
    expect(main!.image).toBe('public.ecr.aws/opensearchproject/opensearch-migrations-traffic-replayer:3.0.0');
    expect(Object.fromEntries(flagsOf(main!.args as string[], REPLAYER_FLAGS))).toEqual({
      '--target-uri': ['https://source.ma.svc:9200'],
      '--kafka-traffic-brokers': ['default-kafka-bootstrap:9092'],
      '--kafka-traffic-topic': ['swing-target-traffic'],
      '--kafka-traffic-group-id': ['swing-reverse-replayer'],
      '--otelMetricsCollectorEndpoint': ['http://localhost:4317'],
    });
    expect(main!.env).toEqual([
      {
        name: 'TARGET_USERNAME',
        valueFrom: { secretKeyRef: { name: 'source-basic-auth', key: 'username' } },
      },
      {
        name: 'TARGET_PASSWORD',
        valueFrom: { secretKeyRef: { name: 'source-basic-auth', key: 'password' } },
      },
    ]);
    const pod = podOf(replayer);
    expect(pod.serviceAccountName).toBe('argo-workflow-executor');
    expect((replayer.spec as Json).replicas).toBe(1);
    expect(collector).toMatchObject({
      name: 'otel-collector',
      image: 'public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3',
      volumeMounts: [{ name: 'otel-config', mountPath: '/etc/otel' }],
    });
    expect(pod.volumes).toEqual([
      { name: 'otel-config', configMap: { name: 'swing-reverse-replayer-otel' } },
    ]);
  });

  it("send the reverse replayer's metrics through a collector that gives them their own qualifier", () => {
    const configMap = find(manifests, 'ConfigMap', 'swing-reverse-replayer-otel');
    const config = parseYaml((configMap.data as Json)['collector.yaml'] as string) as Json;
    const processors = config.processors as Json;
    expect(processors['resource/metrics']).toEqual({
      attributes: [{ key: 'qualifier', value: 'dev-reverse', action: 'upsert' }],
    });
    expect((config.exporters as Json)['awsemf/app']).toMatchObject({ namespace: 'OpenSearchMigrations' });
    const pipeline = ((config.service as Json).pipelines as Json)['metrics/app'] as Json;
    // The qualifier is set after the defaults are removed, and every processor named is defined.
    expect(pipeline.processors).toEqual([
      'batch',
      'resource/remove_default_attributes',
      'resource/metrics',
      'cumulativetodelta',
    ]);
    for (const name of pipeline.processors as string[]) expect(processors).toHaveProperty([name]);
    expect(((config.receivers as Json).otlp as Json).protocols).toEqual({
      grpc: { endpoint: '127.0.0.1:4317' },
    });
  });

  it('under SCRAM give both pods the password, the client properties and the CA as the Migration Assistant does', () => {
    const scram = frontDoorManifests(
      frontDoor((reverse) => {
        reverse.kafka = {
          bootstrapServers: 'default-kafka-bootstrap:9093',
          authType: 'scram-sha-512',
          listenerName: 'tls',
          userName: 'migration-app',
          passwordSecret: { name: 'migration-app' },
          caSecretName: 'default-cluster-ca-cert',
        };
      }),
    );
    const properties = find(scram, 'ConfigMap', 'swing-reverse-replayer-kafka');
    expect(() => new ConfigMap(properties as never).validate()).not.toThrow();
    expect((properties.data as Json)['client.properties']).toBe(
      'ssl.truststore.type=PEM\nssl.truststore.location=/config/kafka-ca/ca.crt\n',
    );
    const mounts = [
      { name: 'kafka-auth-config', mountPath: '/config/kafka-auth', readOnly: true },
      { name: 'kafka-ca', mountPath: '/config/kafka-ca', readOnly: true },
    ];
    const volumes = [
      { name: 'kafka-auth-config', configMap: { name: 'swing-reverse-replayer-kafka' } },
      { name: 'kafka-ca', secret: { secretName: 'default-cluster-ca-cert' } },
    ];
    const secret = { secretKeyRef: { name: 'migration-app', key: 'password' } };
    const proxyDeployment = find(scram, 'Deployment', 'swing-target-proxy');
    const replayerDeployment = find(scram, 'Deployment', 'swing-reverse-replayer');
    for (const deployment of [proxyDeployment, replayerDeployment])
      expect(() => new Deployment(deployment as never).validate()).not.toThrow();
    const [proxyContainer] = containersOf(proxyDeployment);
    expect(proxyContainer!.env).toEqual([{ name: 'CAPTURE_PROXY_KAFKA_PASSWORD', valueFrom: secret }]);
    expect(proxyContainer!.volumeMounts).toEqual(mounts);
    expect(podOf(proxyDeployment).volumes).toEqual(volumes);
    expect(Object.fromEntries(flagsOf(proxyContainer!.args as string[], CAPTURE_PROXY_FLAGS))).toMatchObject({
      '--kafkaAuthType': ['scram-sha-512'],
      '--kafkaListenerName': ['tls'],
      '--kafkaUserName': ['migration-app'],
      '--kafkaPropertyFile': ['/config/kafka-auth/client.properties'],
    });
    const [replayerContainer] = containersOf(replayerDeployment);
    expect(replayerContainer!.env).toContainEqual({
      name: 'TRAFFIC_REPLAYER_KAFKA_TRAFFIC_PASSWORD',
      valueFrom: secret,
    });
    expect(replayerContainer!.volumeMounts).toEqual(mounts);
    const replayerFlags = flagsOf(replayerContainer!.args as string[], REPLAYER_FLAGS);
    expect(replayerFlags.get('--kafka-traffic-auth-type')).toEqual(['scram-sha-512']);
    expect(replayerFlags.get('--kafka-traffic-property-file')).toEqual([
      '/config/kafka-auth/client.properties',
    ]);
  });

  it('under MSK IAM run the target proxy as the named service account; a SigV4 source signs with the pod identity', () => {
    const msk = frontDoorManifests(
      frontDoor((reverse) => {
        reverse.kafka = {
          bootstrapServers: 'b-1.msk.example.com:9098,b-2.msk.example.com:9098',
          authType: 'msk-iam',
          serviceAccountName: 'swing-target-proxy',
        };
        Object.assign(reverse.replayer as Json, {
          auth: { type: 'sigv4', service: 'es', region: 'us-east-1' },
        });
      }),
    );
    expect(msk.map((manifest) => manifest.kind)).not.toContain('KafkaTopic');
    const proxyDeployment = find(msk, 'Deployment', 'swing-target-proxy');
    expect(podOf(proxyDeployment).serviceAccountName).toBe('swing-target-proxy');
    expect(
      flagsOf(containersOf(proxyDeployment)[0]!.args as string[], CAPTURE_PROXY_FLAGS).get('--kafkaAuthType'),
    ).toEqual(['msk-iam']);
    const [main] = containersOf(find(msk, 'Deployment', 'swing-reverse-replayer'));
    const flags = flagsOf(main!.args as string[], REPLAYER_FLAGS);
    expect(flags.get('--sigv4-auth-header-service-region')).toEqual(['es,us-east-1']);
    expect(flags.get('--kafka-traffic-auth-type')).toEqual(['msk-iam']);
    expect(main!.env).toBeUndefined();
  });

  it('refuse an incomplete reverse capture, naming the field and the fix', () => {
    const field = (key: string) => `config.frontDoor.kubernetes.reverseCapture.${key}`;
    expect(
      issuesOf((reverse) => Object.assign(reverse.kafka as Json, { authType: 'scram-sha-512' })),
    ).toEqual(
      ['kafka.userName', 'kafka.passwordSecret', 'kafka.caSecretName'].map((key) => ({
        field: field(key),
        message: expect.stringMatching(/^is required with authType scram-sha-512: .*swing init reads them/),
      })),
    );
    expect(issuesOf((reverse) => Object.assign(reverse.kafka as Json, { authType: 'msk-iam' }))).toEqual([
      {
        field: field('kafka.serviceAccountName'),
        message: expect.stringMatching(/^is required with authType msk-iam/),
      },
    ]);
    expect(issuesOf((reverse) => delete (reverse.replayer as Json).qualifier)).toEqual([
      {
        field: field('replayer.qualifier'),
        message: expect.stringMatching(/own metric qualifier, e\.g\. <stage>-reverse/),
      },
    ]);
    expect(
      issuesOf((reverse) => Object.assign(reverse.kafka as Json, { bootstrapServers: 'kafka' })),
    ).toEqual([
      {
        field: field('kafka.bootstrapServers'),
        message: expect.stringMatching(/^must be the Kafka brokers as host:port/),
      },
    ]);
    expect(issuesOf((reverse) => Object.assign(reverse, { topic: 'Swing_Target' }))).toEqual([
      { field: field('topic'), message: expect.stringMatching(/with kafka\.strimziCluster: its KafkaTopic/) },
    ]);
  });

  it('write one YAML file per object, the new ones included, that parses back the same', () => {
    const files = manifestFiles(manifests);
    expect(files.map((file) => file.name)).toContain('swing-reverse-replayer.deployment.yaml');
    expect(files.map((file) => file.name)).toContain('swing-target-traffic.kafkatopic.yaml');
    for (const [index, file] of files.entries()) {
      expect(parseAllDocuments(file.text)[0]!.toJS()).toEqual(manifests[index]);
    }
  });
});
