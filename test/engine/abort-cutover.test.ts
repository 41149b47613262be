import { describe, expect, it } from 'vitest';
import { abortRollout, type OperatorResult } from '#domain/operator.ts';
import { makeWorld, operatorOf } from '#test/support/rollout-world.ts';

/**
 * Issue 20: an abort during the write cutover's ShiftWeights did not stop its ModifyListener. An abort that
 * lands before the cutover's write begins stops it (the write that begins a step is conditional on no abort);
 * one that lands while its ModifyListener is under way cannot call it back: the writes move, the rollback
 * follows at once, and the reply and the record say so.
 */
const START = { source: 1, target: 0 };

describe('An abort during the write cutover', () => {
  it('stops the cutover when it lands after ShiftWeights checked the flag, before its write began', async () => {
    // Prepare: the abort lands during the cutover's last alarm check (AfterBake has moved on: status shifting).
    const world = makeWorld();
    let abort: Promise<OperatorResult> | undefined;
    const evaluate = world.deps.alarms.evaluate.bind(world.deps.alarms);
    world.deps.alarms.evaluate = async () => {
      if (!abort && (await world.rollout())?.status === 'shifting')
        abort = abortRollout(operatorOf(world), 'test');
      return evaluate();
    };

    // Act
    const result = await world.start({
      traffic: 'reads-first',
      plan: '100:1',
      readsFirst: { cutoverGate: 'replay-lag' },
    }).result;

    // Assess: no ModifyListener at all, the writes never moved, nothing exposed.
    expect(await abort).toMatchObject({ delivered: 'flag-only' });
    expect(result).toMatchObject({ status: 'FAILED', error: 'Aborted' });
    expect(world.elb.writes).toEqual([]);
    const last = (await world.store.get(world.deps.listenerArn))?.history.at(-1);
    expect(last).toMatchObject({ outcome: 'rolled-back' });
    expect(last?.cutoverAt).toBeUndefined();
    expect(last?.exposure).toBeUndefined();
  });

  it('says so when it lands while the cutover is written, and the record tells when the writes moved', async () => {
    // Prepare: the abort lands as the cutover's ModifyListener reaches ELBv2.
    const world = makeWorld();
    let abort: Promise<OperatorResult> | undefined;
    world.elb.onModify = (weights) => {
      if (!abort && weights.target > 0) abort = abortRollout(operatorOf(world), 'test');
    };

    // Act
    const result = await world.start({
      traffic: 'reads-first',
      plan: '100:1',
      readsFirst: { cutoverGate: 'replay-lag' },
    }).result;

    // Assess: the cutover landed (it could not be called back), the rollback restored at once, and both the
    // reply and the record say the abort came during the cutover.
    expect(await abort).toMatchObject({ delivered: 'flag-only', duringCutover: true });
    expect(result).toMatchObject({ status: 'FAILED', error: 'Aborted' });
    expect(world.elb.weights).toEqual(START);
    const last = (await world.store.get(world.deps.listenerArn))?.history.at(-1);
    expect(last).toMatchObject({ outcome: 'rolled-back', abortDuringCutover: true });
    expect(last?.exposure?.cutoverAt).toBe(last?.cutoverAt);
    expect(last?.reason?.cause).toContain('while the write cutover was being written');
  });
});
