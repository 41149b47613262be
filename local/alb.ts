import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { ValidationFailed } from '#domain/errors.ts';
import type { Weights } from '#domain/types.ts';

export type Group = 'source' | 'target';

interface Sample {
  readonly at: number;
  readonly group: Group;
  readonly weighted: boolean;
  readonly status: number;
  readonly latencyMs: number;
}

export interface GroupWindow {
  readonly requests: number;
  readonly errors5xx: number;
  readonly errorRate: number;
  readonly p99LatencyMs: number;
}

export interface GroupTotals {
  requests: number;
  errors5xx: number;
}

export interface AlbTotals {
  /** Traffic the weighted 9200 listener sent to each group. */
  readonly weighted: Record<Group, GroupTotals>;
  /** All traffic each target group received, smoke tests on 9201/9202 included (CloudWatch's view). */
  readonly all: Record<Group, GroupTotals>;
}

export interface LocalAlb {
  readonly ports: { readonly weighted: number; readonly source: number; readonly target: number };
  getWeights(): Weights;
  setWeights(weights: Weights): void;
  window(group: Group, ms: number): GroupWindow;
  totals(): AlbTotals;
  close(): Promise<void>;
}

const KEEP_SAMPLES_MS = 60_000;

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/**
 * A local stand-in for the migration ALB: 9200 picks source or target per request by weight (as ALB's
 * weighted forward does), 9201 and 9202 go to one side each. It counts per-target-group requests, 5xx
 * and latency like CloudWatch's ALB metrics, so local alarms judge real traffic.
 */
export async function startLocalAlb(options: {
  sourceUrl: string;
  targetUrl: string;
  portBase?: number;
  host?: string;
  random?: () => number;
}): Promise<LocalAlb> {
  const { host = '127.0.0.1', random = Math.random } = options;
  const upstream: Record<Group, URL> = {
    source: new URL(options.sourceUrl),
    target: new URL(options.targetUrl),
  };
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  let weights: Weights = { source: 1, target: 0 };
  const samples: Sample[] = [];
  const totals: AlbTotals = {
    weighted: { source: { requests: 0, errors5xx: 0 }, target: { requests: 0, errors5xx: 0 } },
    all: { source: { requests: 0, errors5xx: 0 }, target: { requests: 0, errors5xx: 0 } },
  };

  const record = (group: Group, weighted: boolean, status: number, latencyMs: number) => {
    const now = Date.now();
    samples.push({ at: now, group, weighted, status, latencyMs });
    while (samples.length > 0 && (samples[0]?.at ?? now) < now - KEEP_SAMPLES_MS) samples.shift();
    const error = status >= 500 ? 1 : 0;
    totals.all[group].requests += 1;
    totals.all[group].errors5xx += error;
    if (weighted) {
      totals.weighted[group].requests += 1;
      totals.weighted[group].errors5xx += error;
    }
  };

  const forward =
    (group: Group, weighted: boolean) => (request: IncomingMessage, response: ServerResponse) => {
      const started = performance.now();
      const base = upstream[group];
      const proxied = httpRequest(
        {
          agent,
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port,
          method: request.method,
          path: `${base.pathname.replace(/\/$/, '')}${request.url ?? '/'}`,
          headers: { ...request.headers, host: base.host },
        },
        (upstreamResponse) => {
          response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
          upstreamResponse.pipe(response);
          upstreamResponse.on('end', () =>
            record(group, weighted, upstreamResponse.statusCode ?? 502, performance.now() - started),
          );
        },
      );
      proxied.on('error', () => {
        // Like ELB_5XX: the load balancer could not reach the target.
        record(group, weighted, 502, performance.now() - started);
        if (!response.headersSent)
          response.writeHead(502, { 'content-type': 'application/json', 'x-served-by': group });
        response.end(JSON.stringify({ error: 'bad gateway', group }));
      });
      request.pipe(proxied);
    };

  // The choice is made when the request arrives: a weight change affects the next request only.
  const weightedHandler = (request: IncomingMessage, response: ServerResponse) => {
    const total = weights.source + weights.target;
    const group: Group = random() * total < weights.target ? 'target' : 'source';
    forward(group, true)(request, response);
  };

  const listen = async (
    handler: (request: IncomingMessage, response: ServerResponse) => void,
    port: number,
  ) => {
    const server = createServer(handler);
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return server;
  };
  const base = options.portBase ?? 9200;
  const weightedServer = await listen(weightedHandler, base === 0 ? 0 : base);
  const sourceServer = await listen(forward('source', false), base === 0 ? 0 : base + 1);
  const targetServer = await listen(forward('target', false), base === 0 ? 0 : base + 2);
  const servers: Server[] = [weightedServer, sourceServer, targetServer];
  const portOf = (server: Server) => (server.address() as AddressInfo).port;

  return {
    ports: { weighted: portOf(weightedServer), source: portOf(sourceServer), target: portOf(targetServer) },
    getWeights: () => ({ ...weights }),
    setWeights: (next) => {
      const valid = (value: number) => Number.isInteger(value) && value >= 0 && value <= 999;
      if (!valid(next.source) || !valid(next.target) || next.source + next.target === 0) {
        throw new ValidationFailed([
          { field: 'weights', message: 'must be integers 0..999 and not both 0, as ALB requires' },
        ]);
      }
      weights = { ...next };
    },
    window: (group, ms) => {
      const since = Date.now() - ms;
      const inWindow = samples.filter((sample) => sample.group === group && sample.at >= since);
      const errors5xx = inWindow.filter((sample) => sample.status >= 500).length;
      return {
        requests: inWindow.length,
        errors5xx,
        errorRate: inWindow.length === 0 ? 0 : errors5xx / inWindow.length,
        p99LatencyMs: percentile(
          inWindow.map((sample) => sample.latencyMs),
          99,
        ),
      };
    },
    totals: () => structuredClone(totals),
    close: async () => {
      agent.destroy();
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.closeAllConnections();
              server.close(() => resolve());
            }),
        ),
      );
    },
  };
}
