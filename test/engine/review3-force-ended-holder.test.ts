import { describe, expect, it } from 'vitest';
import { preflight } from '#domain/engine/preflight.ts';
import { shiftWeights } from '#domain/engine/shift-weights.ts';
import { forceRollback } from '#domain/force-rollback.ts';
import { reconcile } from '#domain/reconciler.ts';
import { forceRollbackDeps, holderExecutions } from '#test/support/forced-rollback.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';

/**
 * Review 3 of issue 20: `swing rollback --force` (no `--release-lock`) on a reads-first rollout whose holder ENDED
 * more than the safety net's wait ago but still holds the lock (its status event lost: EventBridge delivers those
 * best effort; the reconciler runs only every 5 minutes).
 *
 * Sequence:
 *  1. A reads-first rollout's first read step wrote its rules (pins, writes-to-source, read rules at 10 %).
 *  2. Its execution fails outside the catch paths at T; the status event is lost, so the lock stays held.
 *  3. At T + 3 min the operator runs `swing rollback --force --yes` (without --release-lock, as the docs suggest
 *     first). The holder has ended and its safety net's due time has passed, so attemptMayAct is false: the
 *     command removes EVERY rule of the rollout, and records no `forcedRollbackAt` (recordForced only runs when
 *     an attempt may act). The lock stays held.
 *  4. The reconciler's next run settles the ended holder: the rules are missing, the record has no
 *     forcedRollbackAt, status is not rolling-back, so rulesDrift says "rules ... were deleted by someone":
 *     halted-drift, outcome `halted`, notified as a hand change ("Someone changed Swing's rules by hand").
 *
 * Breaks "a rollout halts only when someone changed the listener or Swing's rules by hand": the only change was
 * Swing's own forced rollback, and the operator is told a hand change happened (the traffic is fine: the
 * rules are gone). Same root cause as review3-force-then-abort: the forced rollback is recognised only when
 * forcedRollbackAt was written, and only settleEndedExecution reads it.
 */
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:swing:ended-holder';

describe('Review 3: swing rollback --force (no --release-lock) on an ended holder whose status event was lost', () => {
  it('is settled by the reconciler as rolled back, not halted as a hand change', async () => {
    const world = readsFirstWorld();
    await preflight(world.deps, {
      executionArn: EXECUTION,
      input: { plan: '10:1000,100', traffic: 'reads-first', readsFirst: replayLagCutover() },
    });
    await shiftWeights(world.deps, { executionArn: EXECUTION, index: 0 });
    expect(world.elb.swingRules.length).toBeGreaterThan(0);

    const endedAt = new Date(Date.now() - 180_000); // 2. failed 3 minutes ago, its status event lost
    const executions = holderExecutions('FAILED', endedAt);
    const forced = await forceRollback(forceRollbackDeps(world, { executions }), { releaseLock: false });
    expect(forced).toMatchObject({ kind: 'done', released: false });
    expect(world.elb.swingRules).toEqual([]);

    // 4. The reconciler, with the safety net's wait long over.
    const run = await reconcile({ ...world.deps, executions, waitAfterStopMs: 75_000 });
    const last = (await world.store.get(world.deps.listenerArn))?.history.at(-1);
    expect(
      { action: run.action, outcome: last?.outcome, error: last?.reason?.error },
      `reason recorded: ${last?.reason?.cause?.slice(0, 200)}`,
    ).toMatchObject({ action: expect.stringMatching(/restored/), outcome: 'rolled-back' });
    expect(world.notifications.map((n) => n.outcome)).not.toContain('halted');
  });
});
