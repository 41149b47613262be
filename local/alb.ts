import { Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { RulePriorityPair } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ValidationFailed } from '#domain/errors.ts';
import type { Weights } from '#domain/types.ts';
import { fixedResponse, forward, type Upstreams } from './alb/forward.ts';
import { type DescribedRule, ListenerRules, type RuleChange, type RuleInput } from './alb/listener-rules.ts';
import { openListeners } from './alb/listeners.ts';
import {
  AlbMetrics,
  type AlbTotals,
  DEFAULT_ROUTE,
  type Group,
  type GroupWindow,
  type ListenerScope,
} from './alb/metrics.ts';

export type { DescribedRule, RuleChange, RuleInput } from './alb/listener-rules.ts';
export {
  type AlbTotals,
  DEFAULT_ROUTE,
  type Group,
  type GroupTotals,
  type GroupWindow,
  type ListenerScope,
  type RouteTotals,
} from './alb/metrics.ts';

export interface LocalAlb {
  readonly ports: { readonly weighted: number; readonly source: number; readonly target: number };
  getWeights(): Weights;
  /** Takes effect for the next request; requests already forwarded finish where they were sent. */
  setWeights(weights: Weights): void;
  /** The weighted listener's ARN, and the target groups' that forwards name. */
  readonly listenerArn: string;
  readonly targetGroupArns: Readonly<Record<Group, string>>;
  /**
   * The weighted listener's rules, each call one synchronous, atomic change as ELBv2's are: checked whole
   * first (throwing `ElbV2Error` named as ELBv2's, e.g. `PriorityInUseException`, `ValidationError`), then
   * applied for the next request. The smoke listeners ignore rules, as they have none in ALB.
   */
  createRule(input: RuleInput): string;
  modifyRule(ruleArn: string, change: RuleChange): DescribedRule;
  deleteRule(ruleArn: string): void;
  setRulePriorities(priorities: readonly RulePriorityPair[]): void;
  /**
   * Every rule in priority order, the default rule last (`IsDefault`, priority `default`), with tags, in the
   * shape DescribeRules answers (which is not always the shape written: see `describedConditions`/`Actions`).
   */
  describeRules(): DescribedRule[];
  /** Counts over the last `ms` (at most `metricsWindowMs`), like an ALB metric over an alarm period. */
  window(group: Group, ms: number, scope?: ListenerScope): GroupWindow;
  totals(): AlbTotals;
  /** The weighted listener's fixed responses in `[from, to]` (ms since the epoch), by rules `named` by `swing:rule`. */
  fixedResponsesBetween(from: number, to: number, named: (rule: string | undefined) => boolean): number;
  /**
   * Non-reads (not GET, HEAD, OPTIONS) the weighted listener forwarded to `group` and has not answered yet: each
   * may still reach the cluster (and, on the source, the replayer).
   */
  nonReadsInFlight(group: Group): number;
  close(): Promise<void>;
}

export interface LocalAlbOptions {
  readonly sourceUrl: string;
  readonly targetUrl: string;
  /** 9200 (weighted), +1 (source only), +2 (target only). Default 9200; 0 = three ephemeral ports. */
  readonly portBase?: number;
  readonly host?: string;
  /** Decides each weighted request; inject a seeded one for repeatable splits. */
  readonly random?: () => number;
  /** How long samples are kept for `window()`. Default 60 s. */
  readonly metricsWindowMs?: number;
  /** Weights before the first `setWeights`. Default all to the source. */
  readonly weights?: Weights;
  /** An upstream that has not answered after this long gets a 504, as an ALB's idle timeout. Default 60 s. */
  readonly upstreamTimeoutMs?: number;
  /** The ARNs the stand-in answers to. Default: `LOCAL_ALB_ARNS`. */
  readonly arns?: Partial<LocalAlbArns>;
  /** Told of each weighted request as it is routed (synchronously, before it is forwarded). */
  readonly onRouted?: (request: { readonly method: string; readonly url: string }, group: Group) => void;
}

export interface LocalAlbArns {
  readonly listener: string;
  readonly sourceTargetGroup: string;
  readonly targetTargetGroup: string;
}

export const LOCAL_ALB_ARNS: LocalAlbArns = {
  listener:
    'arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/swing-local/0000000000000000/0000000000009200',
  sourceTargetGroup:
    'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/swing-local-source/0000000000000001',
  targetTargetGroup:
    'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/swing-local-target/0000000000000002',
};

function validWeights(weights: Weights): void {
  const issues = (['source', 'target'] as const)
    .filter((group) => {
      const value = weights[group];
      return !(Number.isInteger(value) && value >= 0 && value <= 999);
    })
    .map((group) => ({
      field: `weights.${group}`,
      message: `${String(weights[group])} is not an ALB weight: use an integer from 0 to 999`,
    }));
  if (issues.length === 0 && weights.source + weights.target === 0) {
    issues.push({ field: 'weights', message: 'both are 0: give at least one target group a weight above 0' });
  }
  if (issues.length > 0) throw new ValidationFailed(issues);
}

