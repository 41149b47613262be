import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { ReplayLagMetric } from '../config.ts';
import { loadBalancerDimension, RolloutAlarms, targetGroupDimension } from '../rollout-alarms.ts';
import type { RolloutControllerProps } from './props.ts';

/** What a rollout watches: its own composite alarm, then the extra alarms named in the props. */
export interface WatchedAlarms {
  readonly alarms: RolloutAlarms;
  /** The composite alarm's name first, then the extra names: the handlers' WATCHED_ALARMS. */
  readonly names: readonly string[];
  readonly arns: readonly string[];
  readonly extraNames: readonly string[];
}

export function watchedAlarms(
  scope: Construct,
  prefix: string,
  props: RolloutControllerProps,
): WatchedAlarms {
  const dimensions = props.metricDimensions ?? {
    loadBalancer: loadBalancerDimension(props.loadBalancerArn ?? props.listenerArn),
    sourceTargetGroup: targetGroupDimension(props.sourceTargetGroupArn),
    targetTargetGroup: targetGroupDimension(props.targetTargetGroupArn),
  };
  const alarms = new RolloutAlarms(scope, 'Alarms', {
    namePrefix: prefix,
    dimensions,
    thresholds: props.alarmThresholds,
  });
  const extraNames = [...(props.extraWatchedAlarmNames ?? [])];
  const arns = [
    alarms.health.alarmArn,
    ...extraNames.map((name) =>
      Stack.of(scope).formatArn({
        service: 'cloudwatch',
        resource: 'alarm',
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    ),
  ];
  return { alarms, names: [alarms.healthAlarmName, ...extraNames], arns, extraNames };
}

/**
 * In ALARM while the replayer lags; not a watched alarm: a lagging replayer holds a reads-first step, it never
 * rolls the target back.
 */
export function replayLagAlarm(
  scope: Construct,
  prefix: string,
  lag: ReplayLagMetric,
): { alarm: cloudwatch.Alarm; name: string } {
  return lagAlarm(scope, 'ReplayLagAlarm', `${prefix}-replay-lag`, lag, {
    lags: 'The replayer lags the source: ',
    effect: 'Reads-first steps and the write cutover wait while it is in ALARM; it rolls nothing back.',
  });
}

/**
 * OK once the reverse replayer has drained (its lag at or below the threshold): a rollback after the write
 * cutover waits for it with writes frozen. Not a watched alarm either: it never rolls anything back.
 */
export function reverseLagAlarm(
  scope: Construct,
  prefix: string,
  lag: ReplayLagMetric,
): { alarm: cloudwatch.Alarm; name: string } {
  return lagAlarm(scope, 'ReverseLagAlarm', `${prefix}-reverse-lag`, lag, {
    lags: "The reverse replayer (target's writes onto the source) lags: ",
    effect: 'A rollback after the write cutover keeps writes frozen until it is OK (or the drain times out).',
  });
}

/** A replayer's lag alarm: in ALARM while any period of the window is above the threshold. */
function lagAlarm(
  scope: Construct,
  id: string,
  name: string,
  lag: ReplayLagMetric,
  words: { readonly lags: string; readonly effect: string },
): { alarm: cloudwatch.Alarm; name: string } {
  const alarm = new cloudwatch.Alarm(scope, id, {
    alarmName: name,
    alarmDescription:
      `${words.lags}${lag.namespace} ${lag.metricName} (${lag.statistic}) above ${lag.threshold} ` +
      `in a period of the last ${lag.evaluationPeriods}` +
      (lag.missingData === 'lagging' ? ', or no datapoint. ' : '. ') +
      words.effect,
    metric: new cloudwatch.Metric({
      namespace: lag.namespace,
      metricName: lag.metricName,
      dimensionsMap: { ...lag.dimensions },
      statistic: lag.statistic,
      period: Duration.seconds(lag.periodSeconds),
    }),
    threshold: lag.threshold,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: lag.evaluationPeriods,
    // Caught up (OK) means no period of the window above the threshold: one lagging period is lagging.
    datapointsToAlarm: 1,
    // No datapoint (an idle or stopped replayer, wrong dimensions) is never caught up unless the policy says so.
    treatMissingData:
      lag.missingData === 'lagging'
        ? cloudwatch.TreatMissingData.BREACHING
        : cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  return { alarm, name };
}

/** Something that should have reached a handler or started a rollout did not: say so, loudly. */
export function undeliveredEventsAlarm(
  scope: Construct,
  prefix: string,
  deadLetterQueue: sqs.Queue,
  topic: sns.Topic,
): cloudwatch.Alarm {
  const undelivered = new cloudwatch.Alarm(scope, 'UndeliveredAlarm', {
    alarmName: `${prefix}-undelivered-events`,
    alarmDescription:
      'A Swing alarm event, safety-net event or scheduled start was not delivered: read the dead-letter queue.',
    metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  undelivered.addAlarmAction(new cloudwatchActions.SnsAction(topic));
  // enforceSSL gives the topic a policy of its own, which replaces SNS's default: without this statement
  // nothing allows CloudWatch to publish, and the alarm above fires into nothing.
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToPublish',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: {
        StringEquals: { 'aws:SourceAccount': Stack.of(scope).account },
        ArnLike: { 'aws:SourceArn': [undelivered.alarmArn] },
      },
    }),
  );
  return undelivered;
}
