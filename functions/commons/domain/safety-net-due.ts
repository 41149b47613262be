import { SAFETY_NET_WAIT_SECONDS } from './engine/safety-net.ts';

/** Beyond its wait: the safety net's own work, and a laptop clock that is off from AWS's by some seconds. */
export const SAFETY_NET_MARGIN_SECONDS = 30;

/** When the safety net will have acted for an execution that stopped at `stoppedAt`. */
export function safetyNetActsBy(stoppedAt: Date): Date {
  return new Date(stoppedAt.getTime() + (SAFETY_NET_WAIT_SECONDS + SAFETY_NET_MARGIN_SECONDS) * 1000);
}
