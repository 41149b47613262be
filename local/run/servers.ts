import { type LocalAlb, type LocalAlbOptions, startLocalAlb } from '../alb.ts';
import { type CaptureProxy, startCaptureProxy, startTargetCaptureProxy } from '../capture-proxy.ts';
import { seedDocuments } from '../client-traffic.ts';
import { type ClusterStandIn, startClusterStandIn } from '../clusters.ts';
import type { LocalOptions } from '../options.ts';
import { LOCAL_INITIAL_DOCUMENTS } from '../summary.ts';

export interface Closable {
  close(): Promise<void>;
}

export interface LocalServers {
  /** Absent with an upstream source (or target) cluster. */
  readonly source: ClusterStandIn | undefined;
  readonly target: ClusterStandIn | undefined;
  /** The source path's capture proxy, with its replayer onto the target; only between two stand-ins. */
  readonly proxy: CaptureProxy | undefined;
  /** The target path's capturing proxy, with its reverse replayer onto the source; with `reverseCapture` only. */
  readonly targetProxy: CaptureProxy | undefined;
  readonly alb: LocalAlb;
  /** What to close at the end, in the order started. */
  readonly started: readonly Closable[];
}

/**
 * The stand-ins, the source path's capture proxy (with its replayer onto the target), with reverse capture the
 * target path's (with its reverse replayer onto the source), and the local ALB. If
 * one fails to start, those started close in reverse order: an open server would keep the process alive after
 * the error. With upstream clusters there is no capture proxy: the ALB forwards to them as given.
 */
export async function startServers(
  options: LocalOptions,
  random: () => number,
  onRouted: LocalAlbOptions['onRouted'],
): Promise<LocalServers> {
  const started: Closable[] = [];
  try {
    const documents = seedDocuments(LOCAL_INITIAL_DOCUMENTS);
    const source = options.upstreamSource
      ? undefined
      : await startClusterStandIn({ name: 'source', port: 0, documents });
    if (source) started.push(source);
    const target = options.upstreamTarget
      ? undefined
      : await startClusterStandIn({ name: 'target', port: 0, documents });
    if (target) started.push(target);
    const proxy =
      source && target
        ? await startCaptureProxy({
            sourceUrl: source.url,
            targetUrl: target.url,
            replayLagMs: options.replayLagMs,
          })
        : undefined;
    if (proxy) started.push(proxy);
    const targetProxy =
      source && target && options.reverseCapture
        ? await startTargetCaptureProxy({
            sourceUrl: source.url,
            targetUrl: target.url,
            replayLagMs: options.reverseLagMs,
          })
        : undefined;
    if (targetProxy) started.push(targetProxy);
    const alb = await startLocalAlb({
      portBase: options.portBase,
      sourceUrl: options.upstreamSource ?? proxy!.url,
      targetUrl: options.upstreamTarget ?? targetProxy?.url ?? target!.url,
      random,
      onRouted,
    });
    started.push(alb);
    return { source, target, proxy, targetProxy, alb, started };
  } catch (error) {
    await closeAll(started);
    throw error;
  }
}

export async function closeAll(started: readonly Closable[]): Promise<void> {
  for (const server of [...started].reverse()) await server.close().catch(() => {});
}

/** True when the error (or one it wraps) says a port was already taken. */
export function isPortInUse(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth += 1) {
    if ((current as { code?: unknown }).code === 'EADDRINUSE') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
