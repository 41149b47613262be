import { BlockList, isIP } from 'node:net';
import type { Action, RuleCondition, Tag } from '@aws-sdk/client-elastic-load-balancing-v2';

/**
 * ALB listener-rule evaluation and ELBv2's rule validation, for the local ALB stand-in. Pure: no I/O, no clock.
 *
 * What ALB documents, and what this follows (Elastic Load Balancing user guide, "Condition types for listener
 * rules", the ELBv2 API reference for each *ConditionConfig, and "Quotas for your Application Load Balancers"):
 * - rules are evaluated lowest priority first, the default action last; conditions of a rule are ANDed, the
 *   values of one condition ORed;
 * - `http-request-method`: exact and case-sensitive, no wildcards; A-Z, `-` and `_`, at most 40 characters;
 * - `path-pattern`: case-sensitive, `*` is 0 or more characters (`/` included), `?` exactly one, compared with
 *   the path only, never the query string; at most 128 characters;
 * - `query-string`: key/value pairs or values (the key is optional), case-insensitive, `*` and `?` in both,
 *   a literal `*` or `?` escaped with `\`; "any character can be percent-encoded", so keys and values are
 *   compared percent-decoded (AWS does not say more; `+` is left as it is, RFC 3986 gives it no meaning);
 * - `host-header` and `http-header` values: case-insensitive with `*` and `?`; header names case-insensitive;
 * - `source-ip`: CIDR blocks matched against the client's address;
 * - at most 5 condition values and 5 wildcards per rule, 3 values per condition (the user guide: "up to three
 *   match evaluations per condition"), one condition each of host-header, http-request-method, path-pattern and
 *   source-ip; 100 rules per load balancer besides the default; priorities 1..50000, unique per listener.
 * Where the API refuses, errors carry ELBv2's names (as the SDK's `error.name`) and, where known, its words:
 * `ValidationError: A rule can only have '5' condition values`.
 */

/** `error.name` of what the ELBv2 API answers, as the AWS SDK for JavaScript v3 names it. */
export type ElbV2ErrorName =
  | 'ValidationError'
  | 'PriorityInUseException'
  | 'TooManyRulesException'
  | 'RuleNotFoundException'
  | 'OperationNotPermittedException'
  | 'TargetGroupNotFoundException'
  | 'TooManyTargetGroupsException'
  | 'TooManyTagsException'
  | 'DuplicateTagKeysException'
  | 'ListenerNotFoundException';

/** An ELBv2 API refusal: a client fault, so nothing was changed. */
export class ElbV2Error extends Error {
  readonly $fault = 'client' as const;
  constructor(
    override readonly name: ElbV2ErrorName,
    message: string,
  ) {
    super(message);
  }
}

export const RULE_LIMITS = {
  /** Rules per Application Load Balancer, the default rule excluded. */
  rules: 100,
  conditionValuesPerRule: 5,
  conditionValuesPerCondition: 3,
  wildcardsPerRule: 5,
  minPriority: 1,
  maxPriority: 50_000,
  patternLength: 128,
  methodLength: 40,
  headerNameLength: 40,
  targetGroupsPerAction: 5,
  tagsPerResource: 50,
} as const;

/** Omitted `Weight` of a target group in a forward: ELBv2 treats it as 1. */
const OMITTED_WEIGHT = 1;

/** What a rule can see of a request. */
export interface RequestFacts {
  readonly method: string;
  /** The request target as received: origin-form (`/path?query`), or absolute-form. */
  readonly url: string;
  /** Header names lower case (as Node gives them); a header sent twice has both values. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The client's IP address (the socket's remote address). */
  readonly sourceIp?: string;
}

/** A condition compiled for matching: patterns are turned into regular expressions once, not per request. */
export type RequestTest = (request: ParsedRequest) => boolean;

