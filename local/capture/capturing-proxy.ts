import { Agent, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { endToEnd } from '../http-headers.ts';
import { BUFFERED, type Exchange, exchange, readAll } from './exchange.ts';
import { Replayer, type ReplayStats } from './replayer.ts';
import { isDocumentWrite, pinGeneratedIds } from './writes.ts';

export interface CaptureProxy {
  readonly url: string;
  readonly port: number;
  readonly replayLagMs: number;
  /** Writes captured and not yet replayed. */
  pending(): number;
  /** Writes sent to the proxied cluster and not yet answered: each may still be captured. */
  writesInFlight(): number;
  /** Resolves true when every write captured so far is replayed, false if `timeoutMs` passed first. */
  drain(timeoutMs?: number): Promise<boolean>;
  stats(): ReplayStats;
  close(): Promise<void>;
}

export interface CapturingProxyOptions {
  /** The cluster the proxy stands in front of: every request goes there, its answer goes back. */
  readonly upstreamUrl: string;
  /** Named in the proxy's 502 when the upstream does not answer. */
  readonly upstreamName: string;
  /** The cluster the replayer applies the accepted writes to, straight (not through its own proxy). */
  readonly replayUrl: string;
  /** Sent as the replay header's value, so the cluster replayed onto tells these writes from its clients'. */
  readonly replayerName: string;
  /** How long after the upstream accepted a write the replayer sends it on. */
  readonly replayLagMs: number;
  /** 0 or absent: an ephemeral port. */
  readonly port?: number;
  readonly host?: string;
  readonly retryDelayMs: number;
  readonly maxAttempts: number;
  readonly upstreamTimeoutMs: number;
}

/**
 * A capturing proxy with its replayer, whichever way it points: in front of one cluster, it answers every
 * request with that cluster's answer and captures the writes the cluster accepted (2xx; a write it refused is
 * not replayed: the client saw it fail), and its replayer applies them to the other cluster in the order the
 * first applied them, `replayLagMs` after.
 */
export async function startCapturingProxy(options: CapturingProxyOptions): Promise<CaptureProxy> {
  const { host = '127.0.0.1', replayLagMs, upstreamTimeoutMs } = options;
  if (!(replayLagMs >= 0 && Number.isFinite(replayLagMs))) {
    throw new RangeError(`replayLagMs ${replayLagMs} must be a number of milliseconds >= 0`);
  }
  const upstream = new URL(options.upstreamUrl);
  const upstreamAgent = new Agent({ keepAlive: true, maxSockets: 128 });
  const replayer = new Replayer(new URL(options.replayUrl), replayLagMs, {
    retryDelayMs: options.retryDelayMs,
    maxAttempts: options.maxAttempts,
    timeoutMs: upstreamTimeoutMs,
    name: options.replayerName,
  });
  let writes: Promise<void> = Promise.resolve();
  let writesInFlight = 0;

  // Writes go to the upstream one at a time, so the replay order is the order it applied them: two writes to
  // one id in flight at once could otherwise be answered, and replayed, the other way round.
  const write = (method: string, path: string, headers: ReturnType<typeof endToEnd>, body: Buffer) => {
    writesInFlight += 1;
    const turn = writes
      .then(async () => {
        const accepted = await exchange(
          upstreamAgent,
          upstream,
          { method, path, headers, body },
          upstreamTimeoutMs,
        );
        if (accepted.status >= 200 && accepted.status < 300) {
          const pinned = pinGeneratedIds({ method, path, body }, accepted.body);
          replayer.capture({ ...pinned, headers, capturedAt: performance.now() });
        }
        return accepted;
      })
      .finally(() => {
        writesInFlight -= 1;
      });
    writes = turn.then(
      () => {},
      () => {},
    );
    return turn;
  };

  const proxy = async (request: IncomingMessage, response: ServerResponse) => {
    const body = await readAll(request);
    const method = request.method ?? 'GET';
    const path = request.url ?? '/';
    const headers = endToEnd(request.headers, BUFFERED);
    let answer: Exchange;
    try {
      answer = isDocumentWrite(method, path)
        ? await write(method, path, headers, body)
        : await exchange(upstreamAgent, upstream, { method, path, headers, body }, upstreamTimeoutMs);
    } catch {
      // As an ALB or a proxy answers when its upstream does not.
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
      response.end(`502 Bad Gateway: the ${options.upstreamName} cluster did not answer`);
      return;
    }
    response.writeHead(answer.status, {
      ...endToEnd(answer.headers, BUFFERED),
      'content-length': answer.body.length,
    });
    response.end(answer.body);
  };

  const server = createServer((request, response) => {
    proxy(request, response).catch(() => {
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
    pending: () => replayer.pending(),
    writesInFlight: () => writesInFlight,
    drain: (timeoutMs = 30_000) => replayer.drain(timeoutMs),
    stats: (): ReplayStats => replayer.stats(),
    close: async () => {
      replayer.stop();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      upstreamAgent.destroy();
      replayer.release();
    },
  };
}
