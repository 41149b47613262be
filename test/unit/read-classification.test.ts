import type { RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { ALL_SWING_RULES, SWING_RULE_SET } from '#domain/swing-rules.ts';
import type { SwingRuleCondition, SwingRuleSpec } from '#domain/types.ts';
import { compileConditions, parseRequest } from '../../local/alb-rules.ts';
import { type ClientEndpoint, clientEndpoints } from '../../scripts/client-endpoints.ts';
import fixture from '../fixtures/client-endpoints.json' with { type: 'json' };

/**
 * Which requests Swing's rules take, checked against every REST endpoint the OpenSearch and Elasticsearch
 * clients define (test/fixtures/client-endpoints.json, from scripts/client-endpoints.ts), through the local
 * ALB's rule evaluation (ALB's: case-sensitive path patterns on the path only, `*` any run of characters, `/`
 * included). ALB says it evaluates rules "after URI normalization" without saying which, so every path is
 * judged both as sent and with its dot segments resolved (RFC 3986 5.2.4, `%2e` decoded first).
 */

const ENDPOINTS = fixture as ClientEndpoint[];

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

const RULES = [...SWING_RULE_SET]
  .sort((a, b) => a.offset - b.offset)
  .map((spec) => ({ spec, matches: compileConditions(spec.conditions.map(elbCondition)) }));

function takenBy(method: string, url: string): SwingRuleSpec | undefined {
  const request = parseRequest({ method, url, headers: { host: 'search.example.com' } });
  return RULES.find((rule) => rule.matches(request))?.spec;
}

/** The path with its dot segments resolved, as a server or proxy that normalizes would see it. */
function resolved(url: string): string {
  const mark = url.indexOf('?');
  const path = (mark === -1 ? url : url.slice(0, mark)).replace(/%2e/gi, '.');
  const output: string[] = [];
  for (const segment of path.split('/').slice(1)) {
    if (segment === '..') output.pop();
    else if (segment !== '.') output.push(segment);
  }
  const last = path.split('/').at(-1);
  return `/${output.join('/')}${last === '.' || last === '..' ? '/' : ''}${mark === -1 ? '' : url.slice(mark)}`;
}

/** The rules a request meets as sent and as resolved: any of them may be what ALB evaluates. */
function rulesMet(method: string, url: string): SwingRuleSpec[] {
  return [...new Set([takenBy(method, url), takenBy(method, resolved(url))])].filter(
    (spec): spec is SwingRuleSpec => spec !== undefined,
  );
}

/** The APIs (the clients' root ones) whose POST a read rule may move: searches and lookups that change nothing. */
const READ_APIS = new Set(['search', 'msearch', 'count', 'mget', 'fieldCaps', 'field_caps']);

/** APIs whose requests continue state held by the one cluster that ran the first request. */
const CONTINUATIONS = new Set([
  'scroll',
  'clearScroll',
  'createPit',
  'deletePit',
  'deleteAllPits',
  'getAllPits',
  'openPointInTime',
  'closePointInTime',
  'cat.pitSegments',
  'cat.allPitSegments',
  'cat.tasks',
  'cat.snapshots',
  'asyncSearch.submit',
  'asyncSearch.get',
  'asyncSearch.status',
  'asyncSearch.delete',
  'asynchronousSearch.search',
  'asynchronousSearch.get',
  'asynchronousSearch.delete',
  'tasks.get',
  'tasks.list',
  'tasks.cancel',
  'tasks.delete',
  'getReindex',
  'cancelReindex',
  'reindexRethrottle',
  'updateByQueryRethrottle',
  'deleteByQueryRethrottle',
  'sql.query',
  'sql.close',
  'sql.clearCursor',
  'sql.getAsync',
  'sql.getAsyncStatus',
  'sql.deleteAsync',
  'ppl.query',
  'eql.get',
  'eql.getStatus',
  'eql.delete',
  'esql.asyncQuery',
  'esql.asyncQueryGet',
  'esql.asyncQueryDelete',
  'esql.asyncQueryStop',
  'ml.getTask',
  'ml.deleteTask',
  'snapshot.get',
  'snapshot.status',
  'indices.getMigrateReindexStatus',
]);

/** Parameters that name an index (or an alias or data stream): never starting with `_`, `-` or `+`. */
const INDEX_PARAMS = new Set(['index', 'target', 'new_index', 'alias']);

/** Values a client may give a parameter: ordinary ones, and read API names a document or script id may take. */
const ADVERSARIAL = [
  '_search',
  '_msearch',
  '_count',
  '_mget',
  '_field_caps',
  '_searchable-1',
  '_count_me',
  '_validate',
  '_explain',
  encodeURIComponent('a/_search'),
  '..',
  '%2e%2e',
];
const INDEXES = ['logs-2024', '.kibana', 'logs-*', 'a,b'];

function paramsOf(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] as string);
}

function fill(path: string, value: (param: string) => string): string {
  return path.replace(/\{(\w+)\}/g, (_, param: string) => value(param));
}

