import { describe, expect, it } from 'vitest';
import { forceRollback } from '#domain/force-rollback.ts';
import { abortRollout } from '#domain/operator.ts';
import { forceRollbackDeps } from '#test/support/forced-rollback.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';
import { baking, operatorOf } from '#test/support/rollout-world.ts';

/**
 * Review 3 of issue 20: `swing rollback --force` WITHOUT `--release-lock` on a reads-first rollout that still runs.
 *
 * Sequence (every step an ordinary operator action, no special AWS timing needed):
 *  1. A reads-first rollout bakes its first read step (read rules at 10 %, pins and writes-to-source in front).
 *  2. The operator runs `swing rollback --force --yes`. The holder RUNNING, so (3e3b1de) the command records
 *     `forcedRollbackAt`, removes only the three read rules and KEEPS the pins and writes-to-source "until no task
 *     of the holder can still create a read rule".
 *  3. The operator then does what docs/guarantees.md and the CLI's own confirm text say ends it: `swing abort`
 *     ("A holder that is not stopped (no --release-lock) runs on behind its pins; `swing abort` ends it and its
 *     rollback removes them"; keptText: "its own rollback after `swing abort`) removes them").
 *  4. Rollback reads the rules: the three read rules are missing. Only settleEndedExecution (safety net,
 *     reconciler) looks at `forcedRollbackAt`; Rollback's rulesDrift does not, so it takes the forced
 *     rollback's own removal for a hand change: WeightsDrifted -> Halt ("Someone changed Swing's rules by hand").
 *  5. Halt releases the lock with the pins and writes-to-source on the listener. The reconciler's sweep leaves
 *     "rules of a halted rollout" alone forever (sweepLeftoverRules), so they are never removed.
 *
 * Breaks: I9 (nothing of Swing's left behind: 4 rules stay for good) and "a rollout halts only when someone
 * changed the listener or Swing's rules by hand" (the only change was Swing's own recorded forced rollback; the
 * halt notification blames a hand change). The same happens on any other path the running holder takes next: an
 * alarm's Rollback, the next ShiftWeights or Complete (unchangedRules / rulesDrift), so the docs' promise that
 * the kept rules are removed by "whoever then settles the rollout" holds only for the safety net.
 */
describe('Review 3: swing rollback --force (no --release-lock), then swing abort, on a reads-first rollout', () => {
  it('rolls back (not halts) and leaves no rule of Swing behind once the reconciler has run', async () => {
    const world = readsFirstWorld();
    // A long first read step's bake (80 000 s at 1 ms per second: 80 s of real time, far beyond the test).
    const execution = world.start({ plan: '10:80000,100', readsFirst: replayLagCutover() });
    await world.until(baking(0), 'the first read step baking');
    expect(world.elb.swingRules.length).toBeGreaterThan(3);

    // 2. swing rollback --force --yes (no --release-lock): the holder runs.
    const forced = await forceRollback(
      forceRollbackDeps(world, {
        executions: {
          describe: (arn) => world.sfn.describe(arn),
          stop: async () => {
            throw new Error('not stopped without --release-lock');
          },
        },
      }),
      { releaseLock: false },
    );
    expect(forced).toMatchObject({ kind: 'done', stopped: false, released: false });
    if (forced.kind !== 'done') return;
    expect(
      forced.plan.rulesKept.length,
      'pins and writes-to-source kept for the holder to remove',
    ).toBeGreaterThan(0);

    // 3. swing abort, as the docs say ends it and removes the kept rules.
    await abortRollout(operatorOf(world), 'operator');
    const result = await execution.result;

    // 5. The scheduled reconciler, an hour later (no execution can act any more).
    const anHourLater = new Date(Date.now() + 3_600_000);
    await world.sfn.reconcile({ ...world.deps, now: () => anHourLater });
    await world.sfn.reconcile({ ...world.deps, now: () => anHourLater });

    const last = (await world.store.get(world.deps.listenerArn))?.history.at(-1);
    const left = world.elb.swingRules.map((rule) => rule.Priority);
    expect(await world.lockOwner()).toBeUndefined();
    expect
      .soft(
        { status: result.status, error: (result as { error?: string }).error, outcome: last?.outcome },
        `the rollout's end; its reason: ${last?.reason?.cause?.slice(0, 240)}`,
      )
      .toMatchObject({ status: 'FAILED', error: 'Aborted', outcome: 'rolled-back' });
    expect.soft(left, "rules of Swing's left on the listener for good (I9)").toEqual([]);
  });
});
