import { describe, expect, it } from 'vitest';
import type { FreezeRecord } from '#domain/types.ts';
import { type FreezeStage, freezeEvents } from '#local/events.ts';
import { freezeEventText, freezeFrameLine } from '#local/freeze-text.ts';
import { localFreeze } from '#local/summarize.ts';

/** The write freeze of a rollback after the cutover, as the run's events, the live view and --json tell it. */

const startedAt = '2026-03-02T10:00:00.000Z';
const frozen: FreezeRecord = {
  startedAt,
  frozenAt: '2026-03-02T10:00:00.040Z',
  drainDeadline: '2026-03-02T10:01:00.040Z',
};
const drained: FreezeRecord = {
  ...frozen,
  drainEndedAt: '2026-03-02T10:00:01.290Z',
  drain: 'drained',
  drainDetail: 'reverse replayer drained: 12 writes applied to the source, none pending',
};
const lifted: FreezeRecord = { ...drained, liftedAt: '2026-03-02T10:00:01.440Z', refusedWrites: 17 };

describe('The write freeze, told', () => {
  it('becomes one event per stage as the record moves, each once, in order', () => {
    const seen = new Set<FreezeStage>();
    const first = freezeEvents(frozen, seen);
    const again = freezeEvents(frozen, seen);
    const rest = freezeEvents(lifted, seen);

    expect(first).toEqual([{ kind: 'freeze', stage: 'frozen', at: frozen.frozenAt, drainTimeoutMs: 60_000 }]);
    expect(again).toEqual([]);
    expect(rest).toEqual([
      {
        kind: 'freeze',
        stage: 'drained',
        at: drained.drainEndedAt,
        afterMs: 1250,
        detail: drained.drainDetail,
      },
      { kind: 'freeze', stage: 'lifted', at: lifted.liftedAt, afterMs: 1400, refusedWrites: 17 },
    ]);
    expect(rest.map((event) => freezeEventText(event as never).text)).toEqual([
      'drained 1.3 s into the freeze: every write the target accepted is on the source; restoring',
      'freeze lifted after 1.4 s of 503 for writes (17 writes refused)',
    ]);
  });

  it('tells a drain that timed out and a freeze ELBv2 refused', () => {
    const timedOut = freezeEvents(
      { ...frozen, drainEndedAt: frozen.drainDeadline, drain: 'timed-out', drainDetail: '3 writes pending' },
      new Set(),
    );
    const refused = freezeEvents({ ...frozen, failed: 'TooManyRules' }, new Set());

    expect(timedOut.map((event) => event.kind === 'freeze' && event.stage)).toEqual(['frozen', 'timed-out']);
    expect(freezeEventText(timedOut[1] as never).text).toMatch(
      /drain TIMED OUT 60.0 s into the freeze \(3 writes pending\)/,
    );
    expect(refused[0]).toMatchObject({ stage: 'failed', detail: 'TooManyRules' });
  });

  it("draws the live view's line while frozen, drained and lifted", () => {
    const at = (iso: string) => Date.parse(iso);
    expect(
      freezeFrameLine(
        frozen,
        { drained: false, detail: 'reverse replayer lagging: 3 writes pending (oldest 80 ms)' },
        at('2026-03-02T10:00:00.540Z'),
      ),
    ).toBe('freeze   503 for writes 0.5 s (at most 60.0 s); draining: 3 writes pending (oldest 80 ms)');
    expect(freezeFrameLine(drained, undefined, at('2026-03-02T10:00:01.340Z'))).toBe(
      'freeze   1.3 s, drained: restoring, then the freeze lifts',
    );
    expect(freezeFrameLine(lifted, undefined, at('2026-03-02T10:00:09.000Z'))).toBe(
      'freeze   lifted: 1.4 s of 503 for writes, 17 refused',
    );
    expect(freezeFrameLine(undefined, undefined, 0)).toBeUndefined();
  });

  it('gives --json the durations: frozen to lifted, frozen to drained, and the bound', () => {
    expect(localFreeze(lifted)).toMatchObject({
      durationMs: 1400,
      drainMs: 1250,
      drainTimeoutMs: 60_000,
      refusedWrites: 17,
    });
    expect(localFreeze(frozen)).not.toHaveProperty('durationMs');
  });
});
