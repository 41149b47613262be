import { ListenerShapeInvalid } from './errors.ts';
import { takesEveryRead } from './foreign-rules.ts';
import { isSwingOwnRule, ruleText } from './listener-rules.ts';
import type {
  DescribedListenerRule,
  FixedResponse,
  FoundSwingRule,
  SwingRuleCondition,
  SwingRuleSpec,
  Weights,
} from './types.ts';
import { sameWeights } from './weights.ts';

/**
 * Swing's listener rules in reads-first mode, evaluated in this order (each `offset` from the base priority; the
 * write freeze's rules, FREEZE_RULE_SET, take offsets 0 to 4, 14 and 19 to 21 around them):
 *
 * - The pins, to the source whatever the read share: requests that continue state held by one cluster. Scroll
 *   and point-in-time contexts, index-less `/_search` (the only form a search within a point in time takes: its
 *   id is in the body, which no rule sees), asynchronous searches and queries, tasks (a `_reindex`,
 *   `_update_by_query` or `_delete_by_query` run with `wait_for_completion=false` answers with a task id only the
 *   source knows), SQL and PPL cursors, EQL and ES|QL results, snapshot and ML task status. Paths with dot
 *   segments, raw or percent-encoded, are pinned too: a server or proxy that resolves them could turn what a
 *   pattern sees as a read into a write.
 * - `writes-to-source`: every POST whose path could be a write that a read pattern also matches (a document id
 *   such as `_search` or `_count` in `POST /i/_doc/_count`, a script id in `POST /_scripts/_search`, ...). Such a
 *   path has a segment starting with `_` before its last one; a read the read rules move has none (`/i/_search`,
 *   `/_count`). It leaves with the read rules at the cutover, the default action then sending writes to the
 *   target.
 * - The read rules, whose weighted forward carries the read share: GET and HEAD, and POST to a path that ends in
 *   a read API's name.
 *
 * Everything else (writes) falls to the default action, all-source until the cutover. Which paths are reads is
 * checked against the REST APIs the OpenSearch and Elasticsearch clients define
 * (test/fixtures/client-endpoints.json, test/unit/read-classification.test.ts). ALB's limits shape the split:
 * at most 3 values per condition, 5 per rule, 5 wildcards per rule.
 */
export const SWING_RULE_SET: readonly SwingRuleSpec[] = [
  {
    name: 'pin-scroll-pit',
    role: 'pin',
    offset: 5,
    conditions: [
      { field: 'path-pattern', values: ['/_search/scroll*', '*/_pit*', '*/_search/point_in_time*'] },
    ],
  },
  {
    name: 'pin-indexless-search',
    role: 'pin',
    offset: 6,
    // `/_search` with or without its slash (a point-in-time search carries its id in the body), and asynchronous
    // searches and queries (Elasticsearch's `_async_search`, OpenSearch's `_plugins/_asynchronous_search` and
    // `_plugins/_async_query`): submitted by POST and fetched by GET, they live on the cluster that runs them.
    conditions: [{ field: 'path-pattern', values: ['/_search', '/_search/', '*/_async*'] }],
  },
  {
    name: 'pin-scroll-param',
    role: 'pin',
    offset: 7,
    conditions: [{ field: 'query-string', values: [{ key: 'scroll', value: '*' }] }],
  },
  {
    name: 'pin-tasks',
    role: 'pin',
    offset: 8,
    // A task runs on the cluster that started it: its status (`GET /_tasks/<id>`), its cancel and rethrottle,
    // Elasticsearch's reindex status (`GET /_reindex/<task>`, never `POST /_reindex` itself, a write) and
    // OpenSearch's ML tasks.
    conditions: [{ field: 'path-pattern', values: ['/_tasks*', '/_reindex/*', '/_plugins/_ml/tasks/*'] }],
  },
  {
    name: 'pin-query-cursors',
    role: 'pin',
    offset: 9,
    // SQL and PPL cursors (Elasticsearch's `_sql`, OpenSearch's `_plugins/_sql` and `_plugins/_ppl`): a cursor
    // goes back in the body of the next request, which no rule sees.
    conditions: [{ field: 'path-pattern', values: ['/_sql*', '/_plugins/_sql*', '/_plugins/_ppl*'] }],
  },
  {
    name: 'pin-query-results',
    role: 'pin',
    offset: 10,
    // Open Distro's SQL, EQL results and status by id, ES|QL's asynchronous results.
    conditions: [{ field: 'path-pattern', values: ['/_opendistro/_sql*', '/_eql/*', '/_query/async*'] }],
  },
  {
    name: 'pin-job-status',
    role: 'pin',
    offset: 11,
    // Reads only (their writes follow the default action): the status of a snapshot or of Elasticsearch's
    // migration reindex started on the source, and the cat APIs (tasks, snapshots, point-in-time segments, ...).
    conditions: [
      { field: 'http-request-method', values: ['GET', 'HEAD'] },
      { field: 'path-pattern', values: ['/_snapshot/*', '/_cat/*', '/_migration/reindex/*'] },
    ],
  },
  {
    name: 'pin-dot-segments',
    role: 'pin',
    offset: 12,
    conditions: [{ field: 'path-pattern', values: ['*/..*', '*/./*', '*/.'] }],
  },
  {
    name: 'pin-encoded-dots',
    role: 'pin',
    offset: 13,
    conditions: [{ field: 'path-pattern', values: ['*%2e*', '*%2E*'] }],
  },
  {
    name: 'writes-to-source',
    role: 'writes',
    offset: 15,
    conditions: [
      { field: 'http-request-method', values: ['POST'] },
      { field: 'path-pattern', values: ['/_*/*', '/*/_*/*'] },
    ],
  },
  {
    name: 'reads-get-head',
    role: 'reads',
    offset: 16,
    conditions: [{ field: 'http-request-method', values: ['GET', 'HEAD'] }],
  },
  {
    name: 'reads-search',
    role: 'reads',
    offset: 17,
    conditions: [
      { field: 'http-request-method', values: ['POST'] },
      { field: 'path-pattern', values: ['*/_search', '*/_msearch'] },
    ],
  },
  {
    name: 'reads-lookups',
    role: 'reads',
    offset: 18,
    conditions: [
      { field: 'http-request-method', values: ['POST'] },
      { field: 'path-pattern', values: ['*/_count', '*/_mget', '*/_field_caps'] },
    ],
  },
];

