import { describe, expect, it } from 'vitest';
import type { Weights } from '#domain/types.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';
import { ALARM, baking, listenerWritesSince } from '#test/support/rollout-world.ts';

/**
 * Review 3 of issue 20: "A hold after the cutover never covers a hand change of the weights" (docs/guarantees.md)
 * holds for any hand change EXCEPT the most natural one: putting the writes back on the source, i.e. the listener
 * set to the rollout's starting weights (console edit, `swing set-weights --target 0 --force`, or
 * `swing rollback --force` without --release-lock, which writes exactly the starting weights).
 *
 * Sequence (afterCutover: hold):
 *  1. A reads-first rollout cut its writes over; it bakes the cutover (pins held for the scroll keep-alive).
 *  2. The operator sends everything back to the source by hand: the listener is at the starting weights 999/0.
 *  3. The target's alarm fires: Rollback. It computes `restoring = !sameWeights(current, starting)` = false, so
 *     its hand-change test `restoring && !ours` is false, and it goes to holdAfterCutover: records a `hold`
 *     exposure and halts with HeldAfterCutover, notifying "the policy is hold, so writes stay on the target (a
 *     rollback would send clients to a source that misses every write since ...)". The writes are on the source.
 *
 * Breaks I4 as the guarantee above states it (Swing must halt with WeightsDrifted and say the weights were
 * changed by hand), and the notification tells the operator the opposite of where client writes go. The safety
 * net's hold path has the same gap only partly (it tests isOwnWrite, so it halts-drift, but it is reached only
 * under `exposed`, which for a recorded cutoverAt does not read the listener). Suggested fix: under hold, compare
 * the current weights with lastWritten (isOwnWrite), not with the starting weights, before holding.
 */
const holdGate = replayLagCutover({
  cutoverBakeSeconds: 1000,
  scrollKeepAliveSeconds: 3600,
  afterCutover: 'hold',
});
const STARTING: Weights = { source: 999, target: 0 };

describe('Review 3: a hold after the cutover over writes put back on the source by hand', () => {
  it('halts for the hand change and says so, never "writes stay on the target"', async () => {
    const world = readsFirstWorld();
    const execution = world.start({ plan: '50:1,100:1', readsFirst: holdGate });
    await world.until(baking(2), 'bake of the cutover');
    expect(world.elb.weights.target).toBeGreaterThan(0);
    world.elb.setByHand(STARTING);
    const handAt = world.elb.log.length;
    await world.fireAlarm(ALARM);
    const result = await execution.result;

    expect(world.elb.weights).toEqual(STARTING);
    expect.soft(listenerWritesSince(world.elb, handAt), 'no write after the hand change').toEqual([]);
    expect.soft(result).toMatchObject({ status: 'FAILED', error: 'WeightsDrifted' });
    const last = (await world.store.get(world.deps.listenerArn))?.history.at(-1);
    // The record and notification carry a `hold` exposure: "writes held on the target" (swing status, docs/cli.md).
    expect.soft(last?.exposure?.policy, 'exposure policy recorded').not.toBe('hold');
    expect.soft(JSON.stringify(result)).not.toContain('writes stay on the target');
  });
});
