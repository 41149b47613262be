import { describe, expect, it } from 'vitest';
import { ListenerShapeInvalid } from '#domain/errors.ts';
import { SWING_OWNER_TAG } from '#domain/listener-rules.ts';
import {
  ALB_RULE_LIMITS,
  ALL_SWING_RULES,
  albLimitBreaches,
  isIntact,
  PIN_WEIGHTS,
  pinIsOwn,
  refuseRuleConflicts,
  SWING_PRIORITY_SPAN,
  SWING_RULE_SET,
  swingPriorities,
} from '#domain/swing-rules.ts';
import type {
  DescribedListenerRule,
  FoundSwingRule,
  SwingRuleCondition,
  SwingRuleSpec,
} from '#domain/types.ts';

const LISTENER_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/migration-alb/50dc6c495c0c9188/f2f7dc8efc522ab2';
const BASE = 100;

/** A rule of the listener as the rules port reads it; Swing's own when `owner` is given. */
function listenerRule(priority: number, owner?: string): DescribedListenerRule {
  return {
    arn: `${LISTENER_ARN.replace(':listener/', ':listener-rule/')}/rule-${priority}`,
    priority: String(priority),
    conditions: ['host-header admin.example.com'],
    action: 'fixed-response 403',
    swungGroups: [],
    ...(owner ? { tags: { [SWING_OWNER_TAG]: owner } } : {}),
  };
}

function refusal(input: Parameters<typeof refuseRuleConflicts>[0]): ListenerShapeInvalid {
  try {
    refuseRuleConflicts(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ListenerShapeInvalid);
    return error as ListenerShapeInvalid;
  }
  throw new Error('expected refuseRuleConflicts to refuse');
}

/** ALB's wildcard match: `*` is any run of characters, `?` exactly one; the whole text must match. */
function globMatches(pattern: string, text: string, ignoreCase: boolean): boolean {
  const source = pattern
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'si' : 's').test(text);
}

/**
 * How ALB evaluates a condition (rule-condition-types): a method matches exactly; a path pattern on the path only,
 * case-sensitive; a query-string pair on any parameter, case-insensitive. Any value of a condition satisfies it.
 */
function conditionMatches(condition: SwingRuleCondition, method: string, url: URL): boolean {
  switch (condition.field) {
    case 'http-request-method':
      return condition.values.includes(method);
    case 'path-pattern':
      return condition.values.some((pattern) => globMatches(pattern, url.pathname, false));
    case 'query-string':
      return condition.values.some((pair) =>
        [...url.searchParams].some(
          ([key, value]) =>
            (pair.key === undefined || globMatches(pair.key, key, true)) &&
            globMatches(pair.value, value, true),
        ),
      );
  }
}

/** The first of Swing's rules, in priority order, that takes a request; `default` when none does. */
function ruleTaking(method: string, pathAndQuery: string): string {
  const url = new URL(pathAndQuery, 'https://migration.example.com');
  const rule = [...SWING_RULE_SET]
    .sort((a, b) => a.offset - b.offset)
    .find((spec) => spec.conditions.every((condition) => conditionMatches(condition, method, url)));
  return rule?.name ?? 'default';
}

