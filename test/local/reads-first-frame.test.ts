import { describe, expect, it } from 'vitest';
import type { Rollout, StepRecord } from '#domain/types.ts';
import type { LocalEvent } from '#local/events.ts';
import { ExposureFromWrites, readsFirstLines, readsFirstPhase } from '#local/reads-first-frame.ts';
import { describeEvent } from '#local/view.ts';

/** The live view's phase line once the pins have left in their own step (the pinned reads' bake). */

const cutover: StepRecord = {
  index: 1,
  targetPercent: 100,
  weights: { source: 0, target: 999 },
  startedAt: '2026-03-02T10:01:00.000Z',
  kind: 'cutover',
};
const pins: StepRecord = { ...cutover, index: 2, startedAt: '2026-03-02T10:06:00.000Z', kind: 'pins' };

function rolloutWith(steps: StepRecord[]): Rollout {
  return { steps, cutoverStartedAt: cutover.startedAt, cutoverAt: cutover.startedAt } as unknown as Rollout;
}

describe('Live view, reads-first phase: the pins leaving', () => {
  it('says the pins are still held on the source during the cutover’s bake', () => {
    expect(readsFirstPhase(rolloutWith([cutover]), 'baking', false)).toBe('writes cut over');
  });

  it('says the pins are gone and the pinned reads bake on the target under alarm watch, in 80 columns', () => {
    const lines = readsFirstLines({
      rollout: rolloutWith([cutover, pins]),
      weights: { source: 0, target: 999 },
      status: 'baking',
      cutoverGate: false,
      bar: () => '[#####]',
    });
    expect(lines).toContain('phase    pins gone: the pinned reads bake on the target under alarm watch');
    expect(lines.every((line) => line.length <= 80)).toBe(true);
  });
});

describe('Live view, reads-first: the cutover time in the phase line', () => {
  it('is the cutover’s weight write, as the summary and the report have it, even when the record’s is a second later', () => {
    const exposure = new ExposureFromWrites();
    exposure.seen({
      kind: 'phase',
      at: '2026-03-02T10:00:59.990Z',
      status: 'shifting',
      stepIndex: 1,
      steps: 3,
      targetPercent: 100,
      stepKind: 'cutover',
    });
    exposure.seen({
      kind: 'weights',
      at: '2026-03-02T10:00:59.998Z',
      weights: { source: 0, target: 999 },
      targetPercent: 100,
    });
    expect(exposure.cutoverAt()).toBe('2026-03-02T10:00:59.998Z');
    // The record's cutoverAt is written after the ModifyListener, here across a second's boundary.
    const lines = readsFirstLines({
      rollout: rolloutWith([cutover]),
      weights: { source: 0, target: 999 },
      status: 'baking',
      cutoverGate: false,
      bar: () => '[#####]',
      cutoverWriteAt: exposure.cutoverAt(),
    });
    expect(lines).toContain('phase    writes cut over at 10:00:59; pins held on the source');
  });
});

describe('Live view, reads-first: the exposure in the ended frame', () => {
  it('is measured from the cutover’s weight write to the restore’s, as the summary measures it, not the record’s times', () => {
    const exposure = new ExposureFromWrites();
    const phase = (status: 'shifting' | 'rolling-back', stepKind: 'reads' | 'cutover', at: string) =>
      exposure.seen({ kind: 'phase', at, status, stepIndex: 2, steps: 5, targetPercent: 100, stepKind });
    const weights = (target: number, at: string) =>
      exposure.seen({ kind: 'weights', at, weights: { source: 999 - target, target }, targetPercent: 0 });
    weights(0, '2026-03-02T10:00:00.000Z');
    phase('shifting', 'reads', '2026-03-02T10:00:01.000Z');
    expect(exposure.ms()).toBeUndefined();
    phase('shifting', 'cutover', '2026-03-02T10:01:00.000Z');
    weights(999, '2026-03-02T10:01:00.004Z');
    expect(exposure.ms()).toBeUndefined();
    phase('rolling-back', 'cutover', '2026-03-02T10:01:00.300Z');
    weights(0, '2026-03-02T10:01:00.465Z');
    expect(exposure.ms()).toBe(461);

    // The ended frame gives that number, whatever the record's own instants (a few ms later each) say.
    const lines = readsFirstLines({
      rollout: {
        ...rolloutWith([cutover]),
        outcome: 'rolled-back',
        exposure: {
          cutoverAt: '2026-03-02T10:01:00.004Z',
          endedAt: '2026-03-02T10:01:00.470Z',
          policy: 'rollback',
        },
      } as unknown as Rollout,
      weights: { source: 999, target: 0 },
      status: 'rolled-back',
      cutoverGate: false,
      bar: () => '[.....]',
      exposureMs: exposure.ms(),
    });
    expect(lines).toContain('phase    ended; write exposure 461 ms, cutover to restore');
  });
});

describe('Live view, reads-first: what a rollback after the cutover does, with reverse capture or without', () => {
  const gateLines = (reverseCapture: boolean) =>
    readsFirstLines({
      rollout: { steps: [] } as unknown as Rollout,
      weights: { source: 999, target: 0 },
      status: 'gated',
      cutoverGate: true,
      bar: () => '[.....]',
      reverseCapture,
    });
  const event = (reverseCapture: boolean, status: 'gated' | 'shifting') =>
    describeEvent(
      {
        kind: 'phase',
        at: '2026-03-02T10:01:00.000Z',
        status,
        stepIndex: 3,
        steps: 5,
        targetPercent: 100,
        stepKind: 'cutover',
        cutoverGate: true,
      } as LocalEvent,
      { keys: true, reverseCapture },
    ).text;

  it('the cutover gate: a freeze and a replay back with reverse capture, the write exposure without', () => {
    expect(gateLines(true)).toContain(
      '         after that, a rollback freezes writes, replays them onto the source',
    );
    expect(gateLines(false)).toContain('         after that, a rollback reports the write exposure');
    expect([...gateLines(true), ...gateLines(false)].every((line) => line.length <= 80)).toBe(true);
    expect(event(true, 'gated')).toContain(
      'after that a rollback freezes writes and replays them onto the source',
    );
    expect(event(false, 'gated')).toContain(
      'after that a rollback reports the write exposure (writes on the target only)',
    );
  });

  it('the write cutover: replayed onto the source with reverse capture, on the target only without', () => {
    expect(event(true, 'shifting')).toContain(
      'WRITE CUTOVER: writes move to the target, replayed onto the source from now',
    );
    expect(event(false, 'shifting')).toContain(
      'WRITE CUTOVER: writes move to the target, on the target only from now',
    );
  });
});
