import * as z from 'zod';

const ALARM_NAME = /^[^\s][\x20-\x7e]{0,254}$/;

/** A CloudWatch alarm period, in seconds. */
export const ALARM_PERIOD = z
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
