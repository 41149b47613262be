import { describe, expect, it } from 'vitest';
import type { EngineDeps } from '#domain/engine/deps.ts';
import { safetyNet } from '#domain/engine/safety-net.ts';
import type { ReplayLagVerdict, SwingRulesPort, Weights } from '#domain/types.ts';
import { currentInvocation, LocalStepFunctions } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { LAG_ALARM, replayLagCutover } from '#test/support/reads-first-world.ts';
import { ALARM, baking, makeWorld } from '#test/support/rollout-world.ts';

/**
 * Issue 22: a stale Freeze attempt whose Lambda is stopped between a CreateRule and its record check. AWS sequence:
 * an alarm in the cutover's bake rolls back; Freeze's first attempt loses its answer (Lambda.ServiceException while
 * the invocation runs on) and its first CreateRule hangs in the SDK's retries of a throttled ELBv2; the Retry
 * freezes, the reverse replayer drains, Rollback restores and lifts the freeze (or halts on weights changed by hand
 * meanwhile, and Halt lifts it), Finalize releases the lock and looks for late freeze rules (none yet), and the
 * execution ends FAILED. Then ELBv2 takes the stale CreateRule
 * (`freeze-methods`: PUT, DELETE and PATCH answer 503), and Lambda stops the attempt at its timeout before its
 * record check could see the lift and remove it. Every look of the rollout's own path came before the rule. The
 * execution's status event starts the safety net, which waits out the tasks the execution started (Freeze runs on
 * the rollback function, whose timeout the wait covers); before, it found the lock released and did nothing, and
 * the rule refused writes until the reconciler's next run (every 5 minutes) found the lock free.
 */

const START: Weights = { source: 999, target: 0 };
const BY_HAND: Weights = { source: 500, target: 499 };
/** The safety net's wait after the stop (SAFETY_NET_WAIT_SECONDS, 75 s on AWS), on this test's clock. */
const WAIT_AFTER_STOP_MS = 200;

