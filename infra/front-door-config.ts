import * as z from 'zod';
import { ACCOUNT, arn, CERTIFICATE_ARN, PARTITION } from './arn-patterns.ts';
import { K8S_NAME, ReverseCaptureSchema } from './front-door-reverse-config.ts';

/**
 * The `front-door` mode's section: Swing brings the weighted ALB into an existing VPC (Migration Assistant 3.x
 * on EKS has none), and the Kubernetes side binds the proxies' pods to its target groups. Every id is in the
 * config, so `cdk synth` looks nothing up.
 */

const IAM_ROLE_ARN = new RegExp(`^${PARTITION}:iam::${ACCOUNT}:role/[A-Za-z0-9+=,.@_/-]+$`);

/** The API groups that serve TargetGroupBinding: the AWS Load Balancer Controller's, and EKS Auto Mode's. */
export const TARGET_GROUP_BINDING_APIS = ['elbv2.k8s.aws/v1beta1', 'eks.amazonaws.com/v1'] as const;
export type TargetGroupBindingApi = (typeof TARGET_GROUP_BINDING_APIS)[number];
/** EKS Auto Mode's: same spec as the controller's v1beta1, and target groups tagged with the cluster's name. */
export const AUTO_MODE_API = 'eks.amazonaws.com/v1' satisfies TargetGroupBindingApi;
/** The tag EKS Auto Mode's AmazonEKSLoadBalancingPolicy requires on a target group before it registers targets. */
export const AUTO_MODE_CLUSTER_TAG = 'eks:eks-cluster-name';

const PORT = z.number().int().min(1).max(65_535);

const ProxyTargetGroupSchema = z.strictObject({
  /** How the proxy listens: HTTPS when it serves TLS itself. */
  protocol: z.enum(['HTTPS', 'HTTP'], { error: "must be 'HTTPS' (the proxy serves TLS) or 'HTTP'" }),
  /** The pods' port (the Service's targetPort as a number). */
  port: PORT,
  /**
   * The proxy forwards `/` to its cluster, so any answer of the cluster's (401 or 403 when it wants credentials
   * the health check does not have) shows the proxy up and its cluster reached; a 502 is the proxy alone.
   */
  healthCheck: z
    .strictObject({
      path: z.string().startsWith('/', { error: "must start with '/', e.g. /" }).default('/'),
      healthyHttpCodes: z.string().default('200,401,403'),
      intervalSeconds: z.number().int().min(5).max(300).default(10),
    })
    .default({ path: '/', healthyHttpCodes: '200,401,403', intervalSeconds: 10 }),
});

/** What `swing front-door manifests` reads from the deployed stack to write the TargetGroupBindings. */
export const FRONT_DOOR_OUTPUTS = {
  securityGroupId: 'FrontDoorSecurityGroupId',
  sourceTargetGroupArn: 'SourceTargetGroupArn',
  targetTargetGroupArn: 'TargetTargetGroupArn',
} as const;

export const FRONT_DOOR_REQUIRED =
  'is required in front-door mode: run swing init --eks-cluster, or see docs/migration-assistant.md';

