import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import * as z from 'zod';
import { TrafficModeSchema } from '#commons/config.ts';
import { type FieldIssue, ValidationFailed } from '#domain/errors.ts';
import { DEFAULT_READS_FIRST } from '#domain/reads-first.ts';
import { SmokeConfigSchema } from '#domain/smoke-config.ts';
import { fieldIssuesFrom } from '#domain/validation.ts';
import {
  arn,
  KMS_KEY_ARN,
  LISTENER_ARN,
  LOAD_BALANCER_ARN,
  OPENSEARCH_ARN,
  REGION,
  SECRET_ARN,
  TARGET_GROUP_ARN,
} from './arn-patterns.ts';
import { AlarmThresholdsSchema, DEFAULT_ALARM_THRESHOLDS } from './config/alarms.ts';
import { CreateModeSchema, ImportModeSchema } from './config/modes.ts';
import {
  ReadsFirstSectionSchema,
  ReplayLagSchema,
  replayLagDimensions,
  replayLagMetric,
} from './config/reads-first.ts';
import { ReverseCaptureSectionSchema, reverseDrainIssue, reverseLagIssue } from './config/reverse-capture.ts';
import { checkScheduledPlan, ScheduleSchema } from './config/schedules.ts';
import { FRONT_DOOR_REQUIRED, FrontDoorSchema } from './front-door-config.ts';

export { type AlarmThresholds, AlarmThresholdsSchema, DEFAULT_ALARM_THRESHOLDS } from './config/alarms.ts';
export {
  type CreateModeConfig,
  CreateModeSchema,
  type ImportModeConfig,
  ImportModeSchema,
} from './config/modes.ts';
export {
  DEFAULT_REPLAY_LAG_METRIC,
  migrationAssistantStage,
  ReadsFirstSectionSchema,
  type ReplayLagConfig,
  type ReplayLagMetric,
  ReplayLagSchema,
  replayLagDimensions,
  replayLagMetric,
} from './config/reads-first.ts';
export {
  type ReverseCaptureSection,
  ReverseCaptureSectionSchema,
  type ReverseLagSettings,
  reverseLagSettings,
} from './config/reverse-capture.ts';
export { checkScheduledPlan, cronIssue, type ScheduleConfig, ScheduleSchema } from './config/schedules.ts';
// The config's sections live in ./config/, one concern a file; importers keep reading them from here.
export { LISTENER_ARN, LOAD_BALANCER_ARN, TARGET_GROUP_ARN };

/**
 * The CDK app's configuration: a JSON file (context `swing:configFile`) or an inline object (context
 * `swing:config`). Parsed at synth time so that a bad ARN, plan or schedule fails `cdk synth` with a message
 * naming the field and the fix, before anything is deployed.
 */

/** Per function of the rollback path (alarm-event, rollback, safety-net, reconciler): a small share of the pool. */
export const DEFAULT_ROLLBACK_RESERVED_CONCURRENCY = 5;
export const ROLLBACK_RESERVED_CONCURRENCY_MAX = 100;
export const ROLLBACK_RESERVED_CONCURRENCY_ERROR =
  `must be false (reserve nothing, for an account whose concurrency quota is too low) or a whole number ` +
  `from 1 to ${ROLLBACK_RESERVED_CONCURRENCY_MAX} of executions per function: 0 would stop the functions`;

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
    /** Lossless rollback after the write cutover: the reverse replayer's lag and the drain's bound. */
    reverseCapture: ReverseCaptureSectionSchema.optional(),
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
    const reverse = reverseLagIssue(config, replayLagMetric(config)) ?? reverseDrainIssue(config);
    if (reverse) issue(...reverse);
    const names = new Set<string>();
    config.schedules.forEach((schedule, index) => {
      if (names.has(schedule.name))
        issue(['schedules', index, 'name'], 'is used twice: give each schedule its own');
      names.add(schedule.name);
    });
  });
export type SwingConfig = z.infer<typeof SwingConfigSchema>;
export type SwingConfigInput = z.input<typeof SwingConfigSchema>;

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
