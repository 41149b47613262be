import { formatDuration } from '#domain/plan.ts';
import type { AlarmStatus } from '#domain/types.ts';
import type { LocalEvent } from './events.ts';

type AlarmEvent = Extract<LocalEvent, { kind: 'alarm' }>;

/**
 * Whether an alarm's change is a line of the live view's scrolling log: only into or out of ALARM. At a thin
 * share an alarm moves between OK and INSUFFICIENT_DATA often (neither fires), and a log line per move pushed
 * the gate's prompt off an 80x24 screen; its panel line shows such moves in place.
 */
export function alarmChangeLogged(event: AlarmEvent): boolean {
  return event.state === 'ALARM' || event.previous === 'ALARM';
}

/**
 * The live panel's alarm lines: one per alarm, redrawn in place, with its state and since when it has it.
 * "Since" is the change event's time; a state no event announced (the first one seen) dates from when the
 * panel first saw it.
 */
export class AlarmLines {
  /** Each alarm's last change event. */
  private readonly changes = new Map<string, { state: string; at: number }>();
  /** When the panel first saw each alarm's state, for a state no event has announced (yet). */
  private readonly firstSeen = new Map<string, { state: string; at: number }>();

  changed(event: AlarmEvent): void {
    this.changes.set(event.alarm, { state: event.state, at: Date.parse(event.at) });
  }

  private sinceOf(alarm: AlarmStatus, now: number): number {
    const change = this.changes.get(alarm.name);
    if (change?.state === alarm.state) return change.at;
    let seen = this.firstSeen.get(alarm.name);
    if (seen?.state !== alarm.state) {
      seen = { state: alarm.state, at: now };
      this.firstSeen.set(alarm.name, seen);
    }
    return seen.at;
  }

  lines(alarms: readonly AlarmStatus[], now: number, paint: (state: string) => string): string[] {
    const nameWidth = Math.max(0, ...alarms.map((alarm) => alarm.name.length));
    const stateWidth = Math.max(0, ...alarms.map((alarm) => alarm.state.length));
    return alarms.map((alarm, index) => {
      const since = this.sinceOf(alarm, now);
      const label = (index === 0 ? 'alarms' : '').padEnd(9);
      const state = paint(alarm.state) + ' '.repeat(stateWidth - alarm.state.length);
      return `${label}${alarm.name.padEnd(nameWidth)} ${state}  since ${clockSeconds(since)} (${age(now - since)})`;
    });
  }
}

/** `HH:MM:SS` in UTC, as the log lines' stamps. */
function clockSeconds(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

function age(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  return seconds < 60 ? `${seconds} s` : formatDuration(seconds);
}