/**
 * What a freeze rule answers: 503 with an OpenSearch-shaped error body, so a client reads why. ALB's fixed-response
 * action sets only a status, a content type and a body (FixedResponseActionConfig): no `Retry-After` header, so
 * clients retry with their own backoff (the OpenSearch clients retry 503).
 */
export const FREEZE_RESPONSE: FixedResponse = Object.freeze({
  statusCode: '503',
  contentType: 'application/json',
  messageBody: JSON.stringify({
    error: {
      type: 'swing_write_freeze',
      reason:
        "writes are frozen for a few seconds while a rollback replays the target's writes onto the source; retry",
    },
    status: 503,
  }),
});

/**
 * The write freeze (a rollback after the cutover with reverse capture, and the write cutover itself). ALB evaluates
 * rules in priority order and has no "except when frozen", so the freeze's rules stand around `SWING_RULE_SET`'s:
 *
 * - before the pins (offsets 0 to 4), 503 for every write a pin matches: PUT, DELETE and PATCH (no pinned read
 *   uses them; a scroll's or point in time's clear waits out the freeze), and the POSTs the pins take that are
 *   writes or open new state, never a continuation: a path with dot segments or encoded dots (`/i/_doc/..v2`),
 *   `_delete_by_query`, `_update_by_query` and `_reindex` (they take `scroll=`), and a segment starting `_pit`
 *   or `_async` (document ids; also a point in time's opening and an asynchronous search's submission, which
 *   wait out the freeze; their continuations, `/_search` and GETs, reach the pins);
 * - `freeze-writes` (14) before `writes-to-source` (15), which sends its POSTs to the source until the cutover
 *   removes it: 503 for the POSTs a read pattern also matches;
 * - after the read rules (19 to 21): the POST reads forwarded where the default action sends them when the freeze
 *   is made (reads keep flowing, to the cluster that has every write), then every other POST (503).
 *
 * GET and HEAD fall through to the pins, the read rules and the default action. ALB's conditions cannot say "not
 * a read", and one rule holds at most 5 condition values and 5 wildcards, hence nine rules.
 */
