import { describe, expect, it } from 'vitest';
import type { RolloutStore } from '#domain/types.ts';
import { currentInvocation } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { freezeRulesOn, losslessWorld } from '#test/support/lossless-world.ts';
import { ALARM } from '#test/support/rollout-world.ts';

/**
 * Review 5 (issue 22): the rollback's Freeze cut by Lambda (Sandbox.Timedout, or Lambda.Unknown: the runtime
 * exited, out of memory) after its freeze rules stood and before it recorded `frozenAt`. AWS sequence: an alarm in
 * the cutover's bake rolls back; Freeze records `freeze.startedAt`, creates the nine rules (each followed by a
 * record read; ELBv2 throttles CreateRule at a few calls a second, and the SDK's backoff spends the function's
 * time), and Lambda stops the handler before its `frozenAt` write. Freeze has no Retry on Sandbox.Timedout or
 * Lambda.Unknown (ShiftWeights and AfterBake have one: their attempts are fenced, and so is Freeze, which a retry
 * finishes: it keeps the rules it finds and the freeze's start), so its Catch goes to DrainCheck, which finds no
 * `frozenAt` and says done, and Rollback restores at once: no drain, while the freeze's rules stood and the reverse
 * replayer still holds the target's last writes (exposure `not-frozen`: the rollback after the cutover, lossless
 * with reverse capture configured and the alarm readable, loses them). The settlers treat the same record (a
 * freeze begun, no `frozenAt`) as a freeze in the making and finish it (settle-freeze.ts); Rollback does not.
 */

describe('Review 5: Freeze cut by its timeout after its rules stood', () => {
  it('does not restore before the drain or its deadline', async () => {
    // Prepare: a rollout in its cutover's bake, the reverse replayer not drained; Freeze's first attempt is cut
    // by Lambda just before its frozenAt write (all nine rules created).
    const lossless = losslessWorld({ drainTimeoutSeconds: 2 });
    const { world } = lossless;
    const real = world.deps.store;
    let cut = 0;
    const store: RolloutStore = Object.assign(Object.create(real), {
      update: (...args: Parameters<RolloutStore['update']>) => {
        const call = currentInvocation();
        const patch = args[2] as { freeze?: { frozenAt?: string } };
        if (call?.stateName === 'Freeze' && call.retryCount === 0 && patch.freeze?.frozenAt && cut === 0) {
          cut += 1;
          return Promise.reject(
            Object.assign(new Error('Task timed out after 60.00 seconds'), { name: 'Sandbox.Timedout' }),
          );
        }
        return real.update(...args);
      },
    });
    Object.assign(world.deps, { store });
    await lossless.inCutoverBake();

    // Act: an alarm in the cutover's bake rolls back.
    await world.fireAlarm(ALARM);
    await lossless.execution.result;

    // Assess: Freeze was cut once with its rules standing; nothing restored before the drain's deadline, and the
    // exposure is not `not-frozen` (the freeze stood); no freeze rule left.
    expect(cut).toBe(1);
    const last = (await world.store.get(LISTENER.listenerArn))?.history.at(-1);
    expect(last?.freeze?.frozenAt).toBeDefined();
    expect(lossless.restore.at).toBeGreaterThanOrEqual(Date.parse(last?.freeze?.drainDeadline ?? ''));
    expect(last?.exposure).toMatchObject({ reverseReplay: 'timed-out' });
    expect(freezeRulesOn(world)).toEqual([]);
  });
});
