import type { EngineDeps } from '#domain/engine/deps.ts';
import type { ReverseReplayVerdict } from '#domain/types.ts';
import type { LocalAlb } from '../alb.ts';
import type { CaptureProxy } from '../capture-proxy.ts';

/** The local reverse lag alarm's name: its state changes reach the alarm-event handler under it (OK = drained). */
export const LOCAL_REVERSE_LAG_ALARM = 'local-reverse-replay-lag';

/**
 * Drained when the reverse replayer has applied every write the target accepted and no write is still on its
 * way to the target (an answer not yet back may yet be accepted, and captured). Exact, as the local mode can
 * be: on AWS the reverse lag alarm judges the replayer's metric.
 */
export function reverseDrained(proxy: CaptureProxy): ReverseReplayVerdict {
  const { pending, oldestPendingMs, replayed } = proxy.stats();
  const inFlight = proxy.writesInFlight();
  if (pending === 0 && inFlight === 0) {
    return {
      drained: true,
      detail: `reverse replayer drained: ${replayed} writes applied to the source, none pending`,
    };
  }
  return {
    drained: false,
    detail:
      `reverse replayer lagging: ${pending} writes pending (oldest ${oldestPendingMs} ms)` +
      (inFlight > 0 ? `, ${inFlight} on their way to the target` : ''),
  };
}

/**
 * Reverse capture's engine ports over the local servers: the settings (the local lag alarm, the drain's bound),
 * the reverse replayer's verdict, and the freeze rules' 503s counted by the local ALB. Without a capturing target
 * path only the count: a rollback after the cutover reports the exposure, as on a deployment without reverse capture.
 */
export function localReverseCapture(
  targetProxy: CaptureProxy | undefined,
  alb: LocalAlb,
  drainTimeoutSeconds: number,
): Pick<EngineDeps, 'reverseCapture' | 'reverseReplay' | 'frozenRequests'> {
  // The write cutover freezes too, with or without reverse capture: its 503s are counted either way.
  const frozenRequests: NonNullable<EngineDeps['frozenRequests']> = {
    countBetween: async (from, to) =>
      alb.fixedResponsesBetween(from.getTime(), to.getTime(), (rule) => rule?.startsWith('freeze-') ?? false),
  };
  if (!targetProxy) return { frozenRequests };
  return {
    reverseCapture: { lagAlarm: LOCAL_REVERSE_LAG_ALARM, missingData: 'lagging', drainTimeoutSeconds },
    reverseReplay: { check: async () => reverseDrained(targetProxy) },
    frozenRequests,
  };
}
