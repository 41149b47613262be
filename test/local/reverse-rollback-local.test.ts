import { describe, expect, it } from 'vitest';
import { parseLocalOptions } from '#local/options.ts';
import { localReportData } from '#local/report.ts';
import { runLocal } from '#local/run.ts';

/**
 * Issue 22 in the local mode: a reads-first rollout whose target fails after the write cutover rolls back. With
 * reverse capture the rollback freezes writes (Swing's freeze rules answer them 503 on the local ALB), waits for
 * the reverse replayer to apply the target's writes to the source, restores, lifts the freeze: the stand-ins'
 * own documents then differ in nothing. Without it, the exposure is reported as before.
 */

const quiet = { stdout: () => {}, isTTY: false };
// A loaded machine's own latency is not the target's fault: the p99 alarm is not what these tests are about.
const base = {
  portBase: '0',
  alarmP99: '30000',
  traffic: 'reads-first',
  plan: '50:1s,100:1s',
  targetErrors: '0.5@cutover',
};

describe('Local mode: a lossless rollback after the cutover (reverse capture)', () => {
  it('freezes writes, drains the reverse replayer, restores: nothing on the target only, nothing different', async () => {
    const { exitCode, summary } = await runLocal(
      parseLocalOptions({ ...base, reverseCapture: true, reverseLag: '1s' }),
      quiet,
    );

    expect(exitCode).toBe(1);
    expect(summary.outcome).toBe('rolled-back');
    expect(summary.cutoverAt).toBeDefined();
    expect(summary.finalWeights).toEqual(summary.startingWeights);
    // Nothing differs: the cutover froze writes until the forward replayer had applied what the source took
    // before it, so no replay lands on the target after a client's newer write there.
    const divergence = summary.divergence!;
    expect(divergence.replay.appliedAfterCutover, JSON.stringify(divergence)).toBe(0);
    expect(divergence, JSON.stringify(divergence)).toMatchObject({
      targetOnly: 0,
      sourceOnly: 0,
      different: 0,
    });
    expect(summary.cutoverFreeze, JSON.stringify(summary.cutoverFreeze)).toMatchObject({ replay: 'applied' });
    expect(summary.cutoverFreeze?.durationMs).toBeGreaterThanOrEqual(0);
    const { freeze } = summary;
    expect(freeze, JSON.stringify(freeze)).toMatchObject({ drain: 'drained' });
    // The reverse replayer lags 1 s: the drain waits for it, and the freeze lasts at least that long.
    expect(freeze?.drainMs).toBeGreaterThanOrEqual(0);
    expect(freeze?.durationMs).toBeGreaterThanOrEqual(freeze?.drainMs ?? 0);
    expect(freeze?.refusedWrites).toBeGreaterThan(0);
    // The clients retried what the freeze refused (no Retry-After: ALB cannot send one) and got through after.
    const retries = summary.clientRequests.writeRetries;
    expect(retries?.refusedByAlb).toBeGreaterThan(0);
    expect(retries?.afterRetryAfter).toBe(0);
    expect(retries?.recovered).toBeGreaterThan(0);
    expect(summary.clientRequests.failedBySwitching).toBe(0);
    // Nothing was left for the reverse replayer after the restore, and no rule of Swing's is left.
    expect(summary.divergence?.reverseReplay).toMatchObject({ pending: 0, appliedAfterRestore: 0 });
    expect(summary.divergence?.reverseReplay?.captured).toBeGreaterThan(0);
    expect(summary.exposure?.reverseReplay).toBe('drained');
    expect(summary.swingRulesLeft).toBe(0);
    // The report and the run's events tell the same story.
    const texts = localReportData(summary).events.map((event) => event.text);
    expect(texts).toContainEqual(expect.stringContaining('WRITE FREEZE'));
    expect(texts).toContainEqual(expect.stringMatching(/freeze lifted after .* of 503 for writes/));
  });

  it('without reverse capture, reports the write exposure as before: no freeze, the writes on the target only', async () => {
    const { exitCode, summary } = await runLocal(
      parseLocalOptions({ ...base, reverseCapture: false }),
      quiet,
    );

    expect(exitCode).toBe(1);
    expect(summary.outcome).toBe('rolled-back');
    expect(summary.freeze).toBeUndefined();
    expect(summary.divergence?.reverseReplay).toBeUndefined();
    expect(summary.exposure).toMatchObject({ policy: 'rollback' });
    // One instant for the cutover: the exposure's measure starts at the weight write the summary says writes cut
    // over at. The record's exposure.cutoverAt (the AWS report's) is written after that ModifyListener returns,
    // 0 to a few ms later as the machine's load has it, and before the restore.
    const exposure = summary.exposure!;
    expect(exposure.measured?.from).toBe(summary.cutoverAt);
    expect(Date.parse(exposure.cutoverAt)).toBeGreaterThanOrEqual(Date.parse(summary.cutoverAt!));
    expect(Date.parse(exposure.cutoverAt)).toBeLessThan(Date.parse(exposure.measured!.to));
    expect(summary.exposure?.reverseReplay).toBeUndefined();
    expect(summary.exposure?.measured?.until).toBe('restore');
    expect(summary.exposure?.measured?.targetRequests.total).toBeGreaterThan(0);
    expect(summary.swingRulesLeft).toBe(0);
  });
});
