import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AlarmStateValue } from '#domain/types.ts';
import { LocalTimeline } from '#local/timeline.ts';
import { type Frame, LiveView } from '#local/view.ts';
import { FakeTerminal } from '../support/fake-terminal.ts';

const FIVE_XX = 'local-target-5xx-rate';
const P99 = 'local-target-p99-latency';
const START = Date.parse('2026-11-27T04:00:00.000Z');

function frameWith(states: Record<string, AlarmStateValue>): Frame {
  const alarms = Object.entries(states).map(([name, state]) => ({
    name,
    state,
    firing: state === 'ALARM',
    reason: 'r',
  }));
  return {
    rollout: undefined,
    weights: { source: 999, target: 0 },
    alb: { window: () => ({ requests: 30, errorRate: 0, p99LatencyMs: 12 }) },
    alarms: { alarms, firing: alarms.filter((alarm) => alarm.firing) },
    traffic: { sent: 100, failed: 0 },
  };
}

/** A reads-first run at its cutover gate on an 80x24 terminal, the view's keys on. */
function atTheCutoverGate() {
  const terminal = new FakeTerminal(80, 24);
  let now = START;
  const log = new LocalTimeline({} as never, () => now);
  const view = new LiveView({
    io: { stdout: terminal.write, isTTY: true, terminal, env: {}, keys: () => () => {} },
    json: false,
    plan: {
      steps: [
        { targetPercent: 10, bakeSeconds: 3, gate: false },
        { targetPercent: 100, bakeSeconds: 3, gate: false },
      ],
    },
    log,
    traffic: 'reads-first',
  });
  const states: Record<string, AlarmStateValue> = {
    [FIVE_XX]: 'INSUFFICIENT_DATA',
    [P99]: 'INSUFFICIENT_DATA',
  };
  view.render(frameWith(states));
  log.record({
    kind: 'phase',
    status: 'gated',
    stepIndex: 2,
    steps: 4,
    targetPercent: 100,
    cutoverGate: true,
  });
  view.render(frameWith(states));
  const change = (alarm: string, state: AlarmStateValue, at: number) => {
    now = at;
    vi.setSystemTime(at);
    log.recordAlarm({
      alarm,
      state,
      previous: states[alarm]!,
      reason: `now ${state}`,
      at: new Date(at).toISOString(),
    });
    states[alarm] = state;
    view.render(frameWith(states));
  };
  const wait = (ms: number) => {
    now += ms;
    vi.setSystemTime(now);
    view.render(frameWith(states));
  };
  return { terminal, change, wait };
}

const gatePrompt = (screen: string[]) =>
  screen.filter((line) => /^\d\d:\d\d:\d\d\.\d{3} step 3\/4: CUTOVER GATE/.test(line));

describe('Live view: alarms flapping at a gate on an 80x24 terminal', () => {
  // The panel says how long ago each alarm changed, from the clock.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(START);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps one updating line per alarm, logs no OK <-> INSUFFICIENT_DATA flip, and the gate prompt stays on screen', () => {
    const { terminal, change, wait } = atTheCutoverGate();
    expect(gatePrompt(terminal.visible())).toHaveLength(1);

    // A minute at a thin share: the two alarms flip OK <-> INSUFFICIENT_DATA 22 times each, about 2.7 s apart.
    let at = START;
    for (let flip = 0; flip < 22; flip += 1) {
      at += 2700;
      const state = flip % 2 === 0 ? 'OK' : 'INSUFFICIENT_DATA';
      change(FIVE_XX, state, at);
      change(P99, state, at + 100);
    }

    wait(4000);

    const screen = terminal.visible();
    expect(gatePrompt(screen)).toHaveLength(1);
    expect(screen.join('\n')).toContain('press p to cut the writes over, a to abort');
    // One line per alarm, with its state now and since when (the last flip, 04:00:59.400 UTC).
    const fiveXx = screen.filter((line) => line.includes(FIVE_XX));
    const p99 = screen.filter((line) => line.includes(P99));
    expect(fiveXx).toHaveLength(1);
    expect(p99).toHaveLength(1);
    expect(fiveXx[0]).toMatch(/local-target-5xx-rate +INSUFFICIENT_DATA +since 04:00:59 \(4 s\)$/);
    expect(p99[0]).toMatch(/local-target-p99-latency +INSUFFICIENT_DATA +since 04:00:59 \(4 s\)$/);
    // Nothing of the flips in the whole buffer either: they were never log lines.
    expect(terminal.lines().filter((line) => line.includes('OK -> INSUFFICIENT_DATA'))).toEqual([]);
  });

  it('logs a change into ALARM and out of it, and the alarm line follows', () => {
    const { terminal, change } = atTheCutoverGate();
    change(FIVE_XX, 'OK', START + 1000);

    change(FIVE_XX, 'ALARM', START + 2000);
    let screen = terminal.visible();
    expect(
      screen.some((line) => /^04:00:02\.000 alarm local-target-5xx-rate OK -> ALARM: now ALARM$/.test(line)),
    ).toBe(true);
    const panelLine = (lines: string[]) =>
      lines.filter((line) => /^(alarms)? +local-target-5xx-rate /.test(line));
    expect(panelLine(screen)).toHaveLength(1);
    expect(panelLine(screen)[0]).toMatch(/ALARM +since 04:00:02\b/);

    change(FIVE_XX, 'OK', START + 5000);
    screen = terminal.visible();
    expect(screen.some((line) => /^04:00:05\.000 alarm local-target-5xx-rate ALARM -> OK/.test(line))).toBe(
      true,
    );
    expect(panelLine(screen)).toHaveLength(1);
    expect(panelLine(screen)[0]).toMatch(/OK +since 04:00:05\b/);
    expect(gatePrompt(screen)).toHaveLength(1);
  });
});
