import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { SAFETY_NET_WAIT_SECONDS } from '#domain/engine/safety-net.ts';
import { SwingError } from '#domain/errors.ts';
import { RECONCILE_INTERVAL_MINUTES } from '#domain/reconciler.ts';
import { SAFETY_NET_MARGIN_SECONDS, safetyNetActsBy } from '#domain/safety-net-due.ts';
import type { AlarmEvaluation, ListenerRecord, RolloutStore, Weights } from '#domain/types.ts';
import type { CommandContext } from './context.ts';

/** Everything `swing status` shows, read at one moment. Weights come from the listener, never the record. */
export interface StatusSnapshot {
  readonly at: Date;
  readonly listenerArn: string;
  readonly record?: ListenerRecord;
  readonly weights?: Weights;
  readonly weightsProblem?: string;
  readonly stickinessSeconds?: number;
  readonly alarms: AlarmEvaluation;
  /** Step Functions' view of the lock holder: a lock held by an execution that is not RUNNING is stale. */
  readonly lockOwnerStatus?: string;
  /** When the lock holder stopped, if it did: the safety net acts SAFETY_NET_WAIT_SECONDS later. */
  readonly lockOwnerStoppedAt?: Date;
}

export { safetyNetActsBy };

/** When the safety net will have acted for a lock holder that stopped, while that moment is still ahead. */
export function safetyNetDueAt(
  snapshot: Pick<StatusSnapshot, 'at' | 'lockOwnerStoppedAt'>,
): Date | undefined {
  if (!snapshot.lockOwnerStoppedAt) return undefined;
  const due = safetyNetActsBy(snapshot.lockOwnerStoppedAt);
  return due > snapshot.at ? due : undefined;
}

/**
 * When the scheduled reconciler will have acted for a lock holder that ended (at `stoppedAt`, else unknown:
 * counted from `at`) and whose safety net did not: its first run after the safety net's wait, plus its work.
 */
export function reconcilerActsBy(at: Date, stoppedAt: Date | undefined): Date {
  const from = stoppedAt ? stoppedAt.getTime() + SAFETY_NET_WAIT_SECONDS * 1000 : at.getTime();
  return new Date(from + (RECONCILE_INTERVAL_MINUTES * 60 + SAFETY_NET_MARGIN_SECONDS) * 1000);
}

/** The lock holder ended but still holds the lock: when the safety net, else the reconciler, acts. */
export function endedHolderView(snapshot: StatusSnapshot) {
  const ended =
    Boolean(snapshot.record?.lockOwner) &&
    snapshot.lockOwnerStatus !== undefined &&
    snapshot.lockOwnerStatus !== 'RUNNING' &&
    snapshot.lockOwnerStatus !== 'PENDING_REDRIVE';
  if (!ended) return undefined;
  const safetyNetDue = safetyNetDueAt(snapshot);
  const reconcilerDue = reconcilerActsBy(snapshot.at, snapshot.lockOwnerStoppedAt);
  return {
    safetyNetDue,
    reconcilerDue,
    // Past both: something is wrong with the reconciler (its logs say what), and the lock is stale.
    stale: !safetyNetDue && reconcilerDue <= snapshot.at,
  };
}

export interface StatusSources {
  readonly ctx: CommandContext;
  readonly store: RolloutStore;
  readonly listenerArn: string;
}

async function executionStatus(ctx: CommandContext, executionArn: string) {
  try {
    return await ctx.clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch {
    // Only an extra hint: status still shows everything else without it.
    return undefined;
  }
}

export async function readSnapshot({ ctx, store, listenerArn }: StatusSources): Promise<StatusSnapshot> {
  const listener = await ctx.listener();
  const { alarms } = await ctx.alarms();
  const record = await store.get(listenerArn);
  let weights: Weights | undefined;
  let weightsProblem: string | undefined;
  let stickinessSeconds: number | undefined;
  try {
    weights = await listener.readWeights();
    stickinessSeconds = await listener.stickinessSeconds();
  } catch (error) {
    // A listener in the wrong shape is something to show, not a reason to show nothing else.
    if (!(error instanceof SwingError)) throw error;
    weightsProblem = error.message;
  }
  const evaluation = await alarms.evaluate();
  const owner = record?.lockOwner ? await executionStatus(ctx, record.lockOwner) : undefined;
  return {
    at: ctx.deps.now(),
    listenerArn,
    ...(record ? { record } : {}),
    ...(weights ? { weights } : {}),
    ...(weightsProblem ? { weightsProblem } : {}),
    ...(stickinessSeconds !== undefined ? { stickinessSeconds } : {}),
    alarms: evaluation,
    ...(owner?.status ? { lockOwnerStatus: owner.status } : {}),
    ...(owner?.stopDate ? { lockOwnerStoppedAt: owner.stopDate } : {}),
  };
}