/** A request split the way rules look at it. */
export interface ParsedRequest {
  readonly method: string;
  readonly path: string;
  /** Percent-decoded key (absent for a parameter without `=`) and value of each query parameter. */
  readonly query: readonly { readonly key: string | undefined; readonly value: string }[];
  readonly headers: RequestFacts['headers'];
  readonly sourceIp: string | undefined;
}

const decoded = (text: string) => {
  try {
    return decodeURIComponent(text);
  } catch {
    // A malformed escape (`%zz`) is compared as sent rather than failing the request.
    return text;
  }
};

export function parseRequest(request: RequestFacts): ParsedRequest {
  let target = request.url;
  // Absolute-form (a client talking to a proxy): rules see its path and query all the same.
  if (!target.startsWith('/')) {
    try {
      const url = new URL(target);
      target = `${url.pathname}${url.search}`;
    } catch {
      // Not a URL: matched as it is.
    }
  }
  const hash = target.indexOf('#');
  if (hash !== -1) target = target.slice(0, hash);
  const mark = target.indexOf('?');
  const path = mark === -1 ? target : target.slice(0, mark);
  const rawQuery = mark === -1 ? '' : target.slice(mark + 1);
  const query = rawQuery
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const equals = part.indexOf('=');
      return equals === -1
        ? { key: undefined, value: decoded(part) }
        : { key: decoded(part.slice(0, equals)), value: decoded(part.slice(equals + 1)) };
    });
  return { method: request.method, path, query, headers: request.headers, sourceIp: request.sourceIp };
}

const regExpSpecial = /[.*+?^${}()|[\]\\/]/g;

/**
 * ALB's wildcard pattern as an anchored regular expression: `*` is 0 or more characters (any, `/` and newlines
 * included), `?` exactly one. With `escapes`, `\` makes the next character literal (query-string values only).
 */
export function wildcardPattern(
  pattern: string,
  { ignoreCase, escapes }: { readonly ignoreCase: boolean; readonly escapes: boolean },
): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const char = pattern[i]!;
    if (escapes && char === '\\' && i + 1 < pattern.length) {
      i += 1;
      source += pattern[i]!.replace(regExpSpecial, '\\$&');
    } else if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else source += char.replace(regExpSpecial, '\\$&');
  }
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's');
}

/** Unescaped `*` and `?` in a pattern: what ALB's wildcards-per-rule quota counts. */
export function wildcardCount(pattern: string, escapes: boolean): number {
  let count = 0;
  for (let i = 0; i < pattern.length; i += 1) {
    const char = pattern[i];
    if (escapes && char === '\\') i += 1;
    else if (char === '*' || char === '?') count += 1;
  }
  return count;
}

const headerValues = (headers: ParsedRequest['headers'], name: string): readonly string[] => {
  const value = headers[name.toLowerCase()];
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : value;
};

/** The host name of a Host header, without its port (`[::1]:9200` -> `[::1]`). */
const hostName = (host: string) => host.replace(/:\d*$/, '');

/** The values of a condition, from its `*Config` or the legacy `Values` (host-header and path-pattern). */
function valuesOf(condition: RuleCondition): readonly string[] {
  switch (condition.Field) {
    case 'path-pattern':
      return condition.PathPatternConfig?.Values ?? condition.Values ?? [];
    case 'host-header':
      return condition.HostHeaderConfig?.Values ?? condition.Values ?? [];
    case 'http-header':
      return condition.HttpHeaderConfig?.Values ?? [];
    case 'http-request-method':
      return condition.HttpRequestMethodConfig?.Values ?? [];
    case 'source-ip':
      return condition.SourceIpConfig?.Values ?? [];
    case 'query-string':
      return (condition.QueryStringConfig?.Values ?? []).map((pair) =>
        pair.Key === undefined ? (pair.Value ?? '') : `${pair.Key}=${pair.Value ?? ''}`,
      );
    default:
      return condition.Values ?? [];
  }
}

