import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import * as z from 'zod';
import {
  cutoverBakeIssue,
  ReadsFirstSettingsSchema,
  type ReplayLagMissingData,
  TrafficModeSchema,
} from '#commons/config.ts';
import { type FieldIssue, ValidationFailed } from '#domain/errors.ts';
import { resolvePlan } from '#domain/plan.ts';
import { DEFAULT_READS_FIRST, refuseTrafficPlan } from '#domain/reads-first.ts';
import { SmokeConfigSchema } from '#domain/smoke-config.ts';
import type { PlanEnd, ReadsFirstSettings, TrafficMode } from '#domain/types.ts';
import { fieldIssuesFrom } from '#domain/validation.ts';
import {
  arn,
  CERTIFICATE_ARN,
  KMS_KEY_ARN,
  LISTENER_ARN,
  LOAD_BALANCER_ARN,
  OPENSEARCH_ARN,
  REGION,
  SECRET_ARN,
  TARGET_GROUP_ARN,
} from './arn-patterns.ts';

export { LISTENER_ARN, LOAD_BALANCER_ARN, TARGET_GROUP_ARN };

import { FRONT_DOOR_REQUIRED, FrontDoorSchema } from './front-door-config.ts';

/**
 * The CDK app's configuration: a JSON file (context `swing:configFile`) or an inline object (context
 * `swing:config`). Parsed at synth time so that a bad ARN, plan or schedule fails `cdk synth` with a message
 * naming the field and the fix, before anything is deployed.
 */

const ALARM_NAME = /^[^\s][\x20-\x7e]{0,254}$/;

/** Per function of the rollback path (alarm-event, rollback, safety-net, reconciler): a small share of the pool. */
export const DEFAULT_ROLLBACK_RESERVED_CONCURRENCY = 5;
export const ROLLBACK_RESERVED_CONCURRENCY_MAX = 100;
export const ROLLBACK_RESERVED_CONCURRENCY_ERROR =
  `must be false (reserve nothing, for an account whose concurrency quota is too low) or a whole number ` +
  `from 1 to ${ROLLBACK_RESERVED_CONCURRENCY_MAX} of executions per function: 0 would stop the functions`;

const ALARM_PERIOD = z
  .number()
  .int()
  .refine((s) => s === 10 || s === 30 || (s >= 60 && s % 60 === 0), {
    error: 'must be 10, 30 or a multiple of 60 (CloudWatch alarm periods)',
  });

export const AlarmThresholdsSchema = z.strictObject({
  /** Target 5xx share of target requests, in %, above which the rollout rolls back. */
  errorRatePercent: z.number().gt(0).max(100).default(5),
  /** Requests per period below which the error-rate alarms stay quiet: one error at a 1 % step is not 100 %. */
  minRequests: z.number().int().min(1).default(50),
  /** p99 TargetResponseTime of the target group, in seconds. */
  p99LatencySeconds: z.number().gt(0).max(600).default(2),
  /** Target error rate minus source error rate, in percentage points. */
  relativeErrorRatePoints: z.number().gt(0).max(100).default(2),
  periodSeconds: ALARM_PERIOD.default(60),
  evaluationPeriods: z.number().int().min(1).max(100).default(3),
  datapointsToAlarm: z.number().int().min(1).max(100).default(2),
  /** More alarms the rollout watches besides its own composite alarm (same account and region). */
  extraWatchedAlarmNames: z
    .array(
      z.string().regex(ALARM_NAME, { error: 'must be a CloudWatch alarm name (1-255 printable characters)' }),
    )
    .default([]),
});
export type AlarmThresholds = z.infer<typeof AlarmThresholdsSchema>;
export const DEFAULT_ALARM_THRESHOLDS: AlarmThresholds = AlarmThresholdsSchema.parse({});

const SETTING = ReadsFirstSettingsSchema.shape;
const DEFAULT = DEFAULT_READS_FIRST;

