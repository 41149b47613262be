import * as z from 'zod';
import { arn, CERTIFICATE_ARN, LISTENER_ARN, LOAD_BALANCER_ARN, TARGET_GROUP_ARN } from '../arn-patterns.ts';

const TargetGroupSchema = z.strictObject({
  port: z.number().int().min(1).max(65_535).default(9200),
  protocol: z.enum(['HTTPS', 'HTTP']).default('HTTPS'),
  healthCheck: z
    .strictObject({
      path: z.string().startsWith('/', { error: "must start with '/', e.g. /" }).default('/'),
      healthyHttpCodes: z.string().default('200'),
      intervalSeconds: z.number().int().min(10).max(300).default(10),
    })
    .default({ path: '/', healthyHttpCodes: '200', intervalSeconds: 10 }),
  targets: z
    .array(
      z.strictObject({
        ip: z.ipv4({ error: 'must be an IPv4 address, e.g. 10.42.1.10' }),
        port: z.number().int().min(1).max(65_535).optional(),
        /** `all` for an address outside the VPC (peered or on premises). */
        availabilityZone: z.string().optional(),
      }),
    )
    .default([]),
});

export const CreateModeSchema = z
  .strictObject({
    /** ACM certificate for the three HTTPS listeners. */
    certificateArn: arn(
      CERTIFICATE_ARN,
      'arn:aws:acm:us-east-1:111111111111:certificate/0000-1111',
    ).optional(),
    /** Plain HTTP listeners: only for a throwaway sandbox, and only when set on purpose. */
    insecureHttp: z.boolean().default(false),
    internetFacing: z.boolean().default(false),
    /** Who may reach ports 9200-9202. @default the VPC's CIDR */
    allowedCidrs: z.array(z.cidrv4({ error: 'must be a CIDR, e.g. 10.0.0.0/8' })).optional(),
    vpcCidr: z.cidrv4({ error: 'must be a CIDR, e.g. 10.42.0.0/16' }).default('10.42.0.0/16'),
    /** @default two zones of env.region ("a" and "b") */
    availabilityZones: z.array(z.string().min(1)).min(2).optional(),
    /** DNS name covered by the certificate, used for the smoke endpoints. @default the ALB's DNS name */
    domainName: z.string().min(1).optional(),
    /** Target group stickiness on the weighted 9200 action. @default off */
    stickinessSeconds: z.number().int().min(1).max(604_800).optional(),
    source: TargetGroupSchema.default(TargetGroupSchema.parse({})),
    target: TargetGroupSchema.default(TargetGroupSchema.parse({})),
  })
  .superRefine((create, context) => {
    if (!create.insecureHttp && create.certificateArn === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['certificateArn'],
        message:
          'is required for HTTPS listeners: set an ACM certificate ARN, or insecureHttp: true for a throwaway sandbox',
      });
    }
  });
export type CreateModeConfig = z.infer<typeof CreateModeSchema>;

export const ImportModeSchema = z.strictObject({
  listenerArn: arn(
    LISTENER_ARN,
    'arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/app/migration-alb/0123456789abcdef/0123456789abcdef',
  ),
  sourceTargetGroupArn: arn(
    TARGET_GROUP_ARN,
    'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/capture-proxy/0123456789abcdef',
  ),
  targetTargetGroupArn: arn(
    TARGET_GROUP_ARN,
    'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/target-proxy/0123456789abcdef',
  ),
  /** @default the load balancer in listenerArn */
  loadBalancerArn: arn(
    LOAD_BALANCER_ARN,
    'arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/migration-alb/0123456789abcdef',
  ).optional(),
  /** Runs the smoke-test function in the VPC: needed when the ALB is internal. */
  smokeVpc: z
    .strictObject({
      vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, { error: 'must be a VPC id, e.g. vpc-0123456789abcdef0' }),
      subnetIds: z
        .array(z.string().regex(/^subnet-[0-9a-f]+$/, { error: 'must be a subnet id, e.g. subnet-0123abcd' }))
        .min(1),
      /** @default a new security group with outbound access only */
      securityGroupIds: z
        .array(z.string().regex(/^sg-[0-9a-f]+$/, { error: 'must be a security group id' }))
        .optional(),
    })
    .optional(),
});
export type ImportModeConfig = z.infer<typeof ImportModeSchema>;