/** Compiles one (validated) condition. */
export function compileCondition(condition: RuleCondition): RequestTest {
  switch (condition.Field) {
    case 'http-request-method': {
      const methods = new Set(valuesOf(condition));
      return (request) => methods.has(request.method);
    }
    case 'path-pattern': {
      const patterns = valuesOf(condition).map((value) =>
        wildcardPattern(value, { ignoreCase: false, escapes: false }),
      );
      return (request) => patterns.some((pattern) => pattern.test(request.path));
    }
    case 'host-header': {
      const patterns = valuesOf(condition).map((value) =>
        wildcardPattern(value, { ignoreCase: true, escapes: false }),
      );
      return (request) =>
        headerValues(request.headers, 'host').some((host) =>
          patterns.some((pattern) => pattern.test(hostName(host))),
        );
    }
    case 'http-header': {
      const name = condition.HttpHeaderConfig?.HttpHeaderName ?? '';
      const patterns = valuesOf(condition).map((value) =>
        wildcardPattern(value, { ignoreCase: true, escapes: false }),
      );
      return (request) =>
        headerValues(request.headers, name).some((value) => patterns.some((pattern) => pattern.test(value)));
    }
    case 'query-string': {
      const pairs = (condition.QueryStringConfig?.Values ?? []).map((pair) => ({
        key:
          pair.Key === undefined ? undefined : wildcardPattern(pair.Key, { ignoreCase: true, escapes: true }),
        value: wildcardPattern(pair.Value ?? '', { ignoreCase: true, escapes: true }),
      }));
      return (request) =>
        pairs.some((pair) =>
          request.query.some(
            (parameter) =>
              (pair.key === undefined || (parameter.key !== undefined && pair.key.test(parameter.key))) &&
              pair.value.test(parameter.value),
          ),
        );
    }
    case 'source-ip': {
      const blocks = new BlockList();
      for (const cidr of valuesOf(condition)) {
        const [address = '', prefix = ''] = cidr.split('/');
        const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
        blocks.addSubnet(address, Number(prefix), family);
      }
      return (request) => {
        const ip = request.sourceIp?.replace(/^::ffff:(?=\d+\.)/, '');
        if (!ip) return false;
        const family = isIP(ip);
        return family !== 0 && blocks.check(ip, family === 6 ? 'ipv6' : 'ipv4');
      };
    }
    default:
      throw new ElbV2Error('ValidationError', `Condition field '${condition.Field}' is not valid`);
  }
}

/** All conditions of a rule (ANDed), compiled. */
export function compileConditions(conditions: readonly RuleCondition[]): RequestTest {
  const tests = conditions.map(compileCondition);
  return (request) => tests.every((test) => test(request));
}

/** A rule as the matcher needs it: its priority and compiled conditions. */
export interface MatchableRule {
  readonly priority: number;
  readonly matches: RequestTest;
}

