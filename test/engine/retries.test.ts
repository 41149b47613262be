import { describe, expect, it } from 'vitest';
import { finalize } from '#domain/engine/finalize.ts';
import { preflight } from '#domain/engine/preflight.ts';
import { shiftWeights } from '#domain/engine/shift-weights.ts';
import { abortRollout } from '#domain/operator.ts';
import { percentToWeights } from '#domain/weights.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { ALARM, makeWorld, operatorOf } from '#test/support/rollout-world.ts';

/**
 * Step Functions retries a task whose answer it lost, even when the first attempt did its work. These tests
 * call the engine functions twice, as such a retry would.
 */

const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:swing:retried';
describe('Engine: a task retried after it did its work', () => {
  it('Preflight that already took the lock returns the same cursor, whatever changed since', async () => {
    const world = makeWorld();
    const event = { executionArn: EXECUTION, input: { plan: 'canary' } };
    const first = await preflight(world.deps, event);
    world.cloudWatch.set(ALARM, 'ALARM');

    const retried = await preflight(world.deps, event);

    expect(retried).toEqual(first);
    expect(await world.lockOwner()).toBe(EXECUTION);
    expect(world.notifications).toEqual([]);
  });

  it('Complete that already decided to complete does not turn into a rollback on a late abort', async () => {
    const world = makeWorld();
    await preflight(world.deps, { executionArn: EXECUTION, input: { plan: '100' } });
    await shiftWeights(world.deps, { executionArn: EXECUTION, index: 0 });
    // The first attempt notifies, then its release fails; an abort lands before the retry.
    const release = world.store.release.bind(world.store);
    let lateAbort: unknown;
    world.store.release = async (...args) => {
      if (lateAbort === undefined) {
        lateAbort = await abortRollout(operatorOf(world));
        throw Object.assign(new Error('throttled'), { name: 'TransientFailure' });
      }
      return release(...args);
    };
    const event = { executionArn: EXECUTION, outcome: 'completed' };

    await expect(finalize(world.deps, event)).rejects.toThrow('throttled');
    const retried = await finalize(world.deps, event);

    expect(lateAbort).toMatchObject({ delivered: 'too-late' });
    expect(retried).toEqual({ outcome: 'completed', released: true });
    expect(world.elb.weights).toEqual(percentToWeights(100));
    // One notification per rollout: the retry finds the outcome already notified (issue 20).
    expect(world.notifications.map((notification) => notification.outcome)).toEqual(['completed']);
    expect((await world.store.get(LISTENER.listenerArn))?.history.at(-1)).toMatchObject({
      outcome: 'completed',
    });
  });

  it('Complete still rolls back on an abort that came before it decided', async () => {
    const world = makeWorld();
    await preflight(world.deps, { executionArn: EXECUTION, input: { plan: '100' } });
    await shiftWeights(world.deps, { executionArn: EXECUTION, index: 0 });
    await abortRollout(operatorOf(world));

    await expect(
      finalize(world.deps, { executionArn: EXECUTION, outcome: 'completed' }),
    ).rejects.toMatchObject({
      name: 'Aborted',
    });
    expect(world.notifications).toEqual([]);
  });

  it('Complete rolls back on an abort that lands between its read and its decision', async () => {
    const world = makeWorld();
    await preflight(world.deps, { executionArn: EXECUTION, input: { plan: '100' } });
    await shiftWeights(world.deps, { executionArn: EXECUTION, index: 0 });
    // Complete reads the record, then the listener: the abort lands in between.
    const readWeights = world.deps.listener.readWeights.bind(world.deps.listener);
    let abort: unknown;
    const deps = {
      ...world.deps,
      listener: {
        ...world.deps.listener,
        stickinessSeconds: () => world.deps.listener.stickinessSeconds(),
        healthyTargetCount: () => world.deps.listener.healthyTargetCount(),
        writeWeights: (weights: Parameters<typeof world.deps.listener.writeWeights>[0]) =>
          world.deps.listener.writeWeights(weights),
        readWeights: async () => {
          abort ??= await abortRollout(operatorOf(world));
          return readWeights();
        },
      },
    };

    await expect(finalize(deps, { executionArn: EXECUTION, outcome: 'completed' })).rejects.toMatchObject({
      name: 'Aborted',
    });
    expect(abort).toMatchObject({ delivered: 'flag-only' });
    expect(world.notifications).toEqual([]);
  });
});
