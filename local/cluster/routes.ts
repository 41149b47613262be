import { type Answer, errorAnswer, type IndexStore, indexNotFound } from '../documents.ts';
import { noHandler, opType, parseJson, values } from './request.ts';
import type { ScrollContexts } from './scrolls.ts';
import { count, mget, msearch, search } from './search.ts';
import { bulk, deleteByQuery } from './writes.ts';

/** What a route's handler works on: one cluster's documents and scroll contexts. */
export interface Cluster {
  readonly name: string;
  readonly store: IndexStore;
  readonly scrolls: ScrollContexts;
}

export interface ClusterRequest {
  readonly method: string;
  /** The route's named segments (`index`, `id`, `scroll_id`), those the path left out undefined. */
  readonly path: Readonly<Record<string, string | undefined>>;
  readonly params: URLSearchParams;
  readonly text: string;
  /** Sent by the replayer (header `x-swing-replay`). */
  readonly replayed: boolean;
  /** The body as a JSON object ({} when empty), parsed when a handler asks: a bad one is a 400. */
  body(): Record<string, unknown>;
}

interface Route {
  readonly methods: readonly string[];
  /**
   * OpenSearch's REST paths: literal segments, `{name}` any one segment, `{name?}` an optional last one.
   * `{index}` never starts with `_`: such a first segment names an API (`/_bulk`), not an index.
   */
  readonly paths: readonly string[];
  readonly handle: (cluster: Cluster, request: ClusterRequest) => Answer;
}

const READ = ['GET', 'HEAD'];
const READ_OR_POST = ['GET', 'HEAD', 'POST'];
const WRITE = ['PUT', 'POST'];

/** Index-less APIs (`/_bulk`) and index APIs (`/<index>/_bulk`) share their handlers. */
const anyIndex = (api: string) => [`/${api}`, `/{index}/${api}`];

/** The REST API the stand-in serves, one small handler a route; a request no route takes is a 404. */
const ROUTES: readonly Route[] = [
  { methods: READ, paths: ['/'], handle: info },
  {
    methods: ['GET'],
    paths: ['/_cluster/health'],
    handle: ({ name }) => ({
      status: 200,
      body: { cluster_name: name, status: 'green', number_of_nodes: 1 },
    }),
  },
  { methods: ['DELETE'], paths: ['/_search/scroll/{scroll_id?}'], handle: clearScroll },
  { methods: READ_OR_POST, paths: ['/_search/scroll/{scroll_id?}'], handle: continueScroll },
  {
    methods: ['POST', 'PUT'],
    paths: anyIndex('_bulk'),
    handle: ({ store }, { path, text, replayed }) => bulk(store, path.index, text, replayed),
  },
  {
    methods: READ_OR_POST,
    paths: anyIndex('_search'),
    handle: ({ store, scrolls }, request) =>
      search(store, scrolls, request.path.index, request.body(), request.params),
  },
  {
    methods: READ_OR_POST,
    paths: anyIndex('_msearch'),
    handle: ({ store, scrolls }, { path, text }) => msearch(store, scrolls, path.index, text),
  },
  {
    methods: READ_OR_POST,
    paths: anyIndex('_count'),
    handle: ({ store }, request) => count(store, request.path.index, request.body()),
  },
  {
    methods: READ_OR_POST,
    paths: anyIndex('_mget'),
    handle: ({ store }, request) => mget(store, request.path.index, request.body()),
  },
  {
    methods: READ_OR_POST,
    paths: anyIndex('_refresh'),
    handle: () => ({ status: 200, body: { _shards: { total: 1, successful: 1, failed: 0 } } }),
  },
  { methods: ['PUT'], paths: ['/{index}'], handle: createIndex },
  {
    methods: ['HEAD'],
    paths: ['/{index}'],
    handle: ({ store }, { path }) =>
      store.has(path.index!) ? { status: 200, body: {} } : indexNotFound(path.index!),
  },
  { methods: ['GET'], paths: ['/{index}'], handle: getIndex },
  {
    methods: ['DELETE'],
    paths: ['/{index}'],
    handle: ({ store }, { path }) =>
      store.deleteIndex(path.index!)
        ? { status: 200, body: { acknowledged: true } }
        : indexNotFound(path.index!),
  },
  {
    methods: ['POST'],
    paths: ['/{index}/_doc'],
    handle: ({ store }, request) =>
      store.put(request.path.index!, undefined, request.body(), opType(request.params), request.replayed),
  },
  {
    methods: WRITE,
    paths: ['/{index}/_doc/{id}'],
    handle: ({ store }, request) =>
      store.put(
        request.path.index!,
        request.path.id,
        request.body(),
        opType(request.params),
        request.replayed,
      ),
  },
  {
    methods: READ,
    paths: ['/{index}/_doc/{id}'],
    handle: ({ store }, { path }) => store.get(path.index!, path.id!),
  },
  {
    methods: ['DELETE'],
    paths: ['/{index}/_doc/{id}'],
    handle: ({ store }, { path, replayed }) => store.delete(path.index!, path.id!, replayed),
  },
  {
    methods: WRITE,
    paths: ['/{index}/_create/{id}'],
    handle: ({ store }, request) =>
      store.put(request.path.index!, request.path.id, request.body(), 'create', request.replayed),
  },
  {
    methods: ['POST'],
    paths: ['/{index}/_update/{id}'],
    handle: ({ store }, request) =>
      store.update(request.path.index!, request.path.id!, request.body(), request.replayed),
  },
  { methods: READ, paths: ['/{index}/_source/{id}'], handle: getSource },
  {
    methods: ['POST'],
    paths: ['/{index}/_delete_by_query'],
    handle: ({ store }, request) =>
      deleteByQuery(store, request.path.index!, request.body(), request.replayed),
  },
];