export const FREEZE_RULE_SET: readonly SwingRuleSpec[] = [
  {
    name: 'freeze-methods',
    role: 'freeze',
    offset: 0,
    conditions: [{ field: 'http-request-method', values: ['PUT', 'DELETE', 'PATCH'] }],
    respond: FREEZE_RESPONSE,
  },
  {
    name: 'freeze-dot-segments',
    role: 'freeze',
    offset: 1,
    conditions: [
      { field: 'http-request-method', values: ['POST'] },
      { field: 'path-pattern', values: ['*/..*', '*/./*', '*/.'] },
    ],
    respond: FREEZE_RESPONSE,
  },
  {
    name: 'freeze-encoded-dots',
    role: 'freeze',
    offset: 2,
    conditions: [
      { field: 'http-request-method', values: ['POST'] },
      { field: 'path-pattern', values: ['*%2e*', '*%2E*'] },
    ],
    respond: FREEZE_RESPONSE,
  },
  {
    name: 'freeze-by-query',
    role: 'freeze',
    offset: 3,
    conditions: [
      { field: 'http-request-method', values: ['POST'] },
      { field: 'path-pattern', values: ['*/_delete_by_query*', '*/_update_by_query*', '/_reindex*'] },
    ],
    respond: FREEZE_RESPONSE,
  },
  {
    name: 'freeze-pinned-ids',
    role: 'freeze',
    offset: 4,
    conditions: [
      { field: 'http-request-method', values: ['POST'] },
      { field: 'path-pattern', values: ['*/_pit*', '*/_async*'] },
    ],
    respond: FREEZE_RESPONSE,
  },
  {
    name: 'freeze-writes',
    role: 'freeze',
    offset: 14,
    conditions: [
      { field: 'http-request-method', values: ['POST'] },
      { field: 'path-pattern', values: ['/_*/*', '/*/_*/*'] },
    ],
    respond: FREEZE_RESPONSE,
  },
  {
    name: 'freeze-reads-search',
    role: 'freeze',
    offset: 19,
    conditions: [
      { field: 'http-request-method', values: ['POST'] },
      { field: 'path-pattern', values: ['*/_search', '*/_msearch'] },
    ],
  },
  {
    name: 'freeze-reads-lookups',
    role: 'freeze',
    offset: 20,
    conditions: [
      { field: 'http-request-method', values: ['POST'] },
      { field: 'path-pattern', values: ['*/_count', '*/_mget', '*/_field_caps'] },
    ],
  },
  {
    name: 'freeze-post',
    role: 'freeze',
    offset: 21,
    conditions: [{ field: 'http-request-method', values: ['POST'] }],
    respond: FREEZE_RESPONSE,
  },
];

/** ALB's documented limits on one rule's conditions. */
export const ALB_RULE_LIMITS = {
  valuesPerCondition: 3,
  valuesPerRule: 5,
  wildcardsPerRule: 5,
  pathPatternLength: 128,
  /** Each key and each value of a query-string condition. */
  queryStringLength: 128,
  maxPriority: 50_000,
  /** Rules per load balancer, default rules excluded (a quota AWS can raise). */
  rulesPerLoadBalancer: 100,
} as const;

/** Pin rules (and `writes-to-source`) forward all they match to the source: weights with the target at 0. */
export const PIN_WEIGHTS: Weights = { source: 999, target: 0 };

function conditionStrings(condition: SwingRuleCondition): string[] {
  return condition.field === 'query-string'
    ? condition.values.flatMap((pair) => [...(pair.key === undefined ? [] : [pair.key]), pair.value])
    : [...condition.values];
}

/** Where a rule breaks ALB's limits, in words; empty when it fits. */
export function albLimitBreaches(spec: SwingRuleSpec): string[] {
  const breaches: string[] = [];
  let values = 0;
  let wildcards = 0;
  const once = new Set<string>();
  for (const condition of spec.conditions) {
    if (condition.field !== 'query-string') {
      if (once.has(condition.field)) breaches.push(`has two ${condition.field} conditions: ALB allows one`);
      once.add(condition.field);
    }
    if (condition.values.length > ALB_RULE_LIMITS.valuesPerCondition) {
      breaches.push(
        `has ${condition.values.length} values in its ${condition.field} condition: ALB allows ` +
          `${ALB_RULE_LIMITS.valuesPerCondition}`,
      );
    }
    values += condition.values.length;
    for (const text of conditionStrings(condition)) {
      if (condition.field !== 'http-request-method') wildcards += (text.match(/[*?]/g) ?? []).length;
      if (condition.field === 'path-pattern' && text.length > ALB_RULE_LIMITS.pathPatternLength) {
        breaches.push(
          `has the path pattern ${text.slice(0, 40)}… of ${text.length} characters: ALB allows ` +
            `${ALB_RULE_LIMITS.pathPatternLength}`,
        );
      }
    }
    if (condition.field === 'query-string') {
      for (const pair of condition.values) {
        for (const [part, text] of [
          ['key', pair.key ?? ''],
          ['value', pair.value],
        ] as const) {
          if (text.length > ALB_RULE_LIMITS.queryStringLength) {
            breaches.push(
              `has the query-string ${part} ${text.slice(0, 40)}… of ${text.length} characters: ALB allows ` +
                `${ALB_RULE_LIMITS.queryStringLength}`,
            );
          }
        }
      }
    }
  }
  if (values > ALB_RULE_LIMITS.valuesPerRule) {
    breaches.push(`has ${values} condition values: ALB allows ${ALB_RULE_LIMITS.valuesPerRule} per rule`);
  }
  if (wildcards > ALB_RULE_LIMITS.wildcardsPerRule) {
    breaches.push(`has ${wildcards} wildcards: ALB allows ${ALB_RULE_LIMITS.wildcardsPerRule} per rule`);
  }
  return breaches;
}

