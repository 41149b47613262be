import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { InsufficientDataPolicy, ReadsFirstSettings, TrafficMode } from '#domain/types.ts';
import type { ReplayLagMetric } from '../config.ts';
import { HANDLER_NAMES, type HandlerFunctionFactory, type HandlerName } from '../handler-functions.ts';
import { TARGET_WEIGHT_METRIC } from '../rollout-dashboard.ts';
import { ACCESS, ROLLBACK_PATH } from './handler-access.ts';
import {
  type GrantTargets,
  grantHandlerAccess,
  grantSmokeAccess,
  grantSmokeNetwork,
} from './handler-grants.ts';
import type { SmokeAccess, SmokeNetwork, SmokeSettings } from './props.ts';

export interface HandlerFunctionsProps extends GrantTargets {
  readonly sourceTargetGroupArn: string;
  readonly targetTargetGroupArn: string;
  /** The handlers' WATCHED_ALARMS. */
  readonly watchedAlarmNames: readonly string[];
  readonly insufficientDataPolicy?: InsufficientDataPolicy;
  /** The preflight function's READS_FIRST_DEFAULTS. */
  readonly readsFirstDefaults: { readonly traffic: TrafficMode; readonly settings: ReadsFirstSettings };
  /** The replay-lag alarm's name as written, with the metric it watches. */
  readonly replayLag?: { readonly alarmName: string; readonly metric: ReplayLagMetric };
  /** The reverse lag alarm's name as written, what it watches and the drain's bound. */
  readonly reverseCapture?: {
    readonly alarmName: string;
    readonly metric: ReplayLagMetric;
    readonly drainTimeoutSeconds: number;
  };
  readonly smoke: SmokeSettings;
  readonly smokeAccess?: SmokeAccess;
  readonly smokeNetwork?: SmokeNetwork;
  readonly deadLetterQueue: sqs.IQueue;
  readonly retention: logs.RetentionDays;
  readonly reservedConcurrency: number | false;
  readonly handlerFunction: HandlerFunctionFactory;
}

/** `shift-weights` -> `ShiftWeights`: the handler's construct ids. */
export const pascal = (name: string) =>
  name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');

/**
 * The ten handlers, each with a role of its own that grants only what it calls (ACCESS), its log group and
 * its environment. Created under `scope` by the handler's name (`ShiftWeights`, `ShiftWeightsRole`, ...).
 */
export function handlerFunctions(
  scope: Construct,
  props: HandlerFunctionsProps,
): Record<HandlerName, lambda.Function> {
  const environment = commonEnvironment(scope, props);
  const functions = {} as Record<HandlerName, lambda.Function>;
  for (const name of HANDLER_NAMES) functions[name] = handlerFunction(scope, name, environment, props);
  return functions;
}

function commonEnvironment(scope: Construct, props: HandlerFunctionsProps): Record<string, string> {
  return {
    LISTENER_ARN: props.listenerArn,
    SOURCE_TARGET_GROUP_ARN: props.sourceTargetGroupArn,
    TARGET_TARGET_GROUP_ARN: props.targetTargetGroupArn,
    TABLE_NAME: props.table.tableName,
    WATCHED_ALARMS: Stack.of(scope).toJsonString(props.watchedAlarmNames),
    INSUFFICIENT_DATA_POLICY: props.insufficientDataPolicy ?? 'not-firing',
    TOPIC_ARN: props.topic.topicArn,
    POWERTOOLS_SERVICE_NAME: TARGET_WEIGHT_METRIC.serviceName,
    POWERTOOLS_METRICS_NAMESPACE: TARGET_WEIGHT_METRIC.namespace,
  };
}

function handlerFunction(
  scope: Construct,
  name: HandlerName,
  commonEnvironment: Record<string, string>,
  props: HandlerFunctionsProps,
): lambda.Function {
  const id = pascal(name);
  const access = ACCESS[name];
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Swing ${name} handler: only what it calls`,
  });
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, { retention: props.retention });
  logGroup.grantWrite(role);
  const dependsOn = grantHandlerAccess(scope, id, role, access, props);

  const environment: Record<string, string> = { ...commonEnvironment };
  if (name === 'preflight') {
    // Whether a replay-lag alarm exists: without one, Preflight refuses reads-first at once instead of letting
    // its first step wait out replayWaitSeconds for a check that can never pass.
    environment.READS_FIRST_DEFAULTS = JSON.stringify({
      ...props.readsFirstDefaults,
      replayLagCheck: props.replayLag !== undefined,
    });
  }
  if (props.replayLag && (access.describeReplayLag || access.releaseReplayWait)) {
    environment.REPLAY_LAG_ALARM = props.replayLag.alarmName;
    environment.REPLAY_LAG_MISSING_DATA = props.replayLag.metric.missingData;
  }
  if (props.reverseCapture && access.reverseLag) {
    // Read by reverseCaptureFromEnv (functions/commons/config.ts): set means reverse capture is configured.
    environment.REVERSE_LAG_ALARM = props.reverseCapture.alarmName;
    environment.REVERSE_LAG_MISSING_DATA = props.reverseCapture.metric.missingData;
    environment.REVERSE_DRAIN_TIMEOUT_SECONDS = String(props.reverseCapture.drainTimeoutSeconds);
  }
  let network: Pick<lambda.FunctionOptions, 'vpc' | 'vpcSubnets' | 'securityGroups'> = {};
  if (name === 'smoke-test') {
    environment.SMOKE_CONFIG = Stack.of(scope).toJsonString(props.smoke);
    grantSmokeAccess(scope, role, props.smoke, props.smokeAccess ?? {});
    if (props.smokeNetwork) {
      network = {
        vpc: props.smokeNetwork.vpc,
        vpcSubnets: props.smokeNetwork.subnets,
        securityGroups: props.smokeNetwork.securityGroups
          ? [...props.smokeNetwork.securityGroups]
          : undefined,
      };
      dependsOn.push(grantSmokeNetwork(scope, role));
    }
  }

  const fn = props.handlerFunction(scope, id, name, {
    description: `Swing ${name}`,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 256,
    timeout: name === 'smoke-test' ? smokeTimeout(props.smoke) : access.timeout,
    role,
    logGroup,
    environment,
    ...network,
    ...(access.asyncFromEventBridge ? { deadLetterQueue: props.deadLetterQueue, retryAttempts: 2 } : {}),
    ...(props.reservedConcurrency !== false && ROLLBACK_PATH.includes(name)
      ? { reservedConcurrentExecutions: props.reservedConcurrency }
      : {}),
  });
  // Lambda checks the role's permissions (network interfaces) when it creates the function.
  for (const policy of dependsOn) fn.node.addDependency(policy);
  return fn;
}

/** Every check against both paths, each up to its timeout, plus the record writes. */
function smokeTimeout(smoke: SmokeSettings): Duration {
  const checks = smoke.checks?.length ?? 2;
  const perRequestMs = smoke.timeoutMs ?? 5000;
  const seconds = Math.ceil((checks * 2 * perRequestMs) / 1000) + 15;
  return Duration.seconds(Math.min(Math.max(seconds, 30), 900));
}
