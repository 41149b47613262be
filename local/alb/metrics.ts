import type { Tag } from '@aws-sdk/client-elastic-load-balancing-v2';

/** The local ALB's figures: per-target-group requests, 5xx and latency, as CloudWatch's ALB metrics count them. */

export type Group = 'source' | 'target';
/**
 * Which listeners' traffic a figure covers: all three (CloudWatch's per-target-group view), 9200 only, or the
 * 9200 requests one route sent (a rule's ARN, or `default` for the default action).
 */
export type ListenerScope = 'all' | 'weighted' | { readonly route: string };

/** The route key of requests the default action handled (no rule matched). */
export const DEFAULT_ROUTE = 'default';

interface Sample {
  /** performance.now(): monotonic, so a wall-clock jump cannot empty or stretch a window. */
  readonly at: number;
  readonly group: Group;
  readonly weighted: boolean;
  /** The rule ARN (or DEFAULT_ROUTE) that routed a 9200 request; undefined on the smoke listeners. */
  readonly route: string | undefined;
  readonly status: number;
  readonly latencyMs: number;
}

export interface GroupWindow {
  readonly requests: number;
  readonly errors5xx: number;
  /** errors5xx / requests, 0 when there were no requests. */
  readonly errorRate: number;
  /** 0 when there were no requests. */
  readonly p99LatencyMs: number;
}

export interface GroupTotals {
  requests: number;
  errors5xx: number;
}

export interface AlbTotals {
  /** Traffic the weighted 9200 listener sent to each group. */
  readonly weighted: Record<Group, GroupTotals>;
  /** All traffic each target group received, smoke tests on 9201/9202 included (CloudWatch's view). */
  readonly all: Record<Group, GroupTotals>;
  /**
   * Requests the weighted listener sent to each group, counted when it chose (on arrival), so a snapshot
   * taken as the weights change splits them exactly between the old and the new weights.
   */
  readonly routed: Record<Group, number>;
  /**
   * The weighted listener's requests per route: each rule (by ARN, deleted rules kept) and DEFAULT_ROUTE.
   * `routed` counts on arrival like `routed` above; `answered` when complete; `fixedResponses` the requests a
   * fixed-response rule answered itself (no target group sees them, as in ALB).
   */
  readonly byRoute: Record<string, RouteTotals>;
}

export interface RouteTotals {
  /**
   * The rule's tags (e.g. `swing:rule`), kept after the rule is deleted, so a run's end can still tell which
   * rules carried reads; empty for DEFAULT_ROUTE.
   */
  readonly tags: Readonly<Record<string, string>>;
  readonly routed: Record<Group, number>;
  readonly answered: Record<Group, GroupTotals>;
  fixedResponses: number;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/** Totals since the start, and samples kept `keepMs` for windows like an alarm period's. */
export class AlbMetrics {
  private samples: Sample[] = [];
  /** Each fixed response's time (Date.now()) and rule name (`swing:rule`): few, and counted by window. */
  private readonly fixedAnswers: { readonly at: number; readonly rule: string | undefined }[] = [];
  private prunedAt = performance.now();
  private readonly counts: AlbTotals = {
    weighted: { source: { requests: 0, errors5xx: 0 }, target: { requests: 0, errors5xx: 0 } },
    all: { source: { requests: 0, errors5xx: 0 }, target: { requests: 0, errors5xx: 0 } },
    routed: { source: 0, target: 0 },
    byRoute: {},
  };

  constructor(readonly keepMs: number) {}

  /** A weighted request routed to a group on arrival (`tags`: the routing rule's, none for the default action). */
  routed(group: Group, route: string, tags?: readonly Tag[]): void {
    this.counts.routed[group] += 1;
    this.route(route, tags).routed[group] += 1;
  }

  /** A weighted request a fixed-response rule answered itself. */
  fixedResponse(route: string, tags: readonly Tag[]): void {
    this.route(route, tags).fixedResponses += 1;
    this.fixedAnswers.push({ at: Date.now(), rule: tags.find((tag) => tag.Key === 'swing:rule')?.Value });
  }

  /** Fixed responses in `[from, to]` (ms since the epoch) by rules whose `swing:rule` name passes `named`. */
  fixedResponsesBetween(from: number, to: number, named: (rule: string | undefined) => boolean): number {
    return this.fixedAnswers.filter((answer) => answer.at >= from && answer.at <= to && named(answer.rule))
      .length;
  }

  /** A forwarded request's answer, when complete (`route` undefined: a smoke listener's). */
  record(group: Group, route: string | undefined, status: number, latencyMs: number): void {
    const now = performance.now();
    const weighted = route !== undefined;
    this.samples.push({ at: now, group, weighted, route, status, latencyMs });
    // Pruning at most once a second keeps recording O(1) amortized at thousands of requests per second.
    if (now - this.prunedAt > 1000) {
      this.prunedAt = now;
      const firstKept = this.samples.findIndex((sample) => sample.at >= now - this.keepMs);
      this.samples = firstKept === -1 ? [] : this.samples.slice(firstKept);
    }
    const error = status >= 500 ? 1 : 0;
    this.counts.all[group].requests += 1;
    this.counts.all[group].errors5xx += error;
    if (weighted) {
      this.counts.weighted[group].requests += 1;
      this.counts.weighted[group].errors5xx += error;
      const answered = this.route(route).answered[group];
      answered.requests += 1;
      answered.errors5xx += error;
    }
  }

  /** Counts over the last `ms` (at most `keepMs`). */
  window(group: Group, ms: number, scope: ListenerScope = 'all'): GroupWindow {
    const since = performance.now() - Math.min(ms, this.keepMs);
    let requests = 0;
    let errors5xx = 0;
    const latencies: number[] = [];
    // Samples are in time order: walk back from the newest and stop at the window's start.
    for (let i = this.samples.length - 1; i >= 0; i -= 1) {
      const sample = this.samples[i]!;
      if (sample.at < since) break;
      if (sample.group !== group) continue;
      if (scope === 'weighted' && !sample.weighted) continue;
      if (typeof scope === 'object' && sample.route !== scope.route) continue;
      requests += 1;
      if (sample.status >= 500) errors5xx += 1;
      latencies.push(sample.latencyMs);
    }
    return {
      requests,
      errors5xx,
      errorRate: requests === 0 ? 0 : errors5xx / requests,
      p99LatencyMs: percentile(latencies, 99),
    };
  }

  totals(): AlbTotals {
    return structuredClone(this.counts);
  }

  // First called when a request arrives, with the tags of the rule that routed it (none: the default action).
  private route(route: string, tags?: readonly Tag[]): RouteTotals {
    this.counts.byRoute[route] ??= {
      tags: Object.fromEntries((tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? ''])),
      routed: { source: 0, target: 0 },
      answered: { source: { requests: 0, errors5xx: 0 }, target: { requests: 0, errors5xx: 0 } },
      fixedResponses: 0,
    };
    return this.counts.byRoute[route];
  }
}
