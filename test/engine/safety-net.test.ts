import { describe, expect, it } from 'vitest';
import { preflight, type SafetyNetDeps, safetyNet, shiftWeights } from '#domain/rollout.ts';
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

/** A rollout at step 1 (10 %) whose ShiftWeights to step 2 (50 %) has marked its write and not yet sent it. */
async function stoppedMidShift() {
  const world = makeWorld({ starting: START });
  let sendWrite: () => void = () => undefined;
  const writeHeld = new Promise<void>((resolve) => {
    sendWrite = resolve;
  });
  let holdNextWrite = false;
  const listener = {
    ...world.deps.listener,
    readWeights: () => world.deps.listener.readWeights(),
    healthyTargetCount: () => world.deps.listener.healthyTargetCount(),
    writeWeights: async (weights: Weights) => {
      if (holdNextWrite) {
        holdNextWrite = false;
        await writeHeld;
      }
      return world.deps.listener.writeWeights(weights);
    },
  };
  const deps = { ...world.deps, listener };
  await preflight(deps, { executionArn: EXECUTION, input: { plan: '10:1000,50:1000,100' } });
  await shiftWeights(deps, { executionArn: EXECUTION, index: 0 });
  holdNextWrite = true;
  const inFlight = shiftWeights(deps, { executionArn: EXECUTION, index: 1 });
  await world.until((rollout) => rollout?.pendingWeights !== undefined, 'the write marked');
  return { world, deps, inFlight, sendWrite };
}

describe('Safety net: a ShiftWeights write still in flight when the execution stops', () => {
  it('waits until the write can no longer land, then restores the starting weights', async () => {
    const { world, deps, inFlight, sendWrite } = await stoppedMidShift();
    const slept: number[] = [];
    const safetyNetDeps: SafetyNetDeps = {
      ...deps,
      inFlightWriteMs: 30_000,
      // The in-flight write lands while the safety net waits.
      sleep: async (ms) => {
        slept.push(ms);
        sendWrite();
        await inFlight;
      },
    };

    const action = await safetyNet(safetyNetDeps, aborted);
    // Had the safety net not waited, the write would land now, after the restore.
    sendWrite();
    await inFlight.catch(() => undefined);

    expect(action).toBe('restored');
    expect(world.elb.writes).toEqual([percentToWeights(10), percentToWeights(50), START]);
    expect(world.elb.weights).toEqual(START);
    expect(await world.lockOwner()).toBeUndefined();
    expect(slept).toHaveLength(1);
    expect(slept[0]).toBeGreaterThan(29_000);
    expect(slept[0]).toBeLessThanOrEqual(30_000);
  });

  it('does not wait for a write marked longer ago than ShiftWeights can run (that Lambda has timed out)', async () => {
    const { world, deps } = await stoppedMidShift();
    const slept: number[] = [];
    const later = new Date(Date.now() + 31_000);

    const action = await safetyNet(
      { ...deps, now: () => later, inFlightWriteMs: 30_000, sleep: async (ms) => void slept.push(ms) },
      aborted,
    );

    expect(action).toBe('restored');
    expect(slept).toEqual([]);
    expect(world.elb.weights).toEqual(START);
    expect(await world.lockOwner()).toBeUndefined();
  });
});