/** The path with ordinary values, then each parameter in turn (and all together) given each adversarial value. */
function instances(path: string): string[] {
  const params = paramsOf(path);
  const ordinary = (param: string) => (INDEX_PARAMS.has(param) ? 'logs-2024' : '42');
  const found = new Set([fill(path, ordinary)]);
  for (const param of params) {
    const values = INDEX_PARAMS.has(param) ? INDEXES : ADVERSARIAL;
    for (const value of values) {
      found.add(fill(path, (other) => (other === param ? value : ordinary(other))));
      found.add(fill(path, (other) => (INDEX_PARAMS.has(other) ? 'logs-2024' : value)));
    }
  }
  return [...found];
}

describe('Reads-first rules against the REST APIs of OpenSearch and Elasticsearch', () => {
  it('holds a fixture that is what the installed clients define', async () => {
    expect(await clientEndpoints()).toEqual(ENDPOINTS);
    expect(ENDPOINTS.length).toBeGreaterThan(1000);
  });

  it('no write matches a read rule: every endpoint that is not a read, with any id a client may choose, as sent or resolved', () => {
    const writes = ENDPOINTS.filter(
      (endpoint) => !['GET', 'HEAD'].includes(endpoint.method) && !READ_APIS.has(endpoint.api),
    );
    expect(writes.length).toBeGreaterThan(500);
    const reaching: string[] = [];
    for (const endpoint of writes) {
      // Where a client sends PUT, the server often takes POST too (`POST /i/_doc/<id>`).
      const methods = endpoint.method === 'PUT' ? ['PUT', 'POST'] : [endpoint.method];
      for (const method of methods) {
        for (const url of instances(endpoint.path)) {
          const read = rulesMet(method, url).find((spec) => spec.role === 'reads');
          if (read) reaching.push(`${endpoint.client} ${endpoint.api}: ${method} ${url} -> ${read.name}`);
        }
      }
    }
    expect(reaching).toEqual([]);
  });

  it.each([
    ['POST', '/i/_doc/_searchable-1'],
    ['POST', '/i/_doc/_search'],
    ['POST', '/i/_update/_count'],
    ['POST', '/i/_create/_mget'],
    ['POST', '/_scripts/_search'],
    ['POST', '/i/_search/../_doc/X'],
    ['POST', '/i/_search/%2e%2e/_doc/X'],
    ['POST', '/i/_search/%2E%2E/_doc/X'],
    ['PUT', '/i/_search/%2e%2E/_doc/X'],
    ['POST', '/i/_count/./../_doc/X'],
    ['POST', '/i/_doc/X/..'],
  ])('keeps %s %s on the source until the cutover, as sent and resolved', (method, url) => {
    for (const spec of rulesMet(method, url))
      expect({ url, role: spec.role }).not.toEqual({ url, role: 'reads' });
  });

  it.each([
    ['GET', '/i/_search/../_doc/X', 'pin-dot-segments'],
    ['HEAD', '/i/./_doc/X', 'pin-dot-segments'],
    ['GET', '/i/_doc/X/..', 'pin-dot-segments'],
    ['GET', '/i/_search/%2e%2e/_doc/X', 'pin-encoded-dots'],
    ['DELETE', '/i/_doc/%2E%2E', 'pin-encoded-dots'],
  ])('pins %s %s, a path with dot segments, to the source whatever the method', (method, url, rule) => {
    expect(takenBy(method, url)?.name).toBe(rule);
  });

  it('pins every request that continues state held by one cluster: tasks, scroll, point in time, asynchronous search, SQL, PPL, EQL and ES|QL results, snapshot status', () => {
    const continuing = ENDPOINTS.filter((endpoint) => CONTINUATIONS.has(endpoint.api));
    // Each API named above exists in a client: a rename there would leave the list silently short.
    const named = new Set(ENDPOINTS.map((endpoint) => endpoint.api));
    expect([...CONTINUATIONS].filter((api) => !named.has(api))).toEqual([]);
    const unpinned: string[] = [];
    for (const endpoint of continuing) {
      const url = fill(endpoint.path, (param) =>
        INDEX_PARAMS.has(param) ? 'logs-2024' : 'oTUltX4IQMOUUVeiohTt8A:12345',
      );
      const spec = takenBy(endpoint.method, url);
      if (spec?.role !== 'pin' && spec?.role !== 'writes') {
        unpinned.push(
          `${endpoint.client} ${endpoint.api}: ${endpoint.method} ${url} -> ${spec?.name ?? 'default'}`,
        );
      }
    }
    expect(unpinned).toEqual([]);
  });

  it('polls a write task on the source: GET /_tasks/<id> after an _update_by_query, _delete_by_query or _reindex with wait_for_completion=false', () => {
    for (const [method, url] of [
      ['POST', '/logs-2024/_update_by_query?wait_for_completion=false'],
      ['POST', '/logs-2024/_delete_by_query?wait_for_completion=false'],
      ['POST', '/_reindex?wait_for_completion=false'],
    ] as const) {
      expect(takenBy(method, url)?.role ?? 'default').toBe('default');
    }
    expect(takenBy('GET', '/_tasks/oTUltX4IQMOUUVeiohTt8A:12345')?.name).toBe('pin-tasks');
    expect(takenBy('GET', '/_tasks/oTUltX4IQMOUUVeiohTt8A:12345?wait_for_completion=true')?.name).toBe(
      'pin-tasks',
    );
  });

  it('still moves the reads: each search and lookup API, GET and POST, on an index and on all of them', () => {
    const reads = ENDPOINTS.filter((endpoint) => READ_APIS.has(endpoint.api));
    const moved = new Set(
      reads.map((endpoint) => {
        const url = fill(endpoint.path, () => 'logs-2024');
        return `${endpoint.method} ${url} -> ${takenBy(endpoint.method, url)?.role ?? 'default'}`;
      }),
    );
    // A search within a point in time names no index: index-less searches stay pinned.
    expect([...moved].filter((line) => !line.endsWith('-> reads')).sort()).toEqual([
      'GET /_search -> pin',
      'POST /_search -> pin',
    ]);
    expect([...moved].filter((line) => line.endsWith('-> reads')).length).toBeGreaterThan(10);
  });
});

