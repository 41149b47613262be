import { type CloudWatchClient, DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { alarmStatusFrom, MISSING_ALARM_REASON } from '#adapters/alarms.ts';
import type { ReplayLagMissingData } from '#commons/config.ts';
import { stateCoversUntil } from '#domain/alarm-evidence.ts';
import type { ReplayLagPort, ReplayLagVerdict } from '#domain/types.ts';

export interface CloudWatchReplayLagOptions {
  /** The CloudWatch alarm on the replayer's lag (the stack creates it): OK means caught up. */
  readonly alarmName: string;
  /**
   * What INSUFFICIENT_DATA means. An idle replayer emits no datapoint, and neither do wrong dimensions, so no
   * datapoint is not "caught up" unless the operator says so. @default 'lagging'
   */
  readonly missingData?: ReplayLagMissingData;
  /** DescribeAlarms tries before the check counts as lagging (fail closed). At least 1. @default 3 */
  readonly attempts?: number;
  /** Pause between tries. @default 200 */
  readonly retryDelayMs?: number;
  /** What the alarm is called in the verdict's words. @default 'replay-lag alarm' */
  readonly label?: string;
  /** The clock that dates the alarm's evidence (coversUntil). @default () => new Date() */
  readonly now?: () => Date;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const COMPARISON: Record<string, string> = {
  GreaterThanThreshold: '>',
  GreaterThanOrEqualToThreshold: '>=',
  LessThanThreshold: '<',
  LessThanOrEqualToThreshold: '<=',
};

/** What the alarm watches, in words: `Maximum of lagBetweenSourceAndTargetRequests > 5000`. */
function thresholdText(alarm: MetricAlarm | undefined): string {
  if (!alarm) return 'a composite alarm';
  const statistic = alarm.Statistic ?? alarm.ExtendedStatistic;
  const metric = alarm.MetricName ?? 'a metric math expression';
  const comparison = COMPARISON[alarm.ComparisonOperator ?? ''] ?? alarm.ComparisonOperator ?? '?';
  return `${statistic ? `${statistic} of ` : ''}${metric} ${comparison} ${alarm.Threshold ?? alarm.ThresholdMetricId ?? '?'}`;
}

/**
 * Whether the replayer has caught up, from the state of one CloudWatch alarm on its lag: OK is caught up, ALARM
 * is lagging, INSUFFICIENT_DATA follows the missing-data policy. An alarm that is missing or cannot be read is
 * lagging (fail closed): a step waits for the replayer, bounded, rather than run ahead of it.
 */
export class CloudWatchReplayLag implements ReplayLagPort {
  private readonly missingData: ReplayLagMissingData;
  private readonly attempts: number;
  private readonly retryDelayMs: number;

  constructor(
    private readonly client: CloudWatchClient,
    private readonly options: CloudWatchReplayLagOptions,
  ) {
    this.missingData = options.missingData ?? 'lagging';
    this.attempts = Math.max(1, options.attempts ?? 3);
    this.retryDelayMs = Math.max(0, options.retryDelayMs ?? 200);
  }

  async check(): Promise<ReplayLagVerdict> {
    const name = this.options.alarmName;
    const label = this.options.label ?? 'replay-lag alarm';
    let failure: unknown;
    for (let attempt = 0; attempt < this.attempts; attempt += 1) {
      if (attempt > 0 && this.retryDelayMs > 0) await sleep(this.retryDelayMs);
      let found:
        | { alarm: MetricAlarm | undefined; state: string | undefined; reason: string; coversUntil?: Date }
        | undefined;
      try {
        const response = await this.client.send(
          new DescribeAlarmsCommand({ AlarmNames: [name], AlarmTypes: ['CompositeAlarm', 'MetricAlarm'] }),
        );
        const metric = (response?.MetricAlarms ?? []).find((alarm) => alarm.AlarmName === name);
        const composite = (response?.CompositeAlarms ?? []).find((alarm) => alarm.AlarmName === name);
        const alarm = metric ?? composite;
        found = alarm && {
          alarm: metric,
          state: alarm.StateValue,
          reason: alarm.StateReason ?? '',
          coversUntil: stateCoversUntil(
            {
              stateUpdatedAt: alarm.StateUpdatedTimestamp,
              reasonData: alarm.StateReasonData,
              periodSeconds: metric?.Period,
              evaluationPeriods: metric?.EvaluationPeriods,
            },
            (this.options.now ?? (() => new Date()))(),
          ),
        };
      } catch (error) {
        failure = error;
        continue;
      }
      if (!found) {
        return {
          caughtUp: false,
          readable: false,
          detail: `${label} ${name}: ${MISSING_ALARM_REASON}; counted as lagging`,
        };
      }
      const verdict = this.verdict(name, found.alarm, found.state, found.reason);
      // Undefined (nothing dates the state): the verdict's evidence counts as old as can be.
      return { ...verdict, coversUntil: (found.coversUntil ?? new Date(0)).toISOString() };
    }
    const error = failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure);
    return {
      caughtUp: false,
      readable: false,
      detail: `${label} ${name} could not be read (DescribeAlarms failed ${this.attempts} times: ${error}); counted as lagging`,
    };
  }

  private verdict(
    name: string,
    alarm: MetricAlarm | undefined,
    state: string | undefined,
    reason: string,
  ): ReplayLagVerdict {
    // INSUFFICIENT_DATA fires (lags) unless the operator's policy says missing data is caught up.
    const status = alarmStatusFrom(
      name,
      state,
      reason,
      this.missingData === 'lagging' ? 'firing' : 'not-firing',
    );
    const watched = `${this.options.label ?? 'replay-lag alarm'} ${name} (lagging when ${thresholdText(alarm)})`;
    const because = status.reason ? `: ${status.reason}` : '';
    switch (status.state) {
      case 'OK':
        return { caughtUp: true, detail: `${watched} is OK${because}` };
      case 'ALARM':
        return { caughtUp: false, detail: `${watched} is in ALARM${because}` };
      case 'INSUFFICIENT_DATA':
        return {
          caughtUp: !status.firing,
          detail:
            `${watched} has INSUFFICIENT_DATA${because}. No datapoint comes from an idle replayer or from wrong ` +
            `dimensions; the missing-data policy '${this.missingData}' counts it as ` +
            `${status.firing ? 'lagging' : 'caught up'}`,
        };
      default:
        return { caughtUp: false, detail: `${watched}: ${status.reason}; counted as lagging` };
    }
  }
}
