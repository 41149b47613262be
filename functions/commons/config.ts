import * as z from 'zod';
import { ValidationFailed } from '#domain/errors.ts';
import { ALB_RULE_LIMITS, SWING_PRIORITY_SPAN } from '#domain/swing-rules.ts';
import type {
  InsufficientDataPolicy,
  ListenerTarget,
  ReadsFirstSettings,
  ReverseCaptureSettings,
  TrafficMode,
} from '#domain/types.ts';
import { fieldIssuesFrom, strictObjectOf } from '#domain/validation.ts';

/**
 * Environment read at load time: a missing or malformed variable fails the cold start loudly instead of
 * failing a rollout halfway through.
 */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ValidationFailed([
      {
        field: name,
        message: `environment variable is missing: set ${name} on the function (the CDK stack does)`,
      },
    ]);
  }
  return value;
}

export function listenerTargetFromEnv(env: NodeJS.ProcessEnv = process.env): ListenerTarget {
  return {
    listenerArn: requireEnv('LISTENER_ARN', env),
    sourceTargetGroupArn: requireEnv('SOURCE_TARGET_GROUP_ARN', env),
    targetTargetGroupArn: requireEnv('TARGET_TARGET_GROUP_ARN', env),
  };
}

export function watchedAlarmsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env.WATCHED_ALARMS ?? '[]';
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every((name) => typeof name === 'string' && name.length > 0)) {
    throw new ValidationFailed([
      {
        field: 'WATCHED_ALARMS',
        message: 'must be a JSON array of alarm names, e.g. ["swing-target-health"]',
      },
    ]);
  }
  return parsed;
}

export function insufficientDataPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): InsufficientDataPolicy {
  const value = env.INSUFFICIENT_DATA_POLICY ?? 'not-firing';
  if (value !== 'firing' && value !== 'not-firing') {
    throw new ValidationFailed([
      { field: 'INSUFFICIENT_DATA_POLICY', message: `is '${value}': use 'not-firing' (default) or 'firing'` },
    ]);
  }
  return value;
}

export function alarmOptionsFromEnv(env: NodeJS.ProcessEnv = process.env) {
  return { alarmNames: watchedAlarmsFromEnv(env), insufficientData: insufficientDataPolicyFromEnv(env) };
}

/** The highest first priority at which all of Swing's rules still fit under ALB's highest priority. */
export const MAX_RULE_PRIORITY = ALB_RULE_LIMITS.maxPriority - SWING_PRIORITY_SPAN + 1;
/** Step Functions' longest wait: a task token lives at most a year. */
const MAX_WAIT_SECONDS = 31_536_000;

const seconds = (min: number, max: number, why: string) =>
  z
    .number({ error: 'must be a number of seconds' })
    .int({ error: (issue) => `is ${issue.input}: must be a whole number of seconds` })
    .min(min, { error: (issue) => `is ${issue.input}: must be at least ${min} s${why ? `: ${why}` : ''}` })
    .max(max, { error: (issue) => `is ${issue.input}: must be at most ${max} s` });

