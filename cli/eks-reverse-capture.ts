import type { V1Container, V1Deployment } from '@kubernetes/client-node';
import {
  DEFAULT_COLLECTOR_IMAGE,
  DEFAULT_REPLAYER_SERVICE_ACCOUNT,
  type ReverseCaptureConfig,
} from '../infra/front-door-reverse-config.ts';

/**
 * What reverse capture needs from a Migration Assistant 3.x namespace, read the way its workflow writes it: the
 * capture proxy's Kafka settings (its flags, or the `---INLINE-JSON` argument its EKS workflow passes, plain or
 * base64, with the SCRAM password's Secret in CAPTURE_PROXY_KAFKA_PASSWORD and the CA in the `kafka-ca` volume),
 * the replayer's image, and the source (the capture proxy's destinationUri).
 */

const INLINE_JSON = '---INLINE-JSON';
/** The Strimzi bootstrap Service the workflow's Kafka gets: <cluster>-kafka-bootstrap[.<namespace>...]:<port>. */
const STRIMZI_BOOTSTRAP = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)-kafka-bootstrap(\.[^:,]*)?:\d+$/;

/** A container's options by flag name (without dashes): `--x v` and `--x=v`, or the keys of its inline JSON. */
export function containerOptions(container: V1Container | undefined): Map<string, string | true> {
  const args = [...(container?.command ?? []), ...(container?.args ?? [])];
  const options = new Map<string, string | true>();
  const inline = args.indexOf(INLINE_JSON);
  if (inline >= 0 && args[inline + 1] !== undefined) {
    const raw = args[inline + 1]!.trim();
    try {
      const text = raw.startsWith('{') ? raw : Buffer.from(raw, 'base64').toString('utf8');
      for (const [key, value] of Object.entries(JSON.parse(text) as Record<string, unknown>)) {
        if (value === true) options.set(key, true);
        else if (typeof value === 'string' || typeof value === 'number') options.set(key, String(value));
      }
    } catch {
      // Not JSON: the flags below are all there is.
    }
  }
  for (const [index, arg] of args.entries()) {
    if (!arg.startsWith('--') || arg === INLINE_JSON) continue;
    const [name, inlineValue] = arg.slice(2).split(/=(.*)/s, 2);
    const next = args[index + 1];
    options.set(name!, inlineValue ?? (next !== undefined && !next.startsWith('--') ? next : true));
  }
  return options;
}

const text = (value: string | true | undefined) => (typeof value === 'string' ? value : undefined);

/** The first option of several names that has a value. */
export function optionValue(options: Map<string, string | true>, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = text(options.get(name));
    if (value) return value;
  }
  return undefined;
}

export interface FoundReverseCapture {
  readonly config?: ReverseCaptureConfig;
  /** Why init left reverse capture out, naming what is missing; absent when it wrote it. */
  readonly reason?: string;
}

function kafkaOf(deployment: V1Deployment): { kafka: ReverseCaptureConfig['kafka'] } | { reason: string } {
  const pod = deployment.spec?.template.spec;
  const container = pod?.containers?.[0];
  const options = containerOptions(container);
  if (options.get('noCapture') === true)
    return { reason: 'the capture proxy captures nothing (--noCapture)' };
  const bootstrapServers = optionValue(options, 'kafkaConnection', 'kafkaBrokers');
  if (!bootstrapServers)
    return { reason: "the capture proxy's Deployment names no Kafka (--kafkaConnection)" };
  const authType =
    optionValue(options, 'kafkaAuthType') ?? (options.get('enableMSKAuth') === true ? 'msk-iam' : 'none');
  if (authType !== 'none' && authType !== 'scram-sha-512' && authType !== 'msk-iam') {
    return {
      reason: `the capture proxy's Kafka auth ${authType} is not one Swing writes (none, scram-sha-512, msk-iam)`,
    };
  }
  const password = container?.env?.find((variable) => variable.name === 'CAPTURE_PROXY_KAFKA_PASSWORD');
  const secretRef = password?.valueFrom?.secretKeyRef;
  const caSecretName = pod?.volumes?.find((volume) => volume.name === 'kafka-ca')?.secret?.secretName;
  const userName = optionValue(options, 'kafkaUserName');
  const listenerName = optionValue(options, 'kafkaListenerName');
  const strimziCluster = STRIMZI_BOOTSTRAP.exec(bootstrapServers.split(',')[0]!)?.[1];
  if (authType === 'scram-sha-512' && !(userName && secretRef?.name && caSecretName)) {
    return {
      reason:
        "the capture proxy's SCRAM user, password Secret or CA Secret could not be read from its Deployment",
    };
  }
  if (authType === 'msk-iam' && !pod?.serviceAccountName) {
    return {
      reason: 'the capture proxy uses MSK IAM without a service account of its own to lend the target proxy',
    };
  }
  return {
    kafka: {
      bootstrapServers,
      authType,
      ...(listenerName ? { listenerName } : {}),
      ...(authType === 'scram-sha-512'
        ? {
            userName,
            passwordSecret: { name: secretRef!.name!, key: secretRef!.key ?? 'password' },
            caSecretName,
          }
        : {}),
      ...(authType === 'msk-iam' ? { serviceAccountName: pod!.serviceAccountName } : {}),
      ...(strimziCluster ? { strimziCluster } : {}),
    },
  };
}

/** The replayer's Deployment: the one whose container reads a Kafka topic (--kafka-traffic-topic or its aliases). */
function replayerImage(deployments: readonly V1Deployment[]): string | undefined {
  for (const deployment of deployments) {
    const container = deployment.spec?.template.spec?.containers?.[0];
    const options = containerOptions(container);
    if (optionValue(options, 'kafka-traffic-topic', 'kafkaTrafficTopic', 'target-uri', 'targetUri')) {
      if (container?.image) return container.image;
    }
  }
  return undefined;
}

/**
 * Reverse capture for the front door, from the capture proxy's Deployment and the namespace's replayer; the
 * reverse replayer's metrics carry `<stage>-reverse`. Its source auth is left `none` (the captured clients'
 * Authorization passes through): nothing in the namespace says how to sign for the source.
 */
export function discoverReverseCapture(
  captureProxy: V1Deployment,
  deployments: readonly V1Deployment[],
  stage: string,
): FoundReverseCapture {
  const kafka = kafkaOf(captureProxy);
  if ('reason' in kafka) return { reason: kafka.reason };
  const image = replayerImage(deployments);
  if (!image) return { reason: 'no replayer Deployment in the namespace to take the image from' };
  const proxyOptions = containerOptions(captureProxy.spec?.template.spec?.containers?.[0]);
  const sourceUri = optionValue(proxyOptions, 'destinationUri');
  if (!sourceUri) return { reason: "the capture proxy's Deployment names no --destinationUri (the source)" };
  return {
    config: {
      topic: 'swing-target-traffic',
      topicPartitions: 1,
      kafka: kafka.kafka,
      replayer: {
        name: 'swing-reverse-replayer',
        image,
        sourceUri,
        auth: { type: 'none' },
        insecure: proxyOptions.get('insecureDestination') === true,
        replicas: 1,
        groupId: 'swing-reverse-replayer',
        serviceAccountName: DEFAULT_REPLAYER_SERVICE_ACCOUNT,
        qualifier: `${stage}-reverse`,
        collectorImage: DEFAULT_COLLECTOR_IMAGE,
      },
    },
  };
}
