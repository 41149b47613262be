import { EventEmitter } from 'node:events';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { parseLocalOptions } from '#local/options.ts';
import { runLocal } from '#local/run.ts';
import { LocalTimeline } from '#local/timeline.ts';
import { type Frame, LiveView } from '#local/view.ts';
import { FakeTerminal, writtenLines } from '../support/fake-terminal.ts';

/** A bold, dim or colour SGR sequence. */
const SGR_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[(?:1|2|3[0-7]|9[0-7])m`);

describe('Live view of a local run on a terminal', () => {
  it('fits 80 columns, follows a resize to 40, leaves one frame, and draws the rollback with its alarm before the summary', async () => {
    const terminal = new FakeTerminal(80, 30, true);
    let resized: Promise<string[]> | undefined;

    const { exitCode } = await runLocal(
      parseLocalOptions({
        plan: '10:1s,50:5s,100',
        portBase: '0',
        rate: '200',
        targetErrors: '0.5@50',
        // Only the 5xx alarm may roll back: on a loaded machine the p99 latency can pass the default 1 s first.
        alarmP99: '600000',
      }),
      {
        isTTY: true,
        terminal,
        env: {},
        stdout: (text) => {
          terminal.write(text);
          // Narrow the terminal mid-run, once the first bake is on screen.
          resized ??= terminal.resizeOnceShown('baking at 10 %', 40);
        },
      },
    );

    expect(exitCode).toBe(1);
    // The resize came while the run was live: the view redrew its panel at once, one frame fitting 40 columns.
    const afterResize = await resized;
    expect(afterResize).toBeDefined();
    expect(afterResize?.filter((row) => row.startsWith('Swing local'))).toHaveLength(1);
    expect(afterResize?.find((row) => row.startsWith('Swing local'))).not.toContain('ROLLED BACK');
    expect(afterResize?.filter((row) => row.startsWith('ramp '))).toHaveLength(1);
    expect(afterResize?.some((row) => row.includes('outcome:'))).toBe(false);
    expect(terminal.writes.some(({ text, columns }) => columns === 40 && text.includes('Swing local'))).toBe(
      true,
    );
    const tooWide = writtenLines(terminal.writes).filter(({ line, columns }) => stringWidth(line) > columns);
    expect(tooWide).toEqual([]);
    const screen = terminal.lines();
    // An all-mode run warns at its start, before any event or frame (rows reflowed to 40 columns: read as one).
    expect(screen[0]).toMatch(/^Warning: traffic all/);
    expect(screen.slice(0, 6).join('').replace(/\s+/g, '')).toContain(
      'Warning:trafficall:writestheweightedlistenersendstothetargetarenotcaptured',
    );
    // One frame: its header and each of its labels once, whatever was redrawn or resized.
    expect(screen.filter((line) => line.startsWith('Swing local'))).toHaveLength(1);
    expect(screen.filter((line) => line.startsWith('ramp '))).toHaveLength(1);
    expect(screen.filter((line) => line.startsWith('alarms '))).toHaveLength(1);
    expect(screen.find((line) => line.startsWith('Swing local'))).toContain('ROLLED BACK');
    const text = screen.join(' ').replace(/\s+/g, ' ');
    const rollingBack = text.indexOf('ROLLING BACK: alarm local-target-5xx-rate');
    expect(rollingBack).toBeGreaterThan(-1);
    expect(text.indexOf('alarm local-target-5xx-rate INSUFFICIENT_DATA -> ALARM')).toBeLessThan(rollingBack);
    expect(rollingBack).toBeLessThan(text.indexOf('ROLLED BACK: the starting weights are restored'));
    expect(text.indexOf('ROLLED BACK: the starting weights')).toBeLessThan(
      text.indexOf('outcome: rolled-back'),
    );
    // Once the log says ROLLED BACK, no frame on screen still says BAKING or counts a bake down.
    const loggedAt = terminal.screens.findIndex((rows) =>
      rows.some((row) => /^\d\d:\d\d:\d\d\.\d{3} ROLLED BACK/.test(row)),
    );
    expect(loggedAt).toBeGreaterThan(-1);
    const framesAfter = terminal.screens.slice(loggedAt).map((rows) => {
      const header = rows.findLastIndex((row) => row.startsWith('Swing local'));
      return header === -1 ? [] : rows.slice(header);
    });
    expect(
      framesAfter.filter(
        (frame) => frame[0]?.includes('BAKING') || frame.some((row) => row.startsWith('bake ')),
      ),
    ).toEqual([]);
    // Colour on a terminal without NO_COLOR: ALARM is not drawn like OK.
    expect(terminal.writes.some(({ text: written }) => SGR_COLOUR.test(written))).toBe(true);
  });
});

describe('Live view of a local run without a terminal', () => {
  it('prints one timestamped line per event, the alarm and the rollback included, and no frame', async () => {
    const out: string[] = [];

    const { events } = await runLocal(
      parseLocalOptions({
        plan: '10:1s,50:5s,100',
        portBase: '0',
        rate: '200',
        targetErrors: '0.5@50',
        // Only the 5xx alarm may roll back: on a loaded machine the p99 latency can pass the default 1 s first.
        alarmP99: '600000',
      }),
      { isTTY: false, stdout: (text) => out.push(text) },
    );

    const lines = out.join('').split('\n');
    // First the all-mode warning, once, then the events.
    expect(lines[0]).toMatch(
      /^Warning: traffic all: writes the weighted listener sends to the target are not captured/,
    );
    const eventLines = lines.slice(1, lines.indexOf(''));
    expect(eventLines).toHaveLength(events.length);
    for (const line of eventLines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S/);
    const text = out.join('');
    expect(text).toMatch(/Z alarm local-target-5xx-rate \S+ -> ALARM: Threshold Crossed/);
    expect(text).toMatch(/Z ROLLING BACK: alarm local-target-5xx-rate/);
    expect(text).toMatch(/Z ROLLED BACK: the starting weights are restored/);
    expect(text).not.toContain('Swing local');
    expect(text).not.toMatch(SGR_COLOUR);
  });
});

function frameOf(columns: number): { view: LiveView; out: string[] } {
  const out: string[] = [];
  // Only its event list is used here: no ALB behind it.
  const log = new LocalTimeline({} as never, () => Date.parse('2026-11-27T04:00:00.000Z'));
  const terminal = Object.assign(new EventEmitter(), { columns, rows: 30 });
  const view = new LiveView({
    io: { stdout: (text) => out.push(text), isTTY: true, terminal, env: { NO_COLOR: '1' } },
    json: false,
    plan: { steps: [{ targetPercent: 50, bakeSeconds: 5, gate: false }] },
    log,
  });
  log.record({
    kind: 'alarm',
    alarm: 'local-target-5xx-rate',
    state: 'ALARM',
    previous: 'OK',
    reason: 'Threshold Crossed: target 5xx rate 40.0 % > 5.0 %',
  });
  const frame: Frame = {
    rollout: undefined,
    weights: { source: 499, target: 500 },
    alb: { window: () => ({ requests: 100, errorRate: 0.4, p99LatencyMs: 12 }) },
    alarms: {
      alarms: [
        { name: 'local-target-5xx-rate', state: 'ALARM', firing: true, reason: 'r' },
        { name: 'local-target-p99-latency', state: 'OK', firing: false, reason: 'r' },
      ],
      firing: [],
    },
    traffic: { sent: 10, failed: 1 },
  };
  view.render(frame);
  return { view, out };
}

describe('Live view: colour and width', () => {
  it('writes no colour when NO_COLOR is set, and still names each alarm state', () => {
    const { out } = frameOf(80);

    const written = out.join('');
    expect(written).not.toMatch(SGR_COLOUR);
    expect(written).toMatch(/local-target-5xx-rate +ALARM/);
    expect(written).toMatch(/local-target-p99-latency +OK/);
  });

  it('draws one line per alarm, each cut to 40 columns', () => {
    const { out } = frameOf(40);

    const lines = writtenLines([{ text: out.join(''), columns: 40 }]);
    expect(lines.filter(({ line }) => stringWidth(line) > 40)).toEqual([]);
    expect(lines.some(({ line }) => line.includes('local-target-p99-latency OK'))).toBe(true);
  });
});

describe('Live view: a second Ctrl-C', () => {
  it('clears the live panel and says the outcome, the weights last seen and the exit code before the process ends', async () => {
    const terminal = new FakeTerminal(80, 24);
    const force = new AbortController();
    const log = new LocalTimeline({} as never, () => Date.parse('2026-11-27T04:00:00.000Z'));
    const view = new LiveView({
      io: { stdout: terminal.write, isTTY: true, terminal, env: {}, forceStop: force.signal },
      json: false,
      plan: { steps: [{ targetPercent: 50, bakeSeconds: 5, gate: false }] },
      log,
    });
    view.render({
      rollout: undefined,
      weights: { source: 499, target: 500 },
      alb: { window: () => ({ requests: 100, errorRate: 0, p99LatencyMs: 12 }) },
      alarms: { alarms: [], firing: [] },
      traffic: { sent: 10, failed: 0 },
    });
    expect(terminal.visible().some((line) => line.startsWith('Swing local'))).toBe(true);

    force.abort();

    const screen = terminal.visible();
    expect(screen.some((line) => line.startsWith('Swing local'))).toBe(false);
    expect(screen.join(' ').replace(/\s+/g, ' ')).toContain(
      "second Ctrl-C: stopped at once, without waiting for the safety net's restore; weights last seen: source 499 / target 500",
    );
    expect(screen).toContain('outcome: interrupted (exit code 130)');
  });
});

describe('Live view: the frame at a rollback', () => {
  it('draws the restored weights and no abort key as soon as the log says ROLLED BACK, before the next polled frame', () => {
    const terminal = new FakeTerminal(80, 24);
    const log = new LocalTimeline({} as never, () => Date.parse('2026-11-27T04:00:00.000Z'));
    const view = new LiveView({
      io: { stdout: terminal.write, isTTY: true, terminal, env: {}, keys: () => () => {} },
      json: false,
      plan: { steps: [{ targetPercent: 50, bakeSeconds: 5, gate: false }] },
      log,
    });
    log.record({
      kind: 'phase',
      status: 'baking',
      stepIndex: 0,
      steps: 1,
      targetPercent: 50,
      bakeSeconds: 5,
    });
    // The last polled frame: at 50 %, the record not yet rolled back.
    view.render({
      rollout: undefined,
      weights: { source: 499, target: 500 },
      alb: { window: () => ({ requests: 100, errorRate: 0.4, p99LatencyMs: 12 }) },
      alarms: { alarms: [], firing: [] },
      traffic: { sent: 10, failed: 4 },
    });
    expect(terminal.visible()).toContain('keys     a aborts, Ctrl-C stops');

    log.record({ kind: 'phase', status: 'rolling-back', stepIndex: 0, steps: 1, targetPercent: 50 });
    log.record({ kind: 'weights', weights: { source: 1, target: 0 }, targetPercent: 0 });
    log.record({ kind: 'phase', status: 'rolled-back', stepIndex: 0, steps: 1, targetPercent: 0 });

    const screen = terminal.visible();
    const frame = screen.slice(screen.findLastIndex((row) => row.startsWith('Swing local')));
    expect(frame[0]).toContain('ROLLED BACK');
    expect(frame.find((row) => row.startsWith('weights '))).toBe(
      'weights  source 1 / target 0 (0.0 % target)',
    );
    expect(frame.find((row) => row.startsWith('ramp '))).toMatch(/ 0\.0 % target$/);
    expect(frame.some((row) => row.startsWith('keys '))).toBe(false);
  });
});