/** The answer of the route that takes this method and path (`parts`: the path's decoded segments). */
export function route(
  cluster: Cluster,
  method: string,
  parts: string[],
  params: URLSearchParams,
  text: string,
  replayed: boolean,
): Answer {
  for (const { methods, paths, handle } of ROUTES) {
    if (!methods.includes(method)) continue;
    for (const pattern of paths) {
      const path = matchPath(pattern, parts);
      if (path === undefined) continue;
      const body = () => parseJson(text, 'request body');
      return handle(cluster, { method, path, params, text, replayed, body });
    }
  }
  return noHandler(method, parts);
}

/** The named segments when `parts` fits `pattern`; undefined when it does not. */
function matchPath(pattern: string, parts: string[]): Record<string, string | undefined> | undefined {
  const segments = pattern.split('/').filter(Boolean);
  const optional = segments.at(-1)?.endsWith('?}') ?? false;
  if (parts.length > segments.length || parts.length < segments.length - (optional ? 1 : 0)) return undefined;
  const named: Record<string, string | undefined> = {};
  for (const [at, segment] of segments.entries()) {
    const part = parts[at];
    if (!segment.startsWith('{')) {
      if (part !== segment) return undefined;
      continue;
    }
    const name = segment.slice(1, segment.endsWith('?}') ? -2 : -1);
    if (name === 'index' && part?.startsWith('_')) return undefined;
    named[name] = part;
  }
  return named;
}

function info({ name }: Cluster): Answer {
  return {
    status: 200,
    body: {
      name: `${name}-node-1`,
      cluster_name: name,
      version: { distribution: 'opensearch', number: '2.19.0' },
      tagline: 'The OpenSearch Project: https://opensearch.org/',
    },
  };
}

function clearScroll({ scrolls }: Cluster, { path, params, body }: ClusterRequest): Answer {
  const asked = path.scroll_id ?? body().scroll_id ?? params.get('scroll_id');
  return scrolls.clear(
    values(asked ?? [])
      .flatMap((id) => String(id).split(','))
      .filter(Boolean),
  );
}

function continueScroll({ scrolls }: Cluster, { path, params, body }: ClusterRequest): Answer {
  const request = path.scroll_id === undefined ? body() : {};
  return scrolls.continue(
    path.scroll_id ?? request.scroll_id ?? params.get('scroll_id') ?? undefined,
    request.scroll ?? params.get('scroll') ?? undefined,
  );
}

function createIndex({ store }: Cluster, { path }: ClusterRequest): Answer {
  const index = path.index!;
  if (store.has(index)) {
    return errorAnswer(400, 'resource_already_exists_exception', `index [${index}] already exists`, {
      index,
    });
  }
  store.createIndex(index);
  return { status: 200, body: { acknowledged: true, shards_acknowledged: true, index } };
}

function getIndex({ store }: Cluster, { path }: ClusterRequest): Answer {
  const index = path.index!;
  return store.has(index)
    ? { status: 200, body: { [index]: { aliases: {}, mappings: {}, settings: {} } } }
    : indexNotFound(index);
}

function getSource({ store }: Cluster, { path }: ClusterRequest): Answer {
  const [index, id] = [path.index!, path.id!];
  const answer = store.get(index, id);
  return answer.status === 200
    ? { status: 200, body: answer.body._source as Record<string, unknown> }
    : answer.body.error
      ? answer
      : errorAnswer(404, 'resource_not_found_exception', `Document not found [${index}]/[${id}]`);
}
