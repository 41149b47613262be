import type { Rule, RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { conditionText, ruleMatcher } from '#adapters/listener-rules.ts';
import { ListenerShapeInvalid } from '#domain/errors.ts';
import { takesEveryRead } from '#domain/foreign-rules.ts';
import { refuseRuleConflicts, SWING_RULE_SET } from '#domain/swing-rules.ts';
import type { DescribedListenerRule, SwingRuleCondition } from '#domain/types.ts';
import {
  compileConditions,
  firstMatchingRule,
  type MatchableRule,
  parseRequest,
} from '../../local/alb-rules.ts';
import describedRules from '../fixtures/aws/elbv2-describe-rules.json' with { type: 'json' };

const LISTENER_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/migration-alb/50dc6c495c0c9188/f2f7dc8efc522ab2';

/** The rules of someone else's an operator has on the listener (DescribeRules, the default rule left out). */
const FOREIGN: Rule[] = (describedRules.Rules as Rule[]).filter((rule) => !rule.IsDefault);

function described(rule: Rule): DescribedListenerRule {
  return {
    arn: rule.RuleArn ?? '',
    priority: rule.Priority ?? '',
    conditions: (rule.Conditions ?? []).map(conditionText),
    matchers: (rule.Conditions ?? []).map(ruleMatcher),
    action: rule.Actions?.[0]?.Type ?? 'none',
    swungGroups: [],
  };
}

function elbCondition(condition: SwingRuleCondition): RuleCondition {
  switch (condition.field) {
    case 'path-pattern':
      return { Field: 'path-pattern', PathPatternConfig: { Values: [...condition.values] } };
    case 'http-request-method':
      return { Field: 'http-request-method', HttpRequestMethodConfig: { Values: [...condition.values] } };
    case 'query-string':
      return {
        Field: 'query-string',
        QueryStringConfig: { Values: condition.values.map((pair) => ({ Key: pair.key, Value: pair.value })) },
      };
  }
}

interface NamedRule extends MatchableRule {
  readonly name: string;
}

const foreignMatchable: NamedRule[] = FOREIGN.map((rule) => ({
  name: `foreign ${rule.Priority}`,
  priority: Number(rule.Priority),
  matches: compileConditions(rule.Conditions ?? []),
}));

const swingMatchable = (base: number): NamedRule[] =>
  SWING_RULE_SET.map((spec) => ({
    name: `swing ${spec.name}`,
    priority: base + spec.offset,
    matches: compileConditions(spec.conditions.map(elbCondition)),
  }));

/** Requests of every kind, some for the operator's rules (a security API, a dashboards host, a moved index). */
const REQUESTS: { method: string; url: string; host: string }[] = [
  ...['GET', 'POST', 'PUT', 'DELETE', 'HEAD'].flatMap((method) => [
    { method, url: '/_plugins/_security/api/internalusers/admin', host: 'search.example.com' },
    { method, url: '/_plugins/_security/authinfo', host: 'search.example.com' },
    { method, url: '/logs-2024/_search', host: 'dashboards.search.example.com' },
    { method, url: '/logs-2024/_doc/42', host: 'dashboards.search.example.com' },
    { method, url: '/old-index/_search', host: 'search.example.com' },
    { method, url: '/old-index/_doc/42', host: 'search.example.com' },
    { method, url: '/logs-2024/_search?scroll=1m', host: 'search.example.com' },
    { method, url: '/logs-2024/_count', host: 'search.example.com' },
    { method, url: '/_search/scroll', host: 'search.example.com' },
  ]),
];

function accepted(base: number): boolean {
  try {
    refuseRuleConflicts({ listenerArn: LISTENER_ARN, rules: FOREIGN.map(described), basePriority: base });
    return true;
  } catch (error) {
    expect(error).toBeInstanceOf(ListenerShapeInvalid);
    return false;
  }
}

describe('Rules of someone else’s on a reads-first listener', () => {
  it('a foreign rule keeps its traffic: at every rulePriority Preflight accepts, each request an operator’s rule takes without Swing it still takes with Swing’s rules in place', () => {
    const bases = [1, 4, 6, 11, 25, 31, 100, 1000, 49_000];
    const acceptedBases = bases.filter(accepted);
    // Swing's rules fit after the operator's (priorities 5, 10 and 30), and only there.
    expect(acceptedBases).toEqual([31, 100, 1000, 49_000]);
    for (const base of bases) {
      // Where Preflight refuses, nothing is written; check the routing Swing would make only where it accepts.
      if (!acceptedBases.includes(base)) continue;
      for (const request of REQUESTS) {
        const parsed = parseRequest({
          method: request.method,
          url: request.url,
          headers: { host: request.host },
        });
        const without = firstMatchingRule(foreignMatchable, parsed);
        const withSwing = firstMatchingRule([...foreignMatchable, ...swingMatchable(base)], parsed);
        if (without !== undefined) {
          expect({ base, ...request, rule: withSwing?.name }).toEqual({
            base,
            ...request,
            rule: without.name,
          });
        }
      }
    }
  });

  it('refuses a rule of someone else’s evaluated after Swing’s, naming it and both fixes', () => {
    let message = '';
    try {
      refuseRuleConflicts({ listenerArn: LISTENER_ARN, rules: FOREIGN.map(described), basePriority: 6 });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("rules of someone else's are evaluated after Swing's");
    expect(message).toContain(
      `${FOREIGN[1]?.RuleArn} (priority 10, host-header dashboards.search.example.com)`,
    );
    expect(message).toContain(`${FOREIGN[2]?.RuleArn} (priority 30`);
    expect(message).not.toContain(`${FOREIGN[0]?.RuleArn} (priority 5`);
    expect(message).toContain(
      'choose a rulePriority above theirs (31 or more), or give those rules priorities below 6',
    );
  });

  it.each<[string, RuleCondition[]]>([
    ['a path pattern of every path', [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } }]],
    [
      'the read methods',
      [{ Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['GET', 'HEAD', 'POST'] } }],
    ],
    [
      'a wildcard host and every path',
      [
        { Field: 'host-header', HostHeaderConfig: { Values: ['*'] } },
        { Field: 'path-pattern', PathPatternConfig: { Values: ['*'] } },
      ],
    ],
    [
      'a regular expression of every path',
      [{ Field: 'path-pattern', PathPatternConfig: { RegexValues: ['^/.*$'] } }],
    ],
    ['every IPv4 client', [{ Field: 'source-ip', SourceIpConfig: { Values: ['0.0.0.0/0'] } }]],
  ])(
    'refuses a catch-all rule of someone else’s (%s), which takes every read: reads-first has nothing to move',
    (_, conditions) => {
      const catchAll = described({
        RuleArn: `${LISTENER_ARN.replace(':listener/', ':listener-rule/')}/catch-all`,
        Priority: '1',
        Conditions: conditions,
        Actions: [
          {
            Type: 'forward',
            TargetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/other/1',
          },
        ],
      });
      expect(takesEveryRead(catchAll)).toBe(true);
      expect(() =>
        refuseRuleConflicts({ listenerArn: LISTENER_ARN, rules: [catchAll], basePriority: 1000 }),
      ).toThrow(/catch-all \(priority 1.*takes every read before Swing's rules could/);
    },
  );

  it.each<[string, RuleCondition[]]>([
    ['GET only', [{ Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['GET'] } }]],
    ['one host', [{ Field: 'host-header', HostHeaderConfig: { Values: ['other.example.com'] } }]],
    ['a header', [{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'x-app', Values: ['*'] } }]],
    ['a query string', [{ Field: 'query-string', QueryStringConfig: { Values: [{ Value: '*' }] } }]],
    ['one network', [{ Field: 'source-ip', SourceIpConfig: { Values: ['10.0.0.0/8'] } }]],
  ])('accepts a rule of someone else’s before Swing’s that takes only some reads (%s)', (_, conditions) => {
    const some = described({ RuleArn: 'rule/some', Priority: '1', Conditions: conditions, Actions: [] });
    expect(takesEveryRead(some)).toBe(false);
    expect(() =>
      refuseRuleConflicts({ listenerArn: LISTENER_ARN, rules: [some], basePriority: 1000 }),
    ).not.toThrow();
  });
});