/** The priorities Swing's rules take from `base`, in evaluation order. */
export function swingPriorities(base: number, rules: readonly SwingRuleSpec[] = SWING_RULE_SET): number[] {
  return rules.map((rule) => base + rule.offset);
}

/**
 * Refuses, naming the conflict, a listener on which Swing's rules could not work as planned: a priority it
 * needs is taken; a rule of someone else's is evaluated after Swing's (Swing's rules would take requests from
 * it: each rule of someone else's must keep every request it takes without Swing); a rule of someone else's
 * takes every read (nothing would be left to move); rules of Swing's are left from an earlier rollout; or the
 * rule set would cross ALB's limits. Nothing is written before this passes.
 */
export function refuseRuleConflicts(input: {
  listenerArn: string;
  rules: readonly DescribedListenerRule[];
  basePriority: number;
  /** Rules the load balancer may hold; ALB's default quota. */
  maxRules?: number;
  ruleSet?: readonly SwingRuleSpec[];
}): void {
  const { listenerArn, rules, basePriority } = input;
  const ruleSet = input.ruleSet ?? SWING_RULE_SET;
  const maxRules = input.maxRules ?? ALB_RULE_LIMITS.rulesPerLoadBalancer;
  const problems: string[] = [];
  for (const spec of ruleSet) {
    for (const breach of albLimitBreaches(spec)) problems.push(`Swing's rule ${spec.name} ${breach}`);
  }
  // The whole span, the freeze's priorities included whatever `ruleSet` is: a rule of someone else's inside it
  // would sit between Swing's rules.
  const needed = Array.from({ length: SWING_PRIORITY_SPAN }, (_, offset) => basePriority + offset);
  const highest = Math.max(...needed);
  const fitting = `set rulePriority to a number from 1 to ${ALB_RULE_LIMITS.maxPriority - SWING_PRIORITY_SPAN + 1}`;
  if (!Number.isInteger(basePriority)) {
    // NaN passes both range comparisons below; CreateRule would refuse it only once the rollout writes.
    problems.push(`rulePriority ${basePriority} is not a whole number: ${fitting}`);
  } else if (basePriority < 1 || highest > ALB_RULE_LIMITS.maxPriority) {
    problems.push(
      `Swing's rules would take priorities ${basePriority}-${highest}, outside ALB's 1-${ALB_RULE_LIMITS.maxPriority}: ` +
        fitting,
    );
  }
  const leftovers = rules.filter(isSwingOwnRule);
  if (leftovers.length > 0) {
    problems.push(
      `rules of Swing's are still on the listener from an earlier rollout (${leftovers.map(ruleText).join('; ')}): ` +
        'the reconciler removes them within minutes; or remove them yourself (aws elbv2 delete-rule)',
    );
  }
  const others = rules.filter((rule) => !isSwingOwnRule(rule));
  const taken = others.filter((rule) => needed.includes(Number(rule.priority)));
  if (taken.length > 0) {
    problems.push(
      `the priorities Swing needs (${basePriority}-${highest}) are taken by ${taken.map(ruleText).join('; ')}: ` +
        'choose another rulePriority (a free range of ' +
        `${SWING_PRIORITY_SPAN}) or move those rules`,
    );
  }
  // Swing's rules come after every rule of someone else's, so that each keeps every request it would take
  // without Swing: a rule evaluated after Swing's first would lose to Swing's rules the requests both match.
  const after = others.filter((rule) => Number(rule.priority) > highest);
  if (after.length > 0) {
    const last = Math.max(...others.map((rule) => Number(rule.priority)));
    const above =
      last + SWING_PRIORITY_SPAN <= ALB_RULE_LIMITS.maxPriority
        ? `choose a rulePriority above theirs (${last + 1} or more), or `
        : '';
    problems.push(
      `rules of someone else's are evaluated after Swing's, which would take the requests they match from them: ` +
        `${after.map(ruleText).join('; ')}. Swing's rules must come after every other rule: ${above}give those ` +
        `rules priorities below ${basePriority}`,
    );
  }
  const everyRead = others.filter(takesEveryRead);
  if (everyRead.length > 0) {
    problems.push(
      `${everyRead.map(ruleText).join('; ')} ${everyRead.length === 1 ? 'takes' : 'take'} every read before ` +
        "Swing's rules could, so reads-first has no read to move on this listener: narrow " +
        `${everyRead.length === 1 ? 'that rule' : 'those rules'} (a host header, a path) or remove ` +
        `${everyRead.length === 1 ? 'it' : 'them'}`,
    );
  }
  if (others.length + ruleSet.length > maxRules) {
    problems.push(
      `the listener has ${others.length} rules and Swing adds ${ruleSet.length}: more than the ${maxRules} ` +
        'an ALB holds; remove rules or raise the quota (Service Quotas, "Rules per Application Load Balancer")',
    );
  }
  if (problems.length > 0) {
    throw new ListenerShapeInvalid(
      `reads-first cannot start on listener ${listenerArn}: ${problems.join('. ')}. Nothing was changed`,
    );
  }
}

