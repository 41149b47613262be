import { Token } from 'aws-cdk-lib';
import * as z from 'zod';
import { MAX_REVERSE_DRAIN_TIMEOUT_SECONDS, ReadsFirstSettingsSchema } from '#commons/config.ts';
import { ValidationFailed } from '#domain/errors.ts';
import { DEFAULT_READS_FIRST } from '#domain/reads-first.ts';
import { parseSmokeConfig } from '#domain/smoke-config.ts';
import { fieldIssuesFrom } from '#domain/validation.ts';
import {
  checkScheduledPlan,
  LISTENER_ARN,
  LOAD_BALANCER_ARN,
  ROLLBACK_RESERVED_CONCURRENCY_ERROR,
  ROLLBACK_RESERVED_CONCURRENCY_MAX,
  TARGET_GROUP_ARN,
} from '../config.ts';
import type { RolloutControllerProps } from './props.ts';

function checkArn(field: string, value: string | undefined, pattern: RegExp, example: string) {
  if (value === undefined || Token.isUnresolved(value) || pattern.test(value)) return;
  throw new ValidationFailed([{ field, message: `is '${value}', not a valid ARN: e.g. ${example}` }]);
}

/**
 * What preflight and the smoke-test handler would refuse at run time, refused at synth time instead: the
 * ARNs, the smoke config (the handler parses it at its cold start) and every scheduled plan.
 */
export function validateControllerProps(props: RolloutControllerProps): void {
  const example = 'arn:aws:elasticloadbalancing:REGION:ACCOUNT';
  checkArn('listenerArn', props.listenerArn, LISTENER_ARN, `${example}:listener/app/NAME/ID/ID`);
  checkArn(
    'sourceTargetGroupArn',
    props.sourceTargetGroupArn,
    TARGET_GROUP_ARN,
    `${example}:targetgroup/NAME/ID`,
  );
  checkArn(
    'targetTargetGroupArn',
    props.targetTargetGroupArn,
    TARGET_GROUP_ARN,
    `${example}:targetgroup/NAME/ID`,
  );
  checkArn(
    'loadBalancerArn',
    props.loadBalancerArn,
    LOAD_BALANCER_ARN,
    `${example}:loadbalancer/app/NAME/ID`,
  );
  const reserved = props.rollbackReservedConcurrency;
  if (
    reserved !== undefined &&
    reserved !== false &&
    !(Number.isInteger(reserved) && reserved >= 1 && reserved <= ROLLBACK_RESERVED_CONCURRENCY_MAX)
  ) {
    throw new ValidationFailed([
      {
        field: 'rollbackReservedConcurrency',
        message: `is ${reserved}: ${ROLLBACK_RESERVED_CONCURRENCY_ERROR}`,
      },
    ]);
  }
  if (props.traffic !== undefined && props.traffic !== 'all' && props.traffic !== 'reads-first') {
    throw new ValidationFailed([
      { field: 'traffic', message: `is '${props.traffic}': use 'all' (default) or 'reads-first'` },
    ]);
  }
  const settings = ReadsFirstSettingsSchema.safeParse({
    ...DEFAULT_READS_FIRST,
    ...props.readsFirst,
  });
  if (!settings.success) throw new ValidationFailed(fieldIssuesFrom(settings.error, 'readsFirst'));
  if (props.replayLag) {
    const lag = ReplayLagMetricSchema.safeParse(props.replayLag);
    if (!lag.success) throw new ValidationFailed(fieldIssuesFrom(lag.error, 'replayLag'));
  }
  if (props.reverseCapture) {
    const lag = ReplayLagMetricSchema.safeParse(props.reverseCapture.metric);
    if (!lag.success) throw new ValidationFailed(fieldIssuesFrom(lag.error, 'reverseCapture.metric'));
    const timeout = props.reverseCapture.drainTimeoutSeconds;
    if (!Number.isInteger(timeout) || timeout < 5 || timeout > MAX_REVERSE_DRAIN_TIMEOUT_SECONDS) {
      throw new ValidationFailed([
        {
          field: 'reverseCapture.drainTimeoutSeconds',
          message: `is ${timeout}: use whole seconds from 5 to ${MAX_REVERSE_DRAIN_TIMEOUT_SECONDS} (writes answer 503 meanwhile)`,
        },
      ]);
    }
  }
  const endpointsAreTokens =
    Token.isUnresolved(props.smoke.sourceEndpoint) || Token.isUnresolved(props.smoke.targetEndpoint);
  if (!endpointsAreTokens) parseSmokeConfig(props.smoke, 'smoke');
  (props.schedules ?? []).forEach((schedule, index) => {
    checkScheduledPlan(schedule, props.traffic ?? 'all', `schedules[${index}]`);
  });
}

/** What the replay-lag alarm needs to be a valid CloudWatch alarm (the config's replayLag checks the rest). */
const ReplayLagMetricSchema = z.object({
  metricName: z.string().min(1).max(255),
  namespace: z.string().min(1).max(255),
  dimensions: z
    .record(z.string().min(1), z.string().min(1))
    .refine((dimensions) => Object.keys(dimensions).length > 0, {
      error:
        'is empty: the replayer lag metric has dimensions, e.g. { qualifier: "dev", OTelLib: "replayer" }',
    }),
  statistic: z.string().min(1),
  threshold: z.number().gt(0),
  periodSeconds: z.number().int().min(10),
  evaluationPeriods: z.number().int().min(1).max(100),
  missingData: z.enum(['lagging', 'caught-up']),
});
