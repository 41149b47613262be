import { describe, expect, it } from 'vitest';
import { currentInvocation } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { losslessWorld, START } from '#test/support/lossless-world.ts';
import { ALARM } from '#test/support/rollout-world.ts';

/**
 * An alarm in the write cutover's bake sends the rollout to Freeze while an operator runs `swing rollback --force`
 * (found by the fault model: SWING_FC_SEED=836222380 SWING_FC_PATH=100:109:0:0:0:0:0:0:0:2). The command records
 * forcedRollbackAt, then restores the listener by hand, between Freeze's read of the listener and its first
 * CreateRule. ELBv2 has no conditional write: Freeze must see the forced rollback in the record before its
 * first rule and after each, or it freezes writes on a listener the operator has restored (I4: nothing written after a hand
 * change), refusing writes until its drain ends.
 */

describe('Freeze meeting swing rollback --force', () => {
  it('creates no freeze rule once the forced rollback is recorded, and the rollout rolls back', async () => {
    // Arrange: the reverse replayer never drains; a short drain bound ends the run either way.
    const run = losslessWorld({ drainTimeoutSeconds: 5 });
    let forced = false;
    const listener = run.world.deps.listener;
    const forcing = Object.assign(Object.create(listener), {
      readWeights: async () => {
        const weights = await listener.readWeights();
        // The command lands right after Freeze's read: recorded first, then the hand restore.
        if (currentInvocation()?.stateName === 'Freeze' && !forced) {
          forced = true;
          const record = await run.world.store.get(LISTENER.listenerArn);
          await run.world.store.update(LISTENER.listenerArn, record?.lockOwner ?? '', {
            forcedRollbackAt: new Date().toISOString(),
          });
          run.world.elb.setByHand(START);
        }
        return weights;
      },
    });
    Object.assign(run.world.deps, { listener: forcing });
    await run.inCutoverBake();

    // Act
    await run.world.fireAlarm(ALARM);
    const result = await run.execution.result;

    // Assess
    expect(forced).toBe(true);
    const handAt = run.world.elb.log.findIndex((event) => event.kind === 'hand');
    const writesAfter = run.world.elb.log
      .slice(handAt)
      .filter((event) => event.kind === 'call' && ['CreateRule', 'ModifyListener'].includes(event.operation));
    expect(writesAfter.map((event) => (event.kind === 'call' ? event.operation : ''))).toEqual([]);
    expect(run.world.elb.weights).toEqual(START);
    expect(run.world.elb.swingRules).toEqual([]);
    expect(result.status).toBe('FAILED');
    expect((await run.finished())?.outcome).toBe('rolled-back');
  });
});