/** The reads-first settings for rollouts that do not give their own; the config's names, then ReadsFirstSettings. */
export const ReadsFirstSectionSchema = z
  .strictObject({
    /** Swing's first listener rule priority: its rules take rulePriority .. rulePriority + 6. */
    rulePriority: SETTING.basePriority.default(DEFAULT.basePriority),
    scrollKeepAliveSeconds: SETTING.scrollKeepAliveSeconds.default(DEFAULT.scrollKeepAliveSeconds),
    cutoverGate: SETTING.cutoverGate.default(DEFAULT.cutoverGate),
    cutoverGateTimeoutSeconds: SETTING.cutoverGateTimeoutSeconds.default(DEFAULT.cutoverGateTimeoutSeconds),
    cutoverGateTimeoutAction: SETTING.cutoverGateTimeoutAction.default(DEFAULT.cutoverGateTimeoutAction),
    replayWaitSeconds: SETTING.replayWaitSeconds.default(DEFAULT.replayWaitSeconds),
    cutoverBakeSeconds: SETTING.cutoverBakeSeconds.default(DEFAULT.cutoverBakeSeconds),
    afterCutover: SETTING.afterCutover.default(DEFAULT.afterCutover),
  })
  .superRefine((section, context) => {
    const issue = cutoverBakeIssue(section);
    if (issue) context.addIssue({ code: 'custom', path: ['cutoverBakeSeconds'], message: issue });
  })
  .transform(({ rulePriority, ...rest }): ReadsFirstSettings => ({ basePriority: rulePriority, ...rest }));

/** The Migration Assistant's replayer publishes its lag, lagBetweenSourceAndTargetRequests, in milliseconds. */
export const DEFAULT_REPLAY_LAG_METRIC = {
  metricName: 'lagBetweenSourceAndTargetRequests',
  namespace: 'OpenSearchMigrations',
  otelLib: 'replayer',
} as const;

/**
 * The replay-lag check: a CloudWatch alarm on the replayer's lag, in ALARM while it lags. A step waits while
 * it is in ALARM; it never rolls the target back by itself (the alarm is not a watched alarm).
 */
export const ReplayLagSchema = z
  .strictObject({
    metricName: z.string().min(1).max(255).default(DEFAULT_REPLAY_LAG_METRIC.metricName),
    namespace: z.string().min(1).max(255).default(DEFAULT_REPLAY_LAG_METRIC.namespace),
    /**
     * The `qualifier` dimension the Migration Assistant's metrics carry (its stage name unless changed).
     * @default the stage in the load balancer's name, MigrationAssistant-<stage>
     */
    qualifier: z.string().min(1).max(1024).optional(),
    /** All the metric's dimensions, instead of { qualifier, OTelLib: 'replayer' }. */
    dimensions: z
      .record(z.string().min(1).max(255), z.string().min(1).max(1024))
      .refine((dimensions) => Object.keys(dimensions).length <= 30, {
        error: 'has more than 30 dimensions: CloudWatch allows 30',
      })
      .optional(),
    statistic: z
      .string()
      .regex(/^(?:SampleCount|Average|Sum|Minimum|Maximum|p\d{1,2}(?:\.\d+)?)$/, {
        error: 'must be a CloudWatch statistic: Maximum (default), Average, Minimum, Sum, SampleCount or pNN',
      })
      .default('Maximum'),
    /** Lag above this is lagging. */
    thresholdSeconds: z.number().gt(0).max(86_400).default(30),
    /** The unit the metric is published in (CloudWatch compares raw values). */
    unit: z
      .enum(['milliseconds', 'seconds'], {
        error: "must be 'milliseconds' (the Migration Assistant's replayer) or 'seconds'",
      })
      .default('milliseconds'),
    periodSeconds: ALARM_PERIOD.default(60),
    /** Caught up means: no period above the threshold in this many periods. */
    evaluationPeriods: z.number().int().min(1).max(100).default(3),
    /** No datapoint (an idle replayer, wrong dimensions): `lagging` (fail closed) or `caught-up`. */
    missingData: z
      .enum(['lagging', 'caught-up'], {
        error:
          "must be 'lagging' (default: no datapoint is never caught up) or 'caught-up' (an idle replayer passes)",
      })
      .default('lagging'),
  })
  .superRefine((replayLag, context) => {
    if (replayLag.qualifier !== undefined && replayLag.dimensions !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['qualifier'],
        message: 'is set with dimensions: set one (dimensions replaces { qualifier, OTelLib })',
      });
    }
  });
