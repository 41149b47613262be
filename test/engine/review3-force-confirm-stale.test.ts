import { describe, expect, it } from 'vitest';
import { forceRollback } from '#domain/force-rollback.ts';
import type { Weights } from '#domain/types.ts';
import { isIncrease, percentToWeights } from '#domain/weights.ts';
import { forceRollbackDeps } from '#test/support/forced-rollback.ts';
import { baking, makeWorld } from '#test/support/rollout-world.ts';

/**
 * Review 3 of issue 20: `swing rollback --force` on a terminal acts on what it read BEFORE its confirmation.
 *
 * forceRollback reads the record and the listener, checks refuseRestoreRaisingTarget against that read, builds the
 * plan, then awaits `confirm` (cli/commands/rollback.ts: the "Proceed? [y/N]" prompt, a human, unbounded) and then
 * writes the plan's starting weights with no second read. recordForced's conditional write on the holder fails
 * with LockLost if the rollout ended meanwhile, and that is swallowed ("Released meanwhile by its own paths"); the
 * ModifyListener goes ahead anyway. ELBv2 has no conditional write, so nothing else fences it.
 *
 * Sequence (human timing only; no AWS oddity needed):
 *  1. An all-mode rollout started at 20 % target (its starting weights) bakes at 60 %.
 *  2. The operator runs `swing rollback --force` on a terminal: it reads 60 % now, 20 % starting (a lowering, so
 *     the raise check passes) and asks "Proceed? [y/N]".
 *  3. While the question is on screen, the target's alarm fires: Swing's own Rollback restores 20 % and releases
 *     the lock. A colleague, seeing the target sick, sets the listener to 0 % target by hand (swing set-weights).
 *  4. The operator answers y. recordForced -> LockLost (swallowed); writeWeights(20 %) raises the sick target's
 *     share from 0 % to 20 %.
 *
 * Breaks I7's "a restore never raises the target's share, whatever the record says" (docs/cli.md: exit 3 "when the
 * restore would raise the target's share"), and I4 (the colleague's hand change is clobbered by Swing).
 */
describe('Review 3: swing rollback --force answered after the listener moved under its question', () => {
  it('never raises the target share it finds at the moment it writes', async () => {
    const world = makeWorld({ starting: percentToWeights(20) });
    const execution = world.start({ plan: '60:80000,100' });
    await world.until(baking(0), 'the first step baking at 60 %');
    expect(world.elb.weights).toEqual(percentToWeights(60));

    const forceWrites: Weights[] = [];
    const forced = await forceRollback(
      forceRollbackDeps(world, {
        listener: {
          readWeights: () => world.deps.listener.readWeights(),
          writeWeights: async (weights) => {
            forceWrites.push(weights);
            return world.deps.listener.writeWeights(weights);
          },
        },
      }),
      {
        releaseLock: false,
        // 3. While "Proceed? [y/N]" waits: Swing's own rollback ends the rollout, then a hand change to 0 %.
        confirm: async () => {
          await world.fireAlarm();
          await execution.result;
          expect(world.elb.weights).toEqual(percentToWeights(20));
          world.elb.setByHand(percentToWeights(0));
          return true; // 4. y
        },
      },
      // The fix reads the listener again after the answer and refuses as it does before the question: it throws
      // RestoreRaisesTarget (the CLI's exit 3).
    ).catch((error: unknown) => ({ kind: error instanceof Error ? error.name : String(error) }));

    const raised = forceWrites.filter((weights) => isIncrease(percentToWeights(0), weights));
    expect(
      { raised, listener: world.elb.weights },
      `forceRollback ended ${forced.kind}; its writes: ${JSON.stringify(forceWrites)}`,
    ).toEqual({ raised: [], listener: percentToWeights(0) });
    expect(forced.kind).toBe('RestoreRaisesTarget');
  });
});
