import { describe, expect, it } from 'vitest';
import { preflight } from '#domain/engine/preflight.ts';
import { safetyNet } from '#domain/engine/safety-net.ts';
import { shiftWeights } from '#domain/engine/shift-weights.ts';
import { forceRollback } from '#domain/force-rollback.ts';
import { SWING_RULE_TAG } from '#domain/listener-rules.ts';
import { SWING_RULE_SET } from '#domain/swing-rules.ts';
import type { SwingRulesPort } from '#domain/types.ts';
import { forceRollbackDeps } from '#test/support/forced-rollback.ts';
import { holdingCalls } from '#test/support/held-calls.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';

/**
 * Review 2 of issue 20 (`swing rollback --force --release-lock` at any moment). On a holder that still runs,
 * the forced rollback restores and removes the rollout's rules at once, then stops the execution and leaves the
 * rest to the safety net. A ShiftWeights that is creating the first read step's rules at that moment (the pins and
 * writes-to-source are made first, the read rules last) goes on after the forced removal: the read rules appear
 * with neither writes-to-source nor a pin in front of them. The safety net then sees the pins "deleted by someone"
 * and halts, touching nothing: the read rules keep sending reads, and the writes a read pattern matches
 * (POST /i/_doc/_search ...), to the target, with the lock released and no rollout left to remove them.
 */

const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:swing:forced';

/** A read rule is never on the listener without every pin and `writes-to-source` in front of it. */
function expectNoUnguardedReadRule(world: ReturnType<typeof readsFirstWorld>, when: string): void {
  const names = world.elb.swingRules.map(
    (rule) => rule.tags.find((tag) => tag.Key === SWING_RULE_TAG)?.Value ?? '',
  );
  const roleOf = (name: string) => SWING_RULE_SET.find((spec) => spec.name === name)?.role;
  if (!names.some((name) => roleOf(name) === 'reads')) return;
  const guards = SWING_RULE_SET.filter((spec) => spec.role !== 'reads').map((spec) => spec.name);
  expect(
    guards.filter((name) => !names.includes(name)),
    `${when}: read rules on the listener without these pins or writes-to-source`,
  ).toEqual([]);
}

describe('Review 2: swing rollback --force --release-lock while the first read step creates its rules', () => {
  it('leaves no read rule on the listener once the safety net has acted', async () => {
    const world = readsFirstWorld();
    // A throttled CreateRule (SDK retries) before the first read rule.
    const createReads = holdingCalls(
      world.deps.swingRules as SwingRulesPort,
      'createRule',
      (spec) => spec.role === 'reads',
    );
    const deps = { ...world.deps, swingRules: createReads.port };
    await preflight(deps, {
      executionArn: EXECUTION,
      input: { plan: '10:1000,100', traffic: 'reads-first', readsFirst: replayLagCutover() },
    });
    const step = shiftWeights(deps, { executionArn: EXECUTION, index: 0 });
    await world.until(() => createReads.stalled, 'the first read rule being created');

    // The operator forces the rollback: the holder runs, so it is stopped after the restore.
    let stopped = false;
    const forced = await forceRollback(
      forceRollbackDeps(world, {
        executions: {
          describe: async () => ({ status: 'RUNNING' }),
          stop: async () => {
            stopped = true;
          },
        },
      }),
      { releaseLock: true },
    );
    expect(forced).toMatchObject({ kind: 'done', stopped: true });
    expect(stopped).toBe(true);
    expectNoUnguardedReadRule(world, 'after the forced rollback');

    // The running step's CreateRule goes through; the step ends (its answer lost: the execution was stopped).
    createReads.release();
    await step.catch(() => undefined);
    expectNoUnguardedReadRule(world, 'after the stalled step landed its read rules');

    // The safety net, once its wait is over.
    const action = await safetyNet(
      { ...world.deps, waitAfterStopMs: 0 },
      {
        source: 'aws.states',
        'detail-type': 'Step Functions Execution Status Change',
        time: new Date().toISOString(),
        detail: { executionArn: EXECUTION, status: 'ABORTED' },
      },
    );

    const left = world.elb.swingRules.map((rule) => rule.Actions?.[0] ?? rule.RuleArn);
    expect(action).toBe('restored');
    expect(await world.lockOwner()).toBeUndefined();
    expect(
      world.elb.swingRules.length,
      `safety net ${action}; rules of Swing's left on the listener: ${JSON.stringify(left).slice(0, 300)}`,
    ).toBe(0);
  });
});
