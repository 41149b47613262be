import { describe, expect, it } from 'vitest';
import { preflight } from '#domain/engine/preflight.ts';
import type { Weights } from '#domain/types.ts';
import { percentToWeights } from '#domain/weights.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { readsFirstWorld } from '#test/support/reads-first-world.ts';
import { actingAfterFirstRead, HOLDER, holdListener } from '#test/support/rollout-world.ts';

/**
 * Issue 20, defect 6: every check Preflight makes on the listener holds on what it reads after the lock is
 * taken. Another rollout holds the listener when this start reads it (its weights and rules say nothing about
 * this plan, so the checks that depend on them wait for the lock), and releases it before this start acquires.
 */

const STARTING = 'arn:aws:states:us-east-1:000000000000:execution:swing-rollout:scheduled-start';

type World = ReturnType<typeof readsFirstWorld>;

async function holdAt(world: World, weights: Weights): Promise<void> {
  world.elb.setByHand(weights);
  await holdListener(world.store, {
    startingWeights: { source: 999, target: 0 },
    lastWritten: weights,
    step: { targetPercent: 30, bakeSeconds: 600 },
  });
}

/** The holder lets the listener go right after this start's first read of it, before the start's acquire. */
const releasingAfterFirstRead = (world: World, release: () => Promise<void>) =>
  actingAfterFirstRead(world.deps.listener, release);

describe('Preflight re-checks the listener once the lock is held', () => {
  it('refuses a reads-first start whose default action sends writes to the target after the holder left, and frees the lock', async () => {
    const world = readsFirstWorld();
    await holdAt(world, percentToWeights(30));
    // The all-mode holder releases, leaving the listener at 30 %.
    const listener = releasingAfterFirstRead(world, async () => {
      await world.store.release(LISTENER.listenerArn, HOLDER, { outcome: 'completed' });
    });

    const started = preflight(
      { ...world.deps, listener },
      { executionArn: STARTING, input: { plan: '50,100', traffic: 'reads-first' } },
    );

    await expect(started).rejects.toMatchObject({
      name: 'ListenerShapeInvalid',
      message: expect.stringContaining('by its default action: in reads-first mode'),
    });
    expect(await world.lockOwner()).toBeUndefined();
    expect((await world.store.get(LISTENER.listenerArn))?.history.at(-1)).toMatchObject({
      executionArn: STARTING,
      status: 'refused',
      reason: { error: 'ListenerShapeInvalid' },
    });
    expect(world.elb.writes).toEqual([]);
    expect(world.elb.swingRules).toEqual([]);
  });

  it("gives a retried Preflight the refusal its earlier attempt recorded, not a stale attempt's Superseded", async () => {
    // The first attempt refuses once it holds the lock and releases it as refused; its answer is lost, and Step
    // Functions retries Preflight (found by the fault model: SWING_FC_SEED=1056434593 SWING_FC_PATH=299).
    const world = readsFirstWorld();
    await holdAt(world, percentToWeights(30));
    const listener = releasingAfterFirstRead(world, async () => {
      await world.store.release(LISTENER.listenerArn, HOLDER, { outcome: 'completed' });
    });
    const event = { executionArn: STARTING, input: { plan: '50,100', traffic: 'reads-first' } };
    await expect(preflight({ ...world.deps, listener }, event)).rejects.toMatchObject({
      name: 'ListenerShapeInvalid',
    });

    const retried = preflight(world.deps, event);

    await expect(retried).rejects.toMatchObject({
      name: 'ListenerShapeInvalid',
      message: expect.stringContaining('by its default action: in reads-first mode'),
    });
    expect(await world.lockOwner()).toBeUndefined();
    expect(world.elb.writes).toEqual([]);
  });

  it('refuses a start whose recorded starting weights are not the listener it locked (the holder rolled back meanwhile)', async () => {
    const world = readsFirstWorld();
    await holdAt(world, percentToWeights(30));
    // The holder rolls back to 0 % and releases: a rollback of this start would "restore" 30 % otherwise.
    const listener = releasingAfterFirstRead(world, async () => {
      world.elb.setByHand({ source: 999, target: 0 });
      await world.store.release(LISTENER.listenerArn, HOLDER, { outcome: 'rolled-back' });
    });

    const started = preflight(
      { ...world.deps, listener },
      { executionArn: STARTING, input: { plan: '50:60,100', traffic: 'all' } },
    );

    await expect(started).rejects.toMatchObject({
      name: 'ListenerShapeInvalid',
      message: expect.stringContaining('changed while this start took the lock'),
    });
    expect(await world.lockOwner()).toBeUndefined();
    expect(world.elb.writes).toEqual([]);
  });

  it('refuses a reads-first start whose rules conflict once the lock is held', async () => {
    const world = readsFirstWorld();
    await holdAt(world, { source: 999, target: 0 });
    // Someone's rule takes one of Swing's priorities while the holder still held the listener.
    const listener = releasingAfterFirstRead(world, async () => {
      world.elb.setRules([
        {
          RuleArn: `${LISTENER.listenerArn.replace(':listener/', ':listener-rule/')}/00000000000000ff`,
          Priority: '1000',
          Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/health'] } }],
          Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200' } }],
          IsDefault: false,
        },
      ]);
      await world.store.release(LISTENER.listenerArn, HOLDER, { outcome: 'completed' });
    });

    const started = preflight(
      { ...world.deps, listener },
      { executionArn: STARTING, input: { plan: '50,100', traffic: 'reads-first' } },
    );

    await expect(started).rejects.toMatchObject({ name: 'ListenerShapeInvalid' });
    expect(await world.lockOwner()).toBeUndefined();
    expect(world.elb.writes).toEqual([]);
    expect(world.elb.swingRules).toEqual([]);
  });

  it('starts when the listener it locked is the one it checked', async () => {
    const world = readsFirstWorld();
    await holdAt(world, { source: 999, target: 0 });
    const listener = releasingAfterFirstRead(world, async () => {
      await world.store.release(LISTENER.listenerArn, HOLDER, { outcome: 'completed' });
    });

    await preflight(
      { ...world.deps, listener },
      { executionArn: STARTING, input: { plan: '50,100', traffic: 'reads-first' } },
    );

    expect(await world.lockOwner()).toBe(STARTING);
    expect((await world.store.get(LISTENER.listenerArn))?.rollout?.startingWeights).toEqual({
      source: 999,
      target: 0,
    });
  });
});
