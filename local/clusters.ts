import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ClusterName = 'source' | 'target';

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
}

export interface ClusterStandIn {
  readonly name: ClusterName;
  readonly url: string;
  readonly port: number;
  /** Merges into the current fault: `setFault({ latencyMs: 500 })` keeps an error rate set earlier. */
  setFault(fault: ClusterFault): void;
  stats(): ClusterStats;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

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

/**
 * An in-memory search-cluster stand-in answering the few OpenSearch/Elasticsearch calls the local mode and
 * its clients make. Every answer says which cluster served it: header `x-served-by` and `_served_by` in the
 * JSON body, so clients can attribute each answer (and each failure) to a cluster.
 */
export async function startClusterStandIn(options: {
  name: ClusterName;
  /** 0 or absent: an ephemeral port. */
  port?: number;
  host?: string;
  /** Decides which requests an error rate fails; inject a seeded one for repeatable tests. */
  random?: () => number;
}): Promise<ClusterStandIn> {
  const { name, host = '127.0.0.1', random = Math.random } = options;
  const indices = new Map<string, Map<string, unknown>>();
  let fault: ClusterFault = {};
  let requests = 0;
  let injectedErrors = 0;

  const send = (response: ServerResponse, status: number, body: Record<string, unknown>) => {
    if (response.destroyed) return;
    const text = JSON.stringify({ ...body, _served_by: name });
    response.writeHead(status, {
      'content-type': 'application/json; charset=UTF-8',
      'content-length': Buffer.byteLength(text),
      'x-served-by': name,
    });
    response.end(text);
  };
  const error = (response: ServerResponse, status: number, type: string, reason: string) =>
    send(response, status, { error: { type, reason }, status });

  const answer = async (request: IncomingMessage, response: ServerResponse) => {
    requests += 1;
    const body = await readBody(request);
    if (fault.latencyMs) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
    if (fault.errorRate && random() < fault.errorRate) {
      injectedErrors += 1;
      return error(response, 503, 'injected_fault', `${name} fault injection`);
    }
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const method = request.method ?? 'GET';
    const parts = path.split('/').filter(Boolean);
    if (parts.length === 0 && (method === 'GET' || method === 'HEAD')) {
      return send(response, 200, {
        name: `${name}-node-1`,
        cluster_name: name,
        version: { distribution: 'opensearch', number: '2.19.0' },
        tagline: 'The OpenSearch Project: https://opensearch.org/',
      });
    }
    if (parts.length === 2 && parts[0] === '_cluster' && parts[1] === 'health' && method === 'GET') {
      return send(response, 200, { cluster_name: name, status: 'green', number_of_nodes: 1 });
    }
    const [index, action, id, ...rest] = parts;
    if (index && !index.startsWith('_') && rest.length === 0) {
      const documents = indices.get(index) ?? new Map<string, unknown>();
      if (action === '_doc' && id && (method === 'PUT' || method === 'POST')) {
        let source: unknown;
        try {
          source = body ? JSON.parse(body) : {};
        } catch {
          return error(response, 400, 'parse_exception', 'request body is not JSON: send a JSON document');
        }
        const created = !documents.has(id);
        documents.set(id, source);
        indices.set(index, documents);
        return send(response, created ? 201 : 200, {
          _index: index,
          _id: id,
          result: created ? 'created' : 'updated',
        });
      }
      if (action === '_count' && !id && (method === 'GET' || method === 'POST')) {
        return send(response, 200, { count: documents.size });
      }
      // Any query is answered as match_all: the stand-in proves routing, not search relevance.
      if (action === '_search' && !id && (method === 'GET' || method === 'POST')) {
        const hits = [...documents]
          .slice(0, 10)
          .map(([docId, source]) => ({ _index: index, _id: docId, _score: 1, _source: source }));
        return send(response, 200, {
          took: 1,
          timed_out: false,
          hits: { total: { value: documents.size, relation: 'eq' }, max_score: hits.length ? 1 : null, hits },
        });
      }
    }
    return error(response, 404, 'not_found', `no handler for ${method} ${path}`);
  };

  const server = createServer((request, response) => {
    // A client that goes away mid-body must not become an unhandled rejection that ends the process.
    answer(request, response).catch(() => {
      error(response, 400, 'bad_request', 'could not read the request body (at most 1 MiB)');
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
    stats: () => ({
      requests,
      injectedErrors,
      documents: [...indices.values()].reduce((sum, documents) => sum + documents.size, 0),
    }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
