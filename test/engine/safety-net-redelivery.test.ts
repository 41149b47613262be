import { describe, expect, it } from 'vitest';
import { safetyNet } from '#domain/engine/safety-net.ts';
import type { SwingRulesPort } from '#domain/types.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';
import { baking } from '#test/support/rollout-world.ts';

/**
 * Issue 20, a red fault-model seed (SWING_FC_SEED=2147483630): the safety net of a stopped reads-first rollout
 * removes its rules, one DeleteRule fails for good, and the invocation fails; Lambda delivers the event again.
 * The redelivered invocation finds the rule the first one deleted gone. That is Swing's own removal half done,
 * not a hand change: it finishes the removal and the rollout is rolled back, not halted.
 */

describe('A safety net whose rule removal failed half-way, delivered again', () => {
  it('finishes the removal instead of halting on its own deletion', async () => {
    const world = readsFirstWorld();
    const execution = world.start({ plan: '50:80000,100', readsFirst: replayLagCutover() });
    await world.until(baking(0), 'bake of the first read step');
    const real = world.deps.swingRules as SwingRulesPort;
    expect(world.elb.swingRules.length).toBeGreaterThan(1);

    let deletes = 0;
    const failingSecondDelete = new Proxy(real, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property !== 'deleteRule') return typeof value === 'function' ? value.bind(target) : value;
        return async (ruleArn: string) => {
          deletes += 1;
          if (deletes === 2) throw new Error('InvalidConfigurationRequest: DeleteRule refused');
          return real.deleteRule(ruleArn);
        };
      },
    });
    const event = {
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      time: new Date().toISOString(),
      detail: { executionArn: execution.executionArn, status: 'ABORTED' },
    };

    await expect(safetyNet({ ...world.deps, swingRules: failingSecondDelete }, event)).rejects.toThrow(
      'DeleteRule refused',
    );
    const action = await safetyNet(world.deps, event);

    expect(action).toBe('restored');
    expect(world.elb.swingRules).toEqual([]);
    expect((await world.store.get(world.deps.listenerArn))?.history.at(-1)?.outcome).toBe('rolled-back');
    execution.stop();
    await execution.result.catch(() => undefined);
  });
});
