import { describe, expect, it } from 'vitest';
import type { EngineDeps } from '#domain/engine/deps.ts';
import type { ReplayLagVerdict, Weights } from '#domain/types.ts';
import { currentInvocation } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { LAG_ALARM, replayLagCutover } from '#test/support/reads-first-world.ts';
import { ALARM, baking, makeWorld } from '#test/support/rollout-world.ts';

/**
 * An alarm in the write cutover's bake sends the rollout to Freeze while an operator runs `swing rollback --force`
 * (found by the fault model: SWING_FC_SEED=836222380 SWING_FC_PATH=100:109:0:0:0:0:0:0:0:2). The command records
 * forcedRollbackAt, then restores the listener by hand, between Freeze's read of the listener and its first
 * CreateRule. ELBv2 has no conditional write: Freeze must see the forced rollback in the record before each rule
 * it creates, or it freezes writes on a listener the operator has restored (I4: nothing written after a hand
 * change), refusing writes until its drain ends.
 */

const START: Weights = { source: 999, target: 0 };
const REVERSE_ALARM = 'swing-reverse-lag';

describe('Freeze meeting swing rollback --force', () => {
  it('creates no freeze rule once the forced rollback is recorded, and the rollout rolls back', async () => {
    // Arrange
    const world = makeWorld({ starting: START });
    let forced = false;
    const listener = world.deps.listener;
    const deps: EngineDeps = {
      ...world.deps,
      listener: Object.assign(Object.create(listener), {
        readWeights: async () => {
          const weights = await listener.readWeights();
          // The command lands right after Freeze's read: recorded first, then the hand restore.
          if (currentInvocation()?.stateName === 'Freeze' && !forced) {
            forced = true;
            const record = await world.store.get(LISTENER.listenerArn);
            await world.store.update(LISTENER.listenerArn, record?.lockOwner ?? '', {
              forcedRollbackAt: new Date().toISOString(),
            });
            world.elb.setByHand(START);
          }
          return weights;
        },
      }),
      replayLag: {
        check: async (): Promise<ReplayLagVerdict> => ({ caughtUp: true, detail: `${LAG_ALARM} is OK` }),
      },
      targetRequests: { countBetween: async () => 40 },
      replayLagAlarm: LAG_ALARM,
      reverseCapture: { lagAlarm: REVERSE_ALARM, missingData: 'lagging', drainTimeoutSeconds: 5 },
      reverseReplay: { check: async () => ({ drained: false, detail: `${REVERSE_ALARM} is in ALARM` }) },
    };
    const execution = world.sfn.start(deps, {
      traffic: 'reads-first',
      plan: '100:1',
      readsFirst: { ...replayLagCutover(), cutoverBakeSeconds: 80_000, afterCutover: 'rollback' },
    });
    await world.until(
      (rollout) => baking(1)(rollout) && rollout?.cutoverAt !== undefined,
      'the cutover bake',
    );

    // Act
    await world.fireAlarm(ALARM);
    const result = await execution.result;

    // Assess
    expect(forced).toBe(true);
    const handAt = world.elb.log.findIndex((event) => event.kind === 'hand');
    const writesAfter = world.elb.log
      .slice(handAt)
      .filter((event) => event.kind === 'call' && ['CreateRule', 'ModifyListener'].includes(event.operation));
    expect(writesAfter.map((event) => (event.kind === 'call' ? event.operation : ''))).toEqual([]);
    expect(world.elb.weights).toEqual(START);
    expect(world.elb.swingRules).toEqual([]);
    expect(result.status).toBe('FAILED');
    const last = (await world.store.get(LISTENER.listenerArn))?.history.at(-1);
    expect(last?.outcome).toBe('rolled-back');
  });
});
