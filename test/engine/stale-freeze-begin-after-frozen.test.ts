import { describe, expect, it } from 'vitest';
import type { EngineDeps } from '#domain/engine/deps.ts';
import type { ReplayLagVerdict, RolloutStore, SwingRulesPort, Weights } from '#domain/types.ts';
import { currentInvocation, LocalStepFunctions } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { LAG_ALARM, replayLagCutover } from '#test/support/reads-first-world.ts';
import { ALARM, baking, makeWorld } from '#test/support/rollout-world.ts';

/**
 * Issue 22: a stale Freeze attempt's first record write lands after its Retry froze. AWS sequence: an alarm in the
 * cutover's bake rolls back; a Freeze attempt reads the record, the listener and Swing's rules, and its write of
 * the freeze's start stalls in DynamoDB's throttling and the SDK's retries while Step Functions loses its answer
 * (Lambda.ServiceException while the invocation runs on); the Retry records the freeze, creates the nine rules and
 * records `frozenAt`, and Drain waits for the reverse replayer, which is far behind. Then the stale write lands. It
 * wrote the freeze it had built from its own read, only begun (no `frozenAt`), over the Retry's: the next
 * DrainCheck found no freeze to drain and Rollback restored at once, the target's last writes not replayed onto
 * the source, while the freeze's rules stood until then. In the second case the stale attempt had read the freeze
 * an earlier attempt began (that one stopped by Lambda after its write), and wrote it back as begun the same way.
 */

const START: Weights = { source: 999, target: 0 };

function deferred() {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

const freezeAttempt = () => {
  const call = currentInvocation();
  return call?.stateName === 'Freeze' ? call.retryCount : undefined;
};

describe("A stale Freeze attempt's record write landing after its Retry froze", () => {
  it.each([
    { read: 'no freeze', stale: 0, stoppedAfterBegin: undefined },
    { read: 'the freeze an earlier attempt began', stale: 1, stoppedAfterBegin: 0 },
  ])('restores nothing before the drain (its read found $read)', async ({ stale, stoppedAfterBegin }) => {
    // Prepare: the stale attempt's answer is lost (and the one before it, if any); its first record write waits
    // until the Retry has frozen and Drain waits; the reverse replayer has not drained.
    let drainChecks = 0;
    const sfn = new LocalStepFunctions({
      msPerSecond: 1,
      retryDelayMs: 1,
      invocations: (call) => {
        if (call.stateName === 'DrainCheck') drainChecks += 1;
        return call.stateName === 'Freeze' && call.retryCount <= stale
          ? { answerLostAfterMs: 20 }
          : undefined;
      },
    });
    const world = makeWorld({ starting: START, stepFunctions: sfn });
    const reverse = { drained: false };
    const staleWrites = deferred();
    const staleWritten = deferred();
    const real = world.deps.store;
    const store: RolloutStore = Object.assign(Object.create(real), {
      update: async (...args: Parameters<RolloutStore['update']>) => {
        const attempt = freezeAttempt();
        const begins = args[2].status === 'rolling-back';
        if (attempt === stale && begins) {
          await staleWrites.promise;
          return real.update(...args).finally(staleWritten.resolve);
        }
        const updated = await real.update(...args);
        // Lambda stops that attempt at its timeout right after its write: nothing more of it runs.
        if (stoppedAfterBegin !== undefined && attempt === stoppedAfterBegin && begins) {
          throw Object.assign(new Error('Task timed out after 60.00 seconds'), { name: 'Sandbox.Timedout' });
        }
        return updated;
      },
    });
    // Its CreateRules then take their time (ELBv2 throttles them), while Drain and DrainCheck go on.
    const staleCreates = deferred();
    const rules = world.deps.swingRules as SwingRulesPort;
    const swingRules: SwingRulesPort = Object.assign(Object.create(rules), {
      createRule: async (...args: Parameters<SwingRulesPort['createRule']>) => {
        if (freezeAttempt() === stale) await staleCreates.promise;
        return rules.createRule(...args);
      },
    });
    let restoredAt: number | undefined;
    world.elb.onModify = (weights) => {
      if (weights.target === 0) restoredAt = Date.now();
    };
    const deps: EngineDeps = {
      ...world.deps,
      store,
      swingRules,
      replayLag: {
        check: async (): Promise<ReplayLagVerdict> => ({ caughtUp: true, detail: `${LAG_ALARM} is OK` }),
      },
      targetRequests: { countBetween: async () => 40 },
      replayLagAlarm: LAG_ALARM,
      reverseCapture: { lagAlarm: 'swing-reverse-lag', missingData: 'lagging', drainTimeoutSeconds: 600 },
      reverseReplay: {
        check: async () => ({ drained: reverse.drained, detail: `drained: ${reverse.drained}` }),
      },
    };
    const execution = sfn.start(deps, {
      traffic: 'reads-first',
      plan: '100:1',
      readsFirst: { ...replayLagCutover(), cutoverBakeSeconds: 80_000, afterCutover: 'rollback' },
    });
    await world.until(
      (rollout) => baking(1)(rollout) && rollout?.cutoverAt !== undefined,
      'the cutover bake',
    );
    await world.fireAlarm(ALARM);
    await world.until(
      (rollout) => rollout?.taskKind === 'drain' && rollout.freeze?.frozenAt !== undefined,
      'the Retry froze and Drain waits',
    );
    const frozenAt = (await world.rollout())?.freeze?.frozenAt;

    // Act: the stale write lands; Drain and DrainCheck go on while its CreateRules take their time.
    const checksBefore = drainChecks;
    staleWrites.resolve();
    await staleWritten.promise;
    const deadline = Date.now() + 5000;
    while (drainChecks < checksBefore + 5 && restoredAt === undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }

    // Assess: still frozen, nothing restored (the drain's deadline is 10 minutes away); the freeze as recorded has
    // its `frozenAt` (the stale attempt's own, later, if it went on: a drain that waits longer, never shorter).
    expect(restoredAt, 'restored before the reverse replayer drained').toBeUndefined();
    expect(drainChecks).toBeGreaterThanOrEqual(checksBefore + 5);
    const rollout = await world.rollout();
    expect(rollout?.freeze?.frozenAt).toBeDefined();
    expect(Date.parse(rollout?.freeze?.frozenAt ?? '')).toBeGreaterThanOrEqual(Date.parse(frozenAt ?? ''));
    expect(world.elb.weights).not.toEqual(START);

    // Then the replayer drains: restored, drained, the freeze lifted.
    staleCreates.resolve();
    reverse.drained = true;
    expect(await execution.result).toMatchObject({ status: 'FAILED', error: 'AlarmFired' });
    const last = (await world.store.get(LISTENER.listenerArn))?.history.at(-1);
    expect(last?.exposure).toMatchObject({ reverseReplay: 'drained' });
    expect(world.elb.weights).toEqual(START);
    expect(world.elb.swingRules).toEqual([]);
  });
});
