import {
  type CloudWatchClient,
  DescribeAlarmsCommand,
  type DescribeAlarmsCommandOutput,
} from '@aws-sdk/client-cloudwatch';
import type { AlarmEvaluation, AlarmPort, AlarmStatus, InsufficientDataPolicy } from '#domain/types.ts';

export interface CloudWatchAlarmsOptions {
  readonly alarmNames: readonly string[];
  readonly insufficientData?: InsufficientDataPolicy;
  readonly attempts?: number;
  readonly retryDelayMs?: number;
}

export function alarmStatusFrom(
  name: string,
  state: string | undefined,
  reason: string,
  policy: InsufficientDataPolicy,
): AlarmStatus {
  if (state === 'ALARM') return { name, state, reason, firing: true };
  if (state === 'OK') return { name, state, reason, firing: false };
  if (state === 'INSUFFICIENT_DATA') return { name, state, reason, firing: policy === 'firing' };
  return { name, state: 'UNREADABLE', reason: `unknown state ${state}: treated as firing`, firing: true };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const CHUNK = 100;

/** The watched alarms, read fail-closed: an alarm that cannot be read or found counts as firing. */
export class CloudWatchAlarms implements AlarmPort {
  constructor(
    private readonly client: CloudWatchClient,
    private readonly options: CloudWatchAlarmsOptions,
  ) {}

  private async describe(names: string[]): Promise<Map<string, { state?: string; reason: string }>> {
    const found = new Map<string, { state?: string; reason: string }>();
    for (let start = 0; start < names.length; start += CHUNK) {
      let nextToken: string | undefined;
      do {
        const page: DescribeAlarmsCommandOutput = await this.client.send(
          new DescribeAlarmsCommand({
            AlarmNames: names.slice(start, start + CHUNK),
            AlarmTypes: ['CompositeAlarm', 'MetricAlarm'],
            NextToken: nextToken,
          }),
        );
        for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
          if (alarm.AlarmName)
            found.set(alarm.AlarmName, { state: alarm.StateValue, reason: alarm.StateReason ?? '' });
        }
        nextToken = page.NextToken;
      } while (nextToken);
    }
    return found;
  }

  async evaluate(): Promise<AlarmEvaluation> {
    const names = [...this.options.alarmNames];
    if (names.length === 0) return { alarms: [], firing: [] };
    const policy = this.options.insufficientData ?? 'not-firing';
    const attempts = this.options.attempts ?? 3;
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt += 1) {
      if (attempt > 0) await sleep(this.options.retryDelayMs ?? 200);
      try {
        const found = await this.describe(names);
        const alarms = names.map((name) => {
          const alarm = found.get(name);
          if (!alarm) {
            return {
              name,
              state: 'MISSING' as const,
              reason: 'alarm not found: check the name or remove it from the watch list',
              firing: true,
            };
          }
          return alarmStatusFrom(name, alarm.state, alarm.reason, policy);
        });
        return { alarms, firing: alarms.filter((alarm) => alarm.firing) };
      } catch (error) {
        lastError = error;
      }
    }
    const why = lastError instanceof Error ? lastError.name : String(lastError);
    const alarms = names.map((name) => ({
      name,
      state: 'UNREADABLE' as const,
      reason: `DescribeAlarms failed (${why}): treated as firing`,
      firing: true,
    }));
    return { alarms, firing: alarms };
  }
}
