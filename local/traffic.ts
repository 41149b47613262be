import { Agent } from 'node:http';
import { WriteRetries, type WriteRetryPolicy, type WriteRetryTally } from './traffic/retry.ts';
import { type PlannedRequest, sendPlanned } from './traffic/send.ts';
import { type TrafficCounts, TrafficTally } from './traffic/tally.ts';

export { DEFAULT_WRITE_RETRY, type WriteRetryPolicy, type WriteRetryTally } from './traffic/retry.ts';

export type { PlannedRequest } from './traffic/send.ts';
export type {
  ClusterTally,
  OperationTally,
  TrafficCounts,
  TrafficSecond,
} from './traffic/tally.ts';

export interface Traffic {
  counts(): TrafficCounts & { writeRetries?: WriteRetryTally };
  /** Stops sending (and retrying), waits for requests in flight, returns the final counts. */
  stop(): Promise<TrafficCounts & { writeRetries?: WriteRetryTally }>;
}

export interface TrafficOptions {
  /** Where the clients send, normally the weighted listener: http://127.0.0.1:9200. */
  readonly url: string;
  readonly ratePerSecond?: number;
  /** Fraction of requests that are writes (`PUT /<index>/_doc/<n>`); the rest are `_search` and `_count`. */
  readonly writeRatio?: number;
  readonly index?: string;
  readonly random?: () => number;
  /** Requests waiting for an answer at most; beyond it sends are skipped and counted. Default 64. */
  readonly maxInFlight?: number;
  /** A request not answered by then fails as `unknown`. Default 5 s. */
  readonly timeoutMs?: number;
  /** What to send at each tick; by default a `PUT /<index>/_doc/<n>` at the write ratio, else `_search` or `_count`. */
  readonly requests?: () => PlannedRequest;
  /** Retry a write answered 503 (absent: never); each retry is a request sent, counted as one. */
  readonly retryWrites?: WriteRetryPolicy;
}

/**
 * Plays the clients: reads and writes at a steady rate, bounded in flight, each answer attributed. Its parts:
 * one request sent and settled (`traffic/send.ts`), the counts (`traffic/tally.ts`).
 */
export function startTraffic(options: TrafficOptions): Traffic {
  const {
    url,
    ratePerSecond = 50,
    writeRatio = 0.2,
    index = 'swing-demo',
    random = Math.random,
    maxInFlight = 64,
    timeoutMs = 5000,
  } = options;
  if (!(ratePerSecond > 0 && Number.isFinite(ratePerSecond))) {
    throw new RangeError(`ratePerSecond ${ratePerSecond} must be a positive number`);
  }
  if (!(writeRatio >= 0 && writeRatio <= 1)) {
    throw new RangeError(`writeRatio ${writeRatio} must be a fraction between 0 and 1`);
  }
  const client = {
    target: new URL(url),
    agent: new Agent({ keepAlive: true, maxSockets: maxInFlight }),
    timeoutMs,
  };
  const tally = new TrafficTally();
  const { counts } = tally;
  const inFlight = new Set<Promise<void>>();
  const nextRequest = options.requests ?? simpleRequests(index, writeRatio, random);

  const retries = options.retryWrites ? new WriteRetries(options.retryWrites) : undefined;
  const attempt = (planned: PlannedRequest) => sendPlanned(client, planned, tally.sent(planned.operation));
  const once = async (): Promise<void> => {
    const planned = nextRequest();
    if (retries) await retries.send(planned, attempt);
    else await attempt(planned);
  };
  const snapshot = () => ({
    ...structuredClone(counts),
    ...(retries ? { writeRetries: { ...retries.tally } } : {}),
  });

  const interval = 1000 / ratePerSecond;
  let next = performance.now();
  let stopped = false;
  let timer: NodeJS.Timeout;
  const pump = () => {
    if (stopped) return;
    const now = performance.now();
    // After a long stall, do not fire a whole backlog at once: at most one second of it.
    if (next < now - 1000) {
      counts.skipped += Math.floor((now - 1000 - next) / interval);
      next = now - 1000;
    }
    while (next <= now) {
      next += interval;
      if (inFlight.size - (retries?.waiting() ?? 0) >= maxInFlight) {
        counts.skipped += 1;
        continue;
      }
      const pending = once().finally(() => inFlight.delete(pending));
      inFlight.add(pending);
    }
    timer = setTimeout(pump, Math.max(1, next - performance.now()));
  };
  timer = setTimeout(pump, 0);

  return {
    counts: snapshot,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      retries?.stop();
      await Promise.allSettled([...inFlight]);
      client.agent.destroy();
      return snapshot();
    },
  };
}

/** The default requests: a `PUT /<index>/_doc/<n>` at the write ratio, else a `_search` or a `_count`. */
function simpleRequests(index: string, writeRatio: number, random: () => number): () => PlannedRequest {
  let documentId = 0;
  return () => {
    const write = random() < writeRatio;
    documentId += 1;
    if (write) {
      return {
        method: 'PUT',
        path: `/${index}/_doc/${documentId}`,
        body: JSON.stringify({ n: documentId, at: new Date().toISOString() }),
      };
    }
    return { method: 'GET', path: random() < 0.5 ? `/${index}/_search` : `/${index}/_count` };
  };
}
