import * as z from 'zod';

/**
 * The front door's reverse capture (`frontDoor.kubernetes.reverseCapture`): the target proxy captures what the
 * clients send the target to its own topic on the Migration Assistant's Kafka, and a reverse replayer (the
 * Migration Assistant's replayer image) applies it onto the source, so that a rollback after the write cutover
 * can wait for the source to catch up instead of leaving writes on the target only. Without this section the
 * target proxy runs with --noCapture and a rollback after the cutover reports its write exposure.
 */

/** A Kubernetes object name (RFC 1123 label: what Services, Deployments and namespaces take). */
export const K8S_NAME = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, {
  error: 'must be a Kubernetes name: lower-case letters, digits and "-", up to 63, e.g. capture-proxy',
});

/** The Migration Assistant's own OpenTelemetry collector image (its chart's otelCollectorImage). */
export const DEFAULT_COLLECTOR_IMAGE = 'public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3';
/** The service account its replayer runs as: its pod identity may sign for the clusters and write metrics. */
export const DEFAULT_REPLAYER_SERVICE_ACCOUNT = 'argo-workflow-executor';

/** The auth modes both the capture proxy and the replayer take (--kafkaAuthType, --kafka-traffic-auth-type). */
export const KAFKA_AUTH_TYPES = ['none', 'scram-sha-512', 'msk-iam'] as const;

const SOURCE_AUTH = z.discriminatedUnion(
  'type',
  [
    /** The captured requests' own Authorization header passes through (source and target share credentials). */
    z.strictObject({ type: z.literal('none') }),
    /** A Secret with keys `username` and `password`, as the Migration Assistant's replayer takes its target's. */
    z.strictObject({ type: z.literal('basic'), secretName: K8S_NAME }),
    /** SigV4 with the pod's identity (the replayer's service account): a managed OpenSearch source. */
    z.strictObject({
      type: z.literal('sigv4'),
      service: z.enum(['es', 'aoss'], { error: "must be 'es' (OpenSearch Service) or 'aoss' (Serverless)" }),
      region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'must be a region, e.g. us-east-1' }),
    }),
  ],
  { error: "must be { type: 'none' }, { type: 'basic', secretName } or { type: 'sigv4', service, region }" },
);

export const ReverseCaptureSchema = z
  .strictObject({
    /** The target proxy's own topic: never the capture proxy's, whose replayer applies it to the target. */
    topic: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,249}$/, { error: 'must be a Kafka topic name, e.g. swing-target-traffic' })
      .default('swing-target-traffic'),
    /** Its partitions, when Swing writes its KafkaTopic (kafka.strimziCluster). */
    topicPartitions: z.number().int().min(1).max(1000).default(1),
    /** The Migration Assistant's Kafka, as its capture proxy reaches it (its kafkaConnection and auth). */
    kafka: z.strictObject({
      bootstrapServers: z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}(,[A-Za-z0-9.-]+:\d{1,5})*$/, {
        error:
          "must be the Kafka brokers as host:port[,host:port], e.g. the capture proxy's kafkaConnection " +
          '(swing init --eks-cluster reads it from its Deployment)',
      }),
      authType: z
        .enum(KAFKA_AUTH_TYPES, {
          error: `must be one of ${KAFKA_AUTH_TYPES.join(', ')} (as the capture proxy's)`,
        })
        .default('none'),
      /** The Kafka listener the Migration Assistant's workflow selected (--kafkaListenerName), if any. */
      listenerName: z.string().min(1).optional(),
      /** scram-sha-512: the Kafka user, its password's Secret and the cluster CA's Secret (key ca.crt). */
      userName: z.string().min(1).optional(),
      passwordSecret: z
        .strictObject({ name: K8S_NAME, key: z.string().min(1).default('password') })
        .optional(),
      caSecretName: K8S_NAME.optional(),
      /**
       * The Strimzi `Kafka` the Migration Assistant's workflow created (its brokers refuse to create topics on
       * first use): Swing writes a KafkaTopic for the topic in it. @default none: create the topic yourself
       */
      strimziCluster: K8S_NAME.optional(),
      /** msk-iam: the service account the target proxy runs as, whose IAM role may write the topic. */
      serviceAccountName: K8S_NAME.optional(),
    }),
    replayer: z.strictObject({
      name: K8S_NAME.default('swing-reverse-replayer'),
      /** The Migration Assistant's traffic replayer image (the one its replayer runs). */
      image: z
        .string()
        .min(1, { error: "is required: the replayer image, e.g. from the replayer's Deployment" }),
      /** The source cluster, where the reverse replayer applies what the target took. */
      sourceUri: z.url({
        protocol: /^https?$/,
        error: 'must be an http(s) URL of the source cluster, e.g. https://source.example.com:9200',
      }),
      auth: SOURCE_AUTH.default({ type: 'none' }),
      /** Do not check the source's certificate (only for a source with a self-signed one). */
      insecure: z.boolean().default(false),
      /** Replayers share the topic's partitions: more than the partitions do nothing. */
      replicas: z.number().int().min(1).max(50).default(1),
      groupId: z.string().min(1).max(249).default('swing-reverse-replayer'),
      serviceAccountName: K8S_NAME.default(DEFAULT_REPLAYER_SERVICE_ACCOUNT),
      /**
       * The `qualifier` of the reverse replayer's metrics, its own: the Migration Assistant's collector sets every
       * metric's qualifier to the stage, so the reverse replayer sends to a collector beside it that sets this one,
       * and its lag never mixes with the forward replayer's. The reverse lag alarm watches it.
       */
      qualifier: z
        .string({ error: "is required: the reverse replayer's own metric qualifier, e.g. <stage>-reverse" })
        .regex(/^[A-Za-z0-9._-]{1,255}$/, {
          error:
            "must be the reverse replayer's own metric qualifier (letters, digits, . _ -), e.g. <stage>-reverse",
        }),
      collectorImage: z.string().min(1).default(DEFAULT_COLLECTOR_IMAGE),
    }),
  })
  .superRefine((reverse, context) => {
    const { kafka } = reverse;
    if (kafka.authType === 'scram-sha-512') {
      const missing = (['userName', 'passwordSecret', 'caSecretName'] as const).filter((key) => !kafka[key]);
      for (const key of missing) {
        context.addIssue({
          code: 'custom',
          path: ['kafka', key],
          message:
            'is required with authType scram-sha-512: the Kafka user, the Secret of its password and the Secret of ' +
            "the cluster's CA (key ca.crt), as the capture proxy's Deployment has them (swing init reads them)",
        });
      }
    }
    if (kafka.strimziCluster && !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(reverse.topic)) {
      context.addIssue({
        code: 'custom',
        path: ['topic'],
        message:
          'must be lower-case letters, digits, "-" and "." with kafka.strimziCluster: its KafkaTopic is named after ' +
          'it (a Kubernetes name), e.g. swing-target-traffic',
      });
    }
    if (kafka.authType === 'msk-iam' && !kafka.serviceAccountName) {
      context.addIssue({
        code: 'custom',
        path: ['kafka', 'serviceAccountName'],
        message:
          'is required with authType msk-iam: a service account whose IAM role (pod identity) may write the topic; ' +
          'the target proxy runs as it',
      });
    }
  });
export type ReverseCaptureConfig = z.infer<typeof ReverseCaptureSchema>;