export const FrontDoorSchema = z
  .strictObject({
    /** The migration's VPC (the EKS cluster's). Nothing of it is created. */
    vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, { error: 'must be a VPC id, e.g. vpc-0123456789abcdef0' }),
    /** The ALB's subnets (private, in two or more zones); the smoke-test function runs in them too. */
    subnetIds: z
      .array(z.string().regex(/^subnet-[0-9a-f]+$/, { error: 'must be a subnet id, e.g. subnet-0123abcd' }))
      .min(2, { error: 'needs two subnets or more, in different zones: an ALB spans two zones at least' }),
    /**
     * The security group of the proxies' pods (on EKS Auto Mode the cluster security group): the ALB may send to
     * it on the proxies' ports and nowhere else; the TargetGroupBindings let the ALB in on those ports only.
     */
    podSecurityGroupId: z
      .string()
      .regex(/^sg-[0-9a-f]+$/, { error: 'must be a security group id, e.g. sg-0123abcd' }),
    /** ACM certificate of the three HTTPS listeners; it covers domainName. */
    certificateArn: arn(CERTIFICATE_ARN, 'arn:aws:acm:us-east-1:111111111111:certificate/0000-1111'),
    /** The name clients use, covered by the certificate (the smoke endpoints use it too). */
    domainName: z.string().regex(/^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/i, {
      error: 'must be a DNS name covered by the certificate, e.g. search.migration.example.com',
    }),
    /** Who may reach the weighted listener: the clients' networks. Nothing else reaches it. */
    allowedCidrs: z.array(z.cidrv4({ error: 'must be a CIDR, e.g. 10.0.0.0/16' })).min(1, {
      error: "needs the clients' networks: the weighted listener is open to these CIDRs only",
    }),
    /** The weighted listener (the port clients move to). */
    listenerPort: PORT.default(443),
    /** Smoke tests: source only, target only (reached by the smoke-test function alone). */
    sourcePort: PORT.default(9201),
    targetPort: PORT.default(9202),
    /** Target group stickiness on the weighted action. @default off */
    stickinessSeconds: z.number().int().min(1).max(604_800).optional(),
    /** The capture proxy's pods (source side). */
    source: ProxyTargetGroupSchema,
    /** The target proxy's pods (the capture-proxy image with --noCapture in front of the target). */
    target: ProxyTargetGroupSchema,
    /** An alias record for domainName in a Route 53 (private) hosted zone. @default none: create the record yourself */
    route53: z
      .strictObject({
        hostedZoneId: z
          .string()
          .regex(/^Z[A-Z0-9]{1,31}$/, { error: 'must be a hosted zone id, e.g. Z0123456789ABC' }),
        /** The zone's name, e.g. migration.example.com (domainName must be in it). */
        zoneName: z.string().min(1),
      })
      .optional(),
    kubernetes: z.strictObject({
      namespace: K8S_NAME,
      /**
       * The EKS cluster's name. Required on EKS Auto Mode (targetGroupBindingApi eks.amazonaws.com/v1), whose load
       * balancing registers pods only in target groups tagged `eks:eks-cluster-name` with it (its
       * AmazonEKSLoadBalancingPolicy), and to let `cdk deploy` apply the manifests.
       */
      clusterName: z
        .string()
        .regex(/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/, {
          error: 'must be an EKS cluster name, e.g. migration-eks-cluster-dev-us-east-1',
        })
        .optional(),
      /** Which API group serves TargetGroupBinding in the cluster (`swing init` asks the cluster). */
      targetGroupBindingApi: z.enum(TARGET_GROUP_BINDING_APIS, {
        error: `must be one of ${TARGET_GROUP_BINDING_APIS.join(', ')} (the one the cluster serves)`,
      }),
      /** The capture proxy's Service (the Migration Assistant names it after the proxy). */
      captureProxyService: z.strictObject({ name: K8S_NAME, port: PORT }),
      targetProxy: z.strictObject({
        name: K8S_NAME.default('swing-target-proxy'),
        /** The Migration Assistant's capture-proxy image (the one its capture proxy runs). */
        image: z.string().min(1, { error: 'is required: the capture-proxy image, e.g. from its Deployment' }),
        /** The target cluster's endpoint. */
        destinationUri: z.url({
          protocol: /^https?$/,
          error: 'must be an http(s) URL, e.g. https://vpc-target.es.amazonaws.com:443',
        }),
        replicas: z.number().int().min(1).max(50).default(2),
        /** Do not check the target's certificate (only for a target with a self-signed one). */
        insecureDestination: z.boolean().default(false),
        /**
         * A Secret's key holding a whole Authorization header value (e.g. `Basic ...`) that the proxy sets on every
         * request to the target. @default none: the clients' own Authorization header passes through
         */
        authorizationSecret: z.strictObject({ name: K8S_NAME, key: z.string().min(1) }).optional(),
        /** A `kubernetes.io/tls` Secret: its certificate and key, when target.protocol is HTTPS. */
        tlsSecretName: K8S_NAME.optional(),
      }),
      /**
       * The target proxy captures to its own topic and a reverse replayer applies it onto the source
       * (front-door-reverse-config.ts). @default none: the target proxy runs with --noCapture
       */
      reverseCapture: ReverseCaptureSchema.optional(),
      /**
       * Let `cdk deploy` apply the manifests (aws-cdk-lib's KubernetesManifest on the imported cluster
       * kubernetes.clusterName). The role needs an EKS access entry (or aws-auth mapping) that may manage
       * TargetGroupBindings, Deployments and Services in the namespace. @default none: apply the written manifests
       * yourself
       */
      apply: z
        .strictObject({
          kubectlRoleArn: arn(IAM_ROLE_ARN, 'arn:aws:iam::111111111111:role/swing-kubectl'),
          /**
           * When the cluster's API endpoint is private: the kubectl function runs in the front door's subnets with
           * this security group, which the cluster's security group must admit on 443. @default none: the
           * function reaches the public endpoint
           */
          kubectlSecurityGroupId: z
            .string()
            .regex(/^sg-[0-9a-f]+$/, { error: 'must be a security group id, e.g. sg-0123abcd' })
            .optional(),
        })
        .optional(),
    }),
  })
  .superRefine((door, context) => {
    const ports = [door.listenerPort, door.sourcePort, door.targetPort];
    if (new Set(ports).size !== ports.length) {
      context.addIssue({
        code: 'custom',
        path: ['targetPort'],
        message: 'listenerPort, sourcePort and targetPort must differ: each is its own listener',
      });
    }
    if (door.target.protocol === 'HTTPS' && !door.kubernetes.targetProxy.tlsSecretName) {
      context.addIssue({
        code: 'custom',
        path: ['kubernetes', 'targetProxy', 'tlsSecretName'],
        message:
          "is required when target.protocol is HTTPS: a kubernetes.io/tls Secret for the target proxy's listener " +
          '(the ALB does not check its certificate, so a self-signed one will do), or set target.protocol HTTP',
      });
    }
    const { clusterName, targetGroupBindingApi, apply } = door.kubernetes;
    if (!clusterName && (targetGroupBindingApi === AUTO_MODE_API || apply)) {
      context.addIssue({
        code: 'custom',
        path: ['kubernetes', 'clusterName'],
        message:
          targetGroupBindingApi === AUTO_MODE_API
            ? "is required with targetGroupBindingApi eks.amazonaws.com/v1: EKS Auto Mode's load balancing registers " +
              "pods only in target groups tagged eks:eks-cluster-name with the cluster's name; set it (swing init " +
              '--eks-cluster writes it)'
            : 'is required with kubernetes.apply: the cluster that cdk deploy applies the manifests to',
      });
    }
    if (door.route53 && !`.${door.domainName}`.endsWith(`.${door.route53.zoneName.replace(/\.$/, '')}`)) {
      context.addIssue({
        code: 'custom',
        path: ['route53', 'zoneName'],
        message: `does not contain domainName ${door.domainName}: the record goes in the zone that holds the name`,
      });
    }
  });
export type FrontDoorConfig = z.infer<typeof FrontDoorSchema>;
