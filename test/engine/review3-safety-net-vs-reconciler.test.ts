import { describe, expect, it } from 'vitest';
import { preflight } from '#domain/engine/preflight.ts';
import { safetyNet } from '#domain/engine/safety-net.ts';
import { shiftWeights } from '#domain/engine/shift-weights.ts';
import { TransientFailure } from '#domain/errors.ts';
import { reconcile } from '#domain/reconciler.ts';
import type { SwingRulesPort } from '#domain/types.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';

/**
 * Review 3 of issue 20: the safety net and the scheduled reconciler settle the same ended holder at once.
 *
 * Both are allowed to act from the stop + SAFETY_NET_WAIT_SECONDS (75 s) on: the safety net (started by the status
 * event a few seconds after the stop) sleeps until then and acts; the reconciler (every 5 minutes, at any phase)
 * acts on any holder that ended at least 75 s ago. Nothing orders them: settleEndedExecution uses the record the
 * reconciler read at its start, and e3879e1's "rolling-back" mark only helps a reader that reads the record AFTER
 * it. Sequence:
 *  1. A reads-first rollout's first read step has written its rules; the execution is stopped at T.
 *  2. At T + 75 s the reconciler's run reads the record (status baking, lock held), then calls DescribeExecution
 *     (a normal ~100 ms call, or a throttled one retried by the SDK).
 *  3. Meanwhile the safety net, its wait over, marks rolling-back and starts removing the rules: it has deleted the
 *     first read rule when its next DeleteRule is throttled (SDK backoff).
 *  4. The reconciler goes on with its stale record: the read rule is missing, the status it read is not
 *     rolling-back, attempt 1: rulesDrift says "deleted by someone" -> halted-drift. It notifies `halted` ("Someone
 *     changed Swing's rules by hand") and releases the lock as halted.
 *  5. The safety net finishes its removal; its release and notification find the lock gone.
 *
 * Breaks "a rollout halts only when someone changed the listener or Swing's rules by hand": nobody did; the
 * operator is told to hunt for a hand change. (Had the safety net's removal then failed for good, its Lambda retry
 * finds the lock released -> nothing-held, and the reconciler's sweep leaves "rules of a halted rollout" alone
 * forever: I9.) Suggested fix: settleEndedExecution re-reads the record (or the reconciler passes none) before
 * judging drift, or treats missing rules as its own when the record it re-reads says rolling-back.
 */
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:swing:both-settle';

function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

function statusEvent(stoppedAt: Date) {
  return {
    source: 'aws.states',
    'detail-type': 'Step Functions Execution Status Change',
    time: stoppedAt.toISOString(),
    detail: { executionArn: EXECUTION, status: 'ABORTED' },
  };
}

async function scenario(deleteFailsForGood: boolean) {
  const world = readsFirstWorld();
  await preflight(world.deps, {
    executionArn: EXECUTION,
    input: { plan: '10:1000,100', traffic: 'reads-first', readsFirst: replayLagCutover() },
  });
  await shiftWeights(world.deps, { executionArn: EXECUTION, index: 0 });
  const rulesBefore = world.elb.swingRules.length;
  expect(rulesBefore).toBeGreaterThan(0);
  const stoppedAt = new Date(Date.now() - 76_000);

  // 2. The reconciler has read the record and waits on DescribeExecution.
  const describeAnswer = gate();
  let described = false;
  const reconciling = reconcile({
    ...world.deps,
    waitAfterStopMs: 75_000,
    executions: {
      describe: async () => {
        described = true;
        await describeAnswer.opened;
        return { status: 'ABORTED', stoppedAt };
      },
    },
  });
  await world.until(() => described, "the reconciler's DescribeExecution");

  // 3. The safety net deletes the first rule, then its next DeleteRule is throttled.
  const real = world.deps.swingRules as SwingRulesPort;
  const throttled = gate();
  let deletes = 0;
  const firstDeleted = gate();
  const stallingRules = new Proxy(real, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property !== 'deleteRule') return typeof value === 'function' ? value.bind(target) : value;
      return async (arn: string) => {
        deletes += 1;
        if (deletes === 2) {
          firstDeleted.open();
          await throttled.opened;
        }
        // ELBv2 throttling that outlasts the safety net's five attempts (TransientFailure after the SDK's).
        if (deleteFailsForGood && deletes >= 2) throw new TransientFailure('DeleteRule: Throttling');
        return real.deleteRule(arn);
      };
    },
  });
  const safety = safetyNet(
    { ...world.deps, swingRules: stallingRules, waitAfterStopMs: 0 },
    statusEvent(stoppedAt),
  );
  await firstDeleted.opened;

  // 4. DescribeExecution answers: the reconciler settles with the record it read before the safety net acted.
  describeAnswer.open();
  const run = await reconciling;
  // 5. The safety net's DeleteRule goes through.
  throttled.open();
  const action = await safety.catch((error: unknown) => `threw ${String(error)}`.slice(0, 80));
  if (deleteFailsForGood) {
    // Lambda retries the async invocation (twice), then the reconciler runs on, an hour later.
    for (let retry = 0; retry < 2; retry += 1) {
      await safetyNet({ ...world.deps, waitAfterStopMs: 0 }, statusEvent(stoppedAt));
    }
    const anHourLater = new Date(Date.now() + 3_600_000);
    await reconcile({
      ...world.deps,
      now: () => anHourLater,
      executions: { describe: async () => ({ status: 'ABORTED', stoppedAt }) },
    });
  }

  const last = (await world.store.get(world.deps.listenerArn))?.history.at(-1);
  expect
    .soft(
      { reconciler: run.action, safetyNet: action, outcome: last?.outcome },
      `recorded reason: ${last?.reason?.cause?.slice(0, 160)}`,
    )
    .toMatchObject({ outcome: 'rolled-back' });
  expect.soft(world.notifications.map((notification) => notification.outcome)).not.toContain('halted');
  expect.soft(world.elb.swingRules.length, "rules of Swing's left for good (I9)").toBe(0);
}

describe('Review 3: the safety net and the reconciler settle one ended holder at the same time', () => {
  it('records the rollout rolled back, not halted for a hand change nobody made', async () => {
    await scenario(false);
  });

  it("leaves no rule of Swing's behind when the safety net's removal then fails for good", async () => {
    await scenario(true);
  });
});
