import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  Action,
  Rule,
  RuleCondition,
  RulePriorityPair,
  Tag,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ValidationFailed } from '#domain/errors.ts';
import type { Weights } from '#domain/types.ts';
import {
  compileConditions,
  describedActions,
  describedConditions,
  ElbV2Error,
  firstMatchingRule,
  forwardTargets,
  type MatchableRule,
  parseRequest,
  RULE_LIMITS,
  validateActions,
  validateConditions,
  validatePriority,
  validateTags,
} from './alb-rules.ts';
import { endToEnd } from './http-headers.ts';

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

/** CreateRule's input, in ELBv2's shapes. */
export interface RuleInput {
  /** 1..50000, unique on the listener; lower is evaluated first. */
  readonly priority: number;
  readonly conditions: readonly RuleCondition[];
  /** One `forward` (to the stand-in's target groups, weighted or not) or one `fixed-response`. */
  readonly actions: readonly Action[];
  readonly tags?: readonly Tag[];
}

/** ModifyRule's input: what is given replaces the rule's; what is not stays. */
export interface RuleChange {
  readonly conditions?: readonly RuleCondition[];
  readonly actions?: readonly Action[];
}

/** A rule as DescribeRules returns it, with its tags (DescribeTags) beside. */
export interface DescribedRule extends Rule {
  readonly Tags: Tag[];
}

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

