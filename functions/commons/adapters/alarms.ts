import {
  type CloudWatchClient,
  DescribeAlarmsCommand,
  type DescribeAlarmsCommandOutput,
} from '@aws-sdk/client-cloudwatch';
import type { AlarmEvaluation, AlarmPort, AlarmStatus, InsufficientDataPolicy } from '#domain/types.ts';

export interface CloudWatchAlarmsOptions {
  /** Alarm names (metric or composite) watched during the rollout. */
  readonly alarmNames: readonly string[];
  /** What INSUFFICIENT_DATA means. @default 'not-firing' */
  readonly insufficientData?: InsufficientDataPolicy;
  /** DescribeAlarms tries before every alarm counts as unreadable (firing). At least 1. @default 3 */
  readonly attempts?: number;
  /** Pause between tries. @default 200 */
  readonly retryDelayMs?: number;
}

/** DescribeAlarms accepts at most this many names per call. */
const MAX_NAMES_PER_CALL = 100;

export const MISSING_ALARM_REASON = 'alarm not found: check the name or remove it from the watch list';

/**
 * One alarm's state judged for a rollout: ALARM fires, OK does not, INSUFFICIENT_DATA follows the policy,
 * and a state this code does not know is unreadable, which fires (fail closed).
 */
export function alarmStatusFrom(
  name: string,
  stateValue: string | undefined,
  reason: string,
  policy: InsufficientDataPolicy,
): AlarmStatus {
  switch (stateValue) {
    case 'ALARM':
      return { name, state: 'ALARM', reason, firing: true };
    case 'OK':
      return { name, state: 'OK', reason, firing: false };
    case 'INSUFFICIENT_DATA':
      return { name, state: 'INSUFFICIENT_DATA', reason, firing: policy === 'firing' };
    default:
      return {
        name,
        state: 'UNREADABLE',
        reason: `unknown alarm state ${stateValue ?? '(none)'}: treated as firing. ${reason}`.trim(),
        firing: true,
      };
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface DescribedAlarm {
  readonly state: string | undefined;
  readonly reason: string;
}

/** The watched alarms, read fail-closed: an alarm that cannot be read or is not found counts as firing. */
export class CloudWatchAlarms implements AlarmPort {
  private readonly policy: InsufficientDataPolicy;
  private readonly attempts: number;
  private readonly retryDelayMs: number;

  constructor(
    private readonly client: CloudWatchClient,
    private readonly options: CloudWatchAlarmsOptions,
  ) {
    this.policy = options.insufficientData ?? 'not-firing';
    this.attempts = Math.max(1, options.attempts ?? 3);
    this.retryDelayMs = Math.max(0, options.retryDelayMs ?? 200);
  }

  async evaluate(): Promise<AlarmEvaluation> {
    const watched = this.options.alarmNames;
    if (watched.length === 0) return { alarms: [], firing: [] };
    let described: Map<string, DescribedAlarm> | undefined;
    let failure: unknown;
    for (let attempt = 0; attempt < this.attempts && !described; attempt += 1) {
      if (attempt > 0 && this.retryDelayMs > 0) await sleep(this.retryDelayMs);
      try {
        described = await this.describe([...new Set(watched)]);
      } catch (error) {
        failure = error;
      }
    }
    const alarms = watched.map((name) => this.statusOf(name, described, failure));
    return { alarms, firing: alarms.filter((alarm) => alarm.firing) };
  }

  private statusOf(
    name: string,
    described: Map<string, DescribedAlarm> | undefined,
    failure: unknown,
  ): AlarmStatus {
    if (!described) {
      const error = failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure);
      return {
        name,
        state: 'UNREADABLE',
        reason: `DescribeAlarms failed ${this.attempts} times (${error}): treated as firing`,
        firing: true,
      };
    }
    const alarm = described.get(name);
    // A typo in the watch list must not switch the watch off.
    if (!alarm) return { name, state: 'MISSING', reason: MISSING_ALARM_REASON, firing: true };
    return alarmStatusFrom(name, alarm.state, alarm.reason, this.policy);
  }

  private async describe(names: readonly string[]): Promise<Map<string, DescribedAlarm>> {
    const found = new Map<string, DescribedAlarm>();
    for (let start = 0; start < names.length; start += MAX_NAMES_PER_CALL) {
      const chunk = names.slice(start, start + MAX_NAMES_PER_CALL);
      let nextToken: string | undefined;
      do {
        const page: DescribeAlarmsCommandOutput = await this.client.send(
          new DescribeAlarmsCommand({
            AlarmNames: chunk,
            // Without AlarmTypes, DescribeAlarms returns metric alarms only and a composite would look missing.
            AlarmTypes: ['CompositeAlarm', 'MetricAlarm'],
            NextToken: nextToken,
          }),
        );
        for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
          if (alarm.AlarmName) {
            found.set(alarm.AlarmName, { state: alarm.StateValue, reason: alarm.StateReason ?? '' });
          }
        }
        nextToken = page.NextToken;
      } while (nextToken);
    }
    return found;
  }
}