/** A full `ReadsFirstSettings`, as the stack writes it into READS_FIRST_DEFAULTS (and the config resolves it). */
export const ReadsFirstSettingsSchema = strictObjectOf(
  {
    basePriority: z
      .number({ error: 'must be a listener rule priority' })
      .int({ error: (issue) => `is ${issue.input}: must be a whole number` })
      .min(1, { error: (issue) => `is ${issue.input}: ALB rule priorities start at 1` })
      .max(MAX_RULE_PRIORITY, {
        error: (issue) =>
          `is ${issue.input}: Swing's rules take it and the next ${SWING_PRIORITY_SPAN - 1}, and ` +
          `ALB's highest priority is ${ALB_RULE_LIMITS.maxPriority}: ` +
          `use at most ${MAX_RULE_PRIORITY}`,
      }),
    // OpenSearch caps a scroll's keep-alive at search.max_keep_alive, 24 h by default.
    scrollKeepAliveSeconds: seconds(0, 86_400, ''),
    cutoverGate: z.enum(['manual', 'replay-lag'], {
      error:
        "must be 'manual' (the cutover waits for swing promote) or 'replay-lag' (it goes once caught up)",
    }),
    cutoverGateTimeoutSeconds: seconds(60, MAX_WAIT_SECONDS, 'a shorter gate gives nobody time to promote'),
    cutoverGateTimeoutAction: z.enum(['rollback', 'promote'], {
      error: "must be 'rollback' (default: the reads go back, nothing is lost) or 'promote'",
    }),
    replayWaitSeconds: seconds(
      60,
      MAX_WAIT_SECONDS,
      'the replayer needs a few metric periods to show it caught up',
    ),
    cutoverBakeSeconds: seconds(0, 86_400, ''),
    afterCutover: z.enum(['rollback', 'hold'], {
      error:
        "must be 'rollback' (availability first, the exposure reported) or 'hold' (writes stay on the target)",
    }),
  },
  'an object with basePriority, scrollKeepAliveSeconds, cutoverGate, cutoverGateTimeoutSeconds, ' +
    'cutoverGateTimeoutAction, replayWaitSeconds, cutoverBakeSeconds and afterCutover',
).superRefine((settings, context) => {
  const issue = cutoverBakeIssue(settings);
  if (issue) context.addIssue({ code: 'custom', path: ['cutoverBakeSeconds'], message: issue });
});

/** The scroll pin leaves when the cutover bake ends: a shorter bake would strand contexts opened on the source. */
export function cutoverBakeIssue(
  settings: Pick<ReadsFirstSettings, 'cutoverBakeSeconds' | 'scrollKeepAliveSeconds'>,
): string | undefined {
  if (settings.cutoverBakeSeconds >= settings.scrollKeepAliveSeconds) return undefined;
  return (
    `is ${settings.cutoverBakeSeconds}: must be at least scrollKeepAliveSeconds (${settings.scrollKeepAliveSeconds}): ` +
    'the scroll pin leaves when the cutover bake ends, and open contexts must not be continued on the target'
  );
}

export const TrafficModeSchema = z.enum(['all', 'reads-first'], {
  error: "must be 'all' (every request split by weight) or 'reads-first' (reads ramp, writes cut over last)",
});

/** The stack's defaults for rollouts that do not say: READS_FIRST_DEFAULTS on the preflight function. */
export interface ReadsFirstDefaults {
  readonly traffic: TrafficMode;
  readonly settings: ReadsFirstSettings;
}

const ReadsFirstDefaultsSchema = strictObjectOf(
  { traffic: TrafficModeSchema, settings: ReadsFirstSettingsSchema, replayLagCheck: z.boolean().optional() },
  'an object like { "traffic": "all", "settings": { "basePriority": 1000, ... } }',
);

/** JSON in a variable, or a ValidationFailed that names it and says what it should hold. */
function jsonEnv(name: string, raw: string, expected: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new ValidationFailed([
      {
        field: name,
        message: `is not JSON (${(error as Error).message}): it must be ${expected}; the CDK stack writes it, so redeploy`,
      },
    ]);
  }
}

export function readsFirstDefaultsFromEnv(env: NodeJS.ProcessEnv = process.env): ReadsFirstDefaults {
  const name = 'READS_FIRST_DEFAULTS';
  const expected = '{ "traffic": "all" | "reads-first", "settings": { "basePriority": 1000, ... } }';
  const parsed = ReadsFirstDefaultsSchema.safeParse(jsonEnv(name, requireEnv(name, env), expected));
  if (!parsed.success) throw new ValidationFailed(fieldIssuesFrom(parsed.error, name));
  return parsed.data;
}

/** What a replay-lag check does with no datapoint: `lagging` (fail closed, the default) or `caught-up`. */
export type ReplayLagMissingData = 'lagging' | 'caught-up';

export interface ReplayLagAlarm {
  /** The CloudWatch alarm on the replayer's lag: OK means caught up. */
  readonly alarmName: string;
  readonly missingData: ReplayLagMissingData;
}

