import { describe, expect, it } from 'vitest';
import {
  awsDeliveredSplitNotes,
  binomialTwoSidedPValue,
  describeDeliveredSplit,
  judgeDeliveredSplit,
  settledWholeMinutes,
} from '#domain/delivered-split.ts';

describe('Delivered split', () => {
  describe('Function: binomialTwoSidedPValue', () => {
    // Reference values from scipy.stats.binomtest (the same definition as R's binom.test).
    it.each([
      [7, 20, 0.5, 0.26317596435546875],
      [682, 925, 0.75, 0.3824915595748517],
      [0, 10, 0.5, 0.001953125],
      [3, 10, 0.1, 0.0701908264],
      [480, 1000, 0.5, 0.2174482932041415],
      [5000, 10000, 0.52, 6.505337827586457e-5],
    ])('gives the exact two-sided p-value of %i of %i at share %f', (k, n, p, expected) => {
      expect(binomialTwoSidedPValue(k, n, p)).toBeCloseTo(expected, 8);
      expect(binomialTwoSidedPValue(k, n, p) / expected).toBeCloseTo(1, 5);
    });

    it('is certain at the edges: all to the target at 100 % is as asked, one stray request is not', () => {
      expect(binomialTwoSidedPValue(50, 50, 1)).toBe(1);
      expect(binomialTwoSidedPValue(49, 50, 1)).toBe(0);
      expect(binomialTwoSidedPValue(0, 50, 0)).toBe(1);
    });

    it('handles a million requests without overflow', () => {
      expect(binomialTwoSidedPValue(500_000, 1_000_000, 0.5)).toBeCloseTo(1, 6);
      expect(binomialTwoSidedPValue(498_000, 1_000_000, 0.5)).toBeLessThan(1e-4);
    });

    it('refuses counts that are not a binomial outcome', () => {
      expect(() => binomialTwoSidedPValue(11, 10, 0.5)).toThrow(/k <= n/);
      expect(() => binomialTwoSidedPValue(1, 10, 1.5)).toThrow(/share/);
    });
  });

  describe('Function: judgeDeliveredSplit', () => {
    it('takes the asked share from the weights, not the rounded percent', () => {
      const split = judgeDeliveredSplit({
        weights: { source: 998, target: 1 },
        requests: { source: 0, target: 0 },
      });
      expect(split.askedPercent).toBe(0.1);
    });

    it('says the split is as asked when the test does not reject the share', () => {
      const split = judgeDeliveredSplit({
        weights: { source: 500, target: 500 },
        requests: { source: 520, target: 480 },
      });
      expect(split).toMatchObject({
        verdict: 'as-asked',
        deliveredPercent: 48,
        askedPercent: 50,
        level: 0.001,
      });
      expect(describeDeliveredSplit(split)).toContain('as asked');
    });

    it('warns when the two-sided test rejects the asked share at the stated level', () => {
      const split = judgeDeliveredSplit({
        weights: { source: 500, target: 500 },
        requests: { source: 700, target: 300 },
      });
      expect(split.verdict).toBe('off');
      expect(split.pValue).toBeLessThan(0.001);
      expect(describeDeliveredSplit(split)).toMatch(/OFF: the binomial test rejects 50 % at level 0.001/);
    });

    it('says too few instead of judging a small sample', () => {
      const fewRequests = judgeDeliveredSplit({
        weights: { source: 500, target: 500 },
        requests: { source: 40, target: 0 },
      });
      expect(fewRequests.verdict).toBe('too-few');
      expect(fewRequests.pValue).toBeUndefined();
      // 300 requests at a 1 % step expect only 3 on the target.
      const smallShare = judgeDeliveredSplit({
        weights: { source: 990, target: 10 },
        requests: { source: 300, target: 0 },
      });
      expect(smallShare.verdict).toBe('too-few');
      expect(smallShare.notes?.[0]).toMatch(/needs 500/);
      // A 100 % share (the write cutover's) has no smaller side: it needs the minimum, not 5 / 1e-9 requests.
      const whole = judgeDeliveredSplit({
        weights: { source: 0, target: 999 },
        requests: { source: 0, target: 35 },
      });
      expect(whole.verdict).toBe('too-few');
      expect(whole.notes?.[0]).toBe('35 requests are too few to judge a 100 % share (needs 100)');
    });
  });

  describe('Function: settledWholeMinutes', () => {
    it('keeps only whole minutes inside the step that ended before the settle delay', () => {
      const window = settledWholeMinutes({
        startedAt: '2026-01-01T10:00:20Z',
        endedAt: '2026-01-01T10:05:40Z',
        now: new Date('2026-01-01T10:20:00Z'),
      });
      expect(window).toEqual({
        from: '2026-01-01T10:01:00.000Z',
        to: '2026-01-01T10:05:00.000Z',
        minutes: 4,
      });
    });

    it('leaves out the minutes that have not settled yet', () => {
      const window = settledWholeMinutes({
        startedAt: '2026-01-01T10:00:00Z',
        now: new Date('2026-01-01T10:06:30Z'),
        settleSeconds: 180,
      });
      expect(window).toEqual({
        from: '2026-01-01T10:00:00.000Z',
        to: '2026-01-01T10:03:00.000Z',
        minutes: 3,
      });
    });

    it('measures nothing for a step shorter than one whole minute', () => {
      expect(
        settledWholeMinutes({
          startedAt: '2026-01-01T10:00:10Z',
          endedAt: '2026-01-01T10:01:50Z',
          now: new Date('2026-01-01T11:00:00Z'),
        }),
      ).toBeUndefined();
    });
  });

  it('says where AWS counts fall short: smoke checks counted, no per-rule counts, stickiness lag', () => {
    expect(awsDeliveredSplitNotes(undefined).join(' ')).toMatch(/9201\/9202.*per-rule/s);
    expect(awsDeliveredSplitNotes(300).join(' ')).toMatch(/stickiness \(300 s\).*lags/);
  });
});
