import { handleAlarmEvent } from '#domain/engine/alarm-event.ts';
import type { EngineDeps } from '#domain/engine/deps.ts';
import type { ReplayLagVerdict, Weights } from '#domain/types.ts';
import { isIncrease } from '#domain/weights.ts';
import type { LocalStepFunctions } from '#local/executor.ts';
import { makeWorld } from './rollout-world.ts';

/** The replay-lag alarm of a reads-first world: its OK event releases a step waiting for the replayer. */
export const LAG_ALARM = 'swing-replay-lag';

/** `then: restore`, built so that no object literal looks thenable to the linter. */
export const REHEARSAL: Record<string, unknown> = Object.fromEntries([['then', 'restore']]);

/**
 * Reads-first settings whose write cutover goes as soon as the replayer has caught up (no cutover gate), with a
 * short cutover bake and scroll keep-alive and a day-long wait for the replayer; `overrides` change any of them.
 */
export function replayLagCutover(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cutoverGate: 'replay-lag',
    cutoverBakeSeconds: 1,
    scrollKeepAliveSeconds: 1,
    replayWaitSeconds: 80_000,
    ...overrides,
  };
}

/**
 * A world that runs reads-first: the rules adapter over the fake listener (makeWorld's), a replay-lag check the
 * test drives (`lag.lagging`), the target's requests for the exposure report, and the lag alarm's events; on
 * `stepFunctions` when given (an executor whose invocations the test shapes).
 */
export function readsFirstWorld(
  options: { lagging?: () => boolean; targetRequests?: number; stepFunctions?: LocalStepFunctions } = {},
) {
  const world = makeWorld({ starting: { source: 999, target: 0 }, stepFunctions: options.stepFunctions });
  const lag = { lagging: options.lagging ?? (() => false) };
  const deps: EngineDeps = {
    ...world.deps,
    replayLag: {
      check: async (): Promise<ReplayLagVerdict> =>
        lag.lagging()
          ? { caughtUp: false, detail: `${LAG_ALARM} is in ALARM` }
          : { caughtUp: true, detail: `${LAG_ALARM} is OK` },
    },
    targetRequests: { countBetween: async () => options.targetRequests },
    replayLagAlarm: LAG_ALARM,
  };
  /** Every increase of the target's read share made while a watched alarm fired: must stay empty. */
  const readIncreasesUnderAlarm: Weights[] = [];
  world.elb.onRuleWrite = (rule, weights) => {
    const before = world.elb.currentRules.find((current) => current.RuleArn === rule.RuleArn);
    const from = before ? world.elb.ruleWeights(before) : { source: 999, target: 0 };
    if (weights && isIncrease(from, weights) && world.cloudWatch.firing().length > 0) {
      readIncreasesUnderAlarm.push(weights);
    }
  };
  const start = (input: Record<string, unknown>) =>
    world.sfn.start(deps, { traffic: 'reads-first', ...input });
  const lagEvent = (value: 'OK' | 'ALARM') =>
    handleAlarmEvent(deps, {
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      time: new Date().toISOString(),
      detail: { alarmName: LAG_ALARM, state: { value, reason: 'replayer lag' } },
    });
  return { ...world, deps, start, lag, lagEvent, readIncreasesUnderAlarm };
}
