import { Duration, Fn, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { type AlarmThresholds, DEFAULT_ALARM_THRESHOLDS } from './config.ts';

/** ALB CloudWatch dimension values: `app/<name>/<id>` and `targetgroup/<name>/<id>`. */
export interface AlbMetricDimensions {
  readonly loadBalancer: string;
  readonly sourceTargetGroup: string;
  readonly targetTargetGroup: string;
}

/** `app/name/id` from a listener ARN (`...:listener/app/name/id/listener-id`) or a load balancer ARN. */
export function loadBalancerDimension(listenerOrLoadBalancerArn: string): string {
  if (Token.isUnresolved(listenerOrLoadBalancerArn)) {
    const part = (index: number) => Fn.select(index, Fn.split('/', listenerOrLoadBalancerArn));
    return Fn.join('/', [part(1), part(2), part(3)]);
  }
  return listenerOrLoadBalancerArn.split('/').slice(1, 4).join('/');
}

/** `targetgroup/name/id` from a target group ARN. */
export function targetGroupDimension(targetGroupArn: string): string {
  if (Token.isUnresolved(targetGroupArn)) return Fn.select(5, Fn.split(':', targetGroupArn));
  return targetGroupArn.split(':').slice(5).join(':');
}

export type AlarmSettings = Omit<AlarmThresholds, 'extraWatchedAlarmNames'>;

export interface RolloutAlarmsProps {
  /** Alarm names start with it, so an operator finds them together. */
  readonly namePrefix: string;
  readonly dimensions: AlbMetricDimensions;
  /** @default DEFAULT_ALARM_THRESHOLDS (5 % errors over at least 50 requests, p99 2 s, +2 points vs source) */
  readonly thresholds?: Partial<AlarmSettings>;
}

type Side = 'source' | 'target';

/**
 * The target target group's health as CloudWatch alarms, and the one composite alarm a rollout watches.
 * Missing data is "not breaching": before the first step the target receives no traffic at all.
 */
export class RolloutAlarms extends Construct {
  readonly errorRate: cloudwatch.Alarm;
  readonly latency: cloudwatch.Alarm;
  readonly unhealthyHosts: cloudwatch.Alarm;
  readonly relativeErrorRate: cloudwatch.Alarm;
  readonly connectionErrors: cloudwatch.Alarm;
  /** Any of the five in ALARM: what the state machine and the alarm-event rule watch. */
  readonly health: cloudwatch.CompositeAlarm;
  /** The composite alarm's name as written (not a reference), for environment variables and event patterns. */
  readonly healthAlarmName: string;
  readonly settings: AlarmSettings;
  private readonly dimensions: AlbMetricDimensions;

  constructor(scope: Construct, id: string, props: RolloutAlarmsProps) {
    super(scope, id);
    this.dimensions = props.dimensions;
    const { extraWatchedAlarmNames: _extra, ...defaults } = DEFAULT_ALARM_THRESHOLDS;
    this.settings = { ...defaults, ...props.thresholds };
    const s = this.settings;
    const evaluation = {
      evaluationPeriods: s.evaluationPeriods,
      datapointsToAlarm: s.datapointsToAlarm,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    const name = (suffix: string) => `${props.namePrefix}-${suffix}`;

    this.errorRate = new cloudwatch.Alarm(this, 'ErrorRate', {
      alarmName: name('target-5xx-rate'),
      alarmDescription:
        `Target target group 5xx responses above ${s.errorRatePercent} % of its requests, ` +
        `counted only in periods with at least ${s.minRequests} requests.`,
      metric: this.errorRateMetric('target'),
      threshold: s.errorRatePercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      ...evaluation,
    });

    this.latency = new cloudwatch.Alarm(this, 'Latency', {
      alarmName: name('target-p99-latency'),
      alarmDescription: `Target target group p99 TargetResponseTime above ${s.p99LatencySeconds} s.`,
      metric: this.latencyMetric('target'),
      threshold: s.p99LatencySeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      ...evaluation,
    });

    this.unhealthyHosts = new cloudwatch.Alarm(this, 'UnhealthyHosts', {
      alarmName: name('target-unhealthy-hosts'),
      alarmDescription: 'At least one unhealthy target in the target target group.',
      metric: this.albMetric('UnHealthyHostCount', 'target', 'Maximum'),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      ...evaluation,
    });

    this.relativeErrorRate = new cloudwatch.Alarm(this, 'RelativeErrorRate', {
      alarmName: name('target-vs-source-5xx'),
      alarmDescription:
        `Target 5xx rate more than ${s.relativeErrorRatePoints} percentage points above the source's, ` +
        `in periods with at least ${s.minRequests} target requests: the target is worse than what it replaces.`,
      metric: new cloudwatch.MathExpression({
        // FILL(sreq, 1): with no source traffic (at 100 %) the source rate counts as 0, not as missing.
        expression: `IF(treq >= ${s.minRequests}, 100 * FILL(terr, 0) / treq - 100 * FILL(serr, 0) / FILL(sreq, 1), 0)`,
        usingMetrics: {
          terr: this.albMetric('HTTPCode_Target_5XX_Count', 'target', 'Sum'),
          treq: this.albMetric('RequestCount', 'target', 'Sum'),
          serr: this.albMetric('HTTPCode_Target_5XX_Count', 'source', 'Sum'),
          sreq: this.albMetric('RequestCount', 'source', 'Sum'),
        },
        label: 'target minus source 5xx rate (points)',
        period: Duration.seconds(s.periodSeconds),
      }),
      threshold: s.relativeErrorRatePoints,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      ...evaluation,
    });

    // A target that refuses or drops connection set-up never answers, so it sends no 5xx of its own: the load
    // balancer answers 502 and counts the failure here. (A reset on an open connection is counted only as the
    // load balancer's HTTPCode_ELB_502_Count, which has no TargetGroup dimension: it cannot be put on the target.)
    this.connectionErrors = new cloudwatch.Alarm(this, 'ConnectionErrors', {
      alarmName: name('target-connection-errors'),
      alarmDescription:
        `Connections the load balancer could not open to the target target group above ${s.errorRatePercent} % ` +
        `of its requests, counted only in periods with at least ${s.minRequests} requests.`,
      metric: this.connectionErrorRateMetric(),
      threshold: s.errorRatePercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      ...evaluation,
    });

    this.healthAlarmName = name('rollout-health');
    this.health = new cloudwatch.CompositeAlarm(this, 'Health', {
      compositeAlarmName: this.healthAlarmName,
      alarmDescription:
        'Watched by Swing rollouts: in ALARM, the open bake fails and the listener goes back to its starting weights.',
      alarmRule: cloudwatch.AlarmRule.anyOf(
        this.errorRate,
        this.latency,
        this.unhealthyHosts,
        this.relativeErrorRate,
        this.connectionErrors,
      ),
    });
  }

  get metricAlarms(): cloudwatch.Alarm[] {
    return [this.errorRate, this.latency, this.unhealthyHosts, this.relativeErrorRate, this.connectionErrors];
  }

  albMetric(metricName: string, side: Side, statistic: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/ApplicationELB',
      metricName,
      dimensionsMap: {
        LoadBalancer: this.dimensions.loadBalancer,
        TargetGroup:
          side === 'source' ? this.dimensions.sourceTargetGroup : this.dimensions.targetTargetGroup,
      },
      statistic,
      period: Duration.seconds(this.settings.periodSeconds),
      label: `${side} ${metricName}`,
    });
  }

  /** 5xx share of requests in %, 0 in periods with fewer than `minRequests` requests. */
  errorRateMetric(side: Side): cloudwatch.MathExpression {
    // Ids per side (serr, treq...): one graph may show both sides, and ids must be unique in it.
    const [err, req] = [`${side[0]}err`, `${side[0]}req`];
    return new cloudwatch.MathExpression({
      expression: `IF(${req} >= ${this.settings.minRequests}, 100 * FILL(${err}, 0) / ${req}, 0)`,
      usingMetrics: {
        [err]: this.albMetric('HTTPCode_Target_5XX_Count', side, 'Sum'),
        [req]: this.albMetric('RequestCount', side, 'Sum'),
      },
      label: `${side} 5xx rate (%)`,
      period: Duration.seconds(this.settings.periodSeconds),
    });
  }

  /** Target connections that could not be set up, in % of its requests, 0 below `minRequests` requests. */
  connectionErrorRateMetric(): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: `IF(treq >= ${this.settings.minRequests}, 100 * FILL(tconn, 0) / treq, 0)`,
      usingMetrics: {
        tconn: this.albMetric('TargetConnectionErrorCount', 'target', 'Sum'),
        treq: this.albMetric('RequestCount', 'target', 'Sum'),
      },
      label: 'target connection errors (%)',
      period: Duration.seconds(this.settings.periodSeconds),
    });
  }

  latencyMetric(side: Side): cloudwatch.Metric {
    return this.albMetric('TargetResponseTime', side, 'p99');
  }
}