export type ReplayLagConfig = z.infer<typeof ReplayLagSchema>;

const TIME_ZONE = z.string().refine(
  (zone) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  },
  { error: 'is not an IANA time zone: use e.g. UTC, Europe/Berlin, America/New_York' },
);

/** EventBridge Scheduler cron: six fields, and one of day-of-month / day-of-week must be '?'. */
export function cronIssue(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 6) {
    return `has ${fields.length} fields: write the six Scheduler fields "minutes hours day-of-month month day-of-week year", e.g. "0 2 ? * TUE *"`;
  }
  if (fields[2] !== '?' && fields[4] !== '?') {
    return 'sets both day-of-month and day-of-week: put \'?\' in one of them, e.g. "0 2 ? * TUE *"';
  }
  return undefined;
}

export const ScheduleSchema = z
  .strictObject({
    /** Names the schedule in the template and the execution's `requestedBy`. */
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,40}$/, { error: 'must be 1-40 letters, digits, ".", "_" or "-"' }),
    /** Recurring: the six EventBridge Scheduler cron fields, e.g. "0 2 ? * TUE *". */
    cron: z.string().optional(),
    /** One time: local date-time in `timezone`, e.g. "2030-01-15T02:00:00". */
    at: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/, {
        error: 'must be a local date-time yyyy-mm-ddThh:mm:ss, e.g. 2030-01-15T02:00:00',
      })
      .optional(),
    timezone: TIME_ZONE.default('UTC'),
    /** The execution input's plan: a preset, a spec or { steps }, checked here as the state machine will. */
    plan: z.unknown(),
    /** The rollout's traffic mode. @default the config's `traffic` */
    traffic: TrafficModeSchema.optional(),
    /** `restore`: a rehearsal, which goes back to the starting weights at its end. @default 'hold' */
    // biome-ignore lint/suspicious/noThenProperty: operators spell a plan's end `then: restore`; never awaited.
    then: z
      .enum(['hold', 'restore'], {
        error:
          "must be 'hold' (a rollout: keep the last step) or 'restore' (a rehearsal: go back at the end)",
      })
      .optional(),
    /** An all-mode rehearsal leaves the writes it sent on the target: accepted only on purpose. */
    acceptWritesOnTarget: z.boolean().optional(),
    requestedBy: z.string().min(1).max(256).optional(),
    enabled: z.boolean().default(true),
    description: z.string().max(512).optional(),
  })
  .superRefine((schedule, context) => {
    if ((schedule.cron === undefined) === (schedule.at === undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['cron'],
        message: 'set exactly one of cron (recurring) or at (one time)',
      });
    }
    const problem = schedule.cron === undefined ? undefined : cronIssue(schedule.cron);
    if (problem) context.addIssue({ code: 'custom', path: ['cron'], message: problem });
  });
export type ScheduleConfig = z.infer<typeof ScheduleSchema>;

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

/** The handlers' SMOKE_CONFIG; in create mode the endpoints default to the sandbox ALB's 9201 and 9202. */
const SmokeSectionSchema = SmokeConfigSchema.partial({ sourceEndpoint: true, targetEndpoint: true });

