import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { badRequestNoHandler, failure, readBody, routedPath } from './cluster/request.ts';
import { type Cluster, route } from './cluster/routes.ts';
import { ScrollContexts } from './cluster/scrolls.ts';
import {
  type Answer,
  type DocumentSource,
  type DocumentWrite,
  errorAnswer,
  IndexStore,
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
  const cluster: Cluster = { name, store, scrolls: new ScrollContexts(name, randomUUID()) };
  let fault: ClusterFault = {};
  let requests = 0;
  let injectedErrors = 0;

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
          : route(cluster, request.method ?? 'GET', parts, new URLSearchParams(query), text, replayed);
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
      return {
        requests,
        injectedErrors,
        documents: store.count(),
        directWrites: writes.length - replayedWrites,
        replayedWrites,
        openScrolls: cluster.scrolls.openCount(),
        wrongClusterScrolls: cluster.scrolls.wrongClusterScrolls,
        wrongClusterScrollClears: cluster.scrolls.wrongClusterScrollClears,
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
