/**
 * The REST endpoints the official clients define, as (API, method, path template): each API function of
 * `@opensearch-project/opensearch` and `@elastic/elasticsearch` is called with every combination of the path
 * parameters (and a body or none) it reads, over a transport that records the request instead of sending it. The
 * clients are generated from each project's REST API specification, so this is OpenSearch's and Elasticsearch's
 * own list of what each path does. `npm run client-endpoints` rewrites test/fixtures/client-endpoints.json; a
 * test checks that the fixture is what the installed clients define.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface ClientEndpoint {
  readonly client: 'opensearch' | 'elasticsearch';
  /** The client's name for the API, e.g. `indices.refresh`. */
  readonly api: string;
  readonly method: string;
  /** The path with each parameter as `{name}`, e.g. `/{index}/_doc/{id}`. */
  readonly path: string;
}

const require = createRequire(import.meta.url);
const MARK = 'PARAMx';
/** Parameters that never shape the path: the clients' own options. */
const NOT_PATH = new Set([
  'querystring',
  'headers',
  'signal',
  'meta',
  'asStream',
  'ignore',
  'requestTimeout',
]);
/** Subsets of more parameters than this would take long; no client API reads more than a few. */
const MAX_CANDIDATES = 12;

interface Recorded {
  method: string;
  path: string;
}

type ApiFunction = (params: Record<string, unknown>, options?: unknown) => unknown;

function functionNames(target: object): string[] {
  const names = new Set<string>();
  for (let proto = target; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) names.add(name);
  }
  return [...names].filter((name) => !name.startsWith('_') && name !== 'constructor');
}

/** Every (name, function) of a client: its root APIs and the APIs of each namespace. */
function apisOf(client: Record<string, unknown>, skip: ReadonlySet<string>): [string, ApiFunction, object][] {
  const apis: [string, ApiFunction, object][] = [];
  for (const name of functionNames(client)) {
    if (skip.has(name)) continue;
    let value: unknown;
    try {
      value = client[name];
    } catch {
      continue;
    }
    if (typeof value === 'function') apis.push([name, value as ApiFunction, client]);
    else if (value && typeof value === 'object') {
      const namespace = value as Record<string, unknown>;
      for (const inner of functionNames(namespace)) {
        const fn = namespace[inner];
        if (typeof fn === 'function') apis.push([`${name}.${inner}`, fn as ApiFunction, namespace]);
      }
    }
  }
  return apis;
}

function call(fn: ApiFunction, self: object, params: Record<string, unknown>, record: Recorded[]): void {
  try {
    const answer = fn.call(self, params, {}) as { catch?: (handler: () => void) => void } | undefined;
    answer?.catch?.(() => {});
  } catch {
    // A required parameter left out: the API refuses without a request.
  }
  void record;
}

async function endpointsOf(
  clientName: ClientEndpoint['client'],
  client: Record<string, unknown> & { transport: { request: unknown } },
  skip: ReadonlySet<string>,
): Promise<ClientEndpoint[]> {
  const recorded: Recorded[] = [];
  client.transport.request = async (request: { method: string; path: string }) => {
    recorded.push({ method: request.method, path: request.path });
    return { body: {}, statusCode: 200, headers: {}, warnings: null };
  };
  const found = new Map<string, ClientEndpoint>();
  for (const [api, fn, self] of apisOf(client, skip)) {
    const read = new Set<string>();
    const probe = new Proxy(
      {},
      {
        // Every parameter present, so that no early refusal of a missing one hides the others.
        get: (_target, key) => {
          if (typeof key !== 'string') return undefined;
          read.add(key);
          return `${MARK}${key}${MARK}`;
        },
      },
    );
    call(fn, self, probe as Record<string, unknown>, recorded);
    await Promise.resolve();
    const candidates = [...read].filter((key) => !NOT_PATH.has(key)).slice(0, MAX_CANDIDATES);
    recorded.length = 0;
    for (let mask = 0; mask < 1 << candidates.length; mask += 1) {
      const params: Record<string, unknown> = {};
      candidates.forEach((key, bit) => {
        if (mask & (1 << bit)) params[key] = key === 'body' ? { query: {} } : `${MARK}${key}${MARK}`;
      });
      call(fn, self, params, recorded);
    }
    // The transports answer asynchronously; let every call reach it.
    for (let turn = 0; turn < 5; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    for (const request of recorded) {
      if (!request.path) continue;
      const path = decodeURIComponent(request.path).replace(
        new RegExp(`${MARK}(\\w+)${MARK}`, 'g'),
        (_, name: string) => `{${name}}`,
      );
      // A parameter a client did not put in the path (e.g. in the body): not a path template.
      if (path.includes(MARK)) continue;
      const endpoint = { client: clientName, api, method: request.method.toUpperCase(), path };
      found.set(`${api} ${endpoint.method} ${path}`, endpoint);
    }
    recorded.length = 0;
  }
  return [...found.values()];
}

export async function clientEndpoints(): Promise<ClientEndpoint[]> {
  const { Client: OpenSearch } = require('@opensearch-project/opensearch');
  const { Client: Elasticsearch } = require('@elastic/elasticsearch');
  const opensearch = new OpenSearch({ node: 'http://127.0.0.1:9' });
  const elasticsearch = new Elasticsearch({ node: 'http://127.0.0.1:9' });
  const notApis = new Set([
    'child',
    'close',
    'extend',
    'helpers',
    'transport',
    'serializer',
    'connectionPool',
    'diagnostic',
    'name',
    'on',
    'off',
    'once',
  ]);
  const endpoints = [
    ...(await endpointsOf('opensearch', opensearch, notApis)),
    ...(await endpointsOf('elasticsearch', elasticsearch, notApis)),
  ];
  // OpenSearch's client also names each API in snake_case (`cluster.get_settings` beside `cluster.getSettings`):
  // one name per endpoint.
  const camel = new Set(
    endpoints.filter((e) => !/_/.test(e.api)).map((e) => `${e.client} ${e.method} ${e.path}`),
  );
  const named = endpoints.filter((e) => !/_/.test(e.api) || !camel.has(`${e.client} ${e.method} ${e.path}`));
  return named.sort((a, b) =>
    `${a.client} ${a.api} ${a.method} ${a.path}`.localeCompare(`${b.client} ${b.api} ${b.method} ${b.path}`),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const endpoints = await clientEndpoints();
  const file = new URL('../test/fixtures/client-endpoints.json', import.meta.url);
  // One endpoint a line: a change of a client shows as the lines it adds or removes.
  writeFileSync(file, `[\n${endpoints.map((endpoint) => JSON.stringify(endpoint)).join(',\n')}\n]\n`);
  console.log(`${endpoints.length} endpoints written to ${file.pathname}`);
}
