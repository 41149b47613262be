import { describe, expect, it } from 'vitest';
import type { EngineDeps } from '#domain/engine/deps.ts';
import type { ReplayLagVerdict, SwingRulesPort, Weights } from '#domain/types.ts';
import { currentInvocation, LocalStepFunctions } from '#local/executor.ts';
import { LAG_ALARM, replayLagCutover } from '#test/support/reads-first-world.ts';
import { makeWorld } from '#test/support/rollout-world.ts';

/**
 * Review 4 (issue 22): the write cutover's own freeze (cutover-freeze.ts) when the cutover's ShiftWeights loses
 * its answer (Lambda.ServiceException: the first invocation runs on beside the Retry). The Retry keeps the
 * freeze it finds, cuts over and lifts it; the first attempt, still inside createMissingFreezeRules, then
 * creates the freeze rules it had not made yet on a listener whose freeze is over (their priorities are free
 * again, and ELBv2 has no conditional write), and its next fenced record write is refused (Superseded) outside
 * the try that would lift them. Writes then answer 503 on the target through the cutover's bake (at least the
 * scroll keep-alive, 300 s by default), until Complete or a rollback removes every rule of the rollout.
 * Where it runs: wherever ReplayLagPort.appliedBefore exists (the local mode, the fault model; on AWS once a
 * signal for it lands).
 */

const START: Weights = { source: 999, target: 0 };

describe("Review 4: a stale attempt of the write cutover's freeze", () => {
  it('leaves no freeze rule standing in the cutover bake once the Retry has lifted its freeze', async () => {
    // Prepare: the cutover's ShiftWeights (the second ShiftWeights of the plan) loses its first answer.
    let shifts = 0;
    const sfn = new LocalStepFunctions({
      msPerSecond: 1,
      retryDelayMs: 1,
      invocations: (call) => {
        if (call.stateName !== 'ShiftWeights' || call.retryCount !== 0) return undefined;
        shifts += 1;
        return shifts === 2 ? { answerLostAfterMs: 20 } : undefined;
      },
    });
    const world = makeWorld({ starting: START, stepFunctions: sfn });
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let staleHeld = false;
    let staleWroteAfterRelease = false;
    let releasedYet = false;
    const real = world.deps.swingRules as SwingRulesPort;
    const swingRules: SwingRulesPort = Object.assign(Object.create(real), {
      createRule: async (...args: Parameters<SwingRulesPort['createRule']>) => {
        const call = currentInvocation();
        // The stale attempt hangs in its second freeze CreateRule (a slow, throttled ELBv2 call).
        if (call?.stateName === 'ShiftWeights' && call.retryCount === 0 && args[0].name === 'freeze-writes') {
          staleHeld = true;
          await released;
        }
        return real.createRule(...args);
      },
    });
    const store = world.store;
    const update = store.update.bind(store);
    store.update = async (...args: Parameters<typeof update>) => {
      const call = currentInvocation();
      if (releasedYet && call?.stateName === 'ShiftWeights' && call.retryCount === 0)
        staleWroteAfterRelease = true;
      return update(...args);
    };
    const caughtUp = async (): Promise<ReplayLagVerdict> => ({ caughtUp: true, detail: 'nothing queued' });
    const deps: EngineDeps = {
      ...world.deps,
      swingRules,
      replayLag: { check: caughtUp, appliedBefore: caughtUp },
      replayLagAlarm: LAG_ALARM,
      targetRequests: { countBetween: async () => 0 },
    };
    const execution = world.sfn.start(deps, {
      traffic: 'reads-first',
      plan: '100:1',
      readsFirst: replayLagCutover({ cutoverBakeSeconds: 80_000, scrollKeepAliveSeconds: 80_000 }),
    });

    // Act: the Retry freezes, cuts over and lifts its freeze while the first attempt hangs; then it goes on.
    await world.until(
      (rollout) =>
        staleHeld && rollout?.cutoverFreeze?.liftedAt !== undefined && rollout.cutoverAt !== undefined,
      'the Retry cut over and lifted the freeze',
    );
    expect(world.elb.weights).toEqual({ source: 0, target: 999 });
    releasedYet = true;
    release();
    // The stale attempt runs to its end (its next record write), then the listener settles.
    const deadline = Date.now() + 3000;
    while (!staleWroteAfterRelease && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5));
    for (let seen = -1; seen !== world.elb.log.length; ) {
      seen = world.elb.log.length;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const inCutoverBake =
      (await world.rollout())?.cutoverAt !== undefined && world.elb.weights.target === 999;
    const left = world.elb.swingRules
      .map((rule) => rule.tags.find((tag) => tag.Key === 'swing:rule')?.Value ?? '')
      .filter((name) => name.startsWith('freeze-'));
    execution.stop();
    await execution.result;

    // Assess: a freeze never outlives the step that made it (I9): the cut-over writes are not refused in its bake.
    expect(staleWroteAfterRelease).toBe(true);
    expect(inCutoverBake).toBe(true);
    expect(left).toEqual([]);
  });
});