export const SwingConfigSchema = z
  .strictObject({
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/, {
        error: 'must start with a letter: letters, digits and "-", up to 64',
      })
      .default('Swing'),
    /** Leave out for an environment-agnostic template (import mode). Create mode needs the region. */
    env: z
      .strictObject({
        account: z
          .string()
          .regex(/^\d{12}$/, { error: 'must be a 12-digit account id' })
          .optional(),
        region: z
          .string()
          .regex(new RegExp(`^${REGION}$`), { error: 'must be a region, e.g. us-east-1' })
          .optional(),
      })
      .optional(),
    mode: z.enum(['import', 'create', 'front-door'], {
      error:
        "must be 'import' (an existing listener), 'create' (a sandbox ALB) or 'front-door' (an ALB in an existing VPC)",
    }),
    import: ImportModeSchema.optional(),
    create: CreateModeSchema.optional(),
    /** `front-door` mode: Swing's ALB in the migration's VPC (Migration Assistant 3.x on EKS). */
    frontDoor: FrontDoorSchema.optional(),
    smoke: SmokeSectionSchema.default({ timeoutMs: 5000, insecureTls: false, auth: { type: 'none' } }),
    /** What the smoke-test function may read besides the secret itself. */
    smokeAccess: z
      .strictObject({
        /** The customer managed key of the basic-auth secret, when it is not the AWS managed key. */
        secretKmsKeyArn: arn(KMS_KEY_ARN, 'arn:aws:kms:us-east-1:111111111111:key/0000-1111').optional(),
        /** Domains or collections that SigV4 smoke requests read. */
        sigv4ResourceArns: z
          .array(arn(OPENSEARCH_ARN, 'arn:aws:es:us-east-1:111111111111:domain/target-domain'))
          .optional(),
      })
      .default({}),
    alarms: AlarmThresholdsSchema.default(DEFAULT_ALARM_THRESHOLDS),
    /** How rollouts that do not say move traffic: `all` (every request by weight) or `reads-first`. */
    traffic: TrafficModeSchema.default('all'),
    readsFirst: ReadsFirstSectionSchema.default({ ...DEFAULT_READS_FIRST }),
    replayLag: ReplayLagSchema.default(ReplayLagSchema.parse({})),
    insufficientDataPolicy: z.enum(['not-firing', 'firing']).default('not-firing'),
    /**
     * Concurrent executions reserved for each function of the rollback path, so that throttling elsewhere in
     * the account cannot delay a rollback; false reserves none (an account whose quota is too low to reserve).
     */
    rollbackReservedConcurrency: z
      .union(
        [
          z.literal(false, { error: ROLLBACK_RESERVED_CONCURRENCY_ERROR }),
          z
            .number({ error: ROLLBACK_RESERVED_CONCURRENCY_ERROR })
            .int({ error: ROLLBACK_RESERVED_CONCURRENCY_ERROR })
            .min(1, { error: ROLLBACK_RESERVED_CONCURRENCY_ERROR })
            .max(ROLLBACK_RESERVED_CONCURRENCY_MAX, { error: ROLLBACK_RESERVED_CONCURRENCY_ERROR }),
        ],
        { error: ROLLBACK_RESERVED_CONCURRENCY_ERROR },
      )
      .default(DEFAULT_ROLLBACK_RESERVED_CONCURRENCY),
    notificationEmails: z.array(z.email({ error: 'must be an email address' })).default([]),
    schedules: z.array(ScheduleSchema).default([]),
    scheduleDelivery: z
      .strictObject({
        retryAttempts: z.number().int().min(0).max(185).default(3),
        /** A start later than this is dropped to the dead-letter queue: a 2 am canary must not start at 9. */
        maxDelaySeconds: z.number().int().min(60).max(86_400).default(900),
      })
      .default({ retryAttempts: 3, maxDelaySeconds: 900 }),
  })
  .superRefine((config, context) => {
    const issue = (path: (string | number)[], message: string) =>
      context.addIssue({ code: 'custom', path, message });
    if (config.mode === 'import' && !config.import) {
      issue(
        ['import'],
        'is required in import mode: set listenerArn, sourceTargetGroupArn, targetTargetGroupArn',
      );
    }
    if (config.mode === 'create' && !config.create) {
      issue(
        ['create'],
        'is required in create mode: set at least certificateArn (or insecureHttp) and targets',
      );
    }
    if (config.mode === 'front-door' && !config.frontDoor) issue(['frontDoor'], FRONT_DOOR_REQUIRED);
    if (config.mode !== 'import' && !config.env?.region) {
      issue(
        ['env', 'region'],
        `is required in ${config.mode} mode: the ALB access logs need a concrete region`,
      );
    }
    if (config.mode === 'import') {
      if (!config.smoke.sourceEndpoint) {
        issue(
          ['smoke', 'sourceEndpoint'],
          'is required in import mode: the 9201 URL, e.g. https://alb.example.com:9201',
        );
      }
      if (!config.smoke.targetEndpoint) {
        issue(
          ['smoke', 'targetEndpoint'],
          'is required in import mode: the 9202 URL, e.g. https://alb.example.com:9202',
        );
      }
    }
    const auth = config.smoke.auth;
    if (auth.type === 'basic' && !SECRET_ARN.test(auth.secretArn)) {
      issue(
        ['smoke', 'auth', 'secretArn'],
        'must be the complete Secrets Manager ARN (with its 6-character suffix): the function may read only it',
      );
    }
    if (auth.type === 'sigv4' && !config.smokeAccess.sigv4ResourceArns?.length) {
      issue(
        ['smokeAccess', 'sigv4ResourceArns'],
        'is required with sigv4 auth: list the domain or collection ARNs the smoke requests read',
      );
    }
    if (config.alarms.datapointsToAlarm > config.alarms.evaluationPeriods) {
      issue(['alarms', 'datapointsToAlarm'], 'must be at most alarms.evaluationPeriods');
    }
    if (config.traffic === 'reads-first' && replayLagDimensions(config) === undefined) {
      issue(
        ['replayLag', 'qualifier'],
        "is required with traffic 'reads-first' when the load balancer is not named MigrationAssistant-<stage>: " +
          "the Migration Assistant's qualifier (its stage name unless you changed it), or set replayLag.dimensions",
      );
    }
    const names = new Set<string>();
    config.schedules.forEach((schedule, index) => {
      if (names.has(schedule.name))
        issue(['schedules', index, 'name'], 'is used twice: give each schedule its own');
      names.add(schedule.name);
    });
  });
