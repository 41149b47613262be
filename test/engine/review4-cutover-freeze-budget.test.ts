import { describe, expect, it } from 'vitest';
import type { EngineDeps } from '#domain/engine/deps.ts';
import { SHIFT_WEIGHTS_TIMEOUT_SECONDS } from '#domain/engine/stale-shift-window.ts';
import type { ReplayLagVerdict } from '#domain/types.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';

/**
 * Review 4 (issue 22): the write cutover's freeze waits twice inside one ShiftWeights invocation, each wait
 * bounded by CUTOVER_FREEZE_TIMEOUT_MS (15 s) from its own start: before the ModifyListener (from the freeze's
 * start) and after removing writes-to-source (from that removal). writes-to-source comes before the freeze's rules,
 * so the POST document writes it matches (`POST /<index>/_doc/<id>`, `_update/<id>`) kept reaching the source
 * through the whole first wait, and the second wait has as much to replay as the first. A replayer 14.5 s behind
 * passes both, 29 s of waiting, leaving ShiftWeights (30 s timeout) about a second for its ~25 AWS calls. Lambda
 * then cuts the handler mid-way: the `finally` that lifts the freeze never runs (writes answer 503 on the target),
 * and Sandbox.Timedout, which ShiftWeights does not retry, goes to Freeze: a cutover that succeeded rolls back.
 * The engine's clock here is virtual in its waits (each sleep moves it on at once).
 */

describe("Review 4: the cutover freeze's waits within ShiftWeights' timeout", () => {
  it('leaves ShiftWeights time for its AWS calls whatever the replayer lag under the bound', async () => {
    const world = readsFirstWorld();
    let skipped = 0;
    let slept = 0;
    const lagMs = 14_500;
    Object.assign(world.deps, {
      now: () => new Date(Date.now() + skipped),
      sleep: async (ms: number) => {
        skipped += ms;
        slept += ms;
      },
      replayLag: {
        check: async (): Promise<ReplayLagVerdict> => ({ caughtUp: true, detail: 'lag 14.5 s < 30 s' }),
        // Everything captured before `since` is applied once the replayer's lag has passed since then.
        appliedBefore: async (since: Date): Promise<ReplayLagVerdict> => {
          const applied = Date.now() + skipped >= since.getTime() + lagMs;
          return { caughtUp: applied, detail: applied ? 'nothing queued' : 'writes queued' };
        },
      },
    } satisfies Partial<EngineDeps> & { sleep: (ms: number) => Promise<void> });
    let sleptBeforeCutover = 0;
    let sleptAtLift = 0;
    const store = world.store;
    const update = store.update.bind(store);
    store.update = async (listenerArn, executionArn, patch, fence, guard) => {
      if (patch.cutoverFreeze && !patch.cutoverFreeze.frozenAt && !patch.cutoverFreeze.liftedAt)
        sleptBeforeCutover = slept;
      if (patch.cutoverFreeze?.liftedAt) sleptAtLift = slept;
      return update(listenerArn, executionArn, patch, fence, guard);
    };
    const result = await world.start({ plan: '100:1', readsFirst: replayLagCutover() }).result;
    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    const last = (await world.store.get(LISTENER.listenerArn))?.history.at(-1);
    expect(last?.cutoverFreeze).toMatchObject({ replay: 'applied', liftedAt: expect.any(String) });

    // The freeze's waits in the one ShiftWeights invocation that cut over, against its 30 s timeout less
    // 5 s for the invocation's own AWS calls (each may take seconds under the SDK's timeouts).
    const waitedMs = sleptAtLift - sleptBeforeCutover;
    expect(waitedMs).toBeGreaterThan(lagMs);
    expect(waitedMs).toBeLessThanOrEqual(SHIFT_WEIGHTS_TIMEOUT_SECONDS * 1000 - 5_000);
  });
});
