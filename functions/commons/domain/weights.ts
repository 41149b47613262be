import { ValidationFailed } from './errors.ts';
import type { Weights } from './types.ts';

/**
 * The fixed sum of every pair Swing writes. ALB allows 0..999 per target group, so a sum of 999 gives
 * 0.1 % resolution, and a fixed sum means a pair can never be 0/0 (which ALB would refuse).
 */
export const WEIGHT_TOTAL = 999;
const MAX_WEIGHT = 999;

/** The pair for `percent` % of traffic to the target: exact at 0 and 100, never both 0. */
export function percentToWeights(percent: number): Weights {
  if (typeof percent !== 'number' || !Number.isFinite(percent) || percent < 0 || percent > 100) {
    throw new ValidationFailed([
      {
        field: 'percent',
        message: `is ${String(percent)}: must be a number from 0 to 100 (target share in %)`,
      },
    ]);
  }
  const target = Math.round((percent * WEIGHT_TOTAL) / 100);
  return { source: WEIGHT_TOTAL - target, target };
}

/** The target's share in percent of any valid pair, including ones an operator set by hand (1/1 = 50). */
export function weightsToPercent(weights: Weights): number {
  const issues = [
    ...weightIssues(weights.source, 'weights.source'),
    ...weightIssues(weights.target, 'weights.target'),
  ];
  if (issues.length === 0 && weights.source + weights.target === 0) {
    issues.push({
      field: 'weights',
      message: 'are both 0: ALB needs at least one weight above 0, e.g. source 999 / target 0',
    });
  }
  if (issues.length > 0) throw new ValidationFailed(issues);
  return (weights.target * 100) / (weights.source + weights.target);
}

function weightIssues(weight: number, field: string): { field: string; message: string }[] {
  if (Number.isInteger(weight) && weight >= 0 && weight <= MAX_WEIGHT) return [];
  return [{ field, message: `is ${String(weight)}: must be a whole number from 0 to ${MAX_WEIGHT}` }];
}

/** Exactly the same pair. 1/1 and 500/500 differ: drift detection compares what was written, not shares. */
export function sameWeights(a: Weights, b: Weights): boolean {
  return a.source === b.source && a.target === b.target;
}

/**
 * True when `to` sends a larger share to the target than `from`. Compared by cross-multiplication so that
 * shares from different sums (1/1 vs 499/500) compare exactly. A 0/0 `from` counts as a 0 % share, so any
 * move towards the target from it is an increase and gets the alarm check (fail closed).
 */
export function isIncrease(from: Weights, to: Weights): boolean {
  const fromTotal = from.source + from.target;
  const toTotal = to.source + to.target;
  if (fromTotal === 0) return to.target > 0;
  return to.target * fromTotal > from.target * toTotal;
}

/** For logs and errors, e.g. `source 899 / target 100 (10.0 % target)`. Never throws. */
export function formatWeights(weights: Weights): string {
  const total = weights.source + weights.target;
  const share = total > 0 ? `${((weights.target * 100) / total).toFixed(1)} % target` : 'no traffic';
  return `source ${weights.source} / target ${weights.target} (${share})`;
}
