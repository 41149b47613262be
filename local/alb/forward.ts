import { type Agent, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Action } from '@aws-sdk/client-elastic-load-balancing-v2';
import { endToEnd } from '../http-headers.ts';
import type { Group } from './metrics.ts';

/** Where forwarded requests go, and who is told of each answer. */
export interface Upstreams {
  readonly agent: Agent;
  readonly urls: Readonly<Record<Group, URL>>;
  /** An upstream that has not answered after this long gets a 504, as an ALB's idle timeout. */
  readonly timeoutMs: number;
  /** Told once per forwarded request, when its answer is complete (or failed at the gateway). */
  readonly record: (group: Group, route: string | undefined, status: number, latencyMs: number) => void;
}

/**
 * Proxies one request to a target group's cluster (`route`: the weighted listener's rule or default action,
 * undefined on a smoke listener). An unreachable or silent cluster is a 502 or 504 counted against its group.
 */
export function forward(
  upstreams: Upstreams,
  group: Group,
  route: string | undefined,
  request: IncomingMessage,
  response: ServerResponse,
): void {
  const { agent, timeoutMs } = upstreams;
  const started = performance.now();
  const target = upstreams.urls[group];
  let settled = false;
  // Counted once, when the answer is complete; a client that hangs up is not the cluster's failure.
  const settle = (status: number) => {
    if (settled) return;
    settled = true;
    upstreams.record(group, route, status, performance.now() - started);
  };
  const gatewayError = (status: 502 | 504, reason: string) => {
    settle(status);
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const text = JSON.stringify({ error: { type: 'gateway_error', reason }, status, _served_by: group });
    // Attributed to the group it was forwarded to, as ALB counts an unreachable target against its group.
    response.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-served-by': group,
    });
    response.end(text);
  };

  const send = (body: Buffer, retried: boolean) => {
    const headers = endToEnd(request.headers);
    headers.host = target.host;
    if (body.length > 0 || request.headers['content-length'] !== undefined) {
      headers['content-length'] = body.length;
    }
    const proxied = httpRequest({
      agent,
      hostname: target.hostname,
      port: target.port,
      method: request.method,
      path: `${target.pathname.replace(/\/$/, '')}${request.url ?? '/'}`,
      headers,
      timeout: timeoutMs,
    });
    response.once('close', () => {
      if (!response.writableFinished) {
        settled = true;
        proxied.destroy();
      }
    });
    proxied.on('response', (answer) => {
      const status = answer.statusCode ?? 502;
      const answerHeaders = endToEnd(answer.headers);
      // A real cluster does not say who it is; the ALB knows which group it forwarded to.
      answerHeaders['x-served-by'] ??= group;
      response.writeHead(status, answerHeaders);
      answer.pipe(response);
      answer.on('end', () => settle(status));
      answer.on('close', () => {
        if (!answer.complete) gatewayError(502, `${group} closed the connection mid-answer`);
      });
    });
    proxied.on('timeout', () =>
      proxied.destroy(Object.assign(new Error('upstream timeout'), { code: 'TIMEOUT' })),
    );
    proxied.on('error', (error: NodeJS.ErrnoException) => {
      if (settled) return;
      // A kept-alive socket the cluster closed while idle: the request never reached it, so send it again
      // on a fresh socket rather than fail a client over connection reuse.
      if (proxied.reusedSocket && error.code === 'ECONNRESET' && !retried && !response.headersSent) {
        send(body, true);
        return;
      }
      if (error.code === 'TIMEOUT') gatewayError(504, `${group} did not answer within ${timeoutMs} ms`);
      else gatewayError(502, `${group} is unreachable: ${error.code ?? error.message}`);
    });
    proxied.end(body);
  };

  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => send(Buffer.concat(chunks), false));
  request.on('error', () => {
    settled = true;
  });
}

/** A fixed-response rule's answer, given by the ALB itself: no target group sees the request. */
export function fixedResponse(
  config: NonNullable<Action['FixedResponseConfig']>,
  request: IncomingMessage,
  response: ServerResponse,
): void {
  const body = config.MessageBody ?? '';
  // The body is not needed; reading it keeps the kept-alive connection usable for the next request.
  request.resume();
  // Only what a FixedResponseActionConfig has (status, content type, body), with the Server header ALB puts on
  // its own answers: ALB cannot add another header to a fixed response (no Retry-After).
  response.writeHead(Number(config.StatusCode), {
    'content-type': config.ContentType ?? 'text/plain',
    'content-length': Buffer.byteLength(body),
    server: 'awselb/2.0',
  });
  response.end(body);
}