/** POST reads the pins keep on the source (explanations, statistics, a task search), frozen or not. */
const PINNED_POST_READS = new Set([
  'sql.translate',
  'sql.explain',
  'sql.postStats',
  'ppl.explain',
  'ppl.postStats',
  'ml.searchTasks',
]);

/** The rules on the listener while writes are frozen (the freeze's, Swing's reads-first set), by priority. */
const FROZEN = [...ALL_SWING_RULES]
  .sort((a, b) => a.offset - b.offset)
  .map((spec) => ({ spec, matches: compileConditions(spec.conditions.map(elbCondition)) }));

/** The first rule of the frozen listener a request meets, as sent and as resolved. */
function frozenRulesMet(method: string, url: string): (SwingRuleSpec | undefined)[] {
  const first = (target: string) =>
    FROZEN.find((rule) => rule.matches(parseRequest({ method, url: target, headers: {} })))?.spec;
  return [first(url), first(resolved(url))];
}

describe('The write freeze against the REST APIs of OpenSearch and Elasticsearch', () => {
  it('answers 503 to every write, with any id a client may choose, as sent or resolved: no pin takes one first', () => {
    const writes = ENDPOINTS.filter(
      (endpoint) =>
        ['PUT', 'POST', 'DELETE', 'PATCH'].includes(endpoint.method) &&
        !READ_APIS.has(endpoint.api) &&
        !CONTINUATIONS.has(endpoint.api) &&
        !PINNED_POST_READS.has(endpoint.api),
    );
    expect(writes.length).toBeGreaterThan(500);
    const passing: string[] = [];
    for (const endpoint of writes) {
      const methods = endpoint.method === 'PUT' ? ['PUT', 'POST'] : [endpoint.method];
      for (const method of methods) {
        for (const url of instances(endpoint.path)) {
          for (const spec of frozenRulesMet(method, url)) {
            if (!spec?.respond) passing.push(`${method} ${url} -> ${spec?.name ?? 'default'}`);
          }
        }
      }
    }
    // Resolved, a pipeline id `..` leaves `/_search/`: an index-less search (a point in time's continuation), not
    // refused. Reaching the source, the raw path names the pipeline: ALB resolving dot segments, undocumented.
    expect(passing).toEqual([
      'POST /_search/pipeline/.. -> pin-indexless-search',
      'POST /_search/pipeline/%2e%2e -> pin-indexless-search',
    ]);
  });

  it('lets what continues state on the source reach it; openings, clears and rethrottles wait out the freeze', () => {
    const refused = new Set<string>();
    for (const endpoint of ENDPOINTS.filter((candidate) => CONTINUATIONS.has(candidate.api))) {
      const url = fill(endpoint.path, (param) =>
        INDEX_PARAMS.has(param) ? 'logs-2024' : 'oTUltX4IQMOUUVeiohTt8A:12345',
      );
      const [spec] = frozenRulesMet(endpoint.method, url);
      if (spec?.respond) refused.add(`${endpoint.method} ${endpoint.api}`);
      else expect(`${endpoint.api} -> ${spec?.role}`).toMatch(/-> pin$/);
    }
    // Clears and deletions, openings of new state, and a reindex's controls: none continues a read.
    expect([...refused].sort()).toEqual([
      'DELETE asyncSearch.delete',
      'DELETE asynchronousSearch.delete',
      'DELETE clearScroll',
      'DELETE closePointInTime',
      'DELETE deleteAllPits',
      'DELETE deletePit',
      'DELETE eql.delete',
      'DELETE esql.asyncQueryDelete',
      'DELETE ml.deleteTask',
      'DELETE sql.deleteAsync',
      'DELETE tasks.delete',
      'POST asyncSearch.submit',
      'POST asynchronousSearch.search',
      'POST cancelReindex',
      'POST deleteByQueryRethrottle',
      'POST openPointInTime',
      'POST reindexRethrottle',
      'POST updateByQueryRethrottle',
    ]);
  });
});
