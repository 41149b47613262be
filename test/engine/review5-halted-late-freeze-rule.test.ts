import { describe, expect, it } from 'vitest';
import { DEFAULT_READS_FIRST } from '#domain/reads-first.ts';
import { FREEZE_RULE_SET } from '#domain/swing-rules.ts';
import type { SwingRulesPort, Weights } from '#domain/types.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { freezeRulesOn, losslessWorld } from '#test/support/lossless-world.ts';
import { ALARM } from '#test/support/rollout-world.ts';

/**
 * Review 5 (issue 22, after 71a0cff): a stale Freeze attempt's freeze rule that lands after a HALTED rollout ended
 * stands for good. 71a0cff leaves "a Lambda that dies between a CreateRule and its check" to "the reconciler's
 * sweep of a rolled-back rollout's rules", but that sweep (reconciler.ts sweepLeftoverRules) skips every rule of a
 * rollout halted for drift ("the operator decides"), freeze rules included, although a halt never leaves a freeze
 * (Halt and the settlers lift it: I9). AWS sequence: an alarm in the cutover's bake rolls back; Freeze's first
 * attempt loses its answer (Lambda.ServiceException) while its Lambda runs on, its CreateRule of `freeze-post`
 * slowed by ELBv2 throttling and the SDK's backoff; the Retry freezes; during the drain the operator changes the
 * weights by hand; Rollback halts (I4), Halt lifts the freeze and Finalize sweeps the execution's freeze rules,
 * then releases the lock; the stale attempt's CreateRule lands now, and Lambda's timeout cuts it before its record
 * check (createMissingFreezeRules) could remove it. `freeze-post` answers every POST no earlier rule takes (writes
 * and POST reads the listener's own rules do not match) with 503, with no rollout to lift it, whatever the
 * reconciler runs.
 */

describe('Review 5: a late freeze rule of a halted rollout', () => {
  it('is removed by the reconciler (I9: a freeze never outlives its rollout)', async () => {
    // Prepare: the rollback froze and drains; the operator changes the weights by hand; the drain ends and
    // Rollback halts on the hand change.
    const lossless = losslessWorld({ drainTimeoutSeconds: 600 });
    const { world } = lossless;
    await lossless.inCutoverBake();
    await world.fireAlarm(ALARM);
    await lossless.draining();
    const executionArn = (await world.store.get(LISTENER.listenerArn))?.lockOwner ?? '';
    const byHand: Weights = { source: 500, target: 499 };
    world.elb.setByHand(byHand);
    lossless.reverse.drained = true;
    await lossless.reverseLagOk();
    await lossless.execution.result;
    const last = (await world.store.get(LISTENER.listenerArn))?.history.at(-1);
    expect(last?.outcome).toBe('halted');
    expect(freezeRulesOn(world)).toEqual([]);

    // Act: the stale Freeze attempt's CreateRule lands (its Lambda cut before its check); the reconciler runs.
    const spec = FREEZE_RULE_SET.find((rule) => rule.name === 'freeze-post');
    if (!spec) throw new Error('freeze-post is in FREEZE_RULE_SET');
    const base = DEFAULT_READS_FIRST.basePriority;
    await (world.deps.swingRules as SwingRulesPort).createRule(
      spec,
      base + spec.offset,
      byHand,
      executionArn,
    );
    expect(freezeRulesOn(world)).toHaveLength(1);
    await world.sfn.reconcile(world.deps);

    // Assess: no freeze rule stands after the rollout; the operator's weights untouched (I4).
    expect(freezeRulesOn(world)).toEqual([]);
    expect(world.elb.weights).toEqual(byHand);
  });
});
