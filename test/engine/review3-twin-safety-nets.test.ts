import { describe, expect, it } from 'vitest';
import { preflight } from '#domain/engine/preflight.ts';
import { safetyNet } from '#domain/engine/safety-net.ts';
import { shiftWeights } from '#domain/engine/shift-weights.ts';
import { TransientFailure } from '#domain/errors.ts';
import { reconcile } from '#domain/reconciler.ts';
import type { SwingRulesPort } from '#domain/types.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';

/**
 * Review 3 of issue 20: two deliveries of ONE status event (EventBridge delivers at least once) wake at the same
 * instant: each safety net sleeps until `event.time` + 75 s, and both have the same event time. e3879e1 made a
 * safety net record rolling-back before its first change, so that a LATER invocation (a redelivery after a failed
 * removal) takes the rules it finds missing for Swing's own. Two twins that both re-read the record after their
 * wait, before either marks it, do not benefit:
 *
 *  1. A reads-first rollout's first read step wrote its rules; the execution is stopped at T; the event is
 *     delivered twice (twins A and B), both sleep until T+75 s.
 *  2. Both wake and read the record: status baking, lock held.
 *  3. A reads the listener and the rules, marks rolling-back and deletes the first read rule.
 *  4. B's DescribeRules (a few hundred ms slower) sees that rule missing. Its rollout object says baking (read in
 *     2), attempt 1, no forcedRollbackAt: rulesDrift -> "rules ... were deleted by someone" -> halted-drift. B wins
 *     notifyOnce with `halted` ("Someone changed Swing's rules by hand") and releases the lock as halted.
 *  5. A finishes its removal; its notification and release find it done.
 *
 * Breaks "a rollout halts only when someone changed the listener or Swing's rules by hand" (nobody did). If A's
 * removal then fails for good (DeleteRule throttled past its 5 tries), its Lambda retries find the lock free
 * (nothing-held) and the reconciler's sweep leaves "rules of a halted rollout" alone forever: I9 (second case).
 * Suggested fix: judge "missing" against a record read after the rules (or re-read it when rules are missing and
 * accept missing rules once it says rolling-back), and let the reconciler sweep rules of a rollout halted only for
 * missing rules.
 */
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:swing:twins';

function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

async function twins(removalFailsForGood: boolean) {
  const world = readsFirstWorld();
  await preflight(world.deps, {
    executionArn: EXECUTION,
    input: { plan: '10:1000,100', traffic: 'reads-first', readsFirst: replayLagCutover() },
  });
  await shiftWeights(world.deps, { executionArn: EXECUTION, index: 0 });
  expect(world.elb.swingRules.length).toBeGreaterThan(0);
  const event = {
    source: 'aws.states',
    'detail-type': 'Step Functions Execution Status Change',
    time: new Date().toISOString(),
    detail: { executionArn: EXECUTION, status: 'ABORTED' },
  };
  const real = world.deps.swingRules as SwingRulesPort;
  const bWoke = gate();
  const aDeletedOne = gate();
  let aDeletes = 0;
  const rulesOfA = new Proxy(real, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property !== 'deleteRule') return typeof value === 'function' ? value.bind(target) : value;
      return async (arn: string) => {
        aDeletes += 1;
        if (aDeletes >= 2 && removalFailsForGood) {
          throw new TransientFailure('DeleteRule: Throttling');
        }
        await real.deleteRule(arn);
        if (aDeletes === 1) aDeletedOne.open();
      };
    },
  });
  const rulesOfB = new Proxy(real, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property !== 'readSwingRules') return typeof value === 'function' ? value.bind(target) : value;
      return async () => {
        // B has read the record (woken with A); its DescribeRules answers after A's first DeleteRule.
        bWoke.open();
        await aDeletedOne.opened;
        return real.readSwingRules();
      };
    },
  });
  const wait = { waitAfterStopMs: 75_000 };
  const twinB = safetyNet({ ...world.deps, ...wait, swingRules: rulesOfB, sleep: async () => {} }, event);
  const twinA = safetyNet(
    { ...world.deps, ...wait, swingRules: rulesOfA, sleep: () => bWoke.opened },
    event,
  ).catch((error: unknown) => `threw ${String(error).slice(0, 60)}`);
  const actions = { a: await twinA, b: await twinB };
  if (removalFailsForGood) {
    // Lambda's two retries of A, then the reconciler an hour later.
    await safetyNet({ ...world.deps, waitAfterStopMs: 0 }, event);
    await safetyNet({ ...world.deps, waitAfterStopMs: 0 }, event);
    const later = new Date(Date.now() + 3_600_000);
    await reconcile({
      ...world.deps,
      now: () => later,
      executions: { describe: async () => ({ status: 'ABORTED', stoppedAt: new Date() }) },
    });
  }
  const last = (await world.store.get(world.deps.listenerArn))?.history.at(-1);
  return { world, actions, last };
}

describe('Review 3: one status event delivered twice, both safety nets waking together', () => {
  it('rolls back, never halted for a hand change nobody made', async () => {
    const { world, actions, last } = await twins(false);
    expect(
      { ...actions, outcome: last?.outcome },
      `recorded reason: ${last?.reason?.cause?.slice(0, 160)}`,
    ).toMatchObject({ outcome: 'rolled-back' });
    expect(world.notifications.map((notification) => notification.outcome)).toEqual(['rolled-back']);
  });

  it("leaves no rule of Swing's behind when the removal then fails for good", async () => {
    const { world } = await twins(true);
    expect(world.elb.swingRules.length, "rules of Swing's left for good (I9)").toBe(0);
  });
});
