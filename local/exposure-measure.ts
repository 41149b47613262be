import type { Group } from './alb.ts';
import type { RequestKindCounts } from './request-kinds.ts';
import type { WeightWrite } from './step-splits.ts';

/**
 * The write exposure as the local mode measures it: to the millisecond, from the cutover's write of the
 * default action to the restore's (or, held, to the run's end), and the requests the target took in that
 * window split into reads and writes as the rule set tells them (local/request-kinds.ts). AWS's report counts
 * whole minutes of RequestCount; here every request is seen as it is routed.
 */
export interface ExposureMeasure {
  /** The cutover's ModifyListener, ISO 8601 to the millisecond. */
  readonly from: string;
  /** The restore's ModifyListener, or the run's end when nothing restored (a hold). */
  readonly to: string;
  readonly until: 'restore' | 'end-of-run';
  readonly windowMs: number;
  /** Requests the weighted listener sent to the target in the window. */
  readonly targetRequests: { readonly total: number } & RequestKindCounts;
}

/**
 * The index of the cutover's write of the default action in `writes`: it comes just after the record says the
 * cutover started, and is the first to give writes a share (-1: none). The record's cutoverAt is written a few
 * milliseconds after it.
 */
export function cutoverWriteIndex(
  writes: readonly Pick<WeightWrite, 'at' | 'weights'>[],
  cutoverStartedAt: number,
): number {
  return writes.findIndex((write) => write.at >= cutoverStartedAt - 5 && write.weights.target > 0);
}

export function measureExposure(
  writes: readonly WeightWrite[],
  cutoverStartedAt: number,
  now: { readonly at: number; readonly routed: Record<Group, number>; readonly kinds: RequestKindCounts },
): ExposureMeasure | undefined {
  const index = cutoverWriteIndex(writes, cutoverStartedAt);
  const cutover = writes[index];
  if (!cutover) return undefined;
  const restore = writes.slice(index + 1).find((write) => write.weights.target < cutover.weights.target);
  const end = restore ?? now;
  const reads = end.kinds.reads - cutover.kinds.reads;
  const written = end.kinds.writes - cutover.kinds.writes;
  return {
    from: new Date(cutover.at).toISOString(),
    to: new Date(end.at).toISOString(),
    until: restore ? 'restore' : 'end-of-run',
    windowMs: end.at - cutover.at,
    targetRequests: { total: end.routed.target - cutover.routed.target, reads, writes: written },
  };
}
