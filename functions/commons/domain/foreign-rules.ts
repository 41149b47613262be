import type { DescribedListenerRule, RuleMatcher } from './types.ts';

/**
 * Rules of someone else's on the weighted listener, as reads-first sees them. Swing's rules are evaluated after
 * every one of them (Preflight refuses a listener where one would come after Swing's), so each keeps every
 * request it would take without Swing. A rule that would take every read leaves Swing's rules nothing to move:
 * reads-first cannot work on that listener.
 */

/** Reads of each kind Swing's read rules move: a rule that takes all of them takes every read. */
export const READ_SAMPLES: readonly { readonly method: string; readonly path: string }[] = [
  { method: 'GET', path: '/' },
  { method: 'GET', path: '/logs-2024/_doc/42' },
  { method: 'HEAD', path: '/logs-2024' },
  { method: 'GET', path: '/logs-2024/_search' },
  { method: 'POST', path: '/logs-2024/_search' },
  { method: 'POST', path: '/_msearch' },
  { method: 'POST', path: '/logs-2024/_count' },
  { method: 'POST', path: '/logs-2024/_mget' },
];

/** ALB's wildcard pattern (`*` any run of characters, `/` included; `?` exactly one), anchored. */
export function wildcardRegExp(pattern: string, ignoreCase: boolean): RegExp {
  const source = [...pattern]
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's');
}

/** A regular expression of a rule, as ALB would apply it; one JavaScript cannot read matches nothing here. */
function regexTests(patterns: readonly string[]): RegExp[] {
  return patterns.flatMap((pattern) => {
    try {
      return [new RegExp(pattern, 's')];
    } catch {
      return [];
    }
  });
}

const onlyWildcards = (value: string) => /^[*?.]*\*[*?.]*$/.test(value);

/**
 * Whether a condition holds for `request` whoever sends it: a path or method condition is evaluated; a host
 * header condition holds for everyone only with a pattern of wildcards (`*`), a source-ip one only with a /0
 * block; a query-string or http-header condition selects some requests only.
 */
function holdsForEveryone(matcher: RuleMatcher, request: { method: string; path: string }): boolean {
  switch (matcher.field) {
    case 'http-request-method':
      return matcher.values.includes(request.method);
    case 'path-pattern':
      return (
        matcher.values.some((pattern) => wildcardRegExp(pattern, false).test(request.path)) ||
        regexTests(matcher.regexValues ?? []).some((pattern) => pattern.test(request.path))
      );
    case 'host-header':
      return matcher.values.some(onlyWildcards);
    case 'source-ip':
      return matcher.values.some((block) => block.endsWith('/0'));
    default:
      return false;
  }
}

/** Whether a rule would take every read Swing moves, from every client: then no read reaches Swing's rules. */
export function takesEveryRead(rule: DescribedListenerRule): boolean {
  const matchers = rule.matchers;
  if (matchers === undefined || matchers.length === 0) return false;
  return READ_SAMPLES.every((request) => matchers.every((matcher) => holdsForEveryone(matcher, request)));
}
