import * as z from 'zod';
import { cutoverBakeIssue, ReadsFirstSettingsSchema, type ReplayLagMissingData } from '#commons/config.ts';
import { DEFAULT_READS_FIRST } from '#domain/reads-first.ts';
import type { ReadsFirstSettings } from '#domain/types.ts';
import { ALARM_PERIOD } from './alarms.ts';

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

/** What names the replay-lag metric: the config's replayLag section, and the imported ALB's name. */
export interface ReplayLagSource {
  readonly replayLag: ReplayLagConfig;
  readonly import?: { readonly listenerArn: string; readonly loadBalancerArn?: string };
}

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
export function replayLagDimensions(config: ReplayLagSource): Record<string, string> | undefined {
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

export function replayLagMetric(config: ReplayLagSource): ReplayLagMetric | undefined {
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
