import type { DeliveredSplit, RequestCounts, Weights } from './types.ts';

export type { DeliveredSplit, DeliveredVerdict, RequestCounts } from './types.ts';

/**
 * The delivered split: the target's share of the requests the weighted listener really served during a step,
 * set against the share its weights asked for. Shared by the local mode (exact counts), the CLI and the
 * report (CloudWatch's per-minute RequestCount of the two target groups).
 */

export interface DeliveredSplitPolicy {
  /** Reject the asked share when the p-value is below this. Default 0.001: one false warning in a thousand steps. */
  readonly level: number;
  /** Judge only with at least this many requests. Default 100. */
  readonly minRequests: number;
  /** ... and at least this many expected on each side (a 1 % step needs ~500 requests). Default 5. */
  readonly minExpectedPerSide: number;
}

export const DEFAULT_DELIVERED_SPLIT_POLICY: DeliveredSplitPolicy = {
  level: 0.001,
  minRequests: 100,
  minExpectedPerSide: 5,
};

/** The target's share of a weight pair, in percent. */
export function askedTargetShare(weights: Weights): number {
  const total = weights.source + weights.target;
  return total === 0 ? 0 : (weights.target / total) * 100;
}

/**
 * Two-sided exact binomial test, as R's `binom.test`: the probability, under share `p`, of every outcome no
 * more likely than `k` of `n`. The probabilities come from the ratio recurrence around the mode, so no
 * factorials overflow; terms far in the tails underflow to 0, which is what they are worth. O(n).
 */
export function binomialTwoSidedPValue(k: number, n: number, p: number): number {
  if (!(Number.isInteger(k) && Number.isInteger(n) && k >= 0 && n >= 0 && k <= n)) {
    throw new RangeError(`binomial test needs whole 0 <= k <= n, got k=${k}, n=${n}`);
  }
  if (!(p >= 0 && p <= 1)) throw new RangeError(`binomial test needs a share in [0, 1], got ${p}`);
  if (n === 0) return 1;
  if (p === 0) return k === 0 ? 1 : 0;
  if (p === 1) return k === n ? 1 : 0;
  const mode = Math.min(n, Math.floor((n + 1) * p));
  const odds = p / (1 - p);
  const relative = new Float64Array(n + 1);
  relative[mode] = 1;
  for (let i = mode; i < n; i += 1) relative[i + 1] = (relative[i]! * (n - i) * odds) / (i + 1);
  for (let i = mode; i > 0; i -= 1) relative[i - 1] = (relative[i]! * i) / ((n - i + 1) * odds);
  // The same relative tolerance as R, so that ties computed with rounding count as ties.
  const observed = relative[k]! * (1 + 1e-7);
  let total = 0;
  let asExtreme = 0;
  for (let i = 0; i <= n; i += 1) {
    const value = relative[i]!;
    total += value;
    if (value <= observed) asExtreme += value;
  }
  return Math.min(1, asExtreme / total);
}

/** Judges counts against the weights' share: a verdict, never an exception on too little data. */
export function judgeDeliveredSplit(
  input: {
    readonly weights: Weights;
    readonly requests: RequestCounts;
    readonly from?: string;
    readonly to?: string;
    readonly notes?: readonly string[];
  },
  policy: DeliveredSplitPolicy = DEFAULT_DELIVERED_SPLIT_POLICY,
): DeliveredSplit {
  const askedPercent = round(askedTargetShare(input.weights));
  const { source, target } = input.requests;
  const n = source + target;
  const window = {
    ...(input.from ? { from: input.from } : {}),
    ...(input.to ? { to: input.to } : {}),
  };
  const base = { askedPercent, level: policy.level, ...window, requests: { source, target } };
  const notes = [...(input.notes ?? [])];
  if (n === 0) {
    return {
      ...base,
      verdict: 'too-few',
      notes: [...notes, 'no requests were served in the window'],
    };
  }
  const deliveredPercent = round((target / n) * 100);
  const p = askedPercent / 100;
  const share = askedTargetShare(input.weights) / 100;
  const expectedSmallerSide = n * Math.min(share, 1 - share);
  const exactSide = share === 0 || share === 1;
  if (n < policy.minRequests || (!exactSide && expectedSmallerSide < policy.minExpectedPerSide)) {
    // A 0 % or 100 % share has no smaller side to expect requests on: it needs the minimum only.
    const needed = exactSide
      ? policy.minRequests
      : Math.max(policy.minRequests, Math.ceil(policy.minExpectedPerSide / Math.min(p, 1 - p)));
    return {
      ...base,
      deliveredPercent,
      verdict: 'too-few',
      notes: [...notes, `${n} requests are too few to judge a ${askedPercent} % share (needs ${needed})`],
    };
  }
  const pValue = binomialTwoSidedPValue(target, n, share);
  return {
    ...base,
    deliveredPercent,
    pValue,
    verdict: pValue < policy.level ? 'off' : 'as-asked',
    ...(notes.length > 0 ? { notes } : {}),
  };
}

