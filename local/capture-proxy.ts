import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { REPLAY_HEADER } from './clusters.ts';
import { endToEnd } from './http-headers.ts';

/**
 * APIs that read, or hold a search context, but change no document: never replayed. A POST to one of them is
 * a read (`_search`, `_mget`, ...); DELETE `/_search/scroll` frees a context the target never had.
 */
const NOT_WRITES = new Set([
  '_search',
  '_msearch',
  '_count',
  '_mget',
  '_field_caps',
  '_validate',
  '_explain',
  '_pit',
  '_refresh',
  '_flush',
  '_cat',
  '_nodes',
  '_stats',
  '_analyze',
  '_search_shards',
  '_termvectors',
  '_mtermvectors',
  '_rank_eval',
  '_render',
  '_msearch_template',
  '_search_template',
]);

/** Whether a request changes documents or indices, so the replayer must apply it to the target too. */
export function isDocumentWrite(method: string, path: string): boolean {
  const upper = method.toUpperCase();
  if (upper === 'GET' || upper === 'HEAD' || upper === 'OPTIONS') return false;
  const segments = (path.split('?')[0] ?? '').split('/').filter(Boolean);
  return !segments.some((segment) => NOT_WRITES.has(segment));
}

/**
 * The proxy buffers each body (and may rewrite a write's, see pinGeneratedIds) and addresses the source itself:
 * the client's length and host are not the forwarded request's.
 */
const BUFFERED = ['host', 'content-length'];

