import { describe, expect, it } from 'vitest';
import { exposureWindowText } from '#report/exposure-window.ts';

const at = (ms: number) => new Date(Date.parse('2026-03-02T10:30:00.000Z') + ms).toISOString();

describe('Function: exposureWindowText', () => {
  it.each([
    [480, 0, '480 ms'],
    [0, 0, '0 ms'],
    [999, 1, '999 ms'],
    [1_250, 1, '1.2s'],
    [59_999, 60, '59.9s'],
    [250_000, 250, '4m10s'],
  ])('says a window of %i ms (windowSeconds %i) as %s', (ms, windowSeconds, text) => {
    expect(exposureWindowText({ cutoverAt: at(0), endedAt: at(ms), windowSeconds })).toBe(text);
  });

  it('falls back to the whole seconds, "<1 s" for 0, when the instants cannot be read', () => {
    expect(exposureWindowText({ cutoverAt: 'never', endedAt: at(0), windowSeconds: 0 })).toBe('<1 s');
    expect(exposureWindowText({ cutoverAt: 'never', endedAt: at(0), windowSeconds: 75 })).toBe('1m15s');
  });
});
