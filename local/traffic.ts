import { Agent, request as httpRequest } from 'node:http';

export interface TrafficCounts {
  sent: number;
  ok: number;
  failed: number;
  servedBy: Record<string, number>;
  /** Failed requests by the cluster that answered (x-served-by), or `unknown` when nothing answered. */
  failedByCluster: Record<string, number>;
}

export interface Traffic {
  counts(): TrafficCounts;
  /** Stops sending, waits for requests in flight, returns the final counts. */
  stop(): Promise<TrafficCounts>;
}

/** Plays the clients: reads and writes against the weighted listener at a steady rate, bounded in flight. */
export function startTraffic(options: {
  url: string;
  ratePerSecond?: number;
  writeRatio?: number;
  index?: string;
  random?: () => number;
  maxInFlight?: number;
}): Traffic {
  const { url, ratePerSecond = 50, writeRatio = 0.2, index = 'swing-demo', random = Math.random } = options;
  const maxInFlight = options.maxInFlight ?? 64;
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: maxInFlight });
  const counts: TrafficCounts = { sent: 0, ok: 0, failed: 0, servedBy: {}, failedByCluster: {} };
  const inFlight = new Set<Promise<void>>();
  let documentId = 0;

  const bump = (table: Record<string, number>, key: string) => {
    table[key] = (table[key] ?? 0) + 1;
  };

  const once = (): Promise<void> => {
    const write = random() < writeRatio;
    documentId += 1;
    const path = write
      ? `/${index}/_doc/${documentId}`
      : random() < 0.5
        ? `/${index}/_search`
        : `/${index}/_count`;
    const body = write ? JSON.stringify({ n: documentId, at: new Date().toISOString() }) : undefined;
    counts.sent += 1;
    return new Promise<void>((resolve) => {
      const request = httpRequest(
        {
          agent,
          hostname: target.hostname,
          port: target.port,
          method: write ? 'PUT' : 'GET',
          path,
          headers: body
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
            : {},
          timeout: 5000,
        },
        (response) => {
          response.resume();
          response.on('end', () => {
            const cluster = String(response.headers['x-served-by'] ?? 'unknown');
            bump(counts.servedBy, cluster);
            if ((response.statusCode ?? 500) < 500) counts.ok += 1;
            else {
              counts.failed += 1;
              bump(counts.failedByCluster, cluster);
            }
            resolve();
          });
        },
      );
      request.on('timeout', () => request.destroy(new Error('timed out')));
      request.on('error', () => {
        counts.failed += 1;
        bump(counts.failedByCluster, 'unknown');
        resolve();
      });
      request.end(body);
    });
  };

  const interval = 1000 / ratePerSecond;
  let next = performance.now();
  let stopped = false;
  const pump = () => {
    if (stopped) return;
    const now = performance.now();
    while (next <= now) {
      next += interval;
      if (inFlight.size >= maxInFlight) continue;
      const pending = once().finally(() => inFlight.delete(pending));
      inFlight.add(pending);
    }
    timer = setTimeout(pump, Math.max(1, next - performance.now()));
  };
  let timer = setTimeout(pump, 0);

  return {
    counts: () => structuredClone(counts),
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await Promise.allSettled([...inFlight]);
      agent.destroy();
      return structuredClone(counts);
    },
  };
}
