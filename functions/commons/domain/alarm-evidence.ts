/**
 * How recent the evidence behind a CloudWatch alarm's state is. An alarm's state is the verdict of its last
 * evaluation, over periods that ended before it, whose datapoints arrive late; its StateUpdatedTimestamp (and its
 * StateReason, StateReasonData) change only when the state does. So an OK that has stood since before an instant
 * says nothing about what happened just before that instant until an evaluation has judged data from after it.
 */

/**
 * How late CloudWatch may judge a period: datapoints are published a minute or two after their period, and an
 * alarm is evaluated about once a period. Conservative on purpose: counting an OK too early reports a drain
 * that did not happen; too late only holds a freeze until its deadline.
 */
export const CLOUDWATCH_EVALUATION_DELAY_SECONDS = 120;

/** What DescribeAlarms (or an alarm's state-change event) says about an alarm's current state. */
export interface AlarmStateEvidence {
  /** StateUpdatedTimestamp (the event's state.timestamp): when the state last changed. */
  readonly stateUpdatedAt?: Date;
  /** StateReasonData (the event's state.reasonData): the evaluation's JSON, its evaluated datapoints included. */
  readonly reasonData?: string;
  /** The alarm's period (MetricAlarm.Period, else the reason data's); absent for a composite alarm. */
  readonly periodSeconds?: number;
  /** MetricAlarm.EvaluationPeriods. */
  readonly evaluationPeriods?: number;
}

/** The end of the newest period the state's evaluation judged, from its reason data, when it lists datapoints. */
export function newestEvaluatedEnd(reasonData: string | undefined): Date | undefined {
  const newest = newestEvaluatedPeriod(reasonData);
  return newest && new Date(newest.start.getTime() + newest.periodSeconds * 1000);
}

/**
 * The start of the newest period the state's evaluation judged. A period's datapoint is the statistic of
 * whatever samples fell anywhere in it, possibly only ones taken before its last second: a period speaks for
 * no instant after its start. What must not be claimed too late (a drain) is dated by this.
 */
export function newestEvaluatedStart(reasonData: string | undefined): Date | undefined {
  return newestEvaluatedPeriod(reasonData)?.start;
}

function newestEvaluatedPeriod(
  reasonData: string | undefined,
): { readonly start: Date; readonly periodSeconds: number } | undefined {
  if (!reasonData) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(reasonData);
  } catch {
    return undefined;
  }
  const { period, evaluatedDatapoints } = (parsed ?? {}) as {
    period?: unknown;
    evaluatedDatapoints?: unknown;
  };
  if (typeof period !== 'number' || !Array.isArray(evaluatedDatapoints)) return undefined;
  const starts = evaluatedDatapoints
    .map((point) => Date.parse((point as { timestamp?: unknown })?.timestamp as string))
    .filter((time) => !Number.isNaN(time));
  return starts.length === 0 ? undefined : { start: new Date(Math.max(...starts)), periodSeconds: period };
}

/** The period the reason data names, if any. */
export function reasonPeriodSeconds(reasonData: string | undefined): number | undefined {
  try {
    const period = (JSON.parse(reasonData ?? '') as { period?: unknown })?.period;
    return typeof period === 'number' && period > 0 ? period : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The instant up to which the alarm's current state speaks for its metric, read at `now`: the newest of
 * - the end of the newest period its last transition judged (the transition time when its reason data lists none);
 * - while the state still stands, `now` less the alarm's whole evaluation window and CloudWatch's delay: every
 *   evaluation since judged data up to there and kept the state.
 * Undefined when nothing dates it.
 */
export function stateCoversUntil(evidence: AlarmStateEvidence, now: Date): Date | undefined {
  const transition = newestEvaluatedStart(evidence.reasonData) ?? evidence.stateUpdatedAt;
  const period = evidence.periodSeconds ?? reasonPeriodSeconds(evidence.reasonData);
  const standing =
    period !== undefined && evidence.evaluationPeriods !== undefined && evidence.stateUpdatedAt
      ? new Date(
          now.getTime() - (period * evidence.evaluationPeriods + CLOUDWATCH_EVALUATION_DELAY_SECONDS) * 1000,
        )
      : undefined;
  // The standing bound holds only for evaluations after the transition.
  const since =
    standing && evidence.stateUpdatedAt && standing > evidence.stateUpdatedAt ? standing : undefined;
  const times = [transition, since].filter((time): time is Date => time !== undefined);
  return times.length === 0 ? undefined : new Date(Math.max(...times.map((time) => time.getTime())));
}

/**
 * How long after an instant an alarm whose OK state stands through it can vouch for that instant: its whole
 * evaluation window and CloudWatch's delay (stateCoversUntil's standing bound). A drain shorter than this (plus
 * one recheck) would end timed-out whenever the reverse replayer kept up.
 */
export function standingOkVouchesAfterSeconds(alarm: {
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
}): number {
  return alarm.periodSeconds * alarm.evaluationPeriods + CLOUDWATCH_EVALUATION_DELAY_SECONDS;
}