/** The rule that handles the request: the lowest priority whose conditions all hold; undefined = default action. */
export function firstMatchingRule<R extends MatchableRule>(
  rules: readonly R[],
  request: ParsedRequest,
): R | undefined {
  let best: R | undefined;
  for (const rule of rules) {
    if ((best === undefined || rule.priority < best.priority) && rule.matches(request)) best = rule;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------------------
// Validation, as CreateRule / ModifyRule refuse.

const invalid = (message: string) => new ElbV2Error('ValidationError', message);

const SINGLE_CONDITION_FIELDS = new Set(['host-header', 'http-request-method', 'path-pattern', 'source-ip']);
const CONDITION_FIELDS = new Set([...SINGLE_CONDITION_FIELDS, 'http-header', 'query-string']);

function validCidr(cidr: string): boolean {
  const [address = '', prefix, ...rest] = cidr.split('/');
  const family = isIP(address);
  if (family === 0 || prefix === undefined || rest.length > 0 || !/^\d+$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** Refuses conditions ALB would refuse (throws `ElbV2Error`), else returns them unchanged. */
export function validateConditions(
  conditions: readonly RuleCondition[] | undefined,
): readonly RuleCondition[] {
  if (!conditions || conditions.length === 0) {
    throw invalid('A rule must have at least one condition');
  }
  const seen = new Set<string>();
  let values = 0;
  let wildcards = 0;
  for (const condition of conditions) {
    const field = condition.Field;
    if (!field) throw invalid('A condition field must be specified');
    if (!CONDITION_FIELDS.has(field)) throw invalid(`Condition field '${field}' is not valid`);
    if (SINGLE_CONDITION_FIELDS.has(field) && seen.has(field)) {
      throw invalid(`A rule can only have one '${field}' condition`);
    }
    seen.add(field);
    const regex =
      condition.PathPatternConfig?.RegexValues ??
      condition.HostHeaderConfig?.RegexValues ??
      condition.HttpHeaderConfig?.RegexValues;
    if (regex && regex.length > 0) {
      throw invalid(`'${field}' RegexValues are not supported by the local ALB stand-in: use Values`);
    }
    if (
      (field === 'path-pattern' && condition.PathPatternConfig && condition.Values) ||
      (field === 'host-header' && condition.HostHeaderConfig && condition.Values)
    ) {
      throw invalid(`A '${field}' condition can have Values or its config, not both`);
    }
    const list = valuesOf(condition);
    if (list.length === 0) throw invalid(`A '${field}' condition must have at least one value`);
    if (list.length > RULE_LIMITS.conditionValuesPerCondition) {
      throw invalid(
        `A condition can only have '${RULE_LIMITS.conditionValuesPerCondition}' values: '${field}' has ${list.length}`,
      );
    }
    values += list.length;
    wildcards += validateValues(condition, field);
  }
  if (values > RULE_LIMITS.conditionValuesPerRule) {
    throw invalid(`A rule can only have '${RULE_LIMITS.conditionValuesPerRule}' condition values`);
  }
  if (wildcards > RULE_LIMITS.wildcardsPerRule) {
    throw invalid(`A rule can only have '${RULE_LIMITS.wildcardsPerRule}' wildcards`);
  }
  return conditions;
}

/** Checks each value of one condition; returns its wildcard count. */
function validateValues(condition: RuleCondition, field: string): number {
  const pattern = (value: string | undefined, what: string, escapes: boolean) => {
    if (value === undefined || value === '') throw invalid(`A '${field}' ${what} cannot be empty`);
    if (value.length > RULE_LIMITS.patternLength) {
      throw invalid(
        `A '${field}' ${what} can be at most ${RULE_LIMITS.patternLength} characters: '${value}' has ${value.length}`,
      );
    }
    // Rules apply to visible ASCII only (no control characters).
    if ([...value].some((char) => char < ' ' || char === '\x7f')) {
      throw invalid(`A '${field}' ${what} contains a control character`);
    }
    return wildcardCount(value, escapes);
  };
  switch (field) {
    case 'http-request-method':
      for (const method of valuesOf(condition)) {
        if (!/^[A-Z_-]+$/.test(method) || method.length > RULE_LIMITS.methodLength) {
          throw invalid(
            `HTTP request method '${method}' is not valid: use A-Z, '-' and '_' (case-sensitive), at most 40 characters`,
          );
        }
      }
      return 0;
    case 'source-ip':
      for (const cidr of valuesOf(condition)) {
        if (!validCidr(cidr)) throw invalid(`Source IP '${cidr}' is not a valid CIDR block`);
      }
      return 0;
    case 'query-string':
      return (condition.QueryStringConfig?.Values ?? []).reduce(
        (sum, pair) =>
          sum +
          (pair.Key === undefined ? 0 : pattern(pair.Key, 'key', true)) +
          pattern(pair.Value, 'value', true),
        0,
      );
    case 'http-header': {
      const name = condition.HttpHeaderConfig?.HttpHeaderName ?? '';
      // An HTTP token without wildcards: ALB matches header names exactly (case-insensitively).
      if (!/^[A-Za-z0-9!#$%&'+.^_`|~-]+$/.test(name) || name.length > RULE_LIMITS.headerNameLength) {
        throw invalid(
          `HTTP header name '${name}' is not valid: a token of at most 40 characters, no wildcards`,
        );
      }
      return valuesOf(condition).reduce((sum, value) => sum + pattern(value, 'value', false), 0);
    }
    default:
      return valuesOf(condition).reduce((sum, value) => sum + pattern(value, 'value', false), 0);
  }
}

/** Which target groups a forward sends to, and with what weight. */
export function forwardTargets(action: Action): { arn: string; weight: number }[] {
  const tuples = action.ForwardConfig?.TargetGroups ?? [];
  if (tuples.length > 0) {
    return tuples.map((tuple) => ({
      arn: tuple.TargetGroupArn ?? '',
      weight: tuple.Weight ?? OMITTED_WEIGHT,
    }));
  }
  return action.TargetGroupArn ? [{ arn: action.TargetGroupArn, weight: OMITTED_WEIGHT }] : [];
}

/** FixedResponseActionConfig's ContentType values: a fixed response has its status, this, and a body, no header. */
const FIXED_RESPONSE_CONTENT_TYPES = [
  'text/plain',
  'text/css',
  'text/html',
  'application/javascript',
  'application/json',
];

/**
 * Refuses actions ALB would refuse, or the stand-in cannot perform (throws `ElbV2Error`). `knownTargetGroups`
 * are the ARNs the stand-in forwards to; any other is `TargetGroupNotFoundException`, as in ELBv2.
 */
export function validateActions(
  actions: readonly Action[] | undefined,
  knownTargetGroups: ReadonlySet<string>,
): readonly Action[] {
  if (!actions || actions.length === 0) throw invalid('A rule must have at least one action');
  if (actions.length > 1) {
    throw invalid('The local ALB stand-in takes one action per rule: a forward or a fixed-response');
  }
  const action = actions[0]!;
  if (action.Type === 'fixed-response') {
    const config = action.FixedResponseConfig;
    if (!config?.StatusCode || !/^[245]\d\d$/.test(config.StatusCode)) {
      throw invalid(
        `Fixed-response status code '${config?.StatusCode ?? ''}' is not valid: use 2XX, 4XX or 5XX`,
      );
    }
    if ((config.MessageBody?.length ?? 0) > 1024) {
      throw invalid('A fixed-response message body can be at most 1024 characters');
    }
    if (config.ContentType !== undefined && !FIXED_RESPONSE_CONTENT_TYPES.includes(config.ContentType)) {
      throw invalid(
        `Fixed-response content type '${config.ContentType}' is not valid: use ${FIXED_RESPONSE_CONTENT_TYPES.join(', ')}`,
      );
    }
    return actions;
  }
  if (action.Type !== 'forward') {
    throw invalid(
      `Action type '${action.Type ?? ''}' is not supported by the local ALB stand-in: use forward or fixed-response`,
    );
  }
  const tuples = action.ForwardConfig?.TargetGroups ?? [];
  if (action.TargetGroupArn && tuples.length > 0) {
    if (tuples.length !== 1 || tuples[0]?.TargetGroupArn !== action.TargetGroupArn) {
      throw invalid(
        'You cannot specify a target group ARN that differs from the forward config target group',
      );
    }
  }
  const targets = forwardTargets(action);
  if (targets.length === 0) throw invalid('A forward action must have a target group');
  if (targets.length > RULE_LIMITS.targetGroupsPerAction) {
    throw new ElbV2Error(
      'TooManyTargetGroupsException',
      `A forward action can have at most ${RULE_LIMITS.targetGroupsPerAction} target groups`,
    );
  }
  if (new Set(targets.map((target) => target.arn)).size !== targets.length) {
    throw invalid('A forward action cannot name the same target group twice');
  }
  for (const target of targets) {
    if (!knownTargetGroups.has(target.arn)) {
      throw new ElbV2Error('TargetGroupNotFoundException', `Target group '${target.arn}' not found`);
    }
    if (!(Number.isInteger(target.weight) && target.weight >= 0 && target.weight <= 999)) {
      throw invalid(`Target group weight '${target.weight}' is not valid: use an integer from 0 to 999`);
    }
  }
  if (targets.every((target) => target.weight === 0)) {
    throw invalid('A forward action must give at least one target group a weight above 0');
  }
  return actions;
}

/** Refuses tags ELBv2 would refuse. */
export function validateTags(tags: readonly Tag[] | undefined): readonly Tag[] {
  const list = tags ?? [];
  if (list.length > RULE_LIMITS.tagsPerResource) {
    throw new ElbV2Error(
      'TooManyTagsException',
      `A resource can have at most ${RULE_LIMITS.tagsPerResource} tags`,
    );
  }
  const keys = new Set<string>();
  for (const tag of list) {
    if (!tag.Key) throw invalid('A tag key cannot be empty');
    if (keys.has(tag.Key))
      throw new ElbV2Error('DuplicateTagKeysException', `Tag key '${tag.Key}' is duplicated`);
    keys.add(tag.Key);
  }
  return list;
}

/** Refuses a priority outside 1..50000 (ValidationError). In use or not is the rules table's check. */
export function validatePriority(priority: number): number {
  if (
    !(
      Number.isInteger(priority) &&
      priority >= RULE_LIMITS.minPriority &&
      priority <= RULE_LIMITS.maxPriority
    )
  ) {
    throw invalid(
      `Priority '${priority}' is not valid: use an integer from ${RULE_LIMITS.minPriority} to ${RULE_LIMITS.maxPriority}`,
    );
  }
  return priority;
}

/**
 * Conditions as DescribeRules returns them: path-pattern and host-header carry their values twice, in the
 * legacy `Values` and in their config; the others in their config only.
 */
export function describedConditions(conditions: readonly RuleCondition[]): RuleCondition[] {
  return conditions.map((condition): RuleCondition => {
    const values = [...valuesOf(condition)];
    switch (condition.Field) {
      case 'path-pattern':
        return { Field: condition.Field, Values: values, PathPatternConfig: { Values: [...values] } };
      case 'host-header':
        return { Field: condition.Field, Values: values, HostHeaderConfig: { Values: [...values] } };
      case 'http-header':
        return {
          Field: condition.Field,
          HttpHeaderConfig: {
            HttpHeaderName: condition.HttpHeaderConfig?.HttpHeaderName ?? '',
            Values: values,
          },
        };
      case 'http-request-method':
        return { Field: condition.Field, HttpRequestMethodConfig: { Values: values } };
      case 'source-ip':
        return { Field: condition.Field, SourceIpConfig: { Values: values } };
      default:
        return structuredClone(condition);
    }
  });
}

/**
 * Actions as DescribeRules returns them: each with its `Order`; a forward always with its `ForwardConfig` (every
 * weight filled in, stickiness off unless set) and, when it names one group, `TargetGroupArn` too.
 */
export function describedActions(actions: readonly Action[]): Action[] {
  return actions.map((action, index): Action => {
    const order = action.Order ?? index + 1;
    if (action.Type !== 'forward') return { ...structuredClone(action), Order: order };
    const targets = forwardTargets(action);
    return {
      Type: 'forward',
      Order: order,
      ...(targets.length === 1 ? { TargetGroupArn: targets[0]!.arn } : {}),
      ForwardConfig: {
        TargetGroups: targets.map((target) => ({ TargetGroupArn: target.arn, Weight: target.weight })),
        TargetGroupStickinessConfig: structuredClone(
          action.ForwardConfig?.TargetGroupStickinessConfig ?? { Enabled: false },
        ),
      },
    };
  });
}