/**
 * REPLAY_LAG_ALARM and REPLAY_LAG_MISSING_DATA; undefined when the stack has no replay-lag alarm (its config
 * names no Migration Assistant qualifier): a reads-first rollout then cannot pass a replay-lag check.
 */
export function replayLagFromEnv(env: NodeJS.ProcessEnv = process.env): ReplayLagAlarm | undefined {
  const alarmName = env.REPLAY_LAG_ALARM;
  if (alarmName === undefined) return undefined;
  if (alarmName.trim() === '') {
    throw new ValidationFailed([
      {
        field: 'REPLAY_LAG_ALARM',
        message: 'is empty: set the replay-lag alarm name, or leave the variable out (the CDK stack does)',
      },
    ]);
  }
  const missingData = env.REPLAY_LAG_MISSING_DATA ?? 'lagging';
  if (missingData !== 'lagging' && missingData !== 'caught-up') {
    throw new ValidationFailed([
      {
        field: 'REPLAY_LAG_MISSING_DATA',
        message: `is '${missingData}': use 'lagging' (default: no datapoint is never caught up) or 'caught-up'`,
      },
    ]);
  }
  return { alarmName, missingData };
}

/** The drain's bound when REVERSE_DRAIN_TIMEOUT_SECONDS does not say: writes stay frozen at most this long. */
export const DEFAULT_REVERSE_DRAIN_TIMEOUT_SECONDS = 60;
/** Longest drain bound: writes answered 503 for longer than this is an outage, not a freeze. */
export const MAX_REVERSE_DRAIN_TIMEOUT_SECONDS = 900;

/**
 * Reverse capture (lossless rollback after the write cutover): REVERSE_LAG_ALARM (the alarm on the reverse
 * replayer's lag; set means configured), REVERSE_LAG_MISSING_DATA (`lagging` default, or `caught-up`) and
 * REVERSE_DRAIN_TIMEOUT_SECONDS (default 60, 5 to 900). Undefined when REVERSE_LAG_ALARM is absent: a rollback
 * after the cutover then reports the write exposure, as without reverse capture.
 */
export function reverseCaptureFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): ReverseCaptureSettings | undefined {
  const lagAlarm = env.REVERSE_LAG_ALARM;
  if (lagAlarm === undefined) return undefined;
  const issues: { field: string; message: string }[] = [];
  if (lagAlarm.trim() === '') {
    issues.push({
      field: 'REVERSE_LAG_ALARM',
      message:
        "is empty: set the reverse replayer's lag alarm name, or leave the variable out (no reverse capture)",
    });
  }
  const missingData = env.REVERSE_LAG_MISSING_DATA ?? 'lagging';
  if (missingData !== 'lagging' && missingData !== 'caught-up') {
    issues.push({
      field: 'REVERSE_LAG_MISSING_DATA',
      message: `is '${missingData}': use 'lagging' (default: no datapoint is never drained) or 'caught-up'`,
    });
  }
  const rawTimeout = env.REVERSE_DRAIN_TIMEOUT_SECONDS;
  const drainTimeoutSeconds =
    rawTimeout === undefined || rawTimeout.trim() === ''
      ? DEFAULT_REVERSE_DRAIN_TIMEOUT_SECONDS
      : Number(rawTimeout);
  if (
    !Number.isInteger(drainTimeoutSeconds) ||
    drainTimeoutSeconds < 5 ||
    drainTimeoutSeconds > MAX_REVERSE_DRAIN_TIMEOUT_SECONDS
  ) {
    issues.push({
      field: 'REVERSE_DRAIN_TIMEOUT_SECONDS',
      message:
        `is '${rawTimeout}': use a whole number of seconds from 5 to ${MAX_REVERSE_DRAIN_TIMEOUT_SECONDS} ` +
        `(default ${DEFAULT_REVERSE_DRAIN_TIMEOUT_SECONDS}): how long writes stay frozen waiting for the drain`,
    });
  }
  if (issues.length > 0) throw new ValidationFailed(issues);
  return { lagAlarm, missingData: missingData as ReverseCaptureSettings['missingData'], drainTimeoutSeconds };
}
