import {
  type Agent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';

/** One whole request and its whole answer, bodies buffered: how the proxy talks to either cluster. */

/**
 * The proxy buffers each body (and may rewrite a write's, see pinGeneratedIds) and addresses the source itself:
 * the client's length and host are not the forwarded request's.
 */
export const BUFFERED = ['host', 'content-length'];

export interface Exchange {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export function exchange(
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

export async function readAll(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