describe('Constant: SWING_RULE_SET', () => {
  it('fits every rule within ALB’s limits on conditions, values, wildcards and path length', () => {
    for (const spec of SWING_RULE_SET)
      expect({ [spec.name]: albLimitBreaches(spec) }).toEqual({ [spec.name]: [] });
  });

  it('takes one priority per rule, contiguous from the base with the freeze, the pins, then writes-to-source, then the read rules', () => {
    // With the freeze's rules, every priority of the span once (ALB's priorities are unique).
    const offsets = ALL_SWING_RULES.map((spec) => spec.offset).sort((a, b) => a - b);
    expect(offsets).toEqual(ALL_SWING_RULES.map((_, index) => index));
    expect(SWING_PRIORITY_SPAN).toBe(ALL_SWING_RULES.length);
    const offsetsOf = (role: SwingRuleSpec['role']) =>
      SWING_RULE_SET.filter((spec) => spec.role === role).map((spec) => spec.offset);
    expect(Math.max(...offsetsOf('pin'))).toBeLessThan(Math.min(...offsetsOf('writes')));
    expect(Math.max(...offsetsOf('writes'))).toBeLessThan(Math.min(...offsetsOf('reads')));
    expect(swingPriorities(BASE)).toEqual(SWING_RULE_SET.map((spec) => BASE + spec.offset));
  });

  it('matches the read, write and pin paths of the design, no more and no fewer', () => {
    const paths = (role: SwingRuleSpec['role']) =>
      SWING_RULE_SET.filter((spec) => spec.role === role)
        .flatMap((spec) => spec.conditions)
        .flatMap((condition) => (condition.field === 'path-pattern' ? condition.values : []))
        .sort();
    // Ending in the API's name: a path with a segment starting with `_` before its last is writes-to-source's.
    expect(paths('reads')).toEqual(
      ['*/_search', '*/_msearch', '*/_count', '*/_mget', '*/_field_caps'].sort(),
    );
    expect(paths('writes')).toEqual(['/_*/*', '/*/_*/*'].sort());
    expect(paths('pin')).toEqual(
      [
        '/_search/scroll*',
        '*/_pit*',
        '*/_search/point_in_time*',
        '/_search',
        '/_search/',
        '*/_async*',
        '/_tasks*',
        '/_reindex/*',
        '/_plugins/_ml/tasks/*',
        '/_sql*',
        '/_plugins/_sql*',
        '/_plugins/_ppl*',
        '/_opendistro/_sql*',
        '/_eql/*',
        '/_query/async*',
        '/_snapshot/*',
        '/_cat/*',
        '/_migration/reindex/*',
        '*/..*',
        '*/./*',
        '*/.',
        '*%2e*',
        '*%2E*',
      ].sort(),
    );
  });

  it.each([
    ['GET', '/logs-2024/_doc/42', 'reads-get-head'],
    ['HEAD', '/logs-2024', 'reads-get-head'],
    ['GET', '/logs-2024/_search?q=status:500', 'reads-get-head'],
    ['POST', '/logs-2024/_search', 'reads-search'],
    ['POST', '/logs-*/_search?size=0', 'reads-search'],
    ['POST', '/_msearch', 'reads-search'],
    ['POST', '/logs-2024/_count', 'reads-lookups'],
    ['POST', '/_count', 'reads-lookups'],
    ['POST', '/logs-2024/_mget', 'reads-lookups'],
    ['POST', '/logs-2024/_field_caps?fields=status', 'reads-lookups'],
  ])('ramps the read %s %s by its read rule', (method, path, rule) => {
    expect(ruleTaking(method, path)).toBe(rule);
  });

  it.each([
    ['POST', '/logs-2024/_search?scroll=1m', 'pin-scroll-param'],
    ['GET', '/logs-2024/_search?scroll=5m&size=100', 'pin-scroll-param'],
    ['POST', '/_search/scroll', 'pin-scroll-pit'],
    ['GET', '/_search/scroll/FGluY2x1ZGVfY29udGV4dF91dWlk', 'pin-scroll-pit'],
    ['DELETE', '/_search/scroll', 'pin-scroll-pit'],
    ['POST', '/logs-2024/_search/point_in_time?keep_alive=1m', 'pin-scroll-pit'],
    ['POST', '/logs-2024/_pit?keep_alive=1m', 'pin-scroll-pit'],
    ['DELETE', '/_pit', 'pin-scroll-pit'],
    // A search within a point in time names no index: its id is in the body.
    ['POST', '/_search', 'pin-indexless-search'],
    ['GET', '/_search', 'pin-indexless-search'],
  ])('pins the scroll or point-in-time request %s %s to the source', (method, path, rule) => {
    expect(ruleTaking(method, path)).toBe(rule);
    expect(SWING_RULE_SET.find((spec) => spec.name === rule)?.role).toBe('pin');
  });

  it.each([
    ['POST', '/logs-2024/_doc'],
    ['PUT', '/logs-2024/_doc/42'],
    ['POST', '/_bulk'],
    ['POST', '/logs-2024/_bulk?refresh=true'],
    ['POST', '/logs-2024/_delete_by_query'],
    ['POST', '/logs-2024/_update_by_query'],
    ['DELETE', '/logs-2024/_doc/42'],
    ['PUT', '/logs-2024'],
    ['POST', '/logs-2024/_refresh'],
  ])('leaves the write %s %s to the default action', (method, path) => {
    expect(ruleTaking(method, path)).toBe('default');
  });

  it.each([
    ['POST', '/logs-2024/_create/42'],
    ['POST', '/logs-2024/_update/42'],
    ['POST', '/logs-2024/_doc/_search'],
    ['POST', '/logs-2024/_doc/_searchable-1'],
    ['POST', '/_scripts/_count'],
    // Reads too, pinned with them: explain and validate, search templates, `_all`.
    ['POST', '/logs-2024/_explain/42'],
    ['POST', '/logs-2024/_validate/query'],
    ['POST', '/logs-2024/_search/template'],
    ['POST', '/_all/_search'],
  ])('keeps %s %s, whose path could be a write, on the source until the cutover', (method, path) => {
    expect(ruleTaking(method, path)).toBe('writes-to-source');
  });
});

