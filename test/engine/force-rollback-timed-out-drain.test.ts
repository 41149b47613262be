import { describe, expect, it } from 'vitest';
import { preflight } from '#domain/engine/preflight.ts';
import { shiftWeights } from '#domain/engine/shift-weights.ts';
import { forceRollback } from '#domain/force-rollback.ts';
import { forceRollbackDeps, holderExecutions } from '#test/support/forced-rollback.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';

/**
 * `swing rollback --force --release-lock` on an ended holder whose rollback froze writes and whose drain passed
 * its deadline before DrainCheck could record it (the execution failed meanwhile). The freeze stood and the
 * reverse replayer was not proven drained: the exposure says `timed-out`, never `not-frozen` (which would say no
 * freeze was made) nor `drained`.
 */
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:swing:frozen-then-failed';

describe('swing rollback --force on an ended holder with a freeze whose drain was never recorded', () => {
  it('records the exposure as timed-out', async () => {
    // Arrange: cut over, then a freeze begun 10 minutes ago whose 60 s drain deadline has long passed.
    const world = readsFirstWorld({ targetRequests: 40 });
    await preflight(world.deps, {
      executionArn: EXECUTION,
      input: { plan: '100', traffic: 'reads-first', readsFirst: replayLagCutover() },
    });
    await shiftWeights(world.deps, { executionArn: EXECUTION, index: 0 });
    await shiftWeights(world.deps, { executionArn: EXECUTION, index: 1 });
    const frozenAt = new Date(Date.now() - 600_000);
    await world.store.update(world.deps.listenerArn, EXECUTION, {
      freeze: {
        startedAt: frozenAt.toISOString(),
        frozenAt: frozenAt.toISOString(),
        drainDeadline: new Date(frozenAt.getTime() + 60_000).toISOString(),
      },
    });
    const executions = holderExecutions('FAILED', new Date(Date.now() - 300_000));

    // Act
    const forced = await forceRollback(forceRollbackDeps(world, { executions }), { releaseLock: true });

    // Assess
    expect(forced).toMatchObject({ kind: 'done', released: true });
    const last = (await world.store.get(world.deps.listenerArn))?.history.at(-1);
    expect(last?.exposure?.reverseReplay).toBe('timed-out');
  });
});
