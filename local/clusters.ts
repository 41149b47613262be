import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Answer,
  type DocumentSource,
  type DocumentWrite,
  errorAnswer,
  type Hit,
  IndexStore,
  indexNotFound,
  matchesQuery,
  UnsupportedQuery,
} from './documents.ts';

export type { DocumentSource, DocumentWrite } from './documents.ts';

export type ClusterName = 'source' | 'target';

/** Set by the replayer on the writes it replays, so a cluster can tell them from writes clients sent it. */
export const REPLAY_HEADER = 'x-swing-replay';

export interface ClusterFault {
  /** Fraction of requests answered with 503, 0..1. */
  readonly errorRate?: number;
  /** Added before every answer, injected errors included. */
  readonly latencyMs?: number;
}

export interface ClusterStats {
  readonly requests: number;
  readonly injectedErrors: number;
  readonly documents: number;
  /** Document changes clients sent straight to this cluster. */
  readonly directWrites: number;
  /** Document changes the replayer applied. */
  readonly replayedWrites: number;
  readonly openScrolls: number;
  /** Scroll continuations of an id this cluster never issued: a context continued on the wrong cluster. */
  readonly wrongClusterScrolls: number;
  /** Clears of a scroll id this cluster never issued (the context it names stays open on its own cluster). */
  readonly wrongClusterScrollClears: number;
}

export interface ClusterStandIn {
  readonly name: ClusterName;
  readonly url: string;
  readonly port: number;
  /** Merges into the current fault: `setFault({ latencyMs: 500 })` keeps an error rate set earlier. */
  setFault(fault: ClusterFault): void;
  stats(): ClusterStats;
  /** A copy of every document's source, by index and id: what divergence is measured from. */
  documents(): Map<string, Map<string, DocumentSource>>;
  /** Every document change in the order applied, with when and whether the replayer sent it. */
  writes(): DocumentWrite[];
  close(): Promise<void>;
}

