import type { Rollout } from '#domain/types.ts';
import type { CaptureProxy } from '../capture-proxy.ts';
import type { ClusterStandIn } from '../clusters.ts';
import { directWrites, measureDivergence } from '../divergence.ts';
import type { LocalDivergence } from '../summary.ts';

/**
 * Lets the replayer catch up, then compares the stand-ins' documents. The target's injected faults end first:
 * the measure is of where the run's writes went, not of how long a failing target keeps the replayer behind.
 */
export async function measureLocalDivergence(
  source: ClusterStandIn,
  target: ClusterStandIn,
  proxy: CaptureProxy,
  rollout: Pick<Rollout, 'traffic' | 'cutoverStartedAt' | 'cutoverAt'> | undefined,
  reverse?: { readonly proxy: CaptureProxy; readonly restoredAt?: number },
  restoredAt: number | undefined = reverse?.restoredAt,
): Promise<LocalDivergence> {
  target.setFault({ errorRate: 0, latencyMs: 0 });
  // Both replayers run on after the rollout, as they would in AWS: what the reverse one applies after the
  // restore lands late on the source, and is counted.
  const [drained, reverseDrained] = await Promise.all([
    proxy.drain(15_000 + 4 * proxy.replayLagMs),
    reverse?.proxy.drain(15_000 + 4 * reverse.proxy.replayLagMs),
  ]);
  const replay = proxy.stats();
  const direct = directWrites(target);
  // The cutover's ModifyListener comes after cutoverStartedAt is recorded: a write the target took before
  // that instant reached it while writes were meant to be all-source (I8).
  const cutoverStartedAt = rollout?.cutoverStartedAt ?? rollout?.cutoverAt;
  const beforeCutover =
    rollout?.traffic === 'reads-first'
      ? directWrites(target, cutoverStartedAt ? { to: Date.parse(cutoverStartedAt) } : {}).length
      : undefined;
  // Replays the target took while clients wrote to it directly: each may land over a newer write of theirs.
  // After a restore clients write to the source again, and its replays onto the target are the usual ones.
  const lateReplays =
    rollout?.traffic === 'reads-first' && cutoverStartedAt
      ? target
          .writes()
          .filter(
            (write) =>
              write.replayed &&
              write.at >= Date.parse(cutoverStartedAt) &&
              write.at <= (restoredAt ?? Number.POSITIVE_INFINITY),
          ).length
      : undefined;
  return {
    ...measureDivergence(source, target),
    targetDirectWrites: direct.length,
    ...(direct[0] ? { firstTargetDirectWriteAt: new Date(direct[0].at).toISOString() } : {}),
    ...(beforeCutover !== undefined ? { targetDirectWritesBeforeCutover: beforeCutover } : {}),
    replay: {
      lagMs: proxy.replayLagMs,
      drained,
      captured: replay.captured,
      replayed: replay.replayed,
      pending: replay.pending,
      failed: replay.failed,
      maxLagMs: replay.maxLagMs,
      ...(lateReplays !== undefined ? { appliedAfterCutover: lateReplays } : {}),
    },
    ...(reverse ? { reverseReplay: reverseReplay(source, reverse, reverseDrained ?? false) } : {}),
  };
}

/** The target path's reverse replayer, and what it applied to the source after the restore. */
function reverseReplay(
  source: ClusterStandIn,
  reverse: { readonly proxy: CaptureProxy; readonly restoredAt?: number },
  drained: boolean,
): NonNullable<LocalDivergence['reverseReplay']> {
  const stats = reverse.proxy.stats();
  const { restoredAt } = reverse;
  // On the source, the replayed writes are the reverse replayer's: the forward one replays onto the target.
  const late =
    restoredAt === undefined
      ? undefined
      : source.writes().filter((write) => write.replayed && write.at > restoredAt).length;
  return {
    lagMs: reverse.proxy.replayLagMs,
    drained,
    captured: stats.captured,
    replayed: stats.replayed,
    pending: stats.pending,
    failed: stats.failed,
    maxLagMs: stats.maxLagMs,
    ...(late !== undefined ? { appliedAfterRestore: late } : {}),
  };
}
