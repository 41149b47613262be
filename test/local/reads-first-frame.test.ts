import { describe, expect, it } from 'vitest';
import type { Rollout, StepRecord } from '#domain/types.ts';
import { readsFirstLines, readsFirstPhase } from '#local/reads-first-frame.ts';

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