describe('Function: albLimitBreaches', () => {
  const rule = (...conditions: SwingRuleCondition[]): SwingRuleSpec => ({
    name: 'probe',
    role: 'reads',
    offset: 0,
    conditions,
  });

  it('names a condition with more values than ALB allows per condition', () => {
    const breaches = albLimitBreaches(rule({ field: 'path-pattern', values: ['/a', '/b', '/c', '/d'] }));
    expect(breaches).toEqual(['has 4 values in its path-pattern condition: ALB allows 3']);
  });

  it('names a rule with more values than ALB allows per rule, counting every condition', () => {
    const breaches = albLimitBreaches(
      rule(
        { field: 'http-request-method', values: ['GET', 'HEAD', 'POST'] },
        { field: 'path-pattern', values: ['/a', '/b', '/c'] },
      ),
    );
    expect(breaches).toEqual(['has 6 condition values: ALB allows 5 per rule']);
  });

  it('names a rule with more wildcards than ALB allows, counting query-string keys and values', () => {
    expect(
      albLimitBreaches(
        rule(
          { field: 'path-pattern', values: ['*/_a*', '*/_b*'] },
          { field: 'query-string', values: [{ key: 's*', value: '*' }] },
        ),
      ),
    ).toEqual(['has 6 wildcards: ALB allows 5 per rule']);
    expect(albLimitBreaches(rule({ field: 'path-pattern', values: ['*/_a?', '?/_b*', '/c'] }))).toEqual([]);
  });

  it('names a path pattern longer than ALB allows', () => {
    const long = `/${'x'.repeat(ALB_RULE_LIMITS.pathPatternLength)}`;
    const [breach, ...others] = albLimitBreaches(rule({ field: 'path-pattern', values: [long] }));
    expect(breach).toContain('of 129 characters: ALB allows 128');
    expect(others).toEqual([]);
    expect(albLimitBreaches(rule({ field: 'path-pattern', values: [long.slice(1)] }))).toEqual([]);
  });

  it('names a query-string key or value longer than ALB allows', () => {
    const long = 'x'.repeat(129);
    expect(albLimitBreaches(rule({ field: 'query-string', values: [{ key: long, value: '1' }] }))).toEqual([
      `has the query-string key ${long.slice(0, 40)}… of 129 characters: ALB allows 128`,
    ]);
    expect(albLimitBreaches(rule({ field: 'query-string', values: [{ value: long }] }))).toEqual([
      `has the query-string value ${long.slice(0, 40)}… of 129 characters: ALB allows 128`,
    ]);
    expect(
      albLimitBreaches(
        rule({ field: 'query-string', values: [{ key: long.slice(1), value: long.slice(1) }] }),
      ),
    ).toEqual([]);
  });

  it('names a second condition of a kind ALB allows once per rule, but allows several query-string ones', () => {
    expect(
      albLimitBreaches(
        rule({ field: 'path-pattern', values: ['/a'] }, { field: 'path-pattern', values: ['/b'] }),
      ),
    ).toEqual(['has two path-pattern conditions: ALB allows one']);
    expect(
      albLimitBreaches(
        rule(
          { field: 'query-string', values: [{ key: 'a', value: '1' }] },
          { field: 'query-string', values: [{ key: 'b', value: '2' }] },
        ),
      ),
    ).toEqual([]);
  });
});

