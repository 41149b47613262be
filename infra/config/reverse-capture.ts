import * as z from 'zod';
import { MAX_REVERSE_DRAIN_TIMEOUT_SECONDS } from '#commons/config.ts';
import { standingOkVouchesAfterSeconds } from '#domain/alarm-evidence.ts';
import { DRAIN_RECHECK_SECONDS } from '#domain/engine/freeze.ts';
import {
  type ReplayLagConfig,
  type ReplayLagMetric,
  ReplayLagSchema,
  replayLagMetric,
} from './reads-first.ts';

/**
 * Reverse capture, the AWS side (`reverseCapture`): the alarm on the reverse replayer's lag, which a rollback
 * after the write cutover waits on (writes frozen) before it restores, and how long it waits. Configured when
 * this section is set or the front door runs the reverse replayer itself (frontDoor.kubernetes.reverseCapture,
 * whose qualifier it then watches); otherwise a rollback after the cutover reports its write exposure as before.
 */

/**
 * Drained means the lag stayed at or below 1 s over the last period: the writes the target took before the
 * freeze are on the source, give or take that second. The forward replay-lag check's 30 s would restore with
 * up to 30 s of writes still on the target only.
 */
export const REVERSE_LAG_DEFAULTS = { thresholdSeconds: 1, evaluationPeriods: 1 } as const;

const withReverseDefaults = (input: unknown) =>
  input === undefined
    ? { ...REVERSE_LAG_DEFAULTS }
    : typeof input === 'object' && input !== null && !Array.isArray(input)
      ? { ...REVERSE_LAG_DEFAULTS, ...input }
      : input;

export const ReverseCaptureSectionSchema = z.strictObject({
  /**
   * How long a rollback keeps writes frozen waiting for the drain; then it restores and reports the exposure.
   * @default the lag alarm's proof time (reverseDrainFloorSeconds) plus 30 s: 210 s for a one-minute period
   */
  drainTimeoutSeconds: z
    .number()
    .int()
    .min(5)
    .max(MAX_REVERSE_DRAIN_TIMEOUT_SECONDS, {
      error: `must be at most ${MAX_REVERSE_DRAIN_TIMEOUT_SECONDS}: writes answer 503 all that time`,
    })
    .optional(),
  /**
   * The reverse replayer's lag, as replayLag's fields (same metric, its own qualifier), with a 1 s threshold and
   * one period. @default qualifier: frontDoor.kubernetes.reverseCapture.replayer.qualifier
   */
  lag: z.preprocess(withReverseDefaults, ReplayLagSchema),
});
export type ReverseCaptureSection = z.infer<typeof ReverseCaptureSectionSchema>;

/** What names the reverse lag metric: this section, and the front door's reverse replayer. */
export interface ReverseCaptureSource {
  readonly reverseCapture?: ReverseCaptureSection;
  readonly frontDoor?: {
    readonly kubernetes: { readonly reverseCapture?: { readonly replayer: { readonly qualifier: string } } };
  };
}

export interface ReverseLagSettings {
  /** Undefined when nothing names its qualifier or dimensions (the config refuses that). */
  readonly metric: ReplayLagMetric | undefined;
  readonly drainTimeoutSeconds: number;
}

/** The reverse lag alarm's metric and the drain's bound; undefined when reverse capture is not configured. */
export function reverseLagSettings(config: ReverseCaptureSource): ReverseLagSettings | undefined {
  const frontDoorQualifier = config.frontDoor?.kubernetes.reverseCapture?.replayer.qualifier;
  if (!config.reverseCapture && frontDoorQualifier === undefined) return undefined;
  const section = config.reverseCapture ?? ReverseCaptureSectionSchema.parse({});
  const lag: ReplayLagConfig = section.lag.dimensions
    ? section.lag
    : { ...section.lag, qualifier: section.lag.qualifier ?? frontDoorQualifier };
  // No load balancer here: the stage in its name is the forward replayer's qualifier, never the reverse one's.
  const metric = replayLagMetric({ replayLag: lag });
  const drainTimeoutSeconds = section.drainTimeoutSeconds ?? defaultDrainTimeoutSeconds(section.lag);
  return { metric, drainTimeoutSeconds };
}

