import { Agent, type OutgoingHttpHeaders } from 'node:http';
import { REPLAY_HEADER } from '../clusters.ts';
import { exchange } from './exchange.ts';

export interface CapturedWrite {
  readonly method: string;
  readonly path: string;
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer;
  /** performance.now() when the source accepted it. */
  readonly capturedAt: number;
}

export interface ReplayStats {
  /** Writes the source accepted (2xx) and the replayer took. */
  readonly captured: number;
  /** Writes the target applied (answered below 500). */
  readonly replayed: number;
  /** Captured and not yet replayed. */
  readonly pending: number;
  /** Given up on after `maxAttempts` (the target kept failing): their documents may differ. */
  readonly failed: number;
  /** Replays sent again after the target failed them. */
  readonly retries: number;
  /** From the source's answer to the target's answer, for the last write replayed. */
  readonly lastLagMs?: number;
  readonly maxLagMs: number;
  /** How long the oldest pending write has waited; 0 when nothing is pending. */
  readonly oldestPendingMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The replayer: applies the captured writes to the target one at a time, in the order the source accepted
 * them (as a replayer keeps a connection's order), each `lagMs` after the source did, retrying a write the
 * target fails (5xx or no answer) up to `maxAttempts` times.
 */
export class Replayer {
  private readonly queue: CapturedWrite[] = [];
  private readonly drained = new Set<() => void>();
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private replaying = false;
  private closed = false;
  private captured = 0;
  private replayed = 0;
  private failed = 0;
  private retries = 0;
  private lastLagMs: number | undefined;
  private maxLagMs = 0;

  constructor(
    private readonly target: URL,
    readonly lagMs: number,
    private readonly options: {
      readonly retryDelayMs: number;
      readonly maxAttempts: number;
      readonly timeoutMs: number;
      /** The replay header's value: who replayed the write. */
      readonly name: string;
    },
  ) {}

  /** A write the source accepted: replayed in its turn. */
  capture(write: CapturedWrite): void {
    this.captured += 1;
    this.queue.push(write);
    void this.replay();
  }

  pending(): number {
    return this.queue.length;
  }

  /** Resolves true when every write captured so far is replayed, false if `timeoutMs` passed first. */
  drain(timeoutMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      if (this.queue.length === 0 && !this.replaying) return resolve(true);
      const timer = setTimeout(() => {
        this.drained.delete(done);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.drained.add(done);
    });
  }

  stats(): ReplayStats {
    const { queue, lastLagMs } = this;
    return {
      captured: this.captured,
      replayed: this.replayed,
      pending: queue.length,
      failed: this.failed,
      retries: this.retries,
      ...(lastLagMs !== undefined ? { lastLagMs: Math.round(lastLagMs) } : {}),
      maxLagMs: Math.round(this.maxLagMs),
      oldestPendingMs: queue[0] ? Math.round(performance.now() - queue[0].capturedAt) : 0,
    };
  }

  /** Replays nothing more: the write in hand is given up. */
  stop(): void {
    this.closed = true;
  }

  /** After `stop()`: frees the connection, and tells those waiting on a drain once the replay loop has let go. */
  release(): void {
    this.agent.destroy();
    this.notifyIfDrained();
  }

  private notifyIfDrained(): void {
    if (this.queue.length > 0 || this.replaying) return;
    for (const resolve of this.drained) resolve();
    this.drained.clear();
  }

  private async replay(): Promise<void> {
    if (this.replaying) return;
    this.replaying = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const write = this.queue[0]!;
        const wait = write.capturedAt + this.lagMs - performance.now();
        if (wait > 0) await sleep(wait);
        await this.applyOne(write);
        this.queue.shift();
      }
    } finally {
      this.replaying = false;
      this.notifyIfDrained();
    }
  }

  private async applyOne(write: CapturedWrite): Promise<void> {
    const { maxAttempts, retryDelayMs, timeoutMs } = this.options;
    for (let attempt = 1; !this.closed; attempt += 1) {
      const answer = await exchange(
        this.agent,
        this.target,
        { ...write, headers: { ...write.headers, [REPLAY_HEADER]: this.options.name } },
        timeoutMs,
      ).catch(() => undefined);
      if (answer && answer.status < 500) {
        this.replayed += 1;
        this.lastLagMs = performance.now() - write.capturedAt;
        this.maxLagMs = Math.max(this.maxLagMs, this.lastLagMs);
        return;
      }
      if (attempt >= maxAttempts) {
        this.failed += 1;
        return;
      }
      this.retries += 1;
      await sleep(retryDelayMs);
    }
  }
}