function sameCondition(a: SwingRuleCondition, b: SwingRuleCondition): boolean {
  if (a.field !== b.field || a.values.length !== b.values.length) return false;
  const text = (condition: SwingRuleCondition) =>
    condition.field === 'query-string'
      ? condition.values.map((pair) => `${pair.key ?? ''}=${pair.value}`)
      : [...condition.values];
  const left = text(a).sort();
  const right = text(b).sort();
  return left.every((value, index) => value === right[index]);
}

/** Every rule Swing may create: the reads-first set, then the freeze's. */
export const ALL_SWING_RULES: readonly SwingRuleSpec[] = [...SWING_RULE_SET, ...FREEZE_RULE_SET];

/** How many priorities Swing takes from its base: its rules' and the freeze's, interleaved (offsets 0 to 21). */
export const SWING_PRIORITY_SPAN = Math.max(...ALL_SWING_RULES.map((spec) => spec.offset)) + 1;

/** The spec of a rule Swing found, when its name is one of the rule sets'. */
export function specOf(rule: Pick<FoundSwingRule, 'name'>): SwingRuleSpec | undefined {
  return ALL_SWING_RULES.find((spec) => spec.name === rule.name);
}

/** `writes-to-source` answering the freeze's 503, as the write cutover's freeze makes it (cutover-freeze.ts). */
export function isFrozenWritesRule(rule: FoundSwingRule): boolean {
  const answer = rule.respond;
  // The freeze's very answer, body included: a fixed-response put there by hand is a hand change, left alone.
  return (
    specOf(rule)?.role === 'writes' &&
    rule.weights === undefined &&
    answer?.statusCode === FREEZE_RESPONSE.statusCode &&
    answer.contentType === FREEZE_RESPONSE.contentType &&
    answer.messageBody === FREEZE_RESPONSE.messageBody
  );
}

export function isFreezeRule(rule: Pick<FoundSwingRule, 'name'>): boolean {
  return specOf(rule)?.role === 'freeze';
}

/** The action a rule has is the one its spec says: its fixed-response, or a forward to the two swung groups. */
function hasOwnAction(rule: FoundSwingRule, spec: SwingRuleSpec): boolean {
  if (!spec.respond) return rule.weights !== undefined;
  return rule.respond?.statusCode === spec.respond.statusCode && rule.weights === undefined;
}

/**
 * Whether a rule of Swing's is as Swing made it: same conditions, at its planned priority, forwarding to the two
 * swung groups (or, a freeze rule that answers itself, with its fixed-response). A rule reshaped by hand is drift,
 * left alone.
 */
export function isIntact(rule: FoundSwingRule, basePriority: number): boolean {
  const spec = specOf(rule);
  if (!spec || !hasOwnAction(rule, spec) || rule.priority !== basePriority + spec.offset) return false;
  if (rule.conditions.length !== spec.conditions.length) return false;
  return spec.conditions.every((condition) =>
    rule.conditions.some((found) => sameCondition(found, condition)),
  );
}

export function isPinRule(rule: Pick<FoundSwingRule, 'name'>): boolean {
  return specOf(rule)?.role === 'pin';
}

/** The pins and `writes-to-source` forward to the source only, whatever the read share. */
export function isSourceOnly(spec: Pick<SwingRuleSpec, 'role'>): boolean {
  return spec.role === 'pin' || spec.role === 'writes';
}

/** Pin rules (and `writes-to-source`) hold the target at 0; at any other weights they were changed by hand. */
export function pinIsOwn(rule: FoundSwingRule): boolean {
  return rule.weights !== undefined && sameWeights(rule.weights, PIN_WEIGHTS);
}
