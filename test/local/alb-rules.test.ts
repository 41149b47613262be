import type { RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import {
  compileConditions,
  ElbV2Error,
  firstMatchingRule,
  parseRequest,
  type RequestFacts,
  validateActions,
  validateConditions,
  validatePriority,
  validateTags,
  wildcardCount,
} from '#local/alb-rules.ts';

const method = (...values: string[]): RuleCondition => ({
  Field: 'http-request-method',
  HttpRequestMethodConfig: { Values: values },
});
const path = (...values: string[]): RuleCondition => ({
  Field: 'path-pattern',
  PathPatternConfig: { Values: values },
});
const query = (...values: { Key?: string; Value: string }[]): RuleCondition => ({
  Field: 'query-string',
  QueryStringConfig: { Values: values },
});
const host = (...values: string[]): RuleCondition => ({
  Field: 'host-header',
  HostHeaderConfig: { Values: values },
});
const header = (name: string, ...values: string[]): RuleCondition => ({
  Field: 'http-header',
  HttpHeaderConfig: { HttpHeaderName: name, Values: values },
});

/** Whether a rule with these conditions takes the request, validated first as CreateRule would. */
function takes(conditions: RuleCondition[], request: Partial<RequestFacts> & { url: string }): boolean {
  return compileConditions(validateConditions(conditions))(
    parseRequest({ method: 'GET', headers: {}, ...request }),
  );
}

/** The ELBv2 error name and message a call throws. */
function refusal(call: () => unknown): { name: string; message: string } {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(ElbV2Error);
    return { name: (error as ElbV2Error).name, message: (error as ElbV2Error).message };
  }
  throw new Error('expected an ELBv2 refusal, got none');
}

describe('ALB rule matching: http-request-method', () => {
  it('matches the method exactly and case-sensitively, any of its values', () => {
    expect(takes([method('GET', 'HEAD')], { method: 'HEAD', url: '/' })).toBe(true);
    expect(takes([method('GET', 'HEAD')], { method: 'GET', url: '/' })).toBe(true);
    expect(takes([method('GET')], { method: 'get', url: '/' })).toBe(false);
    expect(takes([method('GET')], { method: 'GETS', url: '/' })).toBe(false);
    expect(takes([method('POST')], { method: 'PUT', url: '/' })).toBe(false);
  });
});

describe('ALB rule matching: path-pattern', () => {
  it('lets * match nothing, or anything including slashes', () => {
    expect(takes([path('*/_search*')], { url: '/_search' })).toBe(true);
    expect(takes([path('*/_search*')], { url: '/logs-a,logs-b/_search/template' })).toBe(true);
    expect(takes([path('/_search*')], { url: '/logs/_search' })).toBe(false);
  });

  it('lets ? match exactly one character, never none or two', () => {
    expect(takes([path('/logs-?/_count')], { url: '/logs-1/_count' })).toBe(true);
    expect(takes([path('/logs-?/_count')], { url: '/logs-/_count' })).toBe(false);
    expect(takes([path('/logs-?/_count')], { url: '/logs-12/_count' })).toBe(false);
    // `?` stands for any one character, a slash too, where `*` would take any number.
    expect(takes([path('/a?b')], { url: '/a/b' })).toBe(true);
    expect(takes([path('/a?b')], { url: '/a//b' })).toBe(false);
  });

  it('matches the whole path, case-sensitively', () => {
    expect(takes([path('*/_count')], { url: '/logs/_count' })).toBe(true);
    expect(takes([path('*/_count')], { url: '/logs/_count/extra' })).toBe(false);
    expect(takes([path('*/_search*')], { url: '/logs/_SEARCH' })).toBe(false);
    expect(takes([path('/Logs/*')], { url: '/logs/_doc/1' })).toBe(false);
  });

  it('looks at the path only, never the query string', () => {
    expect(takes([path('*/_search*')], { url: '/logs/_doc/1?q=_search' })).toBe(false);
    expect(takes([path('*scroll*')], { url: '/logs/_search?scroll=1m' })).toBe(false);
    expect(takes([path('*/_doc/1')], { url: '/logs/_doc/1?refresh=true' })).toBe(true);
    expect(takes([path('/_search')], { url: '/_search?' })).toBe(true);
  });

  it('treats regular-expression characters in a pattern literally', () => {
    expect(takes([path('/a.b')], { url: '/aXb' })).toBe(false);
    expect(takes([path('/a.b')], { url: '/a.b' })).toBe(true);
    expect(takes([path('/(x)+')], { url: '/(x)+' })).toBe(true);
    expect(takes([path('/(x)+')], { url: '/xx' })).toBe(false);
  });

  it('sees the path of an absolute-form request target', () => {
    expect(takes([path('*/_count')], { url: 'http://cluster:9200/logs/_count?q=x' })).toBe(true);
  });
});

