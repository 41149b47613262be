import { describe, expect, it } from 'vitest';
import type { EngineDeps } from '#domain/engine/deps.ts';
import type { ReplayLagVerdict, SwingRulesPort } from '#domain/types.ts';
import { currentInvocation } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';

/**
 * The write cutover's ShiftWeights cut by its function's timeout (Sandbox.Timedout) after the cutover's
 * ModifyListener, before the freeze is lifted: Lambda stops the handler, so its `finally` never runs. The state
 * machine tries ShiftWeights again on a timeout, and the retry, finding the cutover done, lifts the freeze and the
 * rollout goes on; before, the timeout went to Freeze and a cutover that had succeeded rolled back.
 */
describe("The write cutover's ShiftWeights cut by its timeout while frozen", () => {
  it('is tried again: the retry lifts the freeze, and the cutover stands', async () => {
    const world = readsFirstWorld();
    const real = world.deps.swingRules as SwingRulesPort;
    let cut = 0;
    const swingRules: SwingRulesPort = Object.assign(Object.create(real), {
      deleteRule: async (arn: string) => {
        const call = currentInvocation();
        const freezeRule = world.elb.swingRules.some(
          (rule) => rule.RuleArn === arn && rule.tags.some((tag) => tag.Value?.startsWith('freeze-')),
        );
        if (call?.stateName === 'ShiftWeights' && call.retryCount === 0 && freezeRule && cut === 0) {
          cut += 1;
          throw Object.assign(new Error('Task timed out after 30.00 seconds'), { name: 'Sandbox.Timedout' });
        }
        return real.deleteRule(arn);
      },
    });
    const caughtUp = async (): Promise<ReplayLagVerdict> => ({ caughtUp: true, detail: 'nothing queued' });
    Object.assign(world.deps, {
      swingRules,
      ruleSettleMs: 0,
      replayLag: { check: caughtUp, appliedBefore: caughtUp },
    } satisfies Partial<EngineDeps>);
    let freezeRulesInBake = -1;
    const execution = world.start({
      plan: '100:1',
      readsFirst: replayLagCutover({ scrollKeepAliveSeconds: 1 }),
    });
    await world.until(
      (rollout) => rollout?.cutoverAt !== undefined && rollout.taskKind === 'bake',
      'the cutover bakes',
    );
    freezeRulesInBake = world.elb.swingRules.filter((rule) =>
      rule.tags.some((tag) => tag.Value?.startsWith('freeze-')),
    ).length;
    const result = await execution.result;

    expect(cut).toBe(1);
    expect(freezeRulesInBake).toBe(0);
    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expect(world.elb.weights).toEqual({ source: 0, target: 999 });
    const last = (await world.store.get(LISTENER.listenerArn))?.history.at(-1);
    expect(last?.cutoverFreeze).toMatchObject({ liftedAt: expect.any(String) });
    expect(world.elb.swingRules).toEqual([]);
  });
});