export type SwingConfig = z.infer<typeof SwingConfigSchema>;
export type SwingConfigInput = z.input<typeof SwingConfigSchema>;

const MIGRATION_ASSISTANT_ALB = /:(?:listener|loadbalancer)\/app\/MigrationAssistant-([A-Za-z0-9-]+)\//;

/** The Migration Assistant stage in an ALB ARN: its CDK deployment names the ALB MigrationAssistant-<stage>. */
export function migrationAssistantStage(listenerOrLoadBalancerArn: string): string | undefined {
  return MIGRATION_ASSISTANT_ALB.exec(listenerOrLoadBalancerArn)?.[1];
}

/**
 * The replay-lag metric's dimensions: `replayLag.dimensions`, else { qualifier, OTelLib: 'replayer' } as the
 * Migration Assistant's dashboard queries it. Its OpenTelemetry collector sets `qualifier` to the stage (CDK
 * and EKS deployments); `replayLag.qualifier` says otherwise. Undefined when nothing names the qualifier.
 */
export function replayLagDimensions(
  config: Pick<SwingConfig, 'replayLag' | 'import'>,
): Record<string, string> | undefined {
  if (config.replayLag.dimensions) return { ...config.replayLag.dimensions };
  const alb = config.import?.loadBalancerArn ?? config.import?.listenerArn;
  const qualifier = config.replayLag.qualifier ?? (alb ? migrationAssistantStage(alb) : undefined);
  return qualifier === undefined ? undefined : { qualifier, OTelLib: DEFAULT_REPLAY_LAG_METRIC.otelLib };
}

/** What the stack's replay-lag alarm watches; undefined when no dimensions are known (then there is none). */
export interface ReplayLagMetric {
  readonly metricName: string;
  readonly namespace: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly statistic: string;
  /** In the metric's own unit: CloudWatch compares the raw values. */
  readonly threshold: number;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly missingData: ReplayLagMissingData;
}

export function replayLagMetric(
  config: Pick<SwingConfig, 'replayLag' | 'import'>,
): ReplayLagMetric | undefined {
  const dimensions = replayLagDimensions(config);
  if (dimensions === undefined) return undefined;
  const lag = config.replayLag;
  return {
    metricName: lag.metricName,
    namespace: lag.namespace,
    dimensions,
    statistic: lag.statistic,
    threshold: lag.unit === 'milliseconds' ? lag.thresholdSeconds * 1000 : lag.thresholdSeconds,
    periodSeconds: lag.periodSeconds,
    evaluationPeriods: lag.evaluationPeriods,
    missingData: lag.missingData,
  };
}