/**
 * A local stand-in for the migration ALB: 9200 picks source or target per request by weight (as ALB's
 * weighted forward does), 9201 and 9202 go to one side each. It counts per-target-group requests, 5xx
 * and latency like CloudWatch's ALB metrics, so local alarms judge real traffic. Its parts: the listeners
 * (`alb/listeners.ts`), the weighted listener's rules and their evaluation (`alb/listener-rules.ts`), the
 * forward to a target group (`alb/forward.ts`) and the metrics (`alb/metrics.ts`).
 */
export async function startLocalAlb(options: LocalAlbOptions): Promise<LocalAlb> {
  const { host = '127.0.0.1', random = Math.random } = options;
  const { urls, base } = validOptions(options);
  const metrics = new AlbMetrics(options.metricsWindowMs ?? 60_000);
  const upstreams: Upstreams = {
    agent: new Agent({ keepAlive: true, maxSockets: 256 }),
    urls,
    timeoutMs: options.upstreamTimeoutMs ?? 60_000,
    record: (group, route, status, latencyMs) => metrics.record(group, route, status, latencyMs),
  };
  let weights: Weights = options.weights ? { ...options.weights } : { source: 1, target: 0 };
  const arns: LocalAlbArns = { ...LOCAL_ALB_ARNS, ...options.arns };
  const targetGroupArns: Record<Group, string> = {
    source: arns.sourceTargetGroup,
    target: arns.targetTargetGroup,
  };
  const rules = new ListenerRules(arns.listener, targetGroupArns, () => weights);

  const pick = ({ source, target }: Weights): Group =>
    random() * (source + target) < target ? 'target' : 'source';

  const nonReadsInFlight: Record<Group, number> = { source: 0, target: 0 };
  const countInFlight = (group: Group, request: IncomingMessage, response: ServerResponse) => {
    if (['GET', 'HEAD', 'OPTIONS'].includes(request.method ?? 'GET')) return;
    nonReadsInFlight[group] += 1;
    response.once('close', () => {
      nonReadsInFlight[group] -= 1;
    });
  };

  // The choice is made when the request arrives: a rule or weight change affects the next request only.
  const weighted = (request: IncomingMessage, response: ServerResponse) => {
    const rule = rules.match(request);
    const route = rule?.arn ?? DEFAULT_ROUTE;
    if (rule && 'fixed' in rule.route) {
      metrics.fixedResponse(route, rule.tags);
      fixedResponse(rule.route.fixed, request, response);
      return;
    }
    const group = pick(rule && 'weights' in rule.route ? rule.route.weights : weights);
    metrics.routed(group, route, rule?.tags);
    countInFlight(group, request, response);
    options.onRouted?.({ method: request.method ?? 'GET', url: request.url ?? '/' }, group);
    forward(upstreams, group, route, request, response);
  };

  const listeners = await openListeners(host, base, {
    weighted,
    source: (request, response) => forward(upstreams, 'source', undefined, request, response),
    target: (request, response) => forward(upstreams, 'target', undefined, request, response),
  }).catch((error: unknown) => {
    upstreams.agent.destroy();
    throw error;
  });

  return {
    ports: listeners.ports,
    getWeights: () => ({ ...weights }),
    setWeights: (next) => {
      validWeights(next);
      weights = { source: next.source, target: next.target };
    },
    listenerArn: arns.listener,
    targetGroupArns,
    createRule: (input) => rules.create(input),
    modifyRule: (ruleArn, change) => rules.modify(ruleArn, change),
    deleteRule: (ruleArn) => rules.delete(ruleArn),
    setRulePriorities: (pairs: readonly RulePriorityPair[]) => rules.setPriorities(pairs),
    describeRules: () => rules.describe(),
    window: (group, ms, scope = 'all') => metrics.window(group, ms, scope),
    totals: (): AlbTotals => metrics.totals(),
    fixedResponsesBetween: (from, to, named) => metrics.fixedResponsesBetween(from, to, named),
    nonReadsInFlight: (group) => nonReadsInFlight[group],
    close: async () => {
      await listeners.close();
      upstreams.agent.destroy();
    },
  };
}

/** The upstream URLs and the port base, checked: a bad one is a ValidationFailed naming the option. */
function validOptions(options: LocalAlbOptions): { urls: Record<Group, URL>; base: number } {
  const urls: Record<Group, URL> = {
    source: new URL(options.sourceUrl),
    target: new URL(options.targetUrl),
  };
  for (const group of ['source', 'target'] as const) {
    if (urls[group].protocol !== 'http:') {
      throw new ValidationFailed([
        {
          field: `${group}Url`,
          message: `${urls[group].href} is not http://: the stand-in proxies plain HTTP`,
        },
      ]);
    }
  }
  const base = options.portBase ?? 9200;
  if (!(Number.isInteger(base) && base >= 0 && base <= 65533)) {
    throw new ValidationFailed([
      { field: 'portBase', message: `${base} is not a port base: use 1..65533, or 0 for ephemeral ports` },
    ]);
  }
  if (options.weights) validWeights(options.weights);
  return { urls, base };
}