function deferred<T>() {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Reads-first with reverse capture configured; the reverse replayer drained when `drained()` says so. */
function reverseCaptureDeps(deps: EngineDeps, drained: () => boolean): EngineDeps {
  return {
    ...deps,
    replayLag: {
      check: async (): Promise<ReplayLagVerdict> => ({ caughtUp: true, detail: `${LAG_ALARM} is OK` }),
    },
    targetRequests: { countBetween: async () => 40 },
    replayLagAlarm: LAG_ALARM,
    reverseCapture: { lagAlarm: 'swing-reverse-lag', missingData: 'lagging', drainTimeoutSeconds: 600 },
    reverseReplay: {
      check: async () => ({
        drained: drained(),
        detail: `swing-reverse-lag is ${drained() ? 'OK' : 'in ALARM'}`,
      }),
    },
  };
}

const rolloutInput = (basePriority: number) => ({
  traffic: 'reads-first',
  plan: '100:1',
  readsFirst: { ...replayLagCutover(), cutoverBakeSeconds: 80_000, afterCutover: 'rollback', basePriority },
});
const ROLLOUT = rolloutInput(1000);

const inCutoverBake = (rollout: Parameters<ReturnType<typeof baking>>[0]) =>
  baking(1)(rollout) && rollout?.cutoverAt !== undefined;

const isFreeze = (name: string) => name.startsWith('freeze-');

const ruleNames = (world: ReturnType<typeof makeWorld>, owner?: string) =>
  world.elb.swingRules
    .filter((rule) => owner === undefined || rule.tags.some((tag) => tag.Value === owner))
    .map((rule) => rule.tags.find((tag) => tag.Key === 'swing:rule')?.Value ?? '');

describe('A stale Freeze attempt stopped after its CreateRule, once the rollout has ended', () => {
  it.each([
    { ending: 'rolled-back' as const, weights: START, keepsOthers: false },
    // The operator changes the weights by hand once writes are frozen: Rollback halts on it (I4), Halt lifts the freeze.
    { ending: 'halted' as const, weights: BY_HAND, keepsOthers: true },
  ])(
    "leaves no freeze rule once the safety net's wait after the end is over ($ending)",
    async ({ ending, weights, keepsOthers }) => {
      // Prepare: Freeze's first attempt loses its answer and runs on; status events come as the execution ends
      // (AWS), and the safety net waits out the execution's tasks itself.
      const sfn = new LocalStepFunctions({
        msPerSecond: 1,
        retryDelayMs: 1,
        statusEventTiming: 'at-once',
        invocations: (call) =>
          call.stateName === 'Freeze' && call.retryCount === 0 ? { answerLostAfterMs: 20 } : undefined,
      });
      const world = makeWorld({ starting: START, stepFunctions: sfn });
      const real = world.deps.swingRules as SwingRulesPort;
      let executionArn = '';
      const landed = deferred<{ rule: string; frozen: string[]; others: string[] }>();
      const swingRules: SwingRulesPort = Object.assign(Object.create(real), {
        createRule: async (...args: Parameters<SwingRulesPort['createRule']>) => {
          const call = currentInvocation();
          if (call?.stateName !== 'Freeze' || call.retryCount !== 0) return real.createRule(...args);
          // ELBv2 takes the stale attempt's CreateRule only once the execution has ended.
          while ((await sfn.describe(executionArn)).status === 'RUNNING') await sleep(2);
          await real.createRule(...args);
          const names = ruleNames(world);
          landed.resolve({
            rule: args[0].name,
            frozen: names.filter(isFreeze),
            others: names.filter((name) => !isFreeze(name)),
          });
          // Lambda stops the handler at its timeout: no record check, no removal, no answer.
          return new Promise<never>(() => undefined);
        },
      });
      const deps: EngineDeps = {
        ...reverseCaptureDeps(world.deps, () => true),
        swingRules,
        waitAfterStopMs: WAIT_AFTER_STOP_MS,
        // The stale CreateRule lands within the wait (on AWS: within the rollback function's timeout, which the
        // safety net's 75 s cover): this test's wait begins only once it has, so that the order does not depend on
        // the machine's load.
        sleep: async (ms: number) => {
          if (!currentInvocation()) await Promise.race([landed.promise, sleep(5000)]);
          await sleep(ms);
        },
      } as EngineDeps;
      world.store.onUpdate = (_, patch) => {
        if (ending === 'halted' && patch.freeze?.frozenAt) world.elb.setByHand(BY_HAND);
      };
      const execution = sfn.start(deps, ROLLOUT);
      executionArn = execution.executionArn;
      await world.until(inCutoverBake, 'the cutover bake');

      // Act: an alarm in the cutover's bake rolls back; the stale CreateRule lands after the execution ended.
      await world.fireAlarm(ALARM);
      const rule = await landed.promise;
      const result = await execution.result;

      // Assess: the rollout ended through its own path and released the lock, its freeze lifted, before the rule
      // landed, which then stood alone (the freeze's 503 for PUT, DELETE and PATCH).
      expect(result.status).toBe('FAILED');
      const record = await world.store.get(LISTENER.listenerArn);
      expect(record?.lockOwner).toBeUndefined();
      expect(record?.history.at(-1)).toMatchObject({
        outcome: ending,
        freeze: { liftedAt: expect.any(String) },
      });
      // A halt leaves the rollout's other rules to the operator; a rollback removed them all.
      expect(rule).toMatchObject({ rule: 'freeze-methods', frozen: ['freeze-methods'] });
      expect(rule.others.length > 0).toBe(keepsOthers);
      expect(world.elb.weights).toEqual(weights);
      // The safety net the status event started has removed it after its wait, and nothing else.
      expect(
        ruleNames(world).filter(isFreeze),
        'a freeze rule stands after the safety net: it waits for the reconciler',
      ).toEqual([]);
      expect(ruleNames(world)).toEqual(rule.others);
    },
  );

  it("removes none of a newer rollout's rules when the status event comes late", async () => {
    // Prepare: a rollout froze, drained, rolled back and ended; a newer one (its own priorities) took the lock and
    // froze writes in its turn, its reverse replayer not drained.
    const world = makeWorld({ starting: START });
    const reverse = { drained: true };
    const deps = reverseCaptureDeps(world.deps, () => reverse.drained);
    const ended = world.sfn.start(deps, ROLLOUT);
    await world.until(inCutoverBake, 'the first cutover bake');
    await world.fireAlarm(ALARM);
    expect(await ended.result).toMatchObject({ status: 'FAILED', error: 'AlarmFired' });
    expect((await world.store.get(LISTENER.listenerArn))?.history.at(-1)?.freeze?.liftedAt).toBeDefined();
    world.cloudWatch.set(ALARM, 'OK');
    reverse.drained = false;
    const newer = world.sfn.start(deps, rolloutInput(2000));
    await world.until(inCutoverBake, 'the newer cutover bake');
    await world.fireAlarm(ALARM);
    await world.until((rollout) => rollout?.taskKind === 'drain' && !!rollout.taskToken, 'the newer drain');
    const newerRules = ruleNames(world, newer.executionArn);
    expect(newerRules.filter(isFreeze)).toHaveLength(9);

    // Act: EventBridge delivers the first execution's status event again, late (it retries for hours).
    const action = await safetyNet(
      { ...deps, executions: world.sfn },
      {
        source: 'aws.states',
        'detail-type': 'Step Functions Execution Status Change',
        time: new Date().toISOString(),
        detail: {
          executionArn: ended.executionArn,
          stateMachineArn: world.sfn.stateMachineArn,
          status: 'FAILED',
        },
      },
    );

    // Assess: nothing held for it, and the newer rollout's freeze and rules stand as they were.
    expect(action).toBe('nothing-held');
    expect(ruleNames(world)).toEqual(newerRules);
    reverse.drained = true;
    expect(await newer.result).toMatchObject({ status: 'FAILED', error: 'AlarmFired' });
    expect(ruleNames(world)).toEqual([]);
  });
});
