import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ClusterFault {
  /** Fraction of requests answered with 503, 0..1. */
  readonly errorRate?: number;
  readonly latencyMs?: number;
}

export interface ClusterStandIn {
  readonly name: 'source' | 'target';
  readonly url: string;
  readonly port: number;
  setFault(fault: ClusterFault): void;
  stats(): { requests: number; injectedErrors: number; documents: number };
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * An in-memory search-cluster stand-in answering the few OpenSearch/Elasticsearch calls the local mode and
 * its clients make. Every answer says which cluster served it (header and body).
 */
export async function startClusterStandIn(options: {
  name: 'source' | 'target';
  port?: number;
  host?: string;
  random?: () => number;
}): Promise<ClusterStandIn> {
  const { name, host = '127.0.0.1', random = Math.random } = options;
  const indices = new Map<string, Map<string, unknown>>();
  let fault: ClusterFault = {};
  let requests = 0;
  let injectedErrors = 0;

  const send = (response: ServerResponse, status: number, body: Record<string, unknown>) => {
    const text = JSON.stringify({ ...body, _served_by: name });
    response.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-served-by': name,
    });
    response.end(text);
  };

  const server = createServer(async (request, response) => {
    requests += 1;
    const body = await readBody(request);
    if (fault.latencyMs) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
    if (fault.errorRate && random() < fault.errorRate) {
      injectedErrors += 1;
      return send(response, 503, {
        error: { type: 'injected_fault', reason: `${name} fault injection` },
        status: 503,
      });
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
    if (parts[0] === '_cluster' && parts[1] === 'health' && method === 'GET') {
      return send(response, 200, { cluster_name: name, status: 'green', number_of_nodes: 1 });
    }
    const [index, action, id] = parts;
    if (index && !index.startsWith('_')) {
      const documents = indices.get(index) ?? new Map<string, unknown>();
      if (action === '_doc' && id && (method === 'PUT' || method === 'POST')) {
        const created = !documents.has(id);
        let source: unknown = {};
        try {
          source = body ? JSON.parse(body) : {};
        } catch {
          return send(response, 400, {
            error: { type: 'parse_exception', reason: 'body is not JSON' },
            status: 400,
          });
        }
        documents.set(id, source);
        indices.set(index, documents);
        return send(response, created ? 201 : 200, {
          _index: index,
          _id: id,
          result: created ? 'created' : 'updated',
        });
      }
      if (action === '_count' && (method === 'GET' || method === 'POST')) {
        return send(response, 200, { count: documents.size });
      }
      if (action === '_search' && (method === 'GET' || method === 'POST')) {
        const hits = [...documents]
          .slice(0, 10)
          .map(([docId, source]) => ({ _index: index, _id: docId, _source: source }));
        return send(response, 200, { hits: { total: { value: documents.size, relation: 'eq' }, hits } });
      }
    }
    return send(response, 404, {
      error: { type: 'not_found', reason: `no handler for ${method} ${path}` },
      status: 404,
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    url: `http://${host}:${port}`,
    port,
    setFault: (next) => {
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
