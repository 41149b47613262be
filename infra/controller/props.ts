import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as z from 'zod';
import type { SmokeConfigSchema } from '#domain/smoke-config.ts';
import type { InsufficientDataPolicy, PlanEnd, ReadsFirstSettings, TrafficMode } from '#domain/types.ts';
import type { ReplayLagMetric } from '../config.ts';
import type { HandlerFunctionFactory } from '../handler-functions.ts';
import type { AlarmSettings, AlbMetricDimensions } from '../rollout-alarms.ts';

/** The handlers' SMOKE_CONFIG, as written (defaults apply in the handler). Endpoints may be tokens. */
export type SmokeSettings = z.input<typeof SmokeConfigSchema>;

export interface SmokeAccess {
  /** Customer managed KMS key of the basic-auth secret. @default the secret uses the AWS managed key */
  readonly secretKmsKeyArn?: string;
  /** OpenSearch domain or Serverless collection ARNs that SigV4 smoke requests read. @default none */
  readonly sigv4ResourceArns?: readonly string[];
}

/** Where the smoke-test function runs when :9201 / :9202 are reachable only inside a VPC. */
export interface SmokeNetwork {
  readonly vpc: ec2.IVpc;
  /** @default the VPC's private subnets */
  readonly subnets?: ec2.SubnetSelection;
  /** @default a new security group with outbound access only */
  readonly securityGroups?: readonly ec2.ISecurityGroup[];
}

/** A rollout that EventBridge Scheduler starts. */
export interface RolloutSchedule {
  /** Names the schedule and, by default, the execution's `requestedBy`. */
  readonly name: string;
  /** e.g. `ScheduleExpression.expression('cron(0 2 ? * TUE *)', TimeZone.EUROPE_BERLIN)` */
  readonly expression: scheduler.ScheduleExpression;
  /** A preset, a compact spec or `{ steps }`: checked at synth time as preflight will check it. */
  readonly plan: unknown;
  /** @default the stack's `traffic` */
  readonly traffic?: TrafficMode;
  /** `restore`: a rehearsal, back to the starting weights at its end. @default 'hold' */
  readonly then?: PlanEnd;
  /** An all-mode rehearsal leaves the writes it sent on the target: accepted only on purpose. @default false */
  readonly acceptWritesOnTarget?: boolean;
  /** @default `schedule:<name>` */
  readonly requestedBy?: string;
  /** @default true */
  readonly enabled?: boolean;
  readonly description?: string;
}

export interface RolloutControllerProps {
  /** The weighted listener (443 on the Migration Assistant). */
  readonly listenerArn: string;
  /** The Capture Proxy target group (source path). */
  readonly sourceTargetGroupArn: string;
  /** The Target Cluster Proxy target group (target path). */
  readonly targetTargetGroupArn: string;
  /**
   * CloudWatch dimensions of the load balancer and the target groups.
   * @default derived from listenerArn (or loadBalancerArn) and the target group ARNs
   */
  readonly metricDimensions?: AlbMetricDimensions;
  /** @default the load balancer in listenerArn */
  readonly loadBalancerArn?: string;
  /** Requests to :9201 and :9202 before any weight changes. */
  readonly smoke: SmokeSettings;
  /** @default nothing beyond the basic-auth secret named in `smoke.auth` */
  readonly smokeAccess?: SmokeAccess;
  /** @default the smoke-test function runs outside any VPC */
  readonly smokeNetwork?: SmokeNetwork;
  /** @default DEFAULT_ALARM_THRESHOLDS */
  readonly alarmThresholds?: Partial<AlarmSettings>;
  /** Alarms the rollout watches besides its own composite alarm. @default none */
  readonly extraWatchedAlarmNames?: readonly string[];
  /** @default 'not-firing': a 1 % step often has too few requests for a datapoint */
  readonly insufficientDataPolicy?: InsufficientDataPolicy;
  /** How rollouts that do not say move traffic. @default 'all' (every request split by weight) */
  readonly traffic?: TrafficMode;
  /** Reads-first settings for rollouts that do not give theirs. @default DEFAULT_READS_FIRST */
  readonly readsFirst?: Partial<ReadsFirstSettings>;
  /**
   * The replayer's lag, which a reads-first step waits on (`replayLagMetric` of the config).
   * @default none: no replay-lag alarm, and a reads-first rollout cannot pass its replay-lag check
   */
  readonly replayLag?: ReplayLagMetric;
  /**
   * Reverse capture: the reverse replayer's lag, which a rollback after the write cutover waits on with writes
   * frozen, up to drainTimeoutSeconds (`reverseLagSettings` of the config). @default none: such a rollback
   * restores at once and reports its write exposure
   */
  readonly reverseCapture?: { readonly metric: ReplayLagMetric; readonly drainTimeoutSeconds: number };
  /** @default none */
  readonly schedules?: readonly RolloutSchedule[];
  /** Scheduler retries before a start goes to the dead-letter queue. @default 3 */
  readonly scheduleRetryAttempts?: number;
  /** A scheduled start older than this goes to the dead-letter queue instead. @default 15 minutes */
  readonly scheduleMaxDelay?: Duration;
  /** Subscribed to the outcome topic. @default none */
  readonly notificationEmails?: readonly string[];
  /** Starts alarm, dashboard and log group names. @default the stack name */
  readonly namePrefix?: string;
  /** The table holds the listener lock and the rollout history. @default RemovalPolicy.RETAIN */
  readonly tableRemovalPolicy?: RemovalPolicy;
  /** @default three months */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Concurrent executions reserved for each function of the rollback path (ROLLBACK_PATH), taken from the
   * account's unreserved pool, so that throttling elsewhere in the account cannot starve a rollback. `false`
   * reserves none, for an account whose concurrency quota is too low to reserve any.
   * @default 5
   */
  readonly rollbackReservedConcurrency?: number | false;
  /** Builds each handler's function. @default bundledHandler (esbuild, ESM, minified) */
  readonly handlerFunction?: HandlerFunctionFactory;
}
