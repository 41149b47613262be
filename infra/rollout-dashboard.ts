import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { RolloutAlarms } from './rollout-alarms.ts';

/**
 * What shift-weights emits after each verified write (functions/commons/powertools/metrics.ts): Powertools
 * Metrics adds its `service` dimension to every metric, so the dashboard must ask for both.
 */
export const TARGET_WEIGHT_METRIC = {
  namespace: 'Swing',
  metricName: 'TargetWeightPercent',
  serviceName: 'swing',
} as const;

export interface RolloutDashboardProps {
  /** @default a name CloudFormation generates */
  readonly dashboardName?: string;
  readonly listenerArn: string;
  readonly alarms: RolloutAlarms;
  /** More watched alarms, shown with the rollout's own. */
  readonly extraAlarms?: readonly cloudwatch.IAlarm[];
  readonly stateMachine: sfn.IStateMachine;
}

/** One page for a rollout: weight, traffic and errors per side, latency, alarm states, executions. */
export class RolloutDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: RolloutDashboardProps) {
    super(scope, id);
    const { alarms, stateMachine } = props;
    const minute = Duration.minutes(1);
    const targetWeight = new cloudwatch.Metric({
      namespace: TARGET_WEIGHT_METRIC.namespace,
      metricName: TARGET_WEIGHT_METRIC.metricName,
      dimensionsMap: { service: TARGET_WEIGHT_METRIC.serviceName, Listener: props.listenerArn },
      statistic: 'Maximum',
      period: minute,
      label: 'target weight (%)',
    });
    const executions = (label: string, metric: cloudwatch.Metric) => metric.with({ label, period: minute });

    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(6),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "Target weight over time (% of the weighted listener's traffic to the target)",
        left: [targetWeight],
        leftYAxis: { min: 0, max: 100, label: '%', showUnits: false },
        width: 12,
      }),
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms the rollout watches',
        alarms: [alarms.health, ...alarms.metricAlarms, ...(props.extraAlarms ?? [])],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Requests per target group',
        left: [
          alarms.albMetric('RequestCount', 'source', 'Sum'),
          alarms.albMetric('RequestCount', 'target', 'Sum'),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: '5xx rate per target group (%)',
        left: [alarms.errorRateMetric('source'), alarms.errorRateMetric('target')],
        leftAnnotations: [{ value: alarms.settings.errorRatePercent, label: 'rollback threshold' }],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'p99 TargetResponseTime (s)',
        left: [alarms.latencyMetric('source'), alarms.latencyMetric('target')],
        leftAnnotations: [{ value: alarms.settings.p99LatencySeconds, label: 'rollback threshold' }],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Rollout executions',
        left: [
          executions('started', stateMachine.metricStarted()),
          executions('succeeded', stateMachine.metricSucceeded()),
          executions('failed (rolled back or halted)', stateMachine.metricFailed()),
          executions('aborted', stateMachine.metricAborted()),
          executions('timed out', stateMachine.metricTimedOut()),
        ],
        stacked: false,
        width: 24,
      }),
    );
  }
}
