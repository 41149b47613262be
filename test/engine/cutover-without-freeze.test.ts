import { describe, expect, it } from 'vitest';
import type { ReplayLagVerdict } from '#domain/types.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';

/**
 * Where nothing can say the forward replayer is empty (AWS today: ReplayLagPort has no appliedBefore), the write
 * cutover goes without a freeze, and a write still queued in the replayer can land over a client's newer write.
 * That risk is logged by the cutover itself, never silent; where the signal exists the freeze removes it.
 */
function cutoverWarnings(appliedBefore: boolean) {
  const world = readsFirstWorld();
  const warnings: string[] = [];
  Object.assign(world.deps, {
    log: { ...world.deps.log, warn: (message: string) => warnings.push(message) },
    replayLag: {
      check: async (): Promise<ReplayLagVerdict> => ({ caughtUp: true, detail: 'lag under the threshold' }),
      ...(appliedBefore
        ? { appliedBefore: async (): Promise<ReplayLagVerdict> => ({ caughtUp: true, detail: 'empty' }) }
        : {}),
    },
  });
  return { world, warnings };
}

describe('The write cutover without a freeze', () => {
  it('says so in its log where nothing tells when the replayer is empty, and not where the freeze runs', async () => {
    // Arrange
    const unfrozen = cutoverWarnings(false);
    const frozen = cutoverWarnings(true);

    // Act
    const results = await Promise.all(
      [unfrozen, frozen].map(
        (run) => run.world.start({ plan: '100:1', readsFirst: replayLagCutover() }).result,
      ),
    );

    // Assess
    expect(results.map((result) => result.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const said = (warnings: string[]) =>
      warnings.filter((warning) => warning.startsWith('write cutover without'));
    expect(said(unfrozen.warnings)).toHaveLength(1);
    expect(said(frozen.warnings)).toEqual([]);
  });
});
