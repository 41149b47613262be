import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Swing',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'swing',
});

/** The dashboard's "target weight over time": one EMF datapoint per verified write. */
export function emitTargetWeight(listenerArn: string, targetPercent: number): void {
  const metric = metrics.singleMetric();
  metric.addDimension('Listener', listenerArn);
  metric.addMetric('TargetWeightPercent', MetricUnit.Percent, targetPercent);
}
