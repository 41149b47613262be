import { describe, expect, it, vi } from 'vitest';
import { pauseRollout, promoteGate, resumeRollout } from '#domain/operator.ts';
import type { Rollout } from '#domain/types.ts';
import { percentToWeights } from '#domain/weights.ts';
import { operatorOf } from '#test/support/rollout-world.ts';
import { settleWithin, useVirtualClock, virtualClockWorld } from '#test/support/virtual-clock.ts';

/**
 * Issue 20, defects 1 and 5: a pause holds whatever moment it arrives, even at a gate that would promote on its
 * timeout, and `swing resume` ends a pause only: the cutover gate and the plan's gates need `swing promote`.
 * The real ASL on the executor, on a virtual clock (a second of a plan is a second of vitest's fake clock).
 */

const START = { source: 1, target: 0 };

const gateOpen = (rollout: Rollout | undefined) => rollout?.taskKind === 'gate' && !!rollout.taskToken;

/** Advances the virtual clock until the record says so (bounded: fails instead of hanging). */
async function until(
  world: ReturnType<typeof virtualClockWorld>,
  predicate: (r: Rollout | undefined) => boolean,
) {
  for (let ms = 0; ms < 120_000; ms += 100) {
    if (predicate(await world.rollout())) return;
    await vi.advanceTimersByTimeAsync(100);
  }
  throw new Error(`not reached; record: ${JSON.stringify(await world.rollout())}`);
}

describe('A pause holds whatever moment it arrives', () => {
  useVirtualClock();

  it('holds at an open gate whose timeout action is promote: the gate does not pass on its timeout', async () => {
    // Prepare: a gate after step 1 that promotes after 60 s; the pause arrives once it is open.
    const world = virtualClockWorld();
    const execution = world.start({ plan: '10:1!,100:1', gate: { timeoutSeconds: 60, action: 'promote' } });
    await until(world, gateOpen);

    // Act
    await pauseRollout(operatorOf(world));
    await vi.advanceTimersByTimeAsync(90_000);

    // Assess: past the gate's timeout the target still has step 1's share; resume then goes on.
    expect(world.elb.weights).toEqual(percentToWeights(10));
    expect(world.elb.writes).not.toContainEqual(percentToWeights(100));
    await resumeRollout(operatorOf(world));
    const { value: result } = await settleWithin(execution.result, 120_000);
    expect(result).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('holds at the write cutover gate whose timeout action is promote: writes never move, and it rolls back', async () => {
    // Prepare: reads-first, one read step, the cutover gate promotes after 60 s.
    const world = virtualClockWorld();
    const execution = world.start({
      traffic: 'reads-first',
      plan: '50:1,100:1',
      readsFirst: {
        cutoverGate: 'manual',
        cutoverGateTimeoutSeconds: 60,
        cutoverGateTimeoutAction: 'promote',
      },
    });
    await until(world, gateOpen);

    // Act
    await pauseRollout(operatorOf(world));
    await vi.advanceTimersByTimeAsync(90_000);

    // Assess: past the gate's timeout no ModifyListener at all (the default action never moved); the pause's
    // own timeout then rolls back, losing nothing.
    expect(world.elb.writes).toEqual([]);
    const { value: result } = await settleWithin(execution.result, 600_000);
    expect(world.elb.writes).toEqual([]);
    expect(world.elb.weights).toEqual(START);
    expect(result).toMatchObject({ status: 'FAILED', error: 'GateTimedOut' });
    expect(world.elb.swingRules).toEqual([]);
  });
});

describe('`swing resume` ends a pause only: gates need `swing promote`', () => {
  useVirtualClock();

  const readsFirst = (world: ReturnType<typeof virtualClockWorld>, plan: string) => {
    return world.start({ traffic: 'reads-first', plan, readsFirst: { cutoverGate: 'manual' } });
  };

  it('does not pass the write cutover gate; promote does', async () => {
    const world = virtualClockWorld();
    const execution = readsFirst(world, '50:1,100:1');
    await until(world, gateOpen);
    const modifiesBefore = world.elb.writes.length;

    const resumed = await resumeRollout(operatorOf(world));
    await vi.advanceTimersByTimeAsync(10_000);

    expect(resumed.delivered).not.toBe('task-succeeded');
    expect(world.elb.weights).toEqual(START);
    expect(world.elb.writes).toHaveLength(modifiesBefore);
    expect((await world.rollout())?.cutoverStartedAt).toBeUndefined();
    expect(await promoteGate(operatorOf(world))).toMatchObject({ delivered: 'task-succeeded' });
    // The cutover's bake, then the pins' own (600 s each by default).
    const { value: result } = await settleWithin(execution.result, 2_000_000, 1000);
    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expect(world.elb.weights).toEqual({ source: 0, target: 999 });
  });

  it('ending a pause taken in the last read step does not cut writes over', async () => {
    // Prepare: the pause arrives during the last read step's bake; the cutover gate follows it.
    const world = virtualClockWorld();
    const execution = readsFirst(world, '50:30,100:30');
    await until(world, (rollout) => rollout?.taskKind === 'bake' && rollout.stepIndex === 1);
    await pauseRollout(operatorOf(world));
    await until(world, (rollout) => !!rollout?.taskToken && rollout.taskKind !== 'bake');

    // Act
    await resumeRollout(operatorOf(world));
    await vi.advanceTimersByTimeAsync(10_000);

    // Assess: still at the cutover gate, writes on the source; promote cuts them over.
    expect(world.elb.weights).toEqual(START);
    expect(await world.rollout()).toMatchObject({ taskKind: 'gate', status: 'gated' });
    await promoteGate(operatorOf(world));
    const { value: result } = await settleWithin(execution.result, 2_000_000, 1000);
    expect(result).toMatchObject({ status: 'SUCCEEDED' });
  });
});
