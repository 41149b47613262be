import { describe, expect, it } from 'vitest';
import type { EngineDeps } from '#domain/engine/deps.ts';
import type { ReplayLagVerdict, SwingRulesPort, Weights } from '#domain/types.ts';
import { currentInvocation, LocalStepFunctions } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { LAG_ALARM, replayLagCutover } from '#test/support/reads-first-world.ts';
import { ALARM, baking, makeWorld } from '#test/support/rollout-world.ts';

/**
 * Review 6 (issue 22, after 72d3a04): the safety net sweeps a finished rollout's late freeze rules only when its
 * FIRST read of the record finds the lock released. When the lock is still held at that read and released during
 * its wait by the execution's own Finalize, it answers `nothing-held` after the wait without a sweep, and a stale
 * Freeze attempt's rule that landed after Finalize's post-release look (sweepLateFreezeRules) stands until the
 * reconciler's next run that finds the lock free (up to 5 minutes; for as long as another rollout holds the lock
 * if one takes it first, once the 165 s quiet period is over). The bound 72d3a04 states ("such a rule stands at
 * most about 75 s after the end") does not hold for an execution stopped while Finalize runs.
 *
 * AWS sequence: an alarm in the cutover's bake rolls back. Freeze's first attempt loses its answer
 * (Lambda.ServiceException while the invocation runs on) after it recorded the freeze's start, and its first
 * CreateRule (`freeze-methods`) hangs in the SDK's retries of a throttled ELBv2. The Retry freezes, the reverse
 * replayer drains, Rollback restores and lifts the freeze, and RolledBack (Finalize) runs. While Finalize runs,
 * the execution is stopped (StopExecution from the console, or `swing rollback --force --release-lock` on a
 * RUNNING holder, which stops it): it ends ABORTED at once, its Lambdas run on. The status event reaches the
 * safety net, whose first read finds the lock still held by the execution, so it waits out the execution's tasks
 * (75 s). Finalize releases the lock and looks for late freeze rules (none yet). Then ELBv2 takes the stale
 * CreateRule, and Lambda stops that attempt at its timeout before its record check could see the release and
 * remove it (the premise of 72d3a04). The safety net wakes, reads the lock released, and returns nothing-held.
 *
 * Suggested fix: after the wait, a lock this execution no longer holds, with the record showing it finished and a
 * freeze recorded, gets the same sweep as the `finished` path (sweepLateFreezeRules by its owner tag).
 */

const START: Weights = { source: 999, target: 0 };
/** The safety net's wait after the stop (SAFETY_NET_WAIT_SECONDS, 75 s on AWS), on this test's clock. */
const WAIT_AFTER_STOP_MS = 200;

function deferred<T = void>() {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const within = <T>(promise: Promise<T>, ms = 5000) => Promise.race([promise, sleep(ms)]);

const inStaleFreeze = () => {
  const call = currentInvocation();
  return call?.stateName === 'Freeze' && call.retryCount === 0;
};

const isFreeze = (name: string) => name.startsWith('freeze-');

const ruleNames = (world: ReturnType<typeof makeWorld>) =>
  world.elb.swingRules.map((rule) => rule.tags.find((tag) => tag.Key === 'swing:rule')?.Value ?? '');

describe('Review 6: an execution stopped while its Finalize runs', () => {
  it("leaves no freeze rule once the safety net's wait after the stop is over", async () => {
    // Prepare: Freeze's first attempt loses its answer and runs on; the status event comes as the execution ends
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
    const staleHeld = deferred();
    const netWaiting = deferred();
    const finalizeSwept = deferred();
    const landed = deferred<string[]>();
    let released = false;
    let stop: () => void = () => undefined;

    const swingRules: SwingRulesPort = Object.assign(Object.create(real), {
      createRule: async (...args: Parameters<SwingRulesPort['createRule']>) => {
        if (!inStaleFreeze()) return real.createRule(...args);
        // ELBv2 takes the stale attempt's first CreateRule only after Finalize's post-release look.
        staleHeld.resolve();
        await within(finalizeSwept.promise);
        await real.createRule(...args);
        landed.resolve(ruleNames(world));
        // Lambda stops the handler at its timeout: no record check, no removal, no answer.
        return new Promise<never>(() => undefined);
      },
      readSwingRules: async () => {
        const rules = await real.readSwingRules();
        // Finalize's look for late freeze rules, after its release.
        if (released && currentInvocation()?.stateName === 'RolledBack') finalizeSwept.resolve();
        return rules;
      },
    });
    const store = world.store;
    const get = store.get.bind(store);
    const release = store.release.bind(store);
    Object.assign(store, {
      // The Retry reads the record once the stale attempt has begun the freeze and hangs in its CreateRule.
      get: async (listenerArn: string) => {
        const call = currentInvocation();
        if (call?.stateName === 'Freeze' && call.retryCount > 0) await within(staleHeld.promise);
        return get(listenerArn);
      },
      // The stop comes while Finalize runs, before its release; the safety net reads the lock held.
      release: async (...args: Parameters<typeof store.release>) => {
        if (currentInvocation()?.stateName === 'RolledBack' && !released) {
          stop();
          await within(netWaiting.promise);
          released = true;
        }
        return release(...args);
      },
    });
    const deps = {
      ...world.deps,
      replayLag: {
        check: async (): Promise<ReplayLagVerdict> => ({ caughtUp: true, detail: `${LAG_ALARM} is OK` }),
      },
      targetRequests: { countBetween: async () => 40 },
      replayLagAlarm: LAG_ALARM,
      reverseCapture: { lagAlarm: 'swing-reverse-lag', missingData: 'lagging', drainTimeoutSeconds: 600 },
      reverseReplay: { check: async () => ({ drained: true, detail: 'swing-reverse-lag is OK' }) },
      swingRules,
      waitAfterStopMs: WAIT_AFTER_STOP_MS,
      sleep: async (ms: number) => {
        // The safety net's wait (it runs in no invocation): the stale CreateRule lands within it (on AWS, within
        // the rollback function's timeout, which its 75 s cover).
        if (!currentInvocation()) {
          netWaiting.resolve();
          await within(landed.promise);
        }
        await sleep(ms);
      },
    } as EngineDeps;
    const execution = sfn.start(deps, {
      traffic: 'reads-first',
      plan: '100:1',
      readsFirst: { ...replayLagCutover(), cutoverBakeSeconds: 80_000, afterCutover: 'rollback' },
    });
    stop = execution.stop;
    await world.until(
      (rollout) => baking(1)(rollout) && rollout?.cutoverAt !== undefined,
      'the cutover bake',
    );

    // Act: an alarm in the cutover's bake rolls back; the execution is stopped while Finalize runs.
    await world.fireAlarm(ALARM);
    const result = await execution.result;
    const atLanding = await within(landed.promise, 0);

    // Assess: stopped, the lock released by Finalize after the rollback lifted the freeze; the stale rule landed
    // after every look of the rollout's own path; the safety net found nothing held.
    expect(result).toMatchObject({ status: 'ABORTED', safetyNet: 'nothing-held' });
    const record = await get(LISTENER.listenerArn);
    expect(record?.lockOwner).toBeUndefined();
    expect(record?.history.at(-1)).toMatchObject({
      outcome: 'rolled-back',
      freeze: { frozenAt: expect.any(String), liftedAt: expect.any(String) },
    });
    expect(world.elb.weights).toEqual(START);
    expect(atLanding).toEqual(['freeze-methods']);
    expect(
      ruleNames(world).filter(isFreeze),
      "a freeze rule stands after the safety net's wait: it waits for the reconciler",
    ).toEqual([]);
  });
});
