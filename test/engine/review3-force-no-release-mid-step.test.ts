import { describe, expect, it } from 'vitest';
import { forceRollback } from '#domain/force-rollback.ts';
import { SWING_RULE_TAG } from '#domain/listener-rules.ts';
import { SWING_RULE_SET } from '#domain/swing-rules.ts';
import type { SwingRulesPort } from '#domain/types.ts';
import { forceRollbackDeps } from '#test/support/forced-rollback.ts';
import { holdingCalls } from '#test/support/held-calls.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';

/**
 * Review 3 of issue 20: `swing rollback --force` WITHOUT --release-lock while the first read step creates its rules.
 *
 * Sequence:
 *  1. A reads-first rollout's first read step (ShiftWeights) has created the pins and writes-to-source; its first
 *     CreateRule of a read rule is throttled (SDK backoff, within the function's 30 s).
 *  2. The operator runs `swing rollback --force --yes` (the target misbehaves). The holder RUNNING: it records
 *     forcedRollbackAt, finds no read rule yet, keeps the pins, and reports the listener restored. Docs: "a
 *     rollout that still runs sees the change as drift and halts at its next check".
 *  3. The throttled CreateRule lands, the step creates all three read rules at 10 % and records readsWritten
 *     (its fenced record write does not look at forcedRollbackAt).
 *  4. The rollout runs on: every later check finds its rules exactly as recorded, no drift, so it ramps reads to
 *     100 %, cuts the writes over and completes, as if the operator had never rolled it back.
 *
 * Breaks I4 as the CLI states it for this command (the operator's restore is undone by Swing, and the rollout does
 * not halt), on the rollback path an operator uses in an emergency. ELBv2 has no conditional write, but the
 * forced rollback wrote DynamoDB (forcedRollbackAt) first: the step's fenced record writes could refuse once it
 * is set (the step then fails to Rollback, which must treat the forced removal as its own).
 */
const name = (rule: { tags: { Key?: string; Value?: string }[] }) =>
  rule.tags.find((tag) => tag.Key === SWING_RULE_TAG)?.Value ?? '';
const isRead = (ruleName: string) => SWING_RULE_SET.find((spec) => spec.name === ruleName)?.role === 'reads';

describe('Review 3: swing rollback --force (no --release-lock) while the first read step creates its rules', () => {
  it('does not let the rollout ramp on and complete after the forced rollback', async () => {
    const world = readsFirstWorld();
    const createReads = holdingCalls(
      world.deps.swingRules as SwingRulesPort,
      'createRule',
      (spec) => spec.role === 'reads',
    );
    const execution = world.sfn.start(
      { ...world.deps, swingRules: createReads.port },
      { traffic: 'reads-first', plan: '10:1,50:1,100:1', readsFirst: replayLagCutover() },
    );
    await world.until(() => createReads.stalled, 'the first read rule being created');

    const forced = await forceRollback(forceRollbackDeps(world), { releaseLock: false });
    expect(forced).toMatchObject({ kind: 'done', stopped: false });
    const forcedAt = world.elb.log.length;

    createReads.release();
    const result = await execution.result;
    const last = (await world.store.get(world.deps.listenerArn))?.history.at(-1);
    const readShareRaisedAfter = world.elb.log
      .slice(forcedAt)
      .some((event) => event.kind === 'call' && ['ModifyRule', 'ModifyListener'].includes(event.operation));
    expect
      .soft(
        { status: result.status, outcome: last?.outcome, listenerTarget: world.elb.weights.target },
        'the rollout after `swing rollback --force` reported the listener restored',
      )
      .not.toMatchObject({ status: 'SUCCEEDED' });
    expect
      .soft(
        readShareRaisedAfter,
        'Swing re-weighted a read rule up or cut the writes over after the forced rollback (the stalled CreateRule itself cannot be fenced)',
      )
      .toBe(false);
    expect.soft(world.elb.swingRules.map(name).filter(isRead)).toEqual([]);
  });
});
