import { describe, expect, it } from 'vitest';
import type { SwingRulesPort } from '#domain/types.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { freezeAnswerLost, inStaleFreeze, losslessWorld, START } from '#test/support/lossless-world.ts';
import { ALARM } from '#test/support/rollout-world.ts';

/**
 * Review 4 (issue 22): a Freeze attempt whose answer was lost runs on beside its Retry (Lambda.ServiceException:
 * Step Functions retries while the first invocation still runs; one hung CreateRule under the SDK's timeouts
 * takes up to 21 s, well inside the rollback function's 60 s). The Retry freezes, the drain ends, Rollback
 * restores and lifts the freeze, RolledBack releases the lock; then the stale attempt's remaining CreateRules
 * land on the restored listener. Nothing fences them (ELBv2 has no conditional write, and the priorities are
 * free again), so freeze rules answer every POST write with 503 on a listener whose rollout has ended.
 */

describe('Review 4: a stale Freeze attempt after the rollout ended', () => {
  it('leaves no freeze rule on the listener once the rollout has rolled back and released the lock', async () => {
    // Prepare: the Freeze state's first attempt loses its answer (it runs on), as on AWS. The reverse replayer
    // drains: the Retry's drain ends at once.
    const run = losslessWorld({ stepFunctions: freezeAnswerLost() });
    const { world, execution } = run;
    run.reverse.drained = true;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let staleHeld = false;
    const real = world.deps.swingRules as SwingRulesPort;
    const swingRules: SwingRulesPort = Object.assign(Object.create(real), {
      createRule: async (...args: Parameters<SwingRulesPort['createRule']>) => {
        // The stale attempt hangs in its second CreateRule (a throttled, slow ELBv2 call).
        if (inStaleFreeze() && args[0].name === 'freeze-writes') {
          staleHeld = true;
          await released;
        }
        return real.createRule(...args);
      },
    });
    Object.assign(world.deps, { swingRules });
    await run.inCutoverBake();

    // Act: an alarm in the cutover's bake; the Freeze's first attempt hangs, its Retry freezes and the rollback
    // runs to its end while the first attempt is still running.
    await world.fireAlarm(ALARM);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const record = await world.store.get(LISTENER.listenerArn);
      if (staleHeld && record?.lockOwner === undefined && (record?.history.length ?? 0) > 0) break;
      if (Date.now() > deadline) throw new Error(`the rollout did not end: ${JSON.stringify(record)}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(world.elb.weights).toEqual(START);
    expect(world.elb.swingRules).toEqual([]);
    release();
    await execution.idle;

    // Assess: the freeze never outlives the rollout (I9): no rule of Swing's answers writes 503 now.
    const left = world.elb.swingRules.map(
      (rule) => rule.tags.find((tag) => tag.Key === 'swing:rule')?.Value ?? rule.RuleArn,
    );
    expect(left).toEqual([]);
  });
});