interface StoredRule extends MatchableRule {
  readonly arn: string;
  readonly conditions: readonly RuleCondition[];
  readonly actions: readonly Action[];
  readonly tags: readonly Tag[];
  /** The forward's weights per group, or the fixed response. */
  readonly route:
    | { readonly weights: Weights }
    | { readonly fixed: NonNullable<Action['FixedResponseConfig']> };
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

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
 * and latency like CloudWatch's ALB metrics, so local alarms judge real traffic.
 */
export async function startLocalAlb(options: LocalAlbOptions): Promise<LocalAlb> {
  const { host = '127.0.0.1', random = Math.random } = options;
  const keepMs = options.metricsWindowMs ?? 60_000;
  const upstreamTimeoutMs = options.upstreamTimeoutMs ?? 60_000;
  const upstream: Record<Group, URL> = {
    source: new URL(options.sourceUrl),
    target: new URL(options.targetUrl),
  };
  for (const group of ['source', 'target'] as const) {
    if (upstream[group].protocol !== 'http:') {
      throw new ValidationFailed([
        {
          field: `${group}Url`,
          message: `${upstream[group].href} is not http://: the stand-in proxies plain HTTP`,
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

  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  let weights: Weights = options.weights ? { ...options.weights } : { source: 1, target: 0 };
  let samples: Sample[] = [];
  let prunedAt = performance.now();
  const totals: AlbTotals = {
    weighted: { source: { requests: 0, errors5xx: 0 }, target: { requests: 0, errors5xx: 0 } },
    all: { source: { requests: 0, errors5xx: 0 }, target: { requests: 0, errors5xx: 0 } },
    routed: { source: 0, target: 0 },
    byRoute: {},
  };
  // First called when a request arrives, with the rule that routed it (none: the default action).
  const routeTotals = (route: string, rule?: StoredRule): RouteTotals => {
    totals.byRoute[route] ??= {
      tags: Object.fromEntries((rule?.tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? ''])),
      routed: { source: 0, target: 0 },
      answered: { source: { requests: 0, errors5xx: 0 }, target: { requests: 0, errors5xx: 0 } },
      fixedResponses: 0,
    };
    return totals.byRoute[route];
  };

  const arns: LocalAlbArns = { ...LOCAL_ALB_ARNS, ...options.arns };
  const targetGroupArns: Record<Group, string> = {
    source: arns.sourceTargetGroup,
    target: arns.targetTargetGroup,
  };
  const knownTargetGroups = new Set(Object.values(targetGroupArns));
  const ruleArnPrefix = `${arns.listener.replace(':listener/', ':listener-rule/')}/`;
  const defaultRuleArn = `${ruleArnPrefix}default`;
  let nextRuleId = 1;
  // Replaced whole on each change (never mutated), in priority order: a request sees one consistent table.
  let rules: readonly StoredRule[] = [];

  const record = (group: Group, route: string | undefined, status: number, latencyMs: number) => {
    const now = performance.now();
    const weighted = route !== undefined;
    samples.push({ at: now, group, weighted, route, status, latencyMs });
    // Pruning at most once a second keeps recording O(1) amortized at thousands of requests per second.
    if (now - prunedAt > 1000) {
      prunedAt = now;
      const firstKept = samples.findIndex((sample) => sample.at >= now - keepMs);
      samples = firstKept === -1 ? [] : samples.slice(firstKept);
    }
    const error = status >= 500 ? 1 : 0;
    totals.all[group].requests += 1;
    totals.all[group].errors5xx += error;
    if (weighted) {
      totals.weighted[group].requests += 1;
      totals.weighted[group].errors5xx += error;
      const answered = routeTotals(route).answered[group];
      answered.requests += 1;
      answered.errors5xx += error;
    }
  };

  const forward = (
    group: Group,
    route: string | undefined,
    request: IncomingMessage,
    response: ServerResponse,
  ) => {
    const started = performance.now();
    const target = upstream[group];
    let settled = false;
    // Counted once, when the answer is complete; a client that hangs up is not the cluster's failure.
    const settle = (status: number) => {
      if (settled) return;
      settled = true;
      record(group, route, status, performance.now() - started);
    };
    const gatewayError = (status: 502 | 504, reason: string) => {
      settle(status);
      if (response.headersSent) {
        response.destroy();
        return;
      }
      const text = JSON.stringify({ error: { type: 'gateway_error', reason }, status, _served_by: group });
      // Attributed to the group it was forwarded to, as ALB counts an unreachable target against its group.
      response.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
        'x-served-by': group,
      });
      response.end(text);
    };

    const send = (body: Buffer, retried: boolean) => {
      const headers = endToEnd(request.headers);
      headers.host = target.host;
      if (body.length > 0 || request.headers['content-length'] !== undefined) {
        headers['content-length'] = body.length;
      }
      const proxied = httpRequest({
        agent,
        hostname: target.hostname,
        port: target.port,
        method: request.method,
        path: `${target.pathname.replace(/\/$/, '')}${request.url ?? '/'}`,
        headers,
        timeout: upstreamTimeoutMs,
      });
      response.once('close', () => {
        if (!response.writableFinished) {
          settled = true;
          proxied.destroy();
        }
      });
      proxied.on('response', (answer) => {
        const status = answer.statusCode ?? 502;
        const answerHeaders = endToEnd(answer.headers);
        // A real cluster does not say who it is; the ALB knows which group it forwarded to.
        answerHeaders['x-served-by'] ??= group;
        response.writeHead(status, answerHeaders);
        answer.pipe(response);
        answer.on('end', () => settle(status));
        answer.on('close', () => {
          if (!answer.complete) gatewayError(502, `${group} closed the connection mid-answer`);
        });
      });
      proxied.on('timeout', () =>
        proxied.destroy(Object.assign(new Error('upstream timeout'), { code: 'TIMEOUT' })),
      );
      proxied.on('error', (error: NodeJS.ErrnoException) => {
        if (settled) return;
        // A kept-alive socket the cluster closed while idle: the request never reached it, so send it again
        // on a fresh socket rather than fail a client over connection reuse.
        if (proxied.reusedSocket && error.code === 'ECONNRESET' && !retried && !response.headersSent) {
          send(body, true);
          return;
        }
        if (error.code === 'TIMEOUT')
          gatewayError(504, `${group} did not answer within ${upstreamTimeoutMs} ms`);
        else gatewayError(502, `${group} is unreachable: ${error.code ?? error.message}`);
      });
      proxied.end(body);
    };

    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => send(Buffer.concat(chunks), false));
    request.on('error', () => {
      settled = true;
    });
  };

  const pick = ({ source, target }: Weights): Group =>
    random() * (source + target) < target ? 'target' : 'source';

  const fixedResponse = (
    config: NonNullable<Action['FixedResponseConfig']>,
    request: IncomingMessage,
    response: ServerResponse,
  ) => {
    const body = config.MessageBody ?? '';
    // The body is not needed; reading it keeps the kept-alive connection usable for the next request.
    request.resume();
    response.writeHead(Number(config.StatusCode), {
      'content-type': config.ContentType ?? 'text/plain',
      'content-length': Buffer.byteLength(body),
    });
    response.end(body);
  };

  // The choice is made when the request arrives: a rule or weight change affects the next request only.
  const weightedHandler = (request: IncomingMessage, response: ServerResponse) => {
    const table = rules;
    const rule =
      table.length === 0
        ? undefined
        : firstMatchingRule(
            table,
            parseRequest({
              method: request.method ?? 'GET',
              url: request.url ?? '/',
              headers: request.headersDistinct,
              ...(request.socket.remoteAddress ? { sourceIp: request.socket.remoteAddress } : {}),
            }),
          );
    const route = rule?.arn ?? DEFAULT_ROUTE;
    if (rule && 'fixed' in rule.route) {
      routeTotals(route, rule).fixedResponses += 1;
      fixedResponse(rule.route.fixed, request, response);
      return;
    }
    const group = pick(rule && 'weights' in rule.route ? rule.route.weights : weights);
    totals.routed[group] += 1;
    routeTotals(route, rule).routed[group] += 1;
    options.onRouted?.({ method: request.method ?? 'GET', url: request.url ?? '/' }, group);
    forward(group, route, request, response);
  };

  const stored = (
    arn: string,
    priority: number,
    conditions: readonly RuleCondition[],
    actions: readonly Action[],
    tags: readonly Tag[],
  ): StoredRule => {
    const action = actions[0]!;
    const route: StoredRule['route'] =
      action.Type === 'fixed-response'
        ? { fixed: { ...action.FixedResponseConfig! } }
        : {
            weights: forwardTargets(action).reduce(
              (sum, { arn: group, weight }) => ({
                source: sum.source + (group === targetGroupArns.source ? weight : 0),
                target: sum.target + (group === targetGroupArns.target ? weight : 0),
              }),
              { source: 0, target: 0 },
            ),
          };
    return {
      arn,
      priority,
      // Copied: a caller changing its arrays afterwards must not reach into the table.
      conditions: structuredClone(conditions),
      actions: structuredClone(actions),
      tags: structuredClone(tags),
      matches: compileConditions(conditions),
      route,
    };
  };
  const inPriorityOrder = (table: readonly StoredRule[]) =>
    [...table].sort((a, b) => a.priority - b.priority);
  const ruleNamed = (ruleArn: string): StoredRule => {
    if (ruleArn === defaultRuleArn) {
      throw new ElbV2Error(
        'OperationNotPermittedException',
        'The default rule cannot be changed with rule operations: set the weights (ModifyListener) instead',
      );
    }
    const rule = rules.find((candidate) => candidate.arn === ruleArn);
    if (!rule) throw new ElbV2Error('RuleNotFoundException', `One or more rules not found: ${ruleArn}`);
    return rule;
  };
  const described = (rule: StoredRule): DescribedRule => ({
    RuleArn: rule.arn,
    Priority: String(rule.priority),
    Conditions: describedConditions(rule.conditions),
    Actions: describedActions(rule.actions),
    IsDefault: false,
    Tags: structuredClone([...rule.tags]),
  });
  const describedDefault = (): DescribedRule => ({
    RuleArn: defaultRuleArn,
    Priority: 'default',
    Conditions: [],
    Actions: describedActions([
      {
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: [
            { TargetGroupArn: targetGroupArns.source, Weight: weights.source },
            { TargetGroupArn: targetGroupArns.target, Weight: weights.target },
          ],
        },
      },
    ]),
    IsDefault: true,
    Tags: [],
  });

  const servers: Server[] = [];
  const closeAll = () =>
    Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      ),
    );
  const listen = async (
    handler: (request: IncomingMessage, response: ServerResponse) => void,
    port: number,
  ) => {
    const server = createServer(handler);
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    servers.push(server);
    return server;
  };
  const portFor = (offset: number) => (base === 0 ? 0 : base + offset);
  let weightedServer: Server;
  let sourceServer: Server;
  let targetServer: Server;
  try {
    weightedServer = await listen(weightedHandler, portFor(0));
    sourceServer = await listen(
      (request, response) => forward('source', undefined, request, response),
      portFor(1),
    );
    targetServer = await listen(
      (request, response) => forward('target', undefined, request, response),
      portFor(2),
    );
  } catch (error) {
    await closeAll();
    agent.destroy();
    throw new Error(
      `the local ALB could not listen on ${host}:${base}-${base + 2}: choose another port base, or 0 for ephemeral ports`,
      { cause: error },
    );
  }
  const portOf = (server: Server) => (server.address() as AddressInfo).port;

  return {
    ports: { weighted: portOf(weightedServer), source: portOf(sourceServer), target: portOf(targetServer) },
    getWeights: () => ({ ...weights }),
    setWeights: (next) => {
      validWeights(next);
      weights = { source: next.source, target: next.target };
    },
    listenerArn: arns.listener,
    targetGroupArns,
    createRule: (input) => {
      const priority = validatePriority(input.priority);
      const conditions = validateConditions(input.conditions);
      const actions = validateActions(input.actions, knownTargetGroups);
      const tags = validateTags(input.tags);
      if (rules.some((rule) => rule.priority === priority)) {
        throw new ElbV2Error('PriorityInUseException', `Priority '${priority}' is currently in use`);
      }
      if (rules.length >= RULE_LIMITS.rules) {
        throw new ElbV2Error(
          'TooManyRulesException',
          `A load balancer can have at most ${RULE_LIMITS.rules} rules besides its default rule`,
        );
      }
      const arn = `${ruleArnPrefix}${(nextRuleId++).toString(16).padStart(16, '0')}`;
      rules = inPriorityOrder([...rules, stored(arn, priority, conditions, actions, tags)]);
      return arn;
    },
    modifyRule: (ruleArn, change) => {
      const rule = ruleNamed(ruleArn);
      const conditions = change.conditions ? validateConditions(change.conditions) : rule.conditions;
      const actions = change.actions ? validateActions(change.actions, knownTargetGroups) : rule.actions;
      const next = stored(rule.arn, rule.priority, conditions, actions, rule.tags);
      rules = rules.map((candidate) => (candidate.arn === ruleArn ? next : candidate));
      return described(next);
    },
    deleteRule: (ruleArn) => {
      ruleNamed(ruleArn);
      rules = rules.filter((rule) => rule.arn !== ruleArn);
    },
    setRulePriorities: (pairs) => {
      // All checked against the table as it will be, then applied at once: ELBv2 applies all or none.
      const next = new Map<string, number>();
      for (const pair of pairs) {
        const rule = ruleNamed(pair.RuleArn ?? '');
        if (next.has(rule.arn)) {
          throw new ElbV2Error('ValidationError', `Rule '${rule.arn}' is given two priorities`);
        }
        next.set(rule.arn, validatePriority(pair.Priority ?? Number.NaN));
      }
      const after = rules.map((rule) => ({ rule, priority: next.get(rule.arn) ?? rule.priority }));
      const taken = new Set<number>();
      for (const { priority } of after) {
        if (taken.has(priority)) {
          throw new ElbV2Error('PriorityInUseException', `Priority '${priority}' is currently in use`);
        }
        taken.add(priority);
      }
      rules = inPriorityOrder(after.map(({ rule, priority }) => ({ ...rule, priority })));
    },
    describeRules: () => [...rules.map(described), describedDefault()],
    window: (group, ms, scope = 'all') => {
      const since = performance.now() - Math.min(ms, keepMs);
      let requests = 0;
      let errors5xx = 0;
      const latencies: number[] = [];
      // Samples are in time order: walk back from the newest and stop at the window's start.
      for (let i = samples.length - 1; i >= 0; i -= 1) {
        const sample = samples[i]!;
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
    },
    totals: () => structuredClone(totals),
    close: async () => {
      await closeAll();
      agent.destroy();
    },
  };
}
