import { CloudWatchReplayLag } from '#adapters/replay-lag.ts';
import { cloudWatchClient } from '#clients/cloudwatch.ts';
import { replayLagFromEnv, reverseCaptureFromEnv } from '#commons/config.ts';
import { migrationAssistantReverseLimits } from '#domain/lossless.ts';
import type { ReplayLagPort, ReverseReplayPort } from '#domain/types.ts';

/**
 * A stack whose config names no Migration Assistant qualifier has no replay-lag alarm: nothing shows that the
 * replayer caught up, so a reads-first step never counts it as caught up (fail closed), and says how to fix it.
 */
export const NO_REPLAY_LAG_ALARM: ReplayLagPort = {
  check: async () => ({
    caughtUp: false,
    detail:
      'this stack has no replay-lag alarm: set replayLag.qualifier (the Migration Assistant qualifier) or ' +
      'replayLag.dimensions in the Swing config and redeploy',
  }),
};

/** The replay-lag check: the stack's alarm on the replayer's lag (REPLAY_LAG_ALARM), else fail closed. */
export function replayLagFromEnvironment(env: NodeJS.ProcessEnv = process.env): ReplayLagPort {
  const alarm = replayLagFromEnv(env);
  return alarm ? new CloudWatchReplayLag(cloudWatchClient, alarm) : NO_REPLAY_LAG_ALARM;
}

/**
 * The reverse replayer's lag check (reverse capture: REVERSE_LAG_ALARM), the same CloudWatch alarm reading as the
 * forward one: OK is drained, with the limits of that alarm and of the Migration Assistant's replayer. Undefined
 * when reverse capture is not configured.
 */
export function reverseReplayFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
): ReverseReplayPort | undefined {
  const settings = reverseCaptureFromEnv(env);
  if (!settings) return undefined;
  const lag = new CloudWatchReplayLag(cloudWatchClient, {
    alarmName: settings.lagAlarm,
    missingData: settings.missingData,
    label: 'reverse lag alarm',
  });
  return {
    limits: migrationAssistantReverseLimits(settings.missingData),
    check: async () => {
      const { caughtUp, detail, readable, coversUntil } = await lag.check();
      return {
        drained: caughtUp,
        detail,
        ...(readable === undefined ? {} : { readable }),
        ...(coversUntil === undefined ? {} : { coversUntil }),
      };
    },
  };
}
