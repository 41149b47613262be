import { type Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';

const MAX_ANSWER_BYTES = 1024 * 1024;

/** One request the clients send. */
export interface PlannedRequest {
  readonly method: string;
  /** Path and query string. */
  readonly path: string;
  readonly body?: string;
  /** Default `application/json` when there is a body. */
  readonly contentType?: string;
  /** Counted under this name in `operations`. */
  readonly operation?: string;
  /** Called once with the answer; `cluster` is `unknown` when nothing answered, `body` is '' then. */
  readonly onAnswer?: (answer: { status: number; cluster: string; body: string }) => void;
}

/** How one attempt ended: its status (0: no answer), who answered, and the `Retry-After` it carried. */
export interface Settled {
  readonly status: number;
  readonly cluster: string;
  /** From a `Retry-After` header (seconds or an HTTP date), when the answer had one. */
  readonly retryAfterMs?: number;
}

/**
 * Who answered: the cluster named in `x-served-by` (the stand-ins and the local ALB's gateway errors name one),
 * else the load balancer itself when its `Server` header says so (ALB's own answers, a fixed response
 * included, carry `Server: awselb/2.0`), else `unknown`.
 */
function answeredBy(headers: IncomingHttpHeaders): string {
  const servedBy = headers['x-served-by'];
  if (typeof servedBy === 'string' && servedBy) return servedBy;
  const server = headers.server;
  return typeof server === 'string' && server.startsWith('awselb/') ? 'alb' : 'unknown';
}

function retryAfterMs(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const seconds = Number(header);
  if (header.trim() !== '' && Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * Sends one planned request and settles once: `answered` counts it (ok below 500), then `onAnswer` sees the
 * answer. A request not answered within `timeoutMs`, or cut off mid-answer, fails.
 */
export function sendPlanned(
  client: { readonly agent: Agent; readonly target: URL; readonly timeoutMs: number },
  planned: PlannedRequest,
  answered: (cluster: string, ok: boolean, status: number) => void,
): Promise<Settled> {
  const { body } = planned;
  return new Promise<Settled>((resolve) => {
    let done = false;
    let retryAfter: number | undefined;
    const settle = (cluster: string, ok: boolean, status: number, text: string) => {
      if (done) return;
      done = true;
      answered(cluster, ok, status);
      try {
        planned.onAnswer?.({ status, cluster, body: text });
      } catch {
        // A client's bookkeeping must not end the process: the request is counted either way.
      }
      resolve({ status, cluster, ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}) });
    };
    const request = httpRequest(
      {
        agent: client.agent,
        hostname: client.target.hostname,
        port: client.target.port,
        method: planned.method,
        path: planned.path,
        headers:
          body !== undefined
            ? {
                'content-type': planned.contentType ?? 'application/json',
                'content-length': Buffer.byteLength(body),
              }
            : {},
        timeout: client.timeoutMs,
      },
      (response) => {
        const cluster = answeredBy(response.headers);
        retryAfter = retryAfterMs(response.headers['retry-after']);
        const status = response.statusCode ?? 500;
        const chunks: Buffer[] = [];
        let size = 0;
        if (planned.onAnswer) {
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
          });
        } else response.resume();
        response.on('end', () =>
          settle(cluster, status < 500, status, Buffer.concat(chunks).toString('utf8')),
        );
        // Cut off mid-answer: the cluster started answering but the client never got it whole.
        response.on('close', () => settle(cluster, false, status, ''));
      },
    );
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', () => settle('unknown', false, 0, ''));
    request.end(body);
  });
}