describe('ALB rule matching: query-string', () => {
  it('compares keys and values case-insensitively', () => {
    expect(takes([query({ Key: 'scroll', Value: '*' })], { url: '/logs/_search?SCROLL=1M' })).toBe(true);
    expect(takes([query({ Key: 'format', Value: 'JSON' })], { url: '/_cat/indices?Format=json' })).toBe(true);
  });

  it('takes * and ? in the key and in the value', () => {
    expect(takes([query({ Key: 'scr?ll', Value: '?m' })], { url: '/_search?scroll=1m' })).toBe(true);
    expect(takes([query({ Key: 'scr?ll', Value: '?m' })], { url: '/_search?scroll=10m' })).toBe(false);
    expect(takes([query({ Key: '*', Value: '*' })], { url: '/_search?anything=at-all' })).toBe(true);
  });

  it('matches a value under any key when the key is absent, but a key never matches a bare value', () => {
    expect(takes([query({ Value: '1m' })], { url: '/_search?scroll=1m' })).toBe(true);
    expect(takes([query({ Value: '1m' })], { url: '/_search?1m' })).toBe(true);
    expect(takes([query({ Key: 'scroll', Value: '*' })], { url: '/_search?scroll' })).toBe(false);
    expect(takes([query({ Key: '*', Value: '1m' })], { url: '/_search?1m' })).toBe(false);
  });

  it('needs a query string: * does not match its absence', () => {
    expect(takes([query({ Key: 'scroll', Value: '*' })], { url: '/_search' })).toBe(false);
    expect(takes([query({ Value: '*' })], { url: '/_search?' })).toBe(false);
    expect(takes([query({ Key: 'scroll', Value: '*' })], { url: '/_search?scroll=' })).toBe(true);
  });

  it('compares percent-decoded keys and values; a malformed escape is compared as sent', () => {
    expect(takes([query({ Key: 'q', Value: 'a b' })], { url: '/_search?q=a%20b' })).toBe(true);
    expect(takes([query({ Key: 'scroll', Value: '1m' })], { url: '/_search?%73croll=1m' })).toBe(true);
    expect(takes([query({ Key: 'q', Value: '%zz' })], { url: '/_search?q=%zz' })).toBe(true);
  });

  it('takes an escaped * or ? literally', () => {
    expect(takes([query({ Key: 'q', Value: 'a\\*b' })], { url: '/_search?q=a*b' })).toBe(true);
    expect(takes([query({ Key: 'q', Value: 'a\\*b' })], { url: '/_search?q=axb' })).toBe(false);
    expect(takes([query({ Key: 'q', Value: 'what\\?' })], { url: '/_search?q=what%3F' })).toBe(true);
  });

  it('splits pairs on & and a pair on its first =, and ignores a fragment', () => {
    expect(takes([query({ Key: 'b', Value: 'x=y' })], { url: '/p?a=1&b=x=y' })).toBe(true);
    expect(takes([query({ Key: 'a', Value: '1' })], { url: '/p?b=2&&a=1' })).toBe(true);
    expect(takes([query({ Key: 'f', Value: '*' })], { url: '/p?a=1#f=2' })).toBe(false);
  });
});

describe('ALB rule matching: host-header and http-header', () => {
  it('matches the host name case-insensitively with wildcards, without its port', () => {
    expect(takes([host('*.example.com')], { url: '/', headers: { host: 'Search.Example.COM:9200' } })).toBe(
      true,
    );
    expect(takes([host('*.example.com')], { url: '/', headers: { host: 'example.com' } })).toBe(false);
    expect(takes([host('example.com')], { url: '/', headers: {} })).toBe(false);
  });

  it('finds a header by name in any case and matches any of its values case-insensitively', () => {
    const headers = { 'x-canary': ['no', 'YES-please'] };
    expect(takes([header('X-Canary', 'yes*')], { url: '/', headers })).toBe(true);
    expect(takes([header('X-Canary', 'maybe')], { url: '/', headers })).toBe(false);
    expect(takes([header('X-Other', '*')], { url: '/', headers })).toBe(false);
  });
});

