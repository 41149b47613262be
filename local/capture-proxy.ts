import { Agent, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BUFFERED, type Exchange, exchange, readAll } from './capture/exchange.ts';
import { Replayer, type ReplayStats } from './capture/replayer.ts';
import { isDocumentWrite, pinGeneratedIds } from './capture/writes.ts';
import { endToEnd } from './http-headers.ts';

export type { ReplayStats } from './capture/replayer.ts';
export { isDocumentWrite, pinGeneratedIds } from './capture/writes.ts';

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
 * some other way are not captured: they stay on the target only. Its parts: the replayer (`capture/replayer.ts`),
 * which requests are writes and how a generated id is pinned (`capture/writes.ts`), one buffered exchange with
 * a cluster (`capture/exchange.ts`).
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
  const sourceAgent = new Agent({ keepAlive: true, maxSockets: 128 });
  const replayer = new Replayer(new URL(options.targetUrl), replayLagMs, {
    retryDelayMs,
    maxAttempts,
    timeoutMs: upstreamTimeoutMs,
  });
  let sourceWrites: Promise<void> = Promise.resolve();

  const proxy = async (request: IncomingMessage, response: ServerResponse) => {
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
            const write = pinGeneratedIds({ method, path, body }, accepted.body);
            replayer.capture({ ...write, headers, capturedAt: performance.now() });
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
    drain: (timeoutMs = 30_000) => replayer.drain(timeoutMs),
    stats: (): ReplayStats => replayer.stats(),
    close: async () => {
      replayer.stop();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      sourceAgent.destroy();
      replayer.release();
    },
  };
}
