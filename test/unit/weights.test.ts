import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationFailed } from '#domain/errors.ts';
import {
  formatWeights,
  isIncrease,
  percentToWeights,
  sameWeights,
  WEIGHT_TOTAL,
  weightsToPercent,
} from '#domain/weights.ts';

const percent = fc.double({ min: 0, max: 100, noNaN: true });
const tenthPercent = fc.integer({ min: 0, max: 1000 }).map((tenths) => tenths / 10);

function issuesOf(act: () => unknown) {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationFailed);
    return (error as ValidationFailed).issues;
  }
  throw new Error('expected ValidationFailed');
}

describe('Function: percentToWeights', () => {
  it('is exact at 0 % and 100 %', () => {
    expect(percentToWeights(0)).toEqual({ source: 999, target: 0 });
    expect(percentToWeights(100)).toEqual({ source: 0, target: 999 });
  });

  it('writes 0.1 % steps as distinct pairs', () => {
    expect(percentToWeights(10)).toEqual({ source: 899, target: 100 });
    expect(percentToWeights(0.1)).toEqual({ source: 998, target: 1 });
    expect(percentToWeights(0.2)).not.toEqual(percentToWeights(0.1));
  });

  it('always sums to WEIGHT_TOTAL with whole weights in 0..999, never both 0', () => {
    fc.assert(
      fc.property(percent, (p) => {
        const { source, target } = percentToWeights(p);
        expect(source + target).toBe(WEIGHT_TOTAL);
        for (const weight of [source, target]) {
          expect(Number.isInteger(weight)).toBe(true);
          expect(weight).toBeGreaterThanOrEqual(0);
          expect(weight).toBeLessThanOrEqual(999);
        }
        expect(source === 0 && target === 0).toBe(false);
      }),
    );
  });

  it('never gives the target less traffic for a larger percent', () => {
    fc.assert(
      fc.property(percent, percent, (a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        expect(percentToWeights(high).target).toBeGreaterThanOrEqual(percentToWeights(low).target);
        expect(isIncrease(percentToWeights(high), percentToWeights(low))).toBe(false);
      }),
    );
  });

  it('round-trips through weightsToPercent within 0.1 for 0.1 steps and arbitrary doubles', () => {
    for (const arbitrary of [tenthPercent, percent]) {
      fc.assert(
        fc.property(arbitrary, (p) => {
          expect(Math.abs(weightsToPercent(percentToWeights(p)) - p)).toBeLessThanOrEqual(0.1);
        }),
      );
    }
  });

  it.each([-0.1, 100.1, Number.NaN, Number.POSITIVE_INFINITY])('refuses %s naming the range', (bad) => {
    const issues = issuesOf(() => percentToWeights(bad));

    expect(issues).toEqual([{ field: 'percent', message: expect.stringContaining('from 0 to 100') }]);
  });
});

describe('Function: weightsToPercent', () => {
  it('reads the target share of any pair, including hand-set ones', () => {
    expect(weightsToPercent({ source: 1, target: 1 })).toBe(50);
    expect(weightsToPercent({ source: 1, target: 0 })).toBe(0);
    expect(weightsToPercent({ source: 0, target: 7 })).toBe(100);
    expect(weightsToPercent({ source: 3, target: 1 })).toBe(25);
  });

  it('refuses a 0/0 pair, naming the fix', () => {
    const issues = issuesOf(() => weightsToPercent({ source: 0, target: 0 }));

    expect(issues).toEqual([
      { field: 'weights', message: expect.stringContaining('at least one weight above 0') },
    ]);
  });

  it.each([
    [{ source: 1000, target: 0 }, 'weights.source'],
    [{ source: 1, target: -1 }, 'weights.target'],
    [{ source: 1.5, target: 1 }, 'weights.source'],
  ])('refuses %j naming %s and the allowed range', (weights, field) => {
    const issues = issuesOf(() => weightsToPercent(weights));

    expect(issues).toEqual([{ field, message: expect.stringContaining('whole number from 0 to 999') }]);
  });
});

describe('Function: sameWeights', () => {
  it('compares the exact pair, not the share', () => {
    expect(sameWeights({ source: 1, target: 1 }, { source: 1, target: 1 })).toBe(true);
    expect(sameWeights({ source: 1, target: 1 }, { source: 500, target: 500 })).toBe(false);
  });
});

describe('Function: isIncrease', () => {
  it('compares target shares across different sums exactly', () => {
    expect(isIncrease({ source: 1, target: 0 }, percentToWeights(0.1))).toBe(true);
    expect(isIncrease({ source: 1, target: 1 }, { source: 499, target: 500 })).toBe(true);
    expect(isIncrease({ source: 1, target: 1 }, { source: 500, target: 500 })).toBe(false);
    expect(isIncrease(percentToWeights(50), { source: 1, target: 0 })).toBe(false);
  });

  it('treats any move towards the target from a 0/0 pair as an increase', () => {
    expect(isIncrease({ source: 0, target: 0 }, percentToWeights(5))).toBe(true);
    expect(isIncrease({ source: 0, target: 0 }, percentToWeights(0))).toBe(false);
  });

  it('agrees with the percent order of the pairs Swing writes', () => {
    fc.assert(
      fc.property(tenthPercent, tenthPercent, (a, b) => {
        expect(isIncrease(percentToWeights(a), percentToWeights(b))).toBe(b > a);
      }),
    );
  });
});

describe('Function: formatWeights', () => {
  it('prints both weights and the target share', () => {
    expect(formatWeights({ source: 899, target: 100 })).toBe('source 899 / target 100 (10.0 % target)');
    expect(formatWeights({ source: 1, target: 1 })).toBe('source 1 / target 1 (50.0 % target)');
  });

  it('does not throw on a 0/0 pair read from a listener', () => {
    expect(formatWeights({ source: 0, target: 0 })).toBe('source 0 / target 0 (no traffic)');
  });
});