describe('Function: refuseRuleConflicts', () => {
  it('accepts a listener with no rules', () => {
    expect(() =>
      refuseRuleConflicts({ listenerArn: LISTENER_ARN, rules: [], basePriority: BASE }),
    ).not.toThrow();
  });

  it('accepts rules of someone else’s evaluated before Swing’s block', () => {
    const before = [listenerRule(1), listenerRule(BASE - 1)];
    expect(() =>
      refuseRuleConflicts({ listenerArn: LISTENER_ARN, rules: before, basePriority: BASE }),
    ).not.toThrow();
  });

  it('refuses a priority Swing needs that another rule holds, naming the rule and the fix', () => {
    const holder = listenerRule(BASE + 3);
    const error = refusal({ listenerArn: LISTENER_ARN, rules: [holder], basePriority: BASE });
    expect(error.message).toContain(LISTENER_ARN);
    expect(error.message).toContain('the priorities Swing needs (100-121) are taken by');
    expect(error.message).toContain(`${holder.arn} (priority 103`);
    expect(error.message).toContain('choose another rulePriority (a free range of 22)');
    expect(error.message).toContain('Nothing was changed');
  });

  it('refuses a rule of someone else’s evaluated after Swing’s, which Swing’s rules would shadow, naming both fixes', () => {
    const shadowed = listenerRule(BASE + SWING_PRIORITY_SPAN);
    const error = refusal({ listenerArn: LISTENER_ARN, rules: [shadowed], basePriority: BASE });
    expect(error.message).toContain("evaluated after Swing's");
    expect(error.message).toContain(shadowed.arn);
    expect(error.message).toContain(
      `choose a rulePriority above theirs (${BASE + SWING_PRIORITY_SPAN + 1} or more), or give those rules priorities below ${BASE}`,
    );
    expect(error.message).not.toContain('are taken by');
  });

  it('refuses rules of Swing’s left from an earlier rollout, and does not also call their priorities taken', () => {
    const leftover = listenerRule(BASE + 3, 'arn:aws:states:us-east-1:123456789012:execution:swing:old');
    const error = refusal({ listenerArn: LISTENER_ARN, rules: [leftover], basePriority: BASE });
    expect(error.message).toContain('still on the listener from an earlier rollout');
    expect(error.message).toContain(leftover.arn);
    expect(error.message).toContain('the reconciler removes them');
    expect(error.message).not.toContain('are taken by');
  });

  it('refuses when Swing’s rules would take the load balancer past its rule quota, naming the quota', () => {
    const rules = Array.from({ length: 88 }, (_, index) => listenerRule(1 + index));
    const error = refusal({ listenerArn: LISTENER_ARN, rules, basePriority: BASE });
    expect(error.message).toContain('the listener has 88 rules and Swing adds 13: more than the 100');
    expect(error.message).toContain('Rules per Application Load Balancer');
    expect(() =>
      refuseRuleConflicts({ listenerArn: LISTENER_ARN, rules: rules.slice(1), basePriority: BASE }),
    ).not.toThrow();
    expect(
      refusal({ listenerArn: LISTENER_ARN, rules: [], basePriority: BASE, maxRules: 6 }).message,
    ).toContain('more than the 6');
  });

  it.each([
    [0, 'priorities 0-21, outside'],
    [-5, 'priorities -5-16, outside'],
    [ALB_RULE_LIMITS.maxPriority - 20, 'priorities 49980-50001, outside'],
  ])('refuses the base priority %d, which puts Swing’s rules outside ALB’s range', (base, found) => {
    const error = refusal({ listenerArn: LISTENER_ARN, rules: [], basePriority: base });
    expect(error.message).toContain(found);
    expect(error.message).toContain('set rulePriority to a number from 1 to 49979');
  });

  it('accepts the highest base priority that still fits', () => {
    expect(() =>
      refuseRuleConflicts({ listenerArn: LISTENER_ARN, rules: [], basePriority: 49_979 }),
    ).not.toThrow();
  });

  it.each([100.5, Number.NaN])(
    'refuses the base priority %d, not a whole number, which CreateRule would refuse mid-rollout',
    (base) => {
      const error = refusal({ listenerArn: LISTENER_ARN, rules: [], basePriority: base });
      expect(error.message).toContain(`rulePriority ${base} is not a whole number`);
      expect(error.message).toContain('set rulePriority to a number from 1 to 49979');
    },
  );

  it('refuses a rule set that would cross ALB’s limits, naming the rule', () => {
    const tooWide: SwingRuleSpec = {
      name: 'reads-everything',
      role: 'reads',
      offset: 0,
      conditions: [{ field: 'path-pattern', values: ['/a', '/b', '/c', '/d'] }],
    };
    const error = refusal({ listenerArn: LISTENER_ARN, rules: [], basePriority: BASE, ruleSet: [tooWide] });
    expect(error.message).toContain(
      "Swing's rule reads-everything has 4 values in its path-pattern condition",
    );
  });

  it('names every conflict at once, so one fix round is enough', () => {
    const error = refusal({
      listenerArn: LISTENER_ARN,
      rules: [listenerRule(BASE + 99), listenerRule(BASE + 1), listenerRule(BASE + 2, 'old-execution')],
      basePriority: BASE,
    });
    expect(error.message).toContain('are taken by');
    expect(error.message).toContain('evaluated after');
    expect(error.message).toContain('earlier rollout');
  });
});

