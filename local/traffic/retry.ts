import { isDocumentWrite } from '../capture/writes.ts';
import type { PlannedRequest, Settled } from './send.ts';

/** How the clients retry a write answered 503, as OpenSearch clients do: after `Retry-After`, else a backoff. */
export interface WriteRetryPolicy {
  /** Attempts per write, the first included. */
  readonly attempts: number;
  /** The backoff before the n-th retry: `baseDelayMs * 2^(n-1)`, at most `maxDelayMs`. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** A `Retry-After` longer than this is cut to it. */
  readonly maxRetryAfterMs: number;
}

/** 8 attempts over about 7 s of backoff (0.1, 0.2, 0.4, 0.8, 1.6, 2, 2 s). */
export const DEFAULT_WRITE_RETRY: WriteRetryPolicy = {
  attempts: 8,
  baseDelayMs: 100,
  maxDelayMs: 2000,
  maxRetryAfterMs: 30_000,
};

export interface WriteRetryTally {
  /** Writes sent again after a 503, one per retry (each retry is a request sent, and counted as one). */
  retries: number;
  /** Of those, retries timed by the answer's `Retry-After` (an ALB fixed response cannot carry one). */
  afterRetryAfter: number;
  /** Writes answered below 500 after at least one retry. */
  recovered: number;
  /** Writes still answered 503 at their last attempt (when the clients stopped: at once, one last time). */
  gaveUp: number;
  /** 503s the load balancer itself gave a write (a fixed response, such as Swing's write freeze). */
  refusedByAlb: number;
}

/** Sends each request, and a write answered 503 again by the policy; counts what the retries did. */
export class WriteRetries {
  readonly tally: WriteRetryTally = {
    retries: 0,
    afterRetryAfter: 0,
    recovered: 0,
    gaveUp: 0,
    refusedByAlb: 0,
  };
  private stopped = false;
  private readonly sleepers = new Set<() => void>();

  /** Writes waiting for their retry: not on the wire, so not in the clients' bound of requests in flight. */
  waiting(): number {
    return this.sleepers.size;
  }

  constructor(private readonly policy: WriteRetryPolicy) {}

  async send(planned: PlannedRequest, attempt: (planned: PlannedRequest) => Promise<Settled>): Promise<void> {
    const { tally, policy } = this;
    const write = isDocumentWrite(planned.method, planned.path);
    // Set once the clients stopped: the attempt then sent at once is the write's last.
    let last = false;
    for (let sent = 1; ; sent += 1) {
      const settled = await attempt(planned);
      if (!write || settled.status !== 503) {
        if (sent > 1 && settled.status > 0 && settled.status < 500) tally.recovered += 1;
        return;
      }
      if (settled.cluster === 'alb') tally.refusedByAlb += 1;
      if (sent >= policy.attempts || last) {
        tally.gaveUp += 1;
        return;
      }
      tally.retries += 1;
      if (this.stopped) {
        last = true;
        continue;
      }
      const { retryAfterMs } = settled;
      if (retryAfterMs !== undefined) tally.afterRetryAfter += 1;
      await this.sleep(
        retryAfterMs !== undefined
          ? Math.min(retryAfterMs, policy.maxRetryAfterMs)
          : Math.min(policy.baseDelayMs * 2 ** (sent - 1), policy.maxDelayMs),
      );
      last = this.stopped;
    }
  }

  /**
   * The clients stop: a write waiting for its retry is sent at once, one last time (as a client flushes before
   * it exits), and given up if refused again; no write starts waiting any more.
   */
  stop(): void {
    this.stopped = true;
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}