describe('ALB rule matching: source-ip', () => {
  const sourceIp = (...values: string[]): RuleCondition => ({
    Field: 'source-ip',
    SourceIpConfig: { Values: values },
  });

  it('matches the client address against CIDR blocks, IPv4-mapped addresses as IPv4', () => {
    expect(takes([sourceIp('10.0.0.0/8')], { url: '/', sourceIp: '10.1.2.3' })).toBe(true);
    expect(takes([sourceIp('10.0.0.0/8')], { url: '/', sourceIp: '::ffff:10.1.2.3' })).toBe(true);
    expect(takes([sourceIp('10.0.0.0/8')], { url: '/', sourceIp: '11.1.2.3' })).toBe(false);
    expect(takes([sourceIp('::1/128')], { url: '/', sourceIp: '::1' })).toBe(true);
  });
});

describe('ALB rule matching: conditions and rules', () => {
  it('ANDs the conditions of a rule and ORs the values of one condition', () => {
    const reads = [method('POST'), path('*/_search*', '*/_count')];

    expect(takes(reads, { method: 'POST', url: '/logs/_search' })).toBe(true);
    expect(takes(reads, { method: 'POST', url: '/logs/_count' })).toBe(true);
    expect(takes(reads, { method: 'GET', url: '/logs/_search' })).toBe(false);
    expect(takes(reads, { method: 'POST', url: '/logs/_doc' })).toBe(false);
  });

  it('ANDs two conditions of one repeatable field: both headers must match', () => {
    const both = [header('x-a', '1'), header('x-b', '2')];

    expect(takes(both, { url: '/', headers: { 'x-a': '1', 'x-b': '2' } })).toBe(true);
    expect(takes(both, { url: '/', headers: { 'x-a': '1' } })).toBe(false);
  });

  it('picks the matching rule with the lowest priority, whatever the order it is given in', () => {
    const rule = (priority: number, conditions: RuleCondition[]) => ({
      priority,
      matches: compileConditions(conditions),
    });
    const pin = rule(5, [path('/_search/scroll*')]);
    const reads = rule(10, [method('GET')]);
    const searches = rule(20, [path('*/_search*')]);
    const request = (url: string, verb = 'GET') => parseRequest({ method: verb, url, headers: {} });
    const orders = [
      [pin, reads, searches],
      [searches, reads, pin],
      [reads, pin, searches],
      [searches, pin, reads],
    ];

    for (const rules of orders) {
      // /_search/scroll matches all three; a GET matches reads and, on a search path, searches too.
      expect(firstMatchingRule(rules, request('/_search/scroll'))).toBe(pin);
      expect(firstMatchingRule(rules, request('/logs/_search'))).toBe(reads);
      expect(firstMatchingRule(rules, request('/logs/_search', 'POST'))).toBe(searches);
      expect(firstMatchingRule(rules, request('/logs/_doc/1', 'PUT'))).toBeUndefined();
    }
  });
});

