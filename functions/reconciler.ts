import { StepFunctionsExecutions } from '#adapters/executions.ts';
import { AlbListener } from '#adapters/listener.ts';
import { DynamoDbRolloutStore } from '#adapters/store-dynamodb.ts';
import { AlbSwingRules } from '#adapters/swing-rules.ts';
import { CloudWatchTargetRequests } from '#adapters/target-requests.ts';
import { cloudWatchClient } from '#clients/cloudwatch.ts';
import { documentClient } from '#clients/dynamodb.ts';
import { elbv2Client } from '#clients/elbv2.ts';
import { notifierFromEnv } from '#clients/notifier.ts';
import { reverseReplayFromEnvironment } from '#clients/replay-lag.ts';
import { sfnClient } from '#clients/sfn.ts';
import { listenerTargetFromEnv, requireEnv, reverseCaptureFromEnv } from '#commons/config.ts';
import { SAFETY_NET_WAIT_SECONDS } from '#domain/engine/safety-net.ts';
import { QUIET_AFTER_RELEASE_SECONDS } from '#domain/quiet.ts';
import { RECONCILE_MAX_DRAIN_WAIT_MS, type ReconcilerDeps, reconcile } from '#domain/reconciler.ts';
import { lambdaHandler } from '#powertools/handler.ts';
import { logger } from '#powertools/logger.ts';

const target = listenerTargetFromEnv();
const reverseCapture = reverseCaptureFromEnv();
const reverseReplay = reverseReplayFromEnvironment();
const deps: ReconcilerDeps = {
  listenerArn: target.listenerArn,
  listener: new AlbListener(elbv2Client, target),
  swingRules: new AlbSwingRules(elbv2Client, target),
  store: new DynamoDbRolloutStore(documentClient, requireEnv('TABLE_NAME')),
  executions: new StepFunctionsExecutions(sfnClient),
  notifier: notifierFromEnv(),
  log: logger,
  now: () => new Date(),
  // Attempts of the ended rollout may still act until then: no rollout starts before (quiet.ts).
  quietAfterReleaseMs: QUIET_AFTER_RELEASE_SECONDS * 1000,
  waitAfterStopMs: SAFETY_NET_WAIT_SECONDS * 1000,
  targetRequests: new CloudWatchTargetRequests(cloudWatchClient, target),
  ...(reverseCapture ? { reverseCapture } : {}),
  ...(reverseReplay ? { reverseReplay } : {}),
  // A freeze (the rollback's, or its own) is waited out within the run's time; then the next run waits on.
  maxDrainWaitMs: RECONCILE_MAX_DRAIN_WAIT_MS,
};

/** EventBridge Scheduler, every few minutes: settle a lock whose holder ended and whose status event was lost (I7). */
export const handler = lambdaHandler('reconciler', () => reconcile(deps));
