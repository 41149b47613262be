import { describe, expect, it } from 'vitest';
import type { EngineDeps } from '#domain/engine/deps.ts';
import { preflight } from '#domain/engine/preflight.ts';
import { safetyNet } from '#domain/engine/safety-net.ts';
import { shiftWeights } from '#domain/engine/shift-weights.ts';
import { FREEZE_RULE_SET } from '#domain/swing-rules.ts';
import type { ReplayLagVerdict } from '#domain/types.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';

/**
 * Review 4 (issue 22): a write cutover whose ShiftWeights died while frozen (Lambda's timeout cuts the handler in
 * its wait for the replayer, so its `finally` never lifts the freeze: see review4-cutover-freeze-budget), then the
 * operator, seeing writes refused, stops the execution and sets the weights by hand. The safety net halts on the
 * hand change (I4) and must still lift the freeze (docs/guarantees.md: "Halt and the settlers lift a
 * cutoverFreeze not lifted"; a freeze left refuses writes with nobody to lift it, and the reconciler never sweeps
 * the rules of a halted rollout). Its halted branch lifts only the rollback's `freeze`, not a `cutoverFreeze`.
 * Engine functions called directly, so that ShiftWeights can be held dead in its wait.
 */

const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:swing:cutover-frozen';

describe('Review 4: the safety net halting a rollout whose cutover froze writes', () => {
  it('lifts the cutover freeze when it halts on a hand change', async () => {
    const world = readsFirstWorld();
    // The replayer never empties within the invocation: ShiftWeights waits in its freeze until Lambda kills it.
    const neverApplied = new Promise<ReplayLagVerdict>(() => undefined);
    const deps: EngineDeps = {
      ...world.deps,
      replayLag: {
        check: async () => ({ caughtUp: true, detail: 'lag under the threshold' }),
        appliedBefore: () => neverApplied,
      },
    };
    await preflight(deps, {
      executionArn: EXECUTION,
      input: { traffic: 'reads-first', plan: '100:1', readsFirst: replayLagCutover() },
    });
    await shiftWeights(deps, { executionArn: EXECUTION, index: 0 });
    void shiftWeights(deps, { executionArn: EXECUTION, index: 1 }).catch(() => undefined);
    await world.until((rollout) => rollout?.cutoverFreeze?.frozenAt !== undefined, 'the cutover freeze');
    const frozenRules = () =>
      world.elb.swingRules.filter((rule) => rule.tags.some((tag) => tag.Value?.startsWith('freeze-')));
    expect(frozenRules()).toHaveLength(FREEZE_RULE_SET.length);

    // Act: the operator sets the weights by hand and stops the execution; its safety net acts.
    world.elb.setByHand({ source: 900, target: 99 });
    const action = await safetyNet(
      { ...deps, waitAfterStopMs: 0 },
      {
        source: 'aws.states',
        'detail-type': 'Step Functions Execution Status Change',
        time: new Date().toISOString(),
        detail: { executionArn: EXECUTION, status: 'ABORTED' },
      },
    );

    // Assess: halted for the hand change, the listener left as the operator set it, but no freeze left (I9).
    expect(action).toBe('halted-drift');
    expect(world.elb.weights).toEqual({ source: 900, target: 99 });
    expect((await world.store.get(LISTENER.listenerArn))?.lockOwner).toBeUndefined();
    expect(frozenRules().map((rule) => rule.tags.find((tag) => tag.Key === 'swing:rule')?.Value)).toEqual([]);
  });
});
