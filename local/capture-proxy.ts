import { type CaptureProxy, startCapturingProxy } from './capture/capturing-proxy.ts';

export type { CaptureProxy } from './capture/capturing-proxy.ts';
export type { ReplayStats } from './capture/replayer.ts';
export { isDocumentWrite, pinGeneratedIds } from './capture/writes.ts';

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

const defaults = (options: CaptureProxyOptions) => ({
  replayLagMs: options.replayLagMs ?? 100,
  retryDelayMs: options.retryDelayMs ?? 50,
  maxAttempts: options.maxAttempts ?? 100,
  upstreamTimeoutMs: options.upstreamTimeoutMs ?? 30_000,
  ...(options.port !== undefined ? { port: options.port } : {}),
  ...(options.host !== undefined ? { host: options.host } : {}),
});

/**
 * The source path as the Migration Assistant builds it: a Capture Proxy in front of the source cluster that
 * answers every request with the source's answer and captures the writes the source accepted, and a replayer
 * that applies them to the target, in the order the source applied them, `replayLagMs` after the source did.
 * Requests sent to the target some other way are not captured: they stay on the target only (unless the
 * target path captures too: `startTargetCaptureProxy`). Its parts: the proxy (`capture/capturing-proxy.ts`),
 * the replayer (`capture/replayer.ts`), which requests are writes and how a generated id is pinned
 * (`capture/writes.ts`), one buffered exchange with a cluster (`capture/exchange.ts`).
 */
export function startCaptureProxy(options: CaptureProxyOptions): Promise<CaptureProxy> {
  return startCapturingProxy({
    ...defaults(options),
    upstreamUrl: options.sourceUrl,
    upstreamName: 'source',
    replayUrl: options.targetUrl,
    replayerName: 'capture-proxy',
  });
}

/**
 * The target path, capturing (issue 22's reverse capture): the same proxy in front of the target cluster,
 * recording every write the target accepted, in order, and a reverse replayer that applies them to the source
 * `replayLagMs` after (`reverseLagMs` of the run), straight to the source cluster: through the source's capture
 * proxy, each would be replayed back onto the target. A write the target refused is not replayed.
 */
export function startTargetCaptureProxy(options: CaptureProxyOptions): Promise<CaptureProxy> {
  return startCapturingProxy({
    ...defaults(options),
    upstreamUrl: options.targetUrl,
    upstreamName: 'target',
    replayUrl: options.sourceUrl,
    replayerName: 'reverse-replayer',
  });
}
