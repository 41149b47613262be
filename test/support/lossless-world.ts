import { handleAlarmEvent } from '#domain/engine/alarm-event.ts';
import type { EngineDeps } from '#domain/engine/deps.ts';
import type { Weights } from '#domain/types.ts';
import { currentInvocation, LocalStepFunctions } from '#local/executor.ts';
import { LISTENER } from './fake-aws.ts';
import { readsFirstWorld, replayLagCutover } from './reads-first-world.ts';
import { baking } from './rollout-world.ts';

/**
 * A reads-first rollout with reverse capture configured, in its cutover's bake: the reverse replayer's lag the
 * test drives (`reverse.drained`), when the starting weights came back, and the waits the lossless tests need; on
 * the executor `stepFunctions` when given (freezeAnswerLost's, say).
 */

export const START: Weights = { source: 999, target: 0 };
export const REVERSE_ALARM = 'swing-reverse-lag';

export function losslessWorld(
  options: {
    drainTimeoutSeconds?: number;
    afterCutover?: 'rollback' | 'hold';
    alarmReadable?: boolean;
    stepFunctions?: LocalStepFunctions;
    /** What the reverse replayer and its signal cannot promise (the port's limits; AWS's, say). */
    limits?: readonly string[];
  } = {},
) {
  const world = readsFirstWorld({ targetRequests: 40, stepFunctions: options.stepFunctions });
  const reverse = { drained: false, checks: 0 };
  Object.assign(world.deps, {
    reverseCapture: {
      lagAlarm: REVERSE_ALARM,
      missingData: 'lagging',
      drainTimeoutSeconds: options.drainTimeoutSeconds ?? 600,
    },
    reverseReplay: {
      ...(options.limits ? { limits: options.limits } : {}),
      check: async () => {
        reverse.checks += 1;
        if (options.alarmReadable === false) {
          return { drained: false, readable: false, detail: `${REVERSE_ALARM}: no such alarm` };
        }
        return {
          drained: reverse.drained,
          detail: `${REVERSE_ALARM} is ${reverse.drained ? 'OK' : 'in ALARM'}`,
        };
      },
    },
  } satisfies Partial<EngineDeps>);
  /** When the starting weights came back (the restore's ModifyListener), on the engine's clock. */
  const restore: { at?: number } = {};
  const onModify = world.elb.onModify;
  world.elb.onModify = (weights) => {
    onModify?.(weights);
    if (weights.target === 0) restore.at = Date.now();
  };
  const execution = world.start({
    plan: '100:1',
    readsFirst: {
      ...replayLagCutover(),
      cutoverBakeSeconds: 80_000,
      afterCutover: options.afterCutover ?? 'rollback',
    },
  });
  const reverseLagOk = () =>
    handleAlarmEvent(world.deps, {
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      time: new Date().toISOString(),
      detail: { alarmName: REVERSE_ALARM, state: { value: 'OK', reason: 'lag 0 s' } },
    });
  const inCutoverBake = () =>
    world.until((rollout) => baking(1)(rollout) && rollout?.cutoverAt !== undefined, 'the cutover bake');
  const draining = () =>
    world.until((rollout) => rollout?.taskKind === 'drain' && !!rollout.taskToken, 'Drain open');
  const finished = async () => (await world.store.get(LISTENER.listenerArn))?.history.at(-1);
  return { world, reverse, restore, execution, reverseLagOk, inCutoverBake, draining, finished };
}

export const freezeRulesOn = (world: ReturnType<typeof readsFirstWorld>) =>
  world.elb.swingRules.filter((rule) => rule.tags.some((tag) => tag.Value?.startsWith('freeze-')));

/**
 * An executor on which the rollback's Freeze loses its first attempt's answer (Lambda.ServiceException): Step
 * Functions retries while that attempt still runs on, as on AWS.
 */
export const freezeAnswerLost = () =>
  new LocalStepFunctions({
    msPerSecond: 1,
    retryDelayMs: 1,
    invocations: (call) =>
      call.stateName === 'Freeze' && call.retryCount === 0 ? { answerLostAfterMs: 20 } : undefined,
  });

/** Whether the caller runs in Freeze's first attempt: the stale one, on freezeAnswerLost's executor. */
export const inStaleFreeze = () => {
  const call = currentInvocation();
  return call?.stateName === 'Freeze' && call.retryCount === 0;
};
