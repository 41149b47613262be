import { AlbListener } from '#adapters/listener.ts';
import { DynamoDbRolloutStore } from '#adapters/store-dynamodb.ts';
import { AlbSwingRules } from '#adapters/swing-rules.ts';
import { CloudWatchTargetRequests } from '#adapters/target-requests.ts';
import { cloudWatchClient } from '#clients/cloudwatch.ts';
import { documentClient } from '#clients/dynamodb.ts';
import { elbv2Client } from '#clients/elbv2.ts';
import { reverseReplayFromEnvironment } from '#clients/replay-lag.ts';
import { listenerTargetFromEnv, requireEnv, reverseCaptureFromEnv } from '#commons/config.ts';
import { drainCheck, eventField } from '#domain/engine/drain.ts';
import { freeze } from '#domain/engine/freeze.ts';
import { type RollbackDeps, rollback } from '#domain/engine/rollback.ts';
import { STALE_SHIFT_WINDOW_MS } from '#domain/engine/stale-shift-window.ts';
import { lambdaHandler } from '#powertools/handler.ts';
import { logger } from '#powertools/logger.ts';

const target = listenerTargetFromEnv();
const reverseCapture = reverseCaptureFromEnv();
const reverseReplay = reverseReplayFromEnvironment();
const deps: RollbackDeps = {
  listenerArn: target.listenerArn,
  listener: new AlbListener(elbv2Client, target),
  store: new DynamoDbRolloutStore(documentClient, requireEnv('TABLE_NAME')),
  log: logger,
  now: () => new Date(),
  staleShiftWindowMs: STALE_SHIFT_WINDOW_MS,
  swingRules: new AlbSwingRules(elbv2Client, target),
  targetRequests: new CloudWatchTargetRequests(cloudWatchClient, target),
  ...(reverseCapture ? { reverseCapture } : {}),
  ...(reverseReplay ? { reverseReplay } : {}),
};

/** Rollback and Rehearse restore; the same function runs Freeze and DrainCheck (the event's `phase`). */
export const handler = lambdaHandler('rollback', async (event): Promise<unknown> => {
  const phase = eventField(event, 'phase');
  if (phase === 'freeze') return freeze(deps, event);
  if (phase === 'drain-check') return drainCheck(deps, event);
  return rollback(deps, event);
});
