import { Agent, request as httpRequest } from 'node:http';

/** Counts per cluster; `unknown` appears when no cluster answered (a connection error or timeout at the ALB). */
export interface ClusterTally {
  source: number;
  target: number;
  [cluster: string]: number;
}

export interface TrafficSecond {
  /** Seconds since the traffic started; requests are counted in the second they were sent. */
  readonly second: number;
  sent: number;
  ok: number;
  failed: number;
  servedBy: ClusterTally;
  failedByCluster: ClusterTally;
}

export interface TrafficCounts {
  /** Requests sent. Once `stop()` has returned, sent = ok + failed. */
  sent: number;
  /** Answered below 500 (a 404 is the cluster answering, not failing). */
  ok: number;
  /** Answered 5xx, or not answered at all. */
  failed: number;
  /** Sends skipped because `maxInFlight` requests were still waiting: the clients were slower than the rate. */
  skipped: number;
  /** Answers (ok or not) by the cluster named in `x-served-by`. */
  servedBy: ClusterTally;
  /** Failed requests by the cluster that answered (x-served-by), or `unknown` when nothing answered. */
  failedByCluster: ClusterTally;
  perSecond: TrafficSecond[];
  /** By the operation a request carried (`get`, `bulk`, ...), when the requests name one. */
  operations?: Record<string, OperationTally>;
}

export interface OperationTally {
  sent: number;
  ok: number;
  failed: number;
  /** Answered 404 (counted in ok too: a missing document is an answer). */
  notFound: number;
}

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

export interface Traffic {
  counts(): TrafficCounts;
  /** Stops sending, waits for requests in flight, returns the final counts. */
  stop(): Promise<TrafficCounts>;
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
}

const MAX_ANSWER_BYTES = 1024 * 1024;

const tally = (): ClusterTally => ({ source: 0, target: 0 });

/** Plays the clients: reads and writes at a steady rate, bounded in flight, each answer attributed. */
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
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: maxInFlight });
  const counts: TrafficCounts = {
    sent: 0,
    ok: 0,
    failed: 0,
    skipped: 0,
    servedBy: tally(),
    failedByCluster: tally(),
    perSecond: [],
  };
  const inFlight = new Set<Promise<void>>();
  const startedAt = performance.now();
  let documentId = 0;

  const bump = (table: ClusterTally, cluster: string) => {
    table[cluster] = (table[cluster] ?? 0) + 1;
  };
  const secondNow = (): TrafficSecond => {
    const second = Math.floor((performance.now() - startedAt) / 1000);
    let last = counts.perSecond.at(-1);
    while (!last || last.second < second) {
      last = {
        second: last ? last.second + 1 : 0,
        sent: 0,
        ok: 0,
        failed: 0,
        servedBy: tally(),
        failedByCluster: tally(),
      };
      counts.perSecond.push(last);
    }
    return last;
  };

  const simpleRequest = (): PlannedRequest => {
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
  const nextRequest = options.requests ?? simpleRequest;

  const once = (): Promise<void> => {
    const planned = nextRequest();
    const body = planned.body;
    const second = secondNow();
    counts.sent += 1;
    second.sent += 1;
    const operation = planned.operation;
    let tally: OperationTally | undefined;
    if (operation !== undefined) {
      counts.operations ??= {};
      tally = counts.operations[operation] ??= { sent: 0, ok: 0, failed: 0, notFound: 0 };
      tally.sent += 1;
    }
    return new Promise<void>((resolve) => {
      let done = false;
      const settle = (cluster: string, ok: boolean, status: number, text: string) => {
        if (done) return;
        done = true;
        for (const bucket of [counts, second]) {
          if (cluster !== 'unknown') bump(bucket.servedBy, cluster);
          if (ok) bucket.ok += 1;
          else {
            bucket.failed += 1;
            bump(bucket.failedByCluster, cluster);
          }
        }
        if (tally) {
          if (ok) tally.ok += 1;
          else tally.failed += 1;
          if (status === 404) tally.notFound += 1;
        }
        try {
          planned.onAnswer?.({ status, cluster, body: text });
        } catch {
          // A client's bookkeeping must not end the process: the request is counted either way.
        }
        resolve();
      };
      const request = httpRequest(
        {
          agent,
          hostname: target.hostname,
          port: target.port,
          method: planned.method,
          path: planned.path,
          headers:
            body !== undefined
              ? {
                  'content-type': planned.contentType ?? 'application/json',
                  'content-length': Buffer.byteLength(body),
                }
              : {},
          timeout: timeoutMs,
        },
        (response) => {
          const header = response.headers['x-served-by'];
          const cluster = typeof header === 'string' && header ? header : 'unknown';
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
  };

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
      if (inFlight.size >= maxInFlight) {
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
