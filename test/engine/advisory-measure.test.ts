import { describe, expect, it } from 'vitest';
import type { StepRecord } from '#domain/types.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { makeWorld } from '#test/support/rollout-world.ts';

/**
 * Issue 20, "Also": a hung advisory call (GetMetricData in AfterBake) used to run AfterBake into its function
 * timeout and roll a healthy rollout back. The measure is advice: one that does not answer in time is reported
 * as not measured, and the rollout goes on.
 */

describe('A delivered-split measure that never answers', () => {
  it('is reported as not measured, and the rollout completes', async () => {
    const world = makeWorld();
    const deps = {
      ...world.deps,
      measureDeadlineMs: 50,
      measureDeliveredSplit: (_step: StepRecord) => new Promise<never>(() => {}),
    };

    const result = await world.sfn.start(deps, { plan: '50:1,100' }).result;

    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    const steps = (await world.store.get(LISTENER.listenerArn))?.history.at(-1)?.steps ?? [];
    expect(steps).toHaveLength(2);
    for (const step of steps) {
      expect(step.delivered).toMatchObject({
        verdict: 'not-measured',
        notes: [expect.stringContaining('no answer within 0.05 s')],
      });
    }
    expect(world.elb.weights).toEqual({ source: 0, target: 999 });
  });
});