/** A split with nothing to measure, and why. */
export function notMeasured(
  weights: Weights,
  why: string,
  policy = DEFAULT_DELIVERED_SPLIT_POLICY,
): DeliveredSplit {
  return {
    askedPercent: round(askedTargetShare(weights)),
    verdict: 'not-measured',
    level: policy.level,
    notes: [why],
  };
}

/**
 * CloudWatch's ALB RequestCount is a per-minute sum that settles minutes after the minute ends. Only whole
 * minutes inside the step, ended at least `settleSeconds` before `now`, count: a partial minute mixes two
 * weight settings. Returns the window [from, to) on minute boundaries, or undefined when none qualifies.
 */
export function settledWholeMinutes(input: {
  readonly startedAt: string;
  /** When the step's weights were replaced; absent while the step runs. */
  readonly endedAt?: string;
  readonly now: Date;
  /** How long after a minute ends its datapoint is taken as final. Default 180 s. */
  readonly settleSeconds?: number;
}): { from: string; to: string; minutes: number } | undefined {
  const minute = 60_000;
  const start = Date.parse(input.startedAt);
  const settledBy = input.now.getTime() - (input.settleSeconds ?? DEFAULT_SETTLE_SECONDS) * 1000;
  const end = Math.min(input.endedAt ? Date.parse(input.endedAt) : Number.POSITIVE_INFINITY, settledBy);
  if (!(Number.isFinite(start) && Number.isFinite(end))) return undefined;
  const from = Math.ceil(start / minute) * minute;
  const to = Math.floor(end / minute) * minute;
  if (to - from < minute) return undefined;
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    minutes: (to - from) / minute,
  };
}

export const DEFAULT_SETTLE_SECONDS = 180;

/** Notes every AWS-measured split carries: what the figure includes and what it cannot see. */
export function awsDeliveredSplitNotes(stickinessSeconds: number | undefined): string[] {
  const notes = [
    "from the target groups' RequestCount: smoke checks on the 9201/9202 listeners reach the same target groups and are counted too",
    'ALB has no per-rule request counts: where reads and writes are split, this is the total of both',
  ];
  if (stickinessSeconds) {
    notes.push(
      `target-group stickiness (${stickinessSeconds} s) is on: clients keep their group, so the delivered share lags the weights`,
    );
  }
  return notes;
}

/** One line for a terminal: "asked 50 %, delivered 49.2 % of 1203 (as asked, p=0.61)". */
export function describeDeliveredSplit(split: DeliveredSplit | undefined): string {
  if (!split) return 'not measured';
  if (split.verdict === 'not-measured') return `not measured (${split.notes?.[0] ?? 'no window'})`;
  const n = (split.requests?.source ?? 0) + (split.requests?.target ?? 0);
  const delivered = split.deliveredPercent === undefined ? '-' : `${split.deliveredPercent} %`;
  const head = `asked ${split.askedPercent} %, delivered ${delivered} of ${n}`;
  if (split.verdict === 'too-few') return `${head} (too few requests to judge)`;
  const p = split.pValue === undefined ? '' : `, p=${formatP(split.pValue)}`;
  return split.verdict === 'off'
    ? `${head} (OFF: the binomial test rejects ${split.askedPercent} % at level ${split.level}${p})`
    : `${head} (as asked at level ${split.level}${p})`;
}

export function formatP(p: number): string {
  return p < 0.0001 ? p.toExponential(1) : p.toPrecision(2);
}

function round(percent: number): number {
  return Math.round(percent * 100) / 100;
}