describe("ALB's limits on a rule's conditions", () => {
  it('refuses more than 5 condition values in a rule, as ELBv2 does, and takes 5', () => {
    expect(() => validateConditions([method('GET', 'HEAD'), path('/a', '/b', '/c')])).not.toThrow();

    expect(
      refusal(() => validateConditions([method('GET', 'HEAD', 'POST'), path('/a', '/b', '/c')])),
    ).toEqual({
      name: 'ValidationError',
      message: "A rule can only have '5' condition values",
    });
  });

  it('refuses more than 3 values in one condition (ALB: up to three match evaluations per condition)', () => {
    expect(refusal(() => validateConditions([path('/a', '/b', '/c', '/d')])).message).toMatch(
      /condition can only have '3' values: 'path-pattern' has 4/,
    );
  });

  it('counts query-string pairs as condition values', () => {
    expect(
      refusal(() =>
        validateConditions([
          method('GET', 'HEAD'),
          query({ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }),
          path('/x', '/y'),
        ]),
      ).message,
    ).toBe("A rule can only have '5' condition values");
  });

  it('refuses more than 5 wildcards in a rule, counting keys and values but not escaped ones', () => {
    expect(() =>
      validateConditions([path('*/_search*', '*/_msearch*'), query({ Key: 'a', Value: '*' })]),
    ).not.toThrow();
    expect(refusal(() => validateConditions([path('*/_search*', '*/_msearch*', '*/_pit*')])).message).toBe(
      "A rule can only have '5' wildcards",
    );
    expect(wildcardCount('a\\*b\\?c*', true)).toBe(1);
    expect(wildcardCount('a\\*b', false)).toBe(1);
  });

  it('refuses a path pattern over 128 characters and takes one of 128', () => {
    const long = `/${'a'.repeat(127)}`;

    expect(() => validateConditions([path(long)])).not.toThrow();
    expect(refusal(() => validateConditions([path(`${long}b`)])).message).toMatch(/at most 128 characters/);
  });

  it('refuses a second path-pattern, method, host-header or source-ip condition, but takes two http-headers', () => {
    expect(refusal(() => validateConditions([path('/a'), path('/b')])).message).toMatch(
      /only have one 'path-pattern' condition/,
    );
    expect(refusal(() => validateConditions([method('GET'), method('HEAD')])).name).toBe('ValidationError');
    expect(() => validateConditions([header('x-a', '1'), header('x-b', '2')])).not.toThrow();
  });

  it('refuses a rule without conditions, an empty value, a lower-case method and regex values', () => {
    expect(refusal(() => validateConditions([])).message).toMatch(/at least one condition/);
    expect(refusal(() => validateConditions([path()])).message).toMatch(/at least one value/);
    expect(refusal(() => validateConditions([query({ Key: 'a', Value: '' })])).message).toMatch(
      /cannot be empty/,
    );
    expect(refusal(() => validateConditions([method('get')])).message).toMatch(/'get' is not valid/);
    expect(
      refusal(() =>
        validateConditions([{ Field: 'path-pattern', PathPatternConfig: { RegexValues: ['^/a$'] } }]),
      ).message,
    ).toMatch(/RegexValues are not supported/);
    expect(refusal(() => validateConditions([{ Field: 'cookie', Values: ['x'] }])).message).toMatch(
      /'cookie' is not valid/,
    );
  });
});

describe("ALB's limits on a rule's actions, tags and priority", () => {
  const source = 'arn:tg/source';
  const target = 'arn:tg/target';
  const known = new Set([source, target]);
  const forward = (...groups: { TargetGroupArn: string; Weight?: number }[]) => [
    { Type: 'forward' as const, ForwardConfig: { TargetGroups: groups } },
  ];

  it('takes a weighted forward to known target groups and a fixed response', () => {
    expect(() =>
      validateActions(
        forward({ TargetGroupArn: source, Weight: 999 }, { TargetGroupArn: target, Weight: 0 }),
        known,
      ),
    ).not.toThrow();
    expect(() => validateActions([{ Type: 'forward', TargetGroupArn: source }], known)).not.toThrow();
    expect(() =>
      validateActions([{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503' } }], known),
    ).not.toThrow();
  });

  it('refuses an unknown target group, a weight outside 0..999, all weights 0 and a bad status code', () => {
    expect(refusal(() => validateActions(forward({ TargetGroupArn: 'arn:tg/other' }), known)).name).toBe(
      'TargetGroupNotFoundException',
    );
    expect(
      refusal(() => validateActions(forward({ TargetGroupArn: source, Weight: 1000 }), known)).name,
    ).toBe('ValidationError');
    expect(
      refusal(() =>
        validateActions(
          forward({ TargetGroupArn: source, Weight: 0 }, { TargetGroupArn: target, Weight: 0 }),
          known,
        ),
      ).message,
    ).toMatch(/weight above 0/);
    expect(
      refusal(() =>
        validateActions([{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '302' } }], known),
      ).message,
    ).toMatch(/2XX, 4XX or 5XX/);
    expect(
      refusal(() =>
        validateActions(
          [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503', ContentType: 'text/xml' } }],
          known,
        ),
      ).message,
    ).toMatch(/content type 'text\/xml' is not valid/);
    expect(refusal(() => validateActions([], known)).message).toMatch(/at least one action/);
  });

  it('refuses a priority outside 1..50000 and takes both ends', () => {
    expect(validatePriority(1)).toBe(1);
    expect(validatePriority(50_000)).toBe(50_000);
    for (const bad of [0, 50_001, 1.5, Number.NaN]) {
      expect(refusal(() => validatePriority(bad)).name).toBe('ValidationError');
    }
  });

  it('refuses duplicate tag keys', () => {
    expect(
      refusal(() =>
        validateTags([
          { Key: 'swing:owner', Value: 'a' },
          { Key: 'swing:owner', Value: 'b' },
        ]),
      ).name,
    ).toBe('DuplicateTagKeysException');
  });
});