describe('Function: isIntact', () => {
  const spec = SWING_RULE_SET.find((candidate) => candidate.name === 'reads-search')!;
  const asCreated: FoundSwingRule = {
    arn: `${LISTENER_ARN.replace(':listener/', ':listener-rule/')}/reads-search`,
    name: spec.name,
    owner: 'arn:aws:states:us-east-1:123456789012:execution:swing:run-1',
    priority: BASE + spec.offset,
    conditions: spec.conditions,
    weights: { source: 899, target: 100 },
  };

  it('holds for a rule as Swing created it, whatever order ELBv2 lists its conditions and values in', () => {
    expect(isIntact(asCreated, BASE)).toBe(true);
    const reordered: FoundSwingRule = {
      ...asCreated,
      conditions: [
        { field: 'path-pattern', values: ['*/_msearch', '*/_search'] },
        { field: 'http-request-method', values: ['POST'] },
      ],
    };
    expect(isIntact(reordered, BASE)).toBe(true);
  });

  it('fails for a rule whose condition values were changed by hand', () => {
    const changed: FoundSwingRule = {
      ...asCreated,
      conditions: [
        { field: 'http-request-method', values: ['POST'] },
        { field: 'path-pattern', values: ['*/_search*', '*/_bulk*'] },
      ],
    };
    expect(isIntact(changed, BASE)).toBe(false);
  });

  it('fails for a rule with a condition added or taken away', () => {
    const added: FoundSwingRule = {
      ...asCreated,
      conditions: [...asCreated.conditions, { field: 'query-string', values: [{ key: 'x', value: '1' }] }],
    };
    expect(isIntact(added, BASE)).toBe(false);
    expect(isIntact({ ...asCreated, conditions: asCreated.conditions.slice(0, 1) }, BASE)).toBe(false);
  });

  it('fails for a rule moved off its planned priority', () => {
    expect(isIntact({ ...asCreated, priority: asCreated.priority + 1 }, BASE)).toBe(false);
    expect(isIntact(asCreated, BASE + 1)).toBe(false);
  });

  it('fails for a rule whose action is no longer one forward to the two swung groups', () => {
    const { weights: _weights, ...notAForward } = asCreated;
    expect(isIntact(notAForward, BASE)).toBe(false);
  });

  it('fails for a rule whose name is not one of the rule set’s', () => {
    expect(isIntact({ ...asCreated, name: 'reads-something-else' }, BASE)).toBe(false);
    expect(isIntact({ ...asCreated, name: '' }, BASE)).toBe(false);
  });
});

describe('Function: pinIsOwn', () => {
  const pin: FoundSwingRule = {
    arn: 'rule-arn',
    name: 'pin-scroll-pit',
    owner: 'execution-arn',
    priority: BASE,
    conditions: SWING_RULE_SET[0]!.conditions,
    weights: PIN_WEIGHTS,
  };

  it('holds while the pin sends nothing to the target, and fails once anyone moved its weights', () => {
    expect(pinIsOwn(pin)).toBe(true);
    expect(pinIsOwn({ ...pin, weights: { source: 998, target: 1 } })).toBe(false);
    const { weights: _weights, ...noForward } = pin;
    expect(pinIsOwn(noForward)).toBe(false);
  });
});
