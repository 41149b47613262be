import { TargetGroupMetrics } from '#adapters/target-group-metrics.ts';
import { FRONT_DOOR_OUTPUTS } from '../infra/front-door-config.ts';
import type { CommandContext } from './context.ts';

/**
 * A front door (Migration Assistant 3.x on EKS) starts at all-source, and clients reach the migration through it
 * only once they are pointed at its name. A rollout started before that moves nobody: its steps, bakes and alarms
 * watch a listener that carries almost nothing, and its success proves nothing. `swing start` says so.
 */

/** Below this many requests through the front door in the window, the clients are taken as not moved yet. */
export const FRONT_DOOR_MIN_REQUESTS = 100;
export const FRONT_DOOR_WINDOW_MINUTES = 15;

/**
 * The warning when the stack is a front door (its outputs name the front door's security group) and its target
 * groups served fewer than FRONT_DOOR_MIN_REQUESTS requests in the last FRONT_DOOR_WINDOW_MINUTES minutes
 * (CloudWatch RequestCount, smoke checks included); undefined otherwise. Never fails the start: a metric that
 * cannot be read is said as such.
 */
export async function frontDoorTrafficWarning(ctx: CommandContext): Promise<string | undefined> {
  if ((await ctx.config.knownOutput(FRONT_DOOR_OUTPUTS.securityGroupId)) === undefined) return undefined;
  const to = ctx.deps.now();
  const from = new Date(to.getTime() - FRONT_DOOR_WINDOW_MINUTES * 60_000);
  let served: number;
  try {
    const minutes = await new TargetGroupMetrics(ctx.clients.cloudWatch, await ctx.listenerTarget()).minutes(
      from,
      to,
      ['requests'],
    );
    served = minutes.reduce(
      (sum, minute) => sum + (minute.requests.source ?? 0) + (minute.requests.target ?? 0),
      0,
    );
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return (
      `Warning: could not read the front door's request count (${why}): check that clients use the front door before ` +
      'the first step (docs/migration-assistant.md, "Moving clients to the front door")'
    );
  }
  if (served >= FRONT_DOOR_MIN_REQUESTS) return undefined;
  return (
    `Warning: the front door served ${served} requests in the last ${FRONT_DOOR_WINDOW_MINUTES} minutes (fewer than ` +
    `${FRONT_DOOR_MIN_REQUESTS}): clients are probably not pointed at it yet, so this rollout would move almost ` +
    "nobody and prove nothing. Point them at the front door's name first and check the source target group's " +
    'RequestCount against the capture proxy\'s (docs/migration-assistant.md, "Moving clients to the front door")'
  );
}
