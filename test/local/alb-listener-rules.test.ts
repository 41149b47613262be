import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Action, RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { DEFAULT_ROUTE, type Group, type LocalAlb, startLocalAlb } from '#local/alb.ts';
import { ElbV2Error } from '#local/alb-rules.ts';
import { seeded } from '#local/run.ts';

/** A cluster that answers every request 200 and says nothing of who it is: the ALB stamps x-served-by. */
async function upstream(): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const stop = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

interface Answer {
  readonly status: number;
  readonly servedBy: string | null;
  readonly body: string;
}

async function send(port: number, method: string, path: string): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    ...(method === 'POST' || method === 'PUT'
      ? { body: '{}', headers: { 'content-type': 'application/json' } }
      : {}),
  });
  return {
    status: response.status,
    servedBy: response.headers.get('x-served-by'),
    body: await response.text(),
  };
}

const method = (...values: string[]): RuleCondition => ({
  Field: 'http-request-method',
  HttpRequestMethodConfig: { Values: values },
});
const path = (...values: string[]): RuleCondition => ({
  Field: 'path-pattern',
  PathPatternConfig: { Values: values },
});

/** Refusal's ELBv2 name, or `none`. */
function refusalName(call: () => unknown): string {
  try {
    call();
    return 'none';
  } catch (error) {
    expect(error).toBeInstanceOf(ElbV2Error);
    return (error as ElbV2Error).name;
  }
}

