import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ListenerShapeInvalid, RuleGone } from '#domain/errors.ts';
import { isIntact, isSourceOnly, PIN_WEIGHTS, SWING_RULE_SET, swingPriorities } from '#domain/swing-rules.ts';
import type { SwingRulesPort } from '#domain/types.ts';
import { DEFAULT_ROUTE, type LocalAlb, startLocalAlb } from '#local/alb.ts';
import { localSwingRules } from '#local/local-listener-rules.ts';

const BASE = 100;
const OWNER = 'arn:aws:states:us-east-1:000000000000:execution:swing-rollout:local-1';
const READS_AT_TARGET = { source: 0, target: 999 };

async function upstream(): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
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

describe("Local SwingRulesPort (the ELBv2 adapter over the local ALB's rules)", () => {
  let source: Awaited<ReturnType<typeof upstream>>;
  let target: Awaited<ReturnType<typeof upstream>>;
  let alb: LocalAlb;
  let port: SwingRulesPort;

  /** Creates Swing's whole rule set at BASE: pins at the source, reads at `reads`; returns rule name -> ARN. */
  async function createRuleSet(reads = READS_AT_TARGET): Promise<Map<string, string>> {
    const arns = new Map<string, string>();
    const priorities = swingPriorities(BASE);
    for (const [index, spec] of SWING_RULE_SET.entries()) {
      const weights = isSourceOnly(spec) ? PIN_WEIGHTS : reads;
      arns.set(spec.name, await port.createRule(spec, priorities[index]!, weights, OWNER));
    }
    return arns;
  }

  beforeAll(async () => {
    source = await upstream();
    target = await upstream();
    alb = await startLocalAlb({ portBase: 0, sourceUrl: source.url, targetUrl: target.url });
    port = localSwingRules(alb);
  });
  afterAll(async () => {
    await alb.close();
    await stop(source.server);
    await stop(target.server);
  });
  afterEach(() => {
    for (const rule of alb.describeRules()) if (!rule.IsDefault) alb.deleteRule(rule.RuleArn!);
  });

  it("creates Swing's rule set within the stand-in's ALB limits, tagged, and reads every rule back intact", async () => {
    const arns = await createRuleSet();

    const found = await port.readSwingRules();

    expect(found.map((rule) => rule.name)).toEqual(SWING_RULE_SET.map((spec) => spec.name));
    expect(found.map((rule) => rule.arn)).toEqual([...arns.values()]);
    for (const rule of found) {
      expect(rule.owner).toBe(OWNER);
      expect(isIntact(rule, BASE)).toBe(true);
    }
    expect(found.find((rule) => rule.name === 'reads-get-head')?.weights).toEqual(READS_AT_TARGET);
    expect(found.find((rule) => rule.name === 'pin-scroll-pit')?.weights).toEqual(PIN_WEIGHTS);
  });

  it('routes OpenSearch requests as the design classifies them: pinned, writes kept on the source, reads, or the default action (writes)', async () => {
    const arns = await createRuleSet();
    const nameOf = new Map([...arns].map(([name, arn]) => [arn, name]));
    const cases: [method: string, path: string, route: string][] = [
      ['GET', '/logs/_doc/1', 'reads-get-head'],
      ['HEAD', '/logs', 'reads-get-head'],
      ['GET', '/logs/_search?q=x', 'reads-get-head'],
      ['POST', '/logs/_search', 'reads-search'],
      ['POST', '/_msearch', 'reads-search'],
      ['POST', '/logs/_count', 'reads-lookups'],
      ['POST', '/_mget', 'reads-lookups'],
      ['POST', '/logs/_field_caps', 'reads-lookups'],
      ['POST', '/logs/_search/template', 'writes-to-source'],
      ['POST', '/logs/_validate/query', 'writes-to-source'],
      ['POST', '/logs/_explain/1', 'writes-to-source'],
      // Writes a read pattern would also match: a document id such as `_searchable-1` or `_count`.
      ['POST', '/logs/_doc/_searchable-1', 'writes-to-source'],
      ['POST', '/logs/_update/_count', 'writes-to-source'],
      ['POST', '/logs/_search/../_doc/X', 'pin-dot-segments'],
      ['POST', '/logs/_search/%2e%2e/_doc/X', 'pin-encoded-dots'],
      ['GET', '/_tasks/oTUltX4IQMOUUVeiohTt8A:12345', 'pin-tasks'],
      [
        'GET',
        '/_plugins/_asynchronous_search/FklfVlU4eFdIUTh1Q1hyM3ZnT19fUVEgZWRkNTcxMDk',
        'pin-indexless-search',
      ],
      ['POST', '/_plugins/_sql', 'pin-query-cursors'],
      ['POST', '/_search', 'pin-indexless-search'],
      ['GET', '/_search', 'pin-indexless-search'],
      ['POST', '/_search/scroll', 'pin-scroll-pit'],
      ['DELETE', '/_search/scroll', 'pin-scroll-pit'],
      ['POST', '/logs/_search?scroll=1m', 'pin-scroll-param'],
      ['GET', '/logs/_search?SCROLL=1m', 'pin-scroll-param'],
      ['POST', '/logs/_pit?keep_alive=1m', 'pin-scroll-pit'],
      ['POST', '/logs/_search/point_in_time?keep_alive=1m', 'pin-scroll-pit'],
      ['PUT', '/logs/_doc/1', DEFAULT_ROUTE],
      ['POST', '/logs/_doc', DEFAULT_ROUTE],
      ['POST', '/_bulk', DEFAULT_ROUTE],
      ['POST', '/logs/_update/1', 'writes-to-source'],
      ['POST', '/logs/_delete_by_query', DEFAULT_ROUTE],
      ['DELETE', '/logs/_doc/1', DEFAULT_ROUTE],
      // Case-sensitive paths: not a search, so a write to the source, never a read sent to the target.
      ['POST', '/logs/_SEARCH', DEFAULT_ROUTE],
    ];
    const misrouted: string[] = [];

    for (const [method, path, want] of cases) {
      const before = alb.totals().byRoute;
      // Sent as written: fetch would resolve the dot segments before the local ALB saw them.
      const servedBy = await new Promise<string | undefined>((resolve, reject) => {
        const sent = request(
          {
            host: '127.0.0.1',
            port: alb.ports.weighted,
            method,
            path,
            headers: { 'content-type': 'application/json' },
          },
          (response) => {
            response.resume();
            response.on('end', () => resolve(response.headers['x-served-by'] as string | undefined));
          },
        );
        sent.on('error', reject);
        sent.end(method === 'POST' || method === 'PUT' ? '{}' : undefined);
      });
      const after = alb.totals().byRoute;
      const routedBy = Object.keys(after).find(
        (route) =>
          (after[route]?.routed.source ?? 0) + (after[route]?.routed.target ?? 0) !==
          (before[route]?.routed.source ?? 0) + (before[route]?.routed.target ?? 0),
      );
      const got = routedBy === DEFAULT_ROUTE ? DEFAULT_ROUTE : nameOf.get(routedBy ?? '');
      const wantServer = want.startsWith('reads') ? 'target' : 'source';
      if (got !== want || servedBy !== wantServer) {
        misrouted.push(`${method} ${path}: ${got} (${servedBy}), want ${want} (${wantServer})`);
      }
    }

    expect(misrouted).toEqual([]);
  });

  it("sets a rule's weights and verifies them; a rule deleted by someone is RuleGone", async () => {
    const arns = await createRuleSet({ source: 999, target: 0 });
    const reads = arns.get('reads-search')!;

    await port.setRuleWeights(reads, { source: 949, target: 50 });
    alb.deleteRule(arns.get('reads-lookups')!);

    expect((await port.readSwingRules()).find((rule) => rule.arn === reads)?.weights).toEqual({
      source: 949,
      target: 50,
    });
    await expect(
      port.setRuleWeights(arns.get('reads-lookups')!, { source: 0, target: 999 }),
    ).rejects.toBeInstanceOf(RuleGone);
  });

  it('deletes a rule, and a rule already gone without complaint', async () => {
    const arns = await createRuleSet();
    const pin = arns.get('pin-scroll-pit')!;

    await port.deleteRule(pin);
    await port.deleteRule(pin);

    expect(alb.describeRules().some((rule) => rule.RuleArn === pin)).toBe(false);
  });

  it("creates again idempotently (a lost answer), but refuses a priority someone else's rule took", async () => {
    const [pin] = SWING_RULE_SET;
    const first = await port.createRule(pin!, BASE, PIN_WEIGHTS, OWNER);

    expect(await port.createRule(pin!, BASE, PIN_WEIGHTS, OWNER)).toBe(first);

    alb.createRule({
      priority: BASE + 1,
      conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/mine'] } }],
      actions: [{ Type: 'forward', TargetGroupArn: alb.targetGroupArns.source }],
    });
    const refusal = port.createRule(SWING_RULE_SET[1]!, BASE + 1, PIN_WEIGHTS, OWNER);
    await expect(refusal).rejects.toBeInstanceOf(ListenerShapeInvalid);
    await expect(refusal).rejects.toThrow(/priority 101.*is taken by someone else's rule/);
  });

  it('reads a rule reshaped by hand as not intact: a condition changed, or one of a kind Swing never makes', async () => {
    const arns = await createRuleSet();
    alb.modifyRule(arns.get('reads-search')!, {
      conditions: [
        { Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['POST'] } },
        { Field: 'path-pattern', PathPatternConfig: { Values: ['*/_search*'] } },
      ],
    });
    alb.modifyRule(arns.get('reads-get-head')!, {
      conditions: [
        { Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['GET', 'HEAD'] } },
        { Field: 'host-header', HostHeaderConfig: { Values: ['search.example.com'] } },
      ],
    });

    const intact = Object.fromEntries(
      (await port.readSwingRules()).map((rule) => [rule.name, isIntact(rule, BASE)]),
    );

    expect(intact).toMatchObject({ 'reads-search': false, 'reads-get-head': false, 'reads-lookups': true });
  });
});
