import { describe, expect, it } from 'vitest';
import { preflight } from '#domain/engine/preflight.ts';
import { type SafetyNetDeps, safetyNet } from '#domain/engine/safety-net.ts';
import { shiftWeights } from '#domain/engine/shift-weights.ts';
import type { Weights } from '#domain/types.ts';
import { percentToWeights } from '#domain/weights.ts';
import { makeWorld } from '#test/support/rollout-world.ts';

/**
 * StopExecution does not stop a Lambda that is running: a ShiftWeights write can land after the execution
 * ended, while the safety net acts. These tests call the engine functions directly so that the write can be
 * held in flight, which no executor here allows (they settle running tasks first).
 */

const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:swing:stopped-mid-shift';
const START: Weights = { source: 999, target: 0 };
const aborted = {
  source: 'aws.states',
  'detail-type': 'Step Functions Execution Status Change',
  detail: { executionArn: EXECUTION, status: 'ABORTED' },
};

/**
 * A rollout at step 1 (10 %) whose ShiftWeights to step 2 (50 %) is held in flight: still checking the alarms
 * (it has not marked its write yet), or with its write marked and not yet sent.
 */
async function stoppedMidShift(heldAt: 'alarm check' | 'write') {
  const world = makeWorld({ starting: START });
  let resume: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    resume = resolve;
  });
  let holding = false;
  const holdOnce = async () => {
    if (!holding) return;
    holding = false;
    await held;
  };
  const listener = {
    ...world.deps.listener,
    stickinessSeconds: () => world.deps.listener.stickinessSeconds(),
    readWeights: () => world.deps.listener.readWeights(),
    healthyTargetCount: () => world.deps.listener.healthyTargetCount(),
    writeWeights: async (weights: Weights) => {
      if (heldAt === 'write') await holdOnce();
      return world.deps.listener.writeWeights(weights);
    },
  };
  const alarms = {
    evaluate: async () => {
      if (heldAt === 'alarm check') await holdOnce();
      return world.deps.alarms.evaluate();
    },
  };
  const deps = { ...world.deps, listener, alarms };
  await preflight(deps, { executionArn: EXECUTION, input: { plan: '10:1000,50:1000,100' } });
  await shiftWeights(deps, { executionArn: EXECUTION, index: 0 });
  holding = true;
  const inFlight = shiftWeights(deps, { executionArn: EXECUTION, index: 1 });
  // The task is parked once the hold has been taken.
  await world.until(() => !holding, `ShiftWeights held at the ${heldAt}`);
  return { world, deps, inFlight, resume };
}

const stoppedAt = (msAgo: number) => ({ ...aborted, time: new Date(Date.now() - msAgo).toISOString() });

describe('Safety net: a ShiftWeights task still running when the execution stops', () => {
  it.each(['alarm check', 'write'] as const)(
    'waits until no task can still write (held at its %s), then restores the starting weights',
    async (heldAt) => {
      const { world, deps, inFlight, resume } = await stoppedMidShift(heldAt);
      const slept: number[] = [];
      const safetyNetDeps: SafetyNetDeps = {
        ...deps,
        waitAfterStopMs: 30_000,
        // The held task finishes its write while the safety net waits.
        sleep: async (ms) => {
          slept.push(ms);
          resume();
          await inFlight;
        },
      };

      const action = await safetyNet(safetyNetDeps, stoppedAt(0));
      // Had the safety net not waited, the held write would land now, after the restore.
      resume();
      await inFlight.catch(() => undefined);

      expect(action).toBe('restored');
      expect(world.elb.writes).toEqual([percentToWeights(10), percentToWeights(50), START]);
      expect(world.elb.weights).toEqual(START);
      expect(await world.lockOwner()).toBeUndefined();
      expect(slept).toHaveLength(1);
      expect(slept[0]).toBeGreaterThan(29_000);
      expect(slept[0]).toBeLessThanOrEqual(30_000);
    },
  );

  it('does not wait when the execution stopped longer ago than any task can run', async () => {
    const { world, deps } = await stoppedMidShift('write');
    const slept: number[] = [];

    const action = await safetyNet(
      { ...deps, waitAfterStopMs: 30_000, sleep: async (ms) => void slept.push(ms) },
      stoppedAt(31_000),
    );

    expect(action).toBe('restored');
    expect(slept).toEqual([]);
    expect(world.elb.weights).toEqual(START);
    expect(await world.lockOwner()).toBeUndefined();
  });

  it('does not wait for an execution that ended through its own paths', async () => {
    const world = makeWorld({ starting: START });
    const execution = world.start({ plan: '10:0,100' });
    await execution.result;
    const slept: number[] = [];

    const action = await safetyNet(
      { ...world.deps, waitAfterStopMs: 30_000, sleep: async (ms) => void slept.push(ms) },
      { ...stoppedAt(0), detail: { executionArn: execution.executionArn, status: 'FAILED' } },
    );

    expect(action).toBe('nothing-held');
    expect(slept).toEqual([]);
  });

  it('waits out a Preflight that takes the lock after the stop, then releases it', async () => {
    const world = makeWorld({ starting: START });
    const slept: number[] = [];

    const action = await safetyNet(
      {
        ...world.deps,
        waitAfterStopMs: 30_000,
        // The Preflight that was running when the execution stopped takes the lock meanwhile.
        sleep: async (ms) => {
          slept.push(ms);
          await preflight(world.deps, { executionArn: EXECUTION, input: { plan: 'canary' } });
        },
      },
      stoppedAt(0),
    );

    expect(slept).toHaveLength(1);
    expect(action).toBe('already-restored');
    expect(await world.lockOwner()).toBeUndefined();
    expect(world.elb.writes).toEqual([]);
  });
});