interface Exchange {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

function exchange(
  agent: Agent,
  base: URL,
  request: { method: string; path: string; headers: OutgoingHttpHeaders; body: Buffer },
  timeoutMs: number,
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        agent,
        hostname: base.hostname,
        port: base.port,
        method: request.method,
        path: request.path,
        headers: { ...request.headers, 'content-length': request.body.length },
        timeout: timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 502,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

async function readAll(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface CapturedWrite {
  readonly method: string;
  readonly path: string;
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer;
  /** performance.now() when the source accepted it. */
  readonly capturedAt: number;
}

/**
 * A write the source gave an id to (`POST /<index>/_doc`, a `_bulk` index or create without `_id`) is replayed
 * with that id: the replayer's job is to make the target hold the source's documents, and a second generated
 * id would make every such document differ by construction.
 */
export function pinGeneratedIds(
  write: { method: string; path: string; body: Buffer },
  answer: Buffer,
): { method: string; path: string; body: Buffer } {
  const [pathname, query] = write.path.split('?');
  const segments = (pathname ?? '').split('/').filter(Boolean);
  try {
    if (write.method === 'POST' && segments.length === 2 && segments[1] === '_doc') {
      const id = (JSON.parse(answer.toString('utf8')) as { _id?: unknown })._id;
      if (typeof id !== 'string') return write;
      const path = `/${segments[0]}/_doc/${encodeURIComponent(id)}${query !== undefined ? `?${query}` : ''}`;
      return { method: 'PUT', path, body: write.body };
    }
    if (segments.at(-1) === '_bulk') {
      const items = (JSON.parse(answer.toString('utf8')) as { items?: Record<string, { _id?: unknown }>[] })
        .items;
      if (!Array.isArray(items)) return write;
      const lines = write.body.toString('utf8').split('\n');
      let item = 0;
      let changed = false;
      for (let at = 0; at < lines.length; at += 1) {
        const line = lines[at]!;
        if (line.trim() === '') continue;
        const action = JSON.parse(line) as Record<string, Record<string, unknown>>;
        const [operation, meta = {}] = Object.entries(action)[0] ?? [];
        const given = Object.values(items[item] ?? {})[0]?._id;
        if (
          (operation === 'index' || operation === 'create') &&
          meta._id === undefined &&
          typeof given === 'string'
        ) {
          lines[at] = JSON.stringify({ [operation]: { ...meta, _id: given } });
          changed = true;
        }
        item += 1;
        // Every action but delete is followed by its document line.
        if (operation !== 'delete') at += 1;
      }
      return changed ? { ...write, body: Buffer.from(lines.join('\n')) } : write;
    }
  } catch {
    // Not JSON: replayed as sent.
  }
  return write;
}

export interface ReplayStats {
  /** Writes the source accepted (2xx) and the replayer took. */
  readonly captured: number;
  /** Writes the target applied (answered below 500). */
  readonly replayed: number;
  /** Captured and not yet replayed. */
  readonly pending: number;
  /** Given up on after `maxAttempts` (the target kept failing): their documents may differ. */
  readonly failed: number;
  /** Replays sent again after the target failed them. */
  readonly retries: number;
  /** From the source's answer to the target's answer, for the last write replayed. */
  readonly lastLagMs?: number;
  readonly maxLagMs: number;
  /** How long the oldest pending write has waited; 0 when nothing is pending. */
  readonly oldestPendingMs: number;
}

export interface CaptureProxy {
  readonly url: string;
  readonly port: number;
  readonly replayLagMs: number;
  /** Writes captured and not yet replayed. */
  pending(): number;
  /** Resolves true when every write captured so far is replayed, false if `timeoutMs` passed first. */
  drain(timeoutMs?: number): Promise<boolean>;
  stats(): ReplayStats;
  close(): Promise<void>;
}

export interface CaptureProxyOptions {
  readonly sourceUrl: string;
  readonly targetUrl: string;
  /** How long after the source accepted a write the replayer sends it to the target. Default 100 ms. */
  readonly replayLagMs?: number;
  /** 0 or absent: an ephemeral port. */
  readonly port?: number;
  readonly host?: string;
  /** Between attempts when the target fails a replay (5xx or no answer). Default 50 ms. */
  readonly retryDelayMs?: number;
  /** Attempts per write before it counts as failed. Default 100. */
  readonly maxAttempts?: number;
  /** An upstream that has not answered after this long fails the request. Default 30 s. */
  readonly upstreamTimeoutMs?: number;
}

/**
 * The source path as the Migration Assistant builds it: a Capture Proxy in front of the source cluster that
 * answers every request with the source's answer and captures the writes the source accepted, and a replayer
 * that applies them to the target, in the order the source applied them, `replayLagMs` after the source did. Requests sent to the target
 * some other way are not captured: they stay on the target only.
 */
export async function startCaptureProxy(options: CaptureProxyOptions): Promise<CaptureProxy> {
  const {
    host = '127.0.0.1',
    replayLagMs = 100,
    retryDelayMs = 50,
    maxAttempts = 100,
    upstreamTimeoutMs = 30_000,
  } = options;
  if (!(replayLagMs >= 0 && Number.isFinite(replayLagMs))) {
    throw new RangeError(`replayLagMs ${replayLagMs} must be a number of milliseconds >= 0`);
  }
  const source = new URL(options.sourceUrl);
  const target = new URL(options.targetUrl);
  const sourceAgent = new Agent({ keepAlive: true, maxSockets: 128 });
  const targetAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  const queue: CapturedWrite[] = [];
  const drained = new Set<() => void>();
  let replaying = false;
  let sourceWrites: Promise<void> = Promise.resolve();
  let closed = false;
  let captured = 0;
  let replayed = 0;
  let failed = 0;
  let retries = 0;
  let lastLagMs: number | undefined;
  let maxLagMs = 0;

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  const notifyIfDrained = () => {
    if (queue.length > 0 || replaying) return;
    for (const resolve of drained) resolve();
    drained.clear();
  };

  // One write at a time, in the order the source accepted them, as a replayer keeps a connection's order.
  const replay = async () => {
    if (replaying) return;
    replaying = true;
    try {
      while (queue.length > 0 && !closed) {
        const write = queue[0]!;
        const wait = write.capturedAt + replayLagMs - performance.now();
        if (wait > 0) await sleep(wait);
        for (let attempt = 1; !closed; attempt += 1) {
          const answer = await exchange(
            targetAgent,
            target,
            { ...write, headers: { ...write.headers, [REPLAY_HEADER]: 'capture-proxy' } },
            upstreamTimeoutMs,
          ).catch(() => undefined);
          if (answer && answer.status < 500) {
            replayed += 1;
            lastLagMs = performance.now() - write.capturedAt;
            maxLagMs = Math.max(maxLagMs, lastLagMs);
            break;
          }
          if (attempt >= maxAttempts) {
            failed += 1;
            break;
          }
          retries += 1;
          await sleep(retryDelayMs);
        }
        queue.shift();
      }
    } finally {
      replaying = false;
      notifyIfDrained();
    }
  };

  const server = createServer((request, response) => {
    void (async () => {
      const body = await readAll(request);
      const method = request.method ?? 'GET';
      const path = request.url ?? '/';
      const headers = endToEnd(request.headers, BUFFERED);
      const forward = () => exchange(sourceAgent, source, { method, path, headers, body }, upstreamTimeoutMs);
      let answer: Exchange;
      try {
        if (isDocumentWrite(method, path)) {
          // Writes go to the source one at a time, so the replay order is the order the source applied them:
          // two writes to one id in flight at once could otherwise be answered, and replayed, the other way round.
          const turn = sourceWrites.then(async () => {
            const accepted = await forward();
            if (accepted.status >= 200 && accepted.status < 300) {
              captured += 1;
              const write = pinGeneratedIds({ method, path, body }, accepted.body);
              queue.push({ ...write, headers, capturedAt: performance.now() });
              void replay();
            }
            return accepted;
          });
          sourceWrites = turn.then(
            () => {},
            () => {},
          );
          answer = await turn;
        } else answer = await forward();
      } catch {
        // As an ALB or a proxy answers when its upstream does not.
        if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
        response.end('502 Bad Gateway: the source cluster did not answer');
        return;
      }
      response.writeHead(answer.status, {
        ...endToEnd(answer.headers, BUFFERED),
        'content-length': answer.body.length,
      });
      response.end(answer.body);
    })().catch(() => {
      if (!response.headersSent) response.writeHead(400, { 'content-type': 'text/plain' });
      response.end('400 Bad Request: could not read the request');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    replayLagMs,
    pending: () => queue.length,
    drain: (timeoutMs = 30_000) =>
      new Promise<boolean>((resolve) => {
        if (queue.length === 0 && !replaying) return resolve(true);
        const timer = setTimeout(() => {
          drained.delete(done);
          resolve(false);
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          resolve(true);
        };
        drained.add(done);
      }),
    stats: () => ({
      captured,
      replayed,
      pending: queue.length,
      failed,
      retries,
      ...(lastLagMs !== undefined ? { lastLagMs: Math.round(lastLagMs) } : {}),
      maxLagMs: Math.round(maxLagMs),
      oldestPendingMs: queue[0] ? Math.round(performance.now() - queue[0].capturedAt) : 0,
    }),
    close: async () => {
      closed = true;
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      sourceAgent.destroy();
      targetAgent.destroy();
      notifyIfDrained();
    },
  };
}
