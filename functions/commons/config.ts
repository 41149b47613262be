import { ValidationFailed } from '#domain/errors.ts';
import type { InsufficientDataPolicy, ListenerTarget } from '#domain/types.ts';

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