describe('Local ALB listener rules', () => {
  let source: Awaited<ReturnType<typeof upstream>>;
  let target: Awaited<ReturnType<typeof upstream>>;
  let alb: LocalAlb;
  const SEED = 20_261_127;

  const forward = (weights: Record<Group, number>): Action[] => [
    {
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: alb.targetGroupArns.source, Weight: weights.source },
          { TargetGroupArn: alb.targetGroupArns.target, Weight: weights.target },
        ],
      },
    },
  ];

  beforeAll(async () => {
    source = await upstream();
    target = await upstream();
    alb = await startLocalAlb({
      portBase: 0,
      sourceUrl: source.url,
      targetUrl: target.url,
      random: seeded(SEED),
    });
  });
  afterAll(async () => {
    await alb.close();
    await stop(source.server);
    await stop(target.server);
  });
  afterEach(() => {
    for (const rule of alb.describeRules()) {
      if (!rule.IsDefault) alb.deleteRule(rule.RuleArn!);
    }
    alb.setWeights({ source: 1, target: 0 });
  });

  it('describes the default rule last, forwarding by the weights, with no rule created', () => {
    alb.setWeights({ source: 900, target: 99 });

    expect(alb.describeRules()).toEqual([
      {
        RuleArn: expect.stringMatching(
          /^arn:aws:elasticloadbalancing:.*:listener-rule\/app\/swing-local\/.*\/default$/,
        ),
        Priority: 'default',
        IsDefault: true,
        Conditions: [],
        Actions: [
          {
            Type: 'forward',
            Order: 1,
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: alb.targetGroupArns.source, Weight: 900 },
                { TargetGroupArn: alb.targetGroupArns.target, Weight: 99 },
              ],
              TargetGroupStickinessConfig: { Enabled: false },
            },
          },
        ],
        Tags: [],
      },
    ]);
  });

  it('creates rules with ARNs and tags and describes them in priority order, shaped as DescribeRules answers', () => {
    const late = alb.createRule({
      priority: 20,
      conditions: [path('*/_search*')],
      actions: [{ Type: 'forward', TargetGroupArn: alb.targetGroupArns.source }],
    });
    const early = alb.createRule({
      priority: 5,
      conditions: [method('GET', 'HEAD')],
      actions: forward({ source: 999, target: 0 }),
      tags: [
        { Key: 'swing:owner', Value: 'rollout-1' },
        { Key: 'swing:rule', Value: 'reads' },
      ],
    });

    const rules = alb.describeRules();

    expect(rules.map((rule) => rule.Priority)).toEqual(['5', '20', 'default']);
    expect(rules[0]).toEqual({
      RuleArn: early,
      Priority: '5',
      IsDefault: false,
      Conditions: [method('GET', 'HEAD')],
      Actions: [
        {
          ...forward({ source: 999, target: 0 })[0],
          Order: 1,
          ForwardConfig: {
            ...forward({ source: 999, target: 0 })[0]!.ForwardConfig,
            TargetGroupStickinessConfig: { Enabled: false },
          },
        },
      ],
      Tags: [
        { Key: 'swing:owner', Value: 'rollout-1' },
        { Key: 'swing:rule', Value: 'reads' },
      ],
    });
    // As in ELBv2: a path pattern in both places, a one-group forward with its ARN and its forward config.
    expect(rules[1]).toMatchObject({
      RuleArn: late,
      Conditions: [
        { Field: 'path-pattern', Values: ['*/_search*'], PathPatternConfig: { Values: ['*/_search*'] } },
      ],
      Actions: [
        {
          Type: 'forward',
          Order: 1,
          TargetGroupArn: alb.targetGroupArns.source,
          ForwardConfig: {
            TargetGroups: [{ TargetGroupArn: alb.targetGroupArns.source, Weight: 1 }],
            TargetGroupStickinessConfig: { Enabled: false },
          },
        },
      ],
      Tags: [],
    });
    expect(early).toMatch(/:listener-rule\/app\/swing-local\//);
    expect(early).not.toBe(late);
  });

  it('refuses a priority in use, an unknown rule, the default rule and a 101st rule, changing nothing', () => {
    const taken = alb.createRule({
      priority: 7,
      conditions: [path('/a')],
      actions: forward({ source: 1, target: 0 }),
    });
    const defaultArn = alb.describeRules().at(-1)!.RuleArn!;
    const before = alb.describeRules();

    expect(
      refusalName(() =>
        alb.createRule({ priority: 7, conditions: [path('/b')], actions: forward({ source: 1, target: 0 }) }),
      ),
    ).toBe('PriorityInUseException');
    expect(refusalName(() => alb.modifyRule(`${taken}0`, { conditions: [path('/c')] }))).toBe(
      'RuleNotFoundException',
    );
    expect(refusalName(() => alb.deleteRule(`${taken}0`))).toBe('RuleNotFoundException');
    expect(refusalName(() => alb.deleteRule(defaultArn))).toBe('OperationNotPermittedException');
    expect(
      refusalName(() => alb.modifyRule(defaultArn, { actions: forward({ source: 0, target: 1 }) })),
    ).toBe('OperationNotPermittedException');
    expect(
      refusalName(() =>
        alb.modifyRule(taken, {
          conditions: [path('/a'), path('/b')],
          actions: forward({ source: 0, target: 1 }),
        }),
      ),
    ).toBe('ValidationError');
    expect(alb.describeRules()).toEqual(before);

    for (let priority = 100; alb.describeRules().length < 101; priority += 1) {
      alb.createRule({
        priority,
        conditions: [path(`/p${priority}`)],
        actions: forward({ source: 1, target: 0 }),
      });
    }
    expect(
      refusalName(() =>
        alb.createRule({
          priority: 40_000,
          conditions: [path('/one-more')],
          actions: forward({ source: 1, target: 0 }),
        }),
      ),
    ).toBe('TooManyRulesException');
    expect(alb.describeRules()).toHaveLength(101);
  });

  it('sets priorities all at once: a swap succeeds, a set that collides changes nothing', () => {
    const a = alb.createRule({
      priority: 1,
      conditions: [path('/a')],
      actions: forward({ source: 1, target: 0 }),
    });
    const b = alb.createRule({
      priority: 2,
      conditions: [path('/b')],
      actions: forward({ source: 1, target: 0 }),
    });
    const c = alb.createRule({
      priority: 3,
      conditions: [path('/c')],
      actions: forward({ source: 1, target: 0 }),
    });

    alb.setRulePriorities([
      { RuleArn: a, Priority: 2 },
      { RuleArn: b, Priority: 1 },
    ]);
    expect(alb.describeRules().map((rule) => rule.RuleArn)).toEqual([b, a, c, expect.any(String)]);

    const before = alb.describeRules();
    expect(
      refusalName(() =>
        alb.setRulePriorities([
          { RuleArn: a, Priority: 9 },
          { RuleArn: b, Priority: 3 },
        ]),
      ),
    ).toBe('PriorityInUseException');
    expect(refusalName(() => alb.setRulePriorities([{ RuleArn: a, Priority: 50_001 }]))).toBe(
      'ValidationError',
    );
    expect(alb.describeRules()).toEqual(before);
  });

  it('routes each request by the first matching rule, else the default, as the seeded random predicts', async () => {
    // Every forward draws one number, in arrival order; requests are sent one at a time, so a replay of the
    // same seed says where each must go. An ALB of its own, so that no other test's draws come first.
    const alb = await startLocalAlb({
      portBase: 0,
      sourceUrl: source.url,
      targetUrl: target.url,
      random: seeded(SEED),
    });
    onTestFinished(() => alb.close());
    const replay = seeded(SEED);
    const expected = (weights: Record<Group, number>): Group =>
      replay() * (weights.source + weights.target) < weights.target ? 'target' : 'source';
    const mistakes: string[] = [];
    const check = async (verb: string, url: string, weights: Record<Group, number>, route: string) => {
      const before = alb.totals().byRoute[route]?.routed ?? { source: 0, target: 0 };
      const answer = await send(alb.ports.weighted, verb, url);
      const want = expected(weights);
      const after = alb.totals().byRoute[route]?.routed ?? { source: 0, target: 0 };
      if (answer.servedBy !== want || after[want] !== before[want] + 1) {
        mistakes.push(`${verb} ${url}: served by ${answer.servedBy}, want ${want} via ${route}`);
      }
    };
    const defaultWeights = { source: 999, target: 0 };
    alb.setWeights(defaultWeights);
    const readWeights = { source: 500, target: 499 };
    const reads = alb.createRule({
      priority: 10,
      conditions: [method('GET', 'HEAD')],
      actions: forward(readWeights),
    });
    const searchWeights = { source: 700, target: 299 };
    const searches = alb.createRule({
      priority: 20,
      conditions: [method('POST'), path('*/_search*', '*/_count')],
      actions: forward(searchWeights),
    });
    const pinned = { source: 1, target: 0 };
    const pin = alb.createRule({
      priority: 5,
      conditions: [path('/_search/scroll*')],
      actions: forward(pinned),
    });

    for (let i = 0; i < 40; i += 1) {
      await check('GET', `/logs/_doc/${i}`, readWeights, reads);
      await check('POST', `/logs/_search?q=${i}`, searchWeights, searches);
      await check('GET', '/_search/scroll?scroll=1m', pinned, pin);
      await check('PUT', `/logs/_doc/${i}`, defaultWeights, DEFAULT_ROUTE);
      await check('POST', '/logs/_doc', defaultWeights, DEFAULT_ROUTE);
    }
    // Reshaped while in use: POST _count is no longer a read; writes now follow a default that sends to the target.
    alb.modifyRule(searches, { conditions: [method('POST'), path('*/_search*')] });
    alb.setWeights({ source: 0, target: 999 });
    for (let i = 0; i < 10; i += 1) {
      await check('POST', '/logs/_count', { source: 0, target: 999 }, DEFAULT_ROUTE);
      await check('POST', '/logs/_search', searchWeights, searches);
    }
    alb.modifyRule(reads, { actions: forward({ source: 0, target: 999 }) });
    await check('HEAD', '/logs', { source: 0, target: 999 }, reads);
    alb.deleteRule(reads);
    alb.setWeights(defaultWeights);
    await check('GET', '/logs/_doc/1', defaultWeights, DEFAULT_ROUTE);

    expect(mistakes).toEqual([]);
    const split = alb.totals().byRoute[reads]!.routed;
    // 500/499 over 40 seeded reads: both groups served, which a rule that ignored its weights would not show.
    expect(split.source).toBeGreaterThan(5);
    expect(split.target).toBeGreaterThan(5);
  });

  it('counts rule-routed requests per group exactly as default-routed ones, and per route with its tags', async () => {
    const before = alb.totals();
    alb.setWeights({ source: 999, target: 0 });
    const reads = alb.createRule({
      priority: 10,
      conditions: [method('GET')],
      actions: forward({ source: 0, target: 1 }),
      tags: [{ Key: 'swing:rule', Value: 'reads-get-head' }],
    });

    const answers = [
      ...(await Promise.all(
        Array.from({ length: 30 }, () => send(alb.ports.weighted, 'GET', '/logs/_doc/1')),
      )),
      ...(await Promise.all(
        Array.from({ length: 20 }, () => send(alb.ports.weighted, 'PUT', '/logs/_doc/1')),
      )),
    ];
    const after = alb.totals();
    const delta = (group: Group) => after.weighted[group].requests - before.weighted[group].requests;

    expect(answers.filter((answer) => answer.servedBy === 'target')).toHaveLength(30);
    expect(delta('target')).toBe(30);
    expect(delta('source')).toBe(20);
    expect(after.routed.target - before.routed.target).toBe(30);
    expect(after.byRoute[reads]).toEqual({
      tags: { 'swing:rule': 'reads-get-head' },
      routed: { source: 0, target: 30 },
      answered: { source: { requests: 0, errors5xx: 0 }, target: { requests: 30, errors5xx: 0 } },
      fixedResponses: 0,
    });
    expect(
      after.byRoute[DEFAULT_ROUTE]!.routed.source - (before.byRoute[DEFAULT_ROUTE]?.routed.source ?? 0),
    ).toBe(20);
    expect(alb.window('target', 60_000, { route: reads }).requests).toBe(30);
    expect(alb.window('source', 60_000, { route: reads }).requests).toBe(0);
    alb.deleteRule(reads);
    expect(alb.totals().byRoute[reads]?.tags).toEqual({ 'swing:rule': 'reads-get-head' });
    expect(alb.totals().byRoute[DEFAULT_ROUTE]?.tags).toEqual({});
  });

  it('answers a fixed-response rule itself, counted per route and in no target group', async () => {
    const before = alb.totals();
    const closed = alb.createRule({
      priority: 3,
      conditions: [path('/_close')],
      actions: [
        {
          Type: 'fixed-response',
          FixedResponseConfig: {
            StatusCode: '403',
            ContentType: 'application/json',
            MessageBody: '{"no":1}',
          },
        },
      ],
    });

    const answer = await send(alb.ports.weighted, 'POST', '/_close');
    const after = alb.totals();

    expect(answer).toEqual({ status: 403, servedBy: null, body: '{"no":1}' });
    expect(after.byRoute[closed]?.fixedResponses).toBe(1);
    expect(after.all).toEqual(before.all);
    expect(after.routed).toEqual(before.routed);
  });

  it('leaves the smoke listeners to their one group whatever the rules say', async () => {
    alb.createRule({ priority: 1, conditions: [path('/*')], actions: forward({ source: 0, target: 1 }) });

    expect((await send(alb.ports.source, 'GET', '/logs/_doc/1')).servedBy).toBe('source');
    expect((await send(alb.ports.weighted, 'GET', '/logs/_doc/1')).servedBy).toBe('target');
  });

  it('fails no request while rules are created, modified and deleted under concurrent traffic', async () => {
    const before = alb.totals();
    const reads = alb.createRule({
      priority: 10,
      conditions: [method('GET')],
      actions: forward({ source: 1, target: 0 }),
    });
    let changes = 0;
    let extra: string | undefined;
    const churn = setInterval(() => {
      changes += 1;
      alb.modifyRule(reads, {
        actions: forward(changes % 2 === 0 ? { source: 1, target: 0 } : { source: 0, target: 1 }),
      });
      if (extra) {
        alb.deleteRule(extra);
        extra = undefined;
      } else {
        extra = alb.createRule({
          priority: 5,
          conditions: [path('*/_doc/*')],
          actions: forward({ source: 0, target: 1 }),
        });
      }
    }, 2);

    const answers: Answer[] = [];
    for (let batch = 0; batch < 12; batch += 1) {
      answers.push(
        ...(await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            send(
              alb.ports.weighted,
              i % 3 === 0 ? 'PUT' : 'GET',
              i % 2 === 0 ? '/logs/_doc/1' : '/logs/_search',
            ),
          ),
        )),
      );
    }
    clearInterval(churn);
    const after = alb.totals();
    const served = (group: Group) => answers.filter((answer) => answer.servedBy === group).length;
    const routedByRoutes = (totals: typeof after, group: Group) =>
      Object.values(totals.byRoute).reduce((sum, route) => sum + route.routed[group], 0);

    expect(changes).toBeGreaterThan(3);
    expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
    for (const group of ['source', 'target'] as const) {
      expect(after.weighted[group].requests - before.weighted[group].requests).toBe(served(group));
      expect(routedByRoutes(after, group) - routedByRoutes(before, group)).toBe(served(group));
    }
  });
});