/**
 * The shortest drain that can end `drained` when the reverse replayer keeps up: its lag alarm, OK since before the
 * freeze, vouches for the freeze's start only after its whole window and CloudWatch's delay, and the drain looks
 * again every DRAIN_RECHECK_SECONDS.
 */
export function reverseDrainFloorSeconds(lag: {
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
}): number {
  return standingOkVouchesAfterSeconds(lag) + DRAIN_RECHECK_SECONDS;
}

/** The drain's bound when the config sets none: its floor and 30 s more, within the longest freeze allowed. */
function defaultDrainTimeoutSeconds(lag: Parameters<typeof reverseDrainFloorSeconds>[0]): number {
  return Math.min(MAX_REVERSE_DRAIN_TIMEOUT_SECONDS, reverseDrainFloorSeconds(lag) + 30);
}

/** The config's complaint about the drain's bound, if any: one the lag alarm could never prove a drain within. */
export function reverseDrainIssue(config: ReverseCaptureSource): [string[], string] | undefined {
  const section = config.reverseCapture;
  if (section?.drainTimeoutSeconds === undefined) return undefined;
  const floor = reverseDrainFloorSeconds(section.lag);
  if (section.drainTimeoutSeconds >= floor) return undefined;
  const { periodSeconds, evaluationPeriods } = section.lag;
  return [
    ['reverseCapture', 'drainTimeoutSeconds'],
    `is ${section.drainTimeoutSeconds}: the reverse lag alarm (${evaluationPeriods} x ${periodSeconds} s) can ` +
      `vouch for a drain only ${floor} s after the freeze (its window, CloudWatch's delay, one recheck), so a ` +
      "rollback would refuse writes for nothing and still leave the target's writes on the target only: use at " +
      `least ${floor}, leave it out (${defaultDrainTimeoutSeconds(section.lag)}), or shorten ` +
      'reverseCapture.lag.periodSeconds',
  ];
}

/** The config's complaint about the reverse lag metric, if any: [path, message]. */
export function reverseLagIssue(
  config: ReverseCaptureSource,
  forward: ReplayLagMetric | undefined,
): [string[], string] | undefined {
  const reverse = reverseLagSettings(config);
  if (!reverse) return undefined;
  if (!reverse.metric) {
    return [
      ['reverseCapture', 'lag', 'qualifier'],
      "is required: the qualifier of the reverse replayer's metrics (its collector's QUALIFIER, not the stage), " +
        'or set reverseCapture.lag.dimensions',
    ];
  }
  const frontDoorQualifier = config.frontDoor?.kubernetes.reverseCapture?.replayer.qualifier;
  const lag = config.reverseCapture?.lag;
  if (
    frontDoorQualifier !== undefined &&
    lag?.qualifier !== undefined &&
    lag.qualifier !== frontDoorQualifier
  ) {
    return [
      ['reverseCapture', 'lag', 'qualifier'],
      `is ${lag.qualifier}, but the front door's reverse replayer publishes under ${frontDoorQualifier} ` +
        '(frontDoor.kubernetes.reverseCapture.replayer.qualifier): the alarm would wait on metrics nobody sends; ' +
        'leave it out to take that one',
    ];
  }
  const same = (a: ReplayLagMetric, b: ReplayLagMetric) =>
    a.namespace === b.namespace &&
    a.metricName === b.metricName &&
    JSON.stringify(Object.entries(a.dimensions).sort()) ===
      JSON.stringify(Object.entries(b.dimensions).sort());
  if (forward && same(reverse.metric, forward)) {
    return [
      ['reverseCapture', 'lag', 'qualifier'],
      "names the forward replayer's lag metric (replayLag): the drain would wait on the wrong replayer; give the " +
        "reverse replayer's metrics a qualifier of their own, e.g. <stage>-reverse",
    ];
  }
  return undefined;
}