export interface ClusterStandInOptions {
  readonly name: ClusterName;
  /** 0 or absent: an ephemeral port. */
  readonly port?: number;
  readonly host?: string;
  /** Decides which requests an error rate fails; inject a seeded one for repeatable tests. */
  readonly random?: () => number;
  /** Documents there from the start (a backfill), by index and id; not logged as writes. */
  readonly documents?: Readonly<Record<string, Readonly<Record<string, DocumentSource>>>>;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const DEFAULT_SIZE = 10;
/** OpenSearch's `search.max_keep_alive` default. */
const MAX_KEEP_ALIVE_MS = 24 * 60 * 60 * 1000;
/** OpenSearch's `search.max_open_scroll_context` default. */
const MAX_OPEN_SCROLLS = 500;

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

class BadRequest extends Error {
  override readonly name = 'BadRequest';
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

function parseJson(text: string, what: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BadRequest('parse_exception', `${what} is not JSON: send a JSON object`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new BadRequest('parse_exception', `${what} must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/** NDJSON (`_bulk`, `_msearch`): one JSON object a line, blank lines skipped. */
function parseLines(text: string, what: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, at) => parseJson(line, `${what} line ${at + 1}`));
}

/** `1m`, `30s`, `500ms`: OpenSearch's time units. */
function keepAliveMs(raw: unknown): number {
  const match = /^(\d+)(nanos|micros|ms|s|m|h|d)$/.exec(String(raw).trim());
  const unit = { nanos: 1e-6, micros: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const ms = match ? Number(match[1]) * unit[match[2] as keyof typeof unit] : NaN;
  if (!match || ms > MAX_KEEP_ALIVE_MS) {
    throw new BadRequest(
      'illegal_argument_exception',
      `failed to parse scroll keep-alive [${String(raw)}]: use a time such as 1m (at most 1d)`,
    );
  }
  return ms;
}

function whole(raw: unknown, what: string, fallback: number): number {
  if (raw === undefined || raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new BadRequest('illegal_argument_exception', `[${what}] must be a whole number >= 0, not [${raw}]`);
  }
  return value;
}

const SEARCH_SHARDS = { total: 1, successful: 1, skipped: 0, failed: 0 };

interface ScrollContext {
  readonly hits: Hit[];
  position: number;
  readonly size: number;
  keepAliveMs: number;
  expiresAt: number;
}

/**
 * An in-memory search-cluster stand-in that answers, in OpenSearch's JSON shapes, what OpenSearch clients send
 * to test a migration: documents by id (index, create, update, get, exists, delete), `_bulk`, `_mget`,
 * `_search` (a small query DSL), `_msearch`, `_count`, scroll (open, continue, clear), `_delete_by_query`, and
 * indices created by a write or by `PUT /<index>`. Every answer says which cluster served it: header
 * `x-served-by` and `_served_by` in the JSON body, so clients can attribute each answer (and each failure) to
 * a cluster. Scroll ids are this instance's own: continuing one elsewhere fails as it would in OpenSearch,
 * and the cluster that never issued it counts it.
 */
export async function startClusterStandIn(options: ClusterStandInOptions): Promise<ClusterStandIn> {
  const { name, host = '127.0.0.1', random = Math.random } = options;
  const store = new IndexStore();
  if (options.documents) store.seed(options.documents);
  // Unique per instance, so two stand-ins with the same name still tell their scroll ids apart.
  const instance = randomUUID();
  const scrolls = new Map<string, ScrollContext>();
  const issuedScrolls = new Set<string>();
  let scrollCount = 0;
  let fault: ClusterFault = {};
  let requests = 0;
  let injectedErrors = 0;
  let wrongClusterScrolls = 0;
  let wrongClusterScrollClears = 0;

  const send = (response: ServerResponse, answer: Answer) => {
    if (response.destroyed) return;
    const text = JSON.stringify({ ...answer.body, _served_by: name });
    response.writeHead(answer.status, {
      'content-type': 'application/json; charset=UTF-8',
      'content-length': Buffer.byteLength(text),
      'x-served-by': name,
    });
    response.end(text);
  };

  /** The indices an expression names (`a`, `a,b`, `logs-*`, `_all`); a missing concrete one is an error. */
  const resolveIndices = (expression: string | undefined): string[] | Answer => {
    if (expression === undefined || expression === '_all' || expression === '*') return store.names();
    const names = new Set<string>();
    for (const part of expression.split(',').filter(Boolean)) {
      if (part.includes('*')) {
        const pattern = new RegExp(`^${part.split('*').map(escapeRegExp).join('.*')}$`);
        for (const index of store.names()) if (pattern.test(index)) names.add(index);
      } else if (store.has(part)) names.add(part);
      else return indexNotFound(part);
    }
    return [...names];
  };

  const matchingHits = (indices: string[], query: unknown): Hit[] => {
    const hits: Hit[] = [];
    for (const index of indices) {
      for (const [id, doc] of store.documentsOf(index)) {
        if (matchesQuery(query, id, doc.source)) {
          hits.push({ _index: index, _id: id, _score: 1, _source: structuredClone(doc.source) });
        }
      }
    }
    return hits;
  };

  const searchBody = (hits: Hit[], total: number, extra: Record<string, unknown> = {}) => ({
    ...extra,
    took: 1,
    timed_out: false,
    _shards: SEARCH_SHARDS,
    hits: { total: { value: total, relation: 'eq' }, max_score: hits.length > 0 ? 1 : null, hits },
  });

  const sweepScrolls = () => {
    const now = Date.now();
    for (const [id, context] of scrolls) if (context.expiresAt <= now) scrolls.delete(id);
  };

  const search = (
    expression: string | undefined,
    request: Record<string, unknown>,
    params: URLSearchParams,
  ): Answer => {
    const indices = resolveIndices(expression);
    if (!Array.isArray(indices)) return indices;
    const size = whole(request.size ?? params.get('size'), 'size', DEFAULT_SIZE);
    const from = whole(request.from ?? params.get('from'), 'from', 0);
    const hits = matchingHits(indices, request.query);
    const scroll = params.get('scroll') ?? request.scroll;
    if (scroll === undefined || scroll === null) {
      return { status: 200, body: searchBody(hits.slice(from, from + size), hits.length) };
    }
    const keepAlive = keepAliveMs(scroll);
    sweepScrolls();
    if (scrolls.size >= MAX_OPEN_SCROLLS) {
      return errorAnswer(
        500,
        'illegal_argument_exception',
        `Trying to create too many scroll contexts. Must be less than or equal to: [${MAX_OPEN_SCROLLS}]: clear scrolls when done`,
      );
    }
    scrollCount += 1;
    const id = Buffer.from(`${name}:${instance}:${scrollCount}`).toString('base64url');
    issuedScrolls.add(id);
    scrolls.set(id, {
      hits,
      position: size,
      size,
      keepAliveMs: keepAlive,
      expiresAt: Date.now() + keepAlive,
    });
    return { status: 200, body: searchBody(hits.slice(0, size), hits.length, { _scroll_id: id }) };
  };

  const scrollMissing = (id: string): Answer => {
    if (!issuedScrolls.has(id)) wrongClusterScrolls += 1;
    const reason = `No search context found for id [${id}]`;
    const cause = { type: 'search_context_missing_exception', reason };
    return {
      status: 404,
      body: {
        error: {
          root_cause: [cause],
          type: 'search_phase_execution_exception',
          reason: 'all shards failed',
          phase: 'query',
          grouped: true,
          failed_shards: [{ shard: -1, index: null, reason: cause }],
          caused_by: cause,
        },
        status: 404,
      },
    };
  };

  const continueScroll = (id: unknown, scroll: unknown): Answer => {
    if (typeof id !== 'string' || id === '') {
      throw new BadRequest(
        'action_request_validation_exception',
        'Validation Failed: 1: scrollId is missing;',
      );
    }
    const context = scrolls.get(id);
    if (!context || context.expiresAt <= Date.now()) {
      scrolls.delete(id);
      return scrollMissing(id);
    }
    if (scroll !== undefined && scroll !== null) context.keepAliveMs = keepAliveMs(scroll);
    context.expiresAt = Date.now() + context.keepAliveMs;
    const page = context.hits.slice(context.position, context.position + context.size);
    context.position += context.size;
    return { status: 200, body: searchBody(page, context.hits.length, { _scroll_id: id }) };
  };

  const clearScrolls = (ids: string[]): Answer => {
    let freed = 0;
    if (ids.includes('_all')) {
      freed = scrolls.size;
      scrolls.clear();
    } else {
      for (const id of ids) {
        if (scrolls.delete(id)) freed += 1;
        else if (!issuedScrolls.has(id)) wrongClusterScrollClears += 1;
      }
    }
    // OpenSearch answers 404 when it freed none of the ids asked for.
    return { status: freed > 0 || ids.length === 0 ? 200 : 404, body: { succeeded: true, num_freed: freed } };
  };

  const count = (expression: string | undefined, request: Record<string, unknown>): Answer => {
    const indices = resolveIndices(expression);
    if (!Array.isArray(indices)) return indices;
    return {
      status: 200,
      body: { count: matchingHits(indices, request.query).length, _shards: SEARCH_SHARDS },
    };
  };

  const msearch = (expression: string | undefined, text: string): Answer => {
    const lines = parseLines(text, '_msearch body');
    if (lines.length === 0 || lines.length % 2 !== 0) {
      throw new BadRequest(
        'illegal_argument_exception',
        '_msearch takes pairs of lines: a header ({} or {"index": ...}) then a search body',
      );
    }
    const responses: Record<string, unknown>[] = [];
    for (let at = 0; at < lines.length; at += 2) {
      const header = lines[at]!;
      const index = header.index === undefined ? expression : values(header.index).join(',');
      let answer: Answer;
      try {
        answer = search(index, lines[at + 1]!, new URLSearchParams());
      } catch (error) {
        answer = failure(error);
      }
      responses.push({ ...answer.body, status: answer.status });
    }
    return { status: 200, body: { took: 1, responses } };
  };

  const mget = (expression: string | undefined, request: Record<string, unknown>): Answer => {
    const asked: { _index?: unknown; _id?: unknown }[] = Array.isArray(request.docs)
      ? (request.docs as { _index?: unknown; _id?: unknown }[])
      : Array.isArray(request.ids)
        ? (request.ids as unknown[]).map((id) => ({ _id: id }))
        : [];
    if (asked.length === 0) {
      throw new BadRequest(
        'action_request_validation_exception',
        'Validation Failed: 1: no documents to get;',
      );
    }
    const docs = asked.map((item) => {
      const index = String(item._index ?? expression ?? '');
      const id = String(item._id ?? '');
      if (!index || !id) {
        return {
          _index: index,
          _id: id,
          error: errorAnswer(400, 'illegal_argument_exception', 'index and id are required').body.error,
        };
      }
      const answer = store.get(index, id);
      return answer.body.error ? { _index: index, _id: id, error: answer.body.error } : answer.body;
    });
    return { status: 200, body: { docs } };
  };

  const bulk = (expression: string | undefined, text: string, replayed: boolean): Answer => {
    const lines = parseLines(text, '_bulk body');
    const items: Record<string, unknown>[] = [];
    let errors = false;
    for (let at = 0; at < lines.length; ) {
      const action = lines[at]!;
      at += 1;
      const [operation, meta] = Object.entries(action)[0] ?? [];
      if (!operation || !['index', 'create', 'update', 'delete'].includes(operation)) {
        throw new BadRequest(
          'illegal_argument_exception',
          `Malformed action/metadata line [${at}], expected one of [create, delete, index, update] but found [${operation}]`,
        );
      }
      const { _index, _id } = (meta ?? {}) as { _index?: unknown; _id?: unknown };
      const index = _index === undefined ? expression : String(_index);
      const id = _id === undefined ? undefined : String(_id);
      if (index === undefined) {
        throw new BadRequest(
          'action_request_validation_exception',
          `Validation Failed: 1: index is missing;`,
        );
      }
      let answer: Answer;
      if (operation === 'delete') {
        answer = id === undefined ? missingId() : store.delete(index, id, replayed);
      } else {
        const source = lines[at];
        at += 1;
        if (source === undefined) {
          throw new BadRequest(
            'illegal_argument_exception',
            `the ${operation} action on line ${at - 1} has no document line`,
          );
        }
        answer =
          operation === 'update'
            ? id === undefined
              ? missingId()
              : store.update(index, id, source, replayed)
            : store.put(index, id, source, operation as 'index' | 'create', replayed);
      }
      if (answer.status >= 300 && !(operation === 'delete' && answer.status === 404 && !answer.body.error)) {
        errors = true;
        items.push({
          [operation]: { _index: index, _id: id ?? null, status: answer.status, error: answer.body.error },
        });
      } else items.push({ [operation]: { ...answer.body, status: answer.status } });
    }
    return { status: 200, body: { took: 1, errors, items } };
  };

  const deleteByQuery = (expression: string, request: Record<string, unknown>, replayed: boolean): Answer => {
    const indices = resolveIndices(expression);
    if (!Array.isArray(indices)) return indices;
    const hits = matchingHits(indices, request.query);
    for (const hit of hits) store.delete(hit._index, hit._id, replayed);
    return {
      status: 200,
      body: {
        took: 1,
        timed_out: false,
        total: hits.length,
        deleted: hits.length,
        batches: hits.length > 0 ? 1 : 0,
        version_conflicts: 0,
        noops: 0,
        retries: { bulk: 0, search: 0 },
        throttled_millis: 0,
        requests_per_second: -1,
        throttled_until_millis: 0,
        failures: [],
      },
    };
  };

  const route = (
    method: string,
    parts: string[],
    params: URLSearchParams,
    text: string,
    replayed: boolean,
  ): Answer => {
    const read = method === 'GET' || method === 'HEAD';
    const readOrPost = read || method === 'POST';
    const body = () => parseJson(text, 'request body');
    const [first, second, third, ...rest] = parts;
    if (first === undefined && read) {
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
    if (first === '_cluster' && second === 'health' && third === undefined && method === 'GET') {
      return { status: 200, body: { cluster_name: name, status: 'green', number_of_nodes: 1 } };
    }
    if (first === '_search' && second === 'scroll' && rest.length === 0) {
      if (method === 'DELETE') {
        const asked = third ?? body().scroll_id ?? params.get('scroll_id');
        return clearScrolls(
          values(asked ?? [])
            .flatMap((id) => String(id).split(','))
            .filter(Boolean),
        );
      }
      if (readOrPost) {
        const request = third === undefined ? body() : {};
        return continueScroll(
          third ?? request.scroll_id ?? params.get('scroll_id') ?? undefined,
          request.scroll ?? params.get('scroll') ?? undefined,
        );
      }
    }
    // Index-less APIs (`/_bulk`) and index APIs (`/<index>/_bulk`) share their handlers.
    const indexless = first?.startsWith('_') ?? false;
    const index = indexless ? undefined : first;
    const api = indexless ? first : second;
    const id = indexless ? second : third;
    if ((indexless ? third : rest[0]) !== undefined) return noHandler(method, parts);
    if (api === '_bulk' && id === undefined && (method === 'POST' || method === 'PUT')) {
      return bulk(index, text, replayed);
    }
    if (api === '_search' && id === undefined && readOrPost) return search(index, body(), params);
    if (api === '_msearch' && id === undefined && readOrPost) return msearch(index, text);
    if (api === '_count' && id === undefined && readOrPost) return count(index, body());
    if (api === '_mget' && id === undefined && readOrPost) return mget(index, body());
    if (api === '_refresh' && id === undefined && readOrPost) {
      return { status: 200, body: { _shards: { total: 1, successful: 1, failed: 0 } } };
    }
    if (index === undefined) return noHandler(method, parts);
    if (api === undefined) {
      if (method === 'PUT') {
        if (store.has(index)) {
          return errorAnswer(400, 'resource_already_exists_exception', `index [${index}] already exists`, {
            index,
          });
        }
        store.createIndex(index);
        return { status: 200, body: { acknowledged: true, shards_acknowledged: true, index } };
      }
      if (method === 'HEAD') return store.has(index) ? { status: 200, body: {} } : indexNotFound(index);
      if (method === 'GET') {
        return store.has(index)
          ? { status: 200, body: { [index]: { aliases: {}, mappings: {}, settings: {} } } }
          : indexNotFound(index);
      }
      if (method === 'DELETE') {
        return store.deleteIndex(index)
          ? { status: 200, body: { acknowledged: true } }
          : indexNotFound(index);
      }
    }
    if (api === '_doc' && id === undefined && method === 'POST') {
      return store.put(index, undefined, body(), opType(params), replayed);
    }
    if (api === '_doc' && id !== undefined) {
      if (method === 'PUT' || method === 'POST')
        return store.put(index, id, body(), opType(params), replayed);
      if (read) return store.get(index, id);
      if (method === 'DELETE') return store.delete(index, id, replayed);
    }
    if (api === '_create' && id !== undefined && (method === 'PUT' || method === 'POST')) {
      return store.put(index, id, body(), 'create', replayed);
    }
    if (api === '_update' && id !== undefined && method === 'POST')
      return store.update(index, id, body(), replayed);
    if (api === '_source' && id !== undefined && read) {
      const answer = store.get(index, id);
      return answer.status === 200
        ? { status: 200, body: answer.body._source as Record<string, unknown> }
        : answer.body.error
          ? answer
          : errorAnswer(404, 'resource_not_found_exception', `Document not found [${index}]/[${id}]`);
    }
    if (api === '_delete_by_query' && id === undefined && method === 'POST') {
      return deleteByQuery(index, body(), replayed);
    }
    return noHandler(method, parts);
  };

  const answer = async (request: IncomingMessage, response: ServerResponse) => {
    requests += 1;
    const text = await readBody(request);
    if (fault.latencyMs) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
    if (fault.errorRate && random() < fault.errorRate) {
      injectedErrors += 1;
      return send(response, errorAnswer(503, 'injected_fault', `${name} fault injection`));
    }
    const { parts, query } = routedPath(request.url ?? '/');
    const replayed = request.headers[REPLAY_HEADER] !== undefined;
    let result: Answer;
    try {
      result =
        parts === undefined
          ? badRequestNoHandler(request.method ?? 'GET', request.url ?? '/')
          : route(request.method ?? 'GET', parts, new URLSearchParams(query), text, replayed);
    } catch (error) {
      result = failure(error);
    }
    send(response, result);
  };

  const server = createServer((request, response) => {
    // A client that goes away mid-body must not become an unhandled rejection that ends the process.
    answer(request, response).catch(() => {
      send(response, errorAnswer(400, 'bad_request', 'could not read the request body (at most 16 MiB)'));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    url: `http://${host}:${port}`,
    port,
    setFault: (next) => {
      if (next.errorRate !== undefined && !(next.errorRate >= 0 && next.errorRate <= 1)) {
        throw new RangeError(`errorRate ${next.errorRate} must be a fraction between 0 and 1`);
      }
      if (next.latencyMs !== undefined && !(next.latencyMs >= 0)) {
        throw new RangeError(`latencyMs ${next.latencyMs} must be >= 0`);
      }
      fault = { ...fault, ...next };
    },
    stats: () => {
      const writes = store.writes();
      const replayedWrites = writes.filter((write) => write.replayed).length;
      sweepScrolls();
      return {
        requests,
        injectedErrors,
        documents: store.count(),
        directWrites: writes.length - replayedWrites,
        replayedWrites,
        openScrolls: scrolls.size,
        wrongClusterScrolls,
        wrongClusterScrollClears,
      };
    },
    documents: () => store.snapshot(),
    writes: () => store.writes(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function values(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

function opType(params: URLSearchParams): 'index' | 'create' {
  return params.get('op_type') === 'create' ? 'create' : 'index';
}

function missingId(): Answer {
  return errorAnswer(400, 'action_request_validation_exception', 'Validation Failed: 1: id is missing;');
}

/**
 * The path's segments as OpenSearch routes them: on the raw path, dot segments not resolved
 * (`RestController.getAllHandlers` matches `request.rawPath()` in its path trie), each segment then
 * percent-decoded. A `.` or `..` segment, as sent or encoded, matches no literal part of any handler's path; the
 * stand-in, which takes an unknown segment as an index name or a document id, answers such a path as OpenSearch
 * answers one no handler matches (undefined here). No proxy on the way (the local ALB, the capture proxy)
 * resolves them either.
 */
export function routedPath(target: string): { parts: string[] | undefined; query: string } {
  const mark = target.indexOf('?');
  const raw = mark === -1 ? target : target.slice(0, mark);
  const query = mark === -1 ? '' : target.slice(mark + 1);
  const segments = raw.split('/').filter(Boolean);
  const decode = (segment: string) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return segment;
    }
  };
  const parts = segments.map(decode);
  if (parts.some((part) => part === '.' || part === '..')) return { parts: undefined, query };
  return { parts, query };
}

/** OpenSearch's answer to a path no handler matches (`RestController.handleBadRequest`): 400, the error a string. */
function badRequestNoHandler(method: string, target: string): Answer {
  const mark = target.indexOf('?');
  const path = mark === -1 ? target : target.slice(0, mark);
  return {
    status: 400,
    body: { error: `no handler found for uri [${path}] and method [${method}]`, status: 400 },
  };
}

function noHandler(method: string, parts: string[]): Answer {
  return errorAnswer(404, 'not_found', `no handler for ${method} /${parts.join('/')}`);
}

function failure(error: unknown): Answer {
  if (error instanceof BadRequest) return errorAnswer(400, error.type, error.message);
  if (error instanceof UnsupportedQuery) return errorAnswer(400, 'parsing_exception', error.message);
  throw error;
}