/**
 * A scheduled start's plan, checked as Preflight will check it: the plan itself, then its traffic mode and end
 * (a reads-first rollout's reads reach 100 before the cutover; an all-mode rehearsal needs acceptWritesOnTarget).
 */
export function checkScheduledPlan(
  schedule: { plan: unknown; traffic?: TrafficMode; then?: PlanEnd; acceptWritesOnTarget?: boolean },
  stackTraffic: TrafficMode,
  field: string,
): void {
  const plan = resolvePlan(schedule.plan, `${field}.plan`);
  try {
    refuseTrafficPlan({
      traffic: schedule.traffic ?? stackTraffic,
      planEnd: schedule.then ?? 'hold',
      acceptWritesOnTarget: schedule.acceptWritesOnTarget ?? false,
      steps: plan.steps,
    });
  } catch (error) {
    if (!(error instanceof ValidationFailed)) throw error;
    throw new ValidationFailed(error.issues.map((issue) => ({ ...issue, field: `${field}.${issue.field}` })));
  }
}

/** Parses a config; the issues name the field (`import.listenerArn`, `schedules[0].plan (step 2 "x")`). */
export function parseSwingConfig(input: unknown, field = 'config'): SwingConfig {
  const result = SwingConfigSchema.safeParse(input);
  if (!result.success) throw new ValidationFailed(fieldIssuesFrom(result.error, field));
  const planIssues: FieldIssue[] = [];
  result.data.schedules.forEach((schedule, index) => {
    try {
      checkScheduledPlan(schedule, result.data.traffic, `${field}.schedules[${index}]`);
    } catch (error) {
      if (!(error instanceof ValidationFailed)) throw error;
      planIssues.push(...error.issues);
    }
  });
  if (planIssues.length > 0) throw new ValidationFailed(planIssues);
  return result.data;
}

export const CONFIG_FILE_CONTEXT = 'swing:configFile';
export const INLINE_CONFIG_CONTEXT = 'swing:config';

/**
 * The config from CDK context: `swing:config` (an object, or its JSON text from `-c`) wins over
 * `swing:configFile` (a path relative to `baseDir`, where cdk.json is).
 */
export function loadSwingConfig(context: (key: string) => unknown, baseDir = process.cwd()): SwingConfig {
  const inline = context(INLINE_CONFIG_CONTEXT);
  if (inline !== undefined) {
    if (typeof inline !== 'string') return parseSwingConfig(inline, INLINE_CONFIG_CONTEXT);
    try {
      return parseSwingConfig(JSON.parse(inline), INLINE_CONFIG_CONTEXT);
    } catch (error) {
      if (error instanceof ValidationFailed) throw error;
      throw new ValidationFailed([
        {
          field: INLINE_CONFIG_CONTEXT,
          message: `is not JSON (${(error as Error).message}): pass a JSON object`,
        },
      ]);
    }
  }
  const file = context(CONFIG_FILE_CONTEXT);
  if (typeof file !== 'string' || file.trim() === '') {
    throw new ValidationFailed([
      {
        field: CONFIG_FILE_CONTEXT,
        message: 'is not set: pass -c swing:configFile=path/to/config.json (see infra/example.config.json)',
      },
    ]);
  }
  const path = isAbsolute(file) ? file : resolve(baseDir, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ValidationFailed([
      {
        field: CONFIG_FILE_CONTEXT,
        message: `cannot read ${path} (${(error as NodeJS.ErrnoException).code}): check the path`,
      },
    ]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ValidationFailed([
      {
        field: CONFIG_FILE_CONTEXT,
        message: `${path} is not JSON (${(error as Error).message}): fix the file`,
      },
    ]);
  }
  // `$comment` keys document the example files; they are not settings.
  return parseSwingConfig(withoutComments(parsed), path);
}

function withoutComments(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutComments);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== '$comment')
      .map(([key, inner]) => [key, withoutComments(inner)]),
  );
}
