import { describe, expect, it } from 'vitest';
import { preflight } from '#domain/engine/preflight.ts';
import { shiftWeights } from '#domain/engine/shift-weights.ts';
import { forceRollback } from '#domain/force-rollback.ts';
import type { LosslessVerdict } from '#domain/types.ts';
import { forceRollbackDeps, holderExecutions } from '#test/support/forced-rollback.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';

/**
 * `swing rollback --force` after the cutover, before any freeze: with reverse capture configured (Preflight's
 * verdict says so, lossless or not) the exposure says `not-frozen`, the reverse replayer's drain never waited for;
 * without it the exposure has no reverse replay at all. AWS's verdict is `lossless: false, reverseCapture: true`.
 */
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:swing:forced-after-cutover';

async function forcedAfterCutover(losslessRollback: LosslessVerdict) {
  const world = readsFirstWorld({ targetRequests: 40 });
  await preflight(world.deps, {
    executionArn: EXECUTION,
    input: { plan: '100', traffic: 'reads-first', readsFirst: replayLagCutover() },
  });
  await shiftWeights(world.deps, { executionArn: EXECUTION, index: 0 });
  await shiftWeights(world.deps, { executionArn: EXECUTION, index: 1 });
  await world.store.update(world.deps.listenerArn, EXECUTION, { losslessRollback });
  const forced = await forceRollback(
    forceRollbackDeps(world, { executions: holderExecutions('FAILED', new Date(Date.now() - 300_000)) }),
    { releaseLock: true },
  );
  expect(forced).toMatchObject({ kind: 'done', released: true });
  return (await world.store.get(world.deps.listenerArn))?.history.at(-1)?.exposure;
}

describe('swing rollback --force after the cutover, no freeze made: what the exposure says of the reverse replay', () => {
  it("not-frozen with AWS's verdict (reverse capture, not proven lossless)", async () => {
    const exposure = await forcedAfterCutover({
      lossless: false,
      reverseCapture: true,
      detail: 'reverse capture is configured ...; not proven lossless here: ...',
      limits: ['a lag alarm', 'refused writes'],
    });
    expect(exposure?.reverseReplay).toBe('not-frozen');
  });

  it('not-frozen with a record written before reverseCapture existed (its lossless meant configured)', async () => {
    expect((await forcedAfterCutover({ lossless: true, detail: 'old' }))?.reverseReplay).toBe('not-frozen');
  });

  it('none without reverse capture', async () => {
    const exposure = await forcedAfterCutover({ lossless: false, reverseCapture: false, detail: 'none' });
    expect(exposure).toBeDefined();
    expect(exposure?.reverseReplay).toBeUndefined();
  });
});
