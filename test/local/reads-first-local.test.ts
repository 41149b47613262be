import { describe, expect, it } from 'vitest';
import { parseLocalOptions } from '#local/options.ts';
import { localReportData } from '#local/report.ts';
import { runLocal } from '#local/run.ts';
import { describeEvent } from '#local/view.ts';

/**
 * Reads first, writes last on the local mode: the local ALB evaluates Swing's listener rules as ALB does, the
 * source path captures and replays, and the divergence is measured from the stand-ins' own documents.
 */

const quiet = { stdout: () => {}, isTTY: false };
// A loaded machine's own latency is not the target's fault: the p99 alarm is not what these tests are about.
const base = { portBase: '0', rate: '200', writeRatio: '0.4', alarmP99: '30000', traffic: 'reads-first' };

describe('Local mode: reads first, writes last', () => {
  it('rolls back a failing read step leaving no document on the target only and no scroll on the wrong cluster', async () => {
    const { exitCode, summary } = await runLocal(
      parseLocalOptions({ ...base, plan: '10:1s,50:4s,100:1s', targetErrors: '0.5@50' }),
      quiet,
    );

    expect(exitCode).toBe(1);
    expect(summary).toMatchObject({ outcome: 'rolled-back', traffic: 'reads-first', swingRulesLeft: 0 });
    expect(summary.rollback?.reason).toBe('AlarmFired');
    expect(summary.cutoverAt).toBeUndefined();
    expect(summary.targetWrites).toEqual({ beforeCutover: 0, afterCutover: 0 });
    expect(summary.divergence).toMatchObject({
      targetOnly: 0,
      sourceOnly: 0,
      different: 0,
      wrongClusterScrolls: 0,
    });
    expect(summary.divergence?.replay).toMatchObject({ drained: true, failed: 0 });
    // Reads did reach the target: the rules moved them.
    expect(summary.steps.map((step) => step.percent)).toEqual([10, 50]);
    expect(summary.steps[1]?.requests.target).toBeGreaterThan(0);
    expect(summary.exposure).toBeUndefined();
  });

  it('completes, with writes on the target only after the cutover and no rule of Swing left', async () => {
    const { exitCode, summary, events } = await runLocal(
      parseLocalOptions({ ...base, plan: '25:1s,100:1s' }),
      quiet,
    );

    expect(summary.outcome, JSON.stringify(summary.rollback)).toBe('completed');
    expect(exitCode).toBe(0);
    expect(summary.finalWeights).toEqual({ source: 0, target: 999 });
    expect(summary.cutoverAt).toBeDefined();
    expect(summary.targetWrites?.beforeCutover).toBe(0);
    expect(summary.targetWrites?.afterCutover).toBeGreaterThan(0);
    expect(summary.swingRulesLeft).toBe(0);
    expect(summary.clientRequests.failedBySwitching, JSON.stringify(summary.clientRequests)).toBe(0);
    expect(summary.clientRequests.unknownApi).toBe(0);
    // The pins left in a step of their own after the cutover, baked under alarm watch: the live view and the
    // report say so.
    const pinsBake = events.find(
      (event) => event.kind === 'phase' && event.status === 'baking' && event.stepKind === 'pins',
    );
    expect(pinsBake).toBeDefined();
    expect(describeEvent(pinsBake!, { keys: false }).text).toMatch(
      /step 4\/4: pins gone, the pinned reads bake on the target for .* under alarm watch/,
    );
    expect(localReportData(summary).events.map((event) => event.text)).toContainEqual(
      expect.stringContaining('pins gone: the pinned reads bake on the target under alarm watch'),
    );
    // The pins' step writes no weight, yet it is a window of its own: from its start to the run's end, where
    // the target took every request; the cutover's window ends where it begins.
    const [cutover, pins] = summary.steps.slice(-2);
    expect([cutover?.kind, pins?.kind]).toEqual(['cutover', 'pins']);
    expect(pins?.requests.target, JSON.stringify(pins)).toBeGreaterThan(0);
    expect(pins?.delivered.requests?.target).toBeGreaterThan(0);
    // Counted on the default action, which routes exactly by its weights: every request to the target.
    expect(pins?.delivered).toMatchObject({ verdict: 'as-asked', requests: { source: 0 } });
    expect(pins?.delivered.from).toBeDefined();
    expect(Date.parse(pins!.delivered.from!)).toBeGreaterThanOrEqual(Date.parse(pins!.startedAt));
    expect(cutover?.delivered.to).toBe(pins?.delivered.from);
    expect(cutover?.endedAt).toBe(pins?.delivered.from);
  });

  it('rehearses: reads ramp, the starting weights come back, outcome rehearsed, nothing left on the target', async () => {
    const { exitCode, summary } = await runLocal(
      parseLocalOptions({ ...base, plan: '10:1s,25:1s', rehearsal: true }),
      quiet,
    );

    expect(exitCode).toBe(0);
    expect(summary).toMatchObject({ outcome: 'rehearsed', swingRulesLeft: 0 });
    expect(summary.finalWeights).toEqual(summary.startingWeights);
    expect(summary.divergence).toMatchObject({ targetOnly: 0, wrongClusterScrolls: 0 });
    expect(summary.targetWrites).toEqual({ beforeCutover: 0, afterCutover: 0 });
  });

  it('reports the write exposure when the target fails after the cutover, and rolls back by default', async () => {
    const { exitCode, summary } = await runLocal(
      parseLocalOptions({ ...base, plan: '50:1s,100:1s', targetErrors: '0.5@cutover' }),
      quiet,
    );

    expect(exitCode).toBe(1);
    expect(summary.outcome).toBe('rolled-back');
    expect(summary.finalWeights).toEqual(summary.startingWeights);
    expect(summary.exposure).toMatchObject({ policy: 'rollback' });
    // One instant for the cutover: the exposure's measure starts at the write the summary says writes cut over at
    // (the record's exposure.cutoverAt, written a few ms after it, is the AWS report's).
    expect(summary.exposure?.measured?.from).toBe(summary.cutoverAt);
    expect(summary.exposure?.windowSeconds).toBeGreaterThanOrEqual(0);
    expect(summary.exposure?.targetRequests).toBeGreaterThan(0);
    expect(summary.swingRulesLeft).toBe(0);
  });

  it('holds writes on the target after the cutover with --after-cutover hold, and halts', async () => {
    const { exitCode, summary } = await runLocal(
      parseLocalOptions({ ...base, plan: '50:1s,100:1s', targetErrors: '0.5@cutover', afterCutover: 'hold' }),
      quiet,
    );

    expect(exitCode).toBe(3);
    expect(summary.outcome).toBe('halted');
    expect(summary.error).toBe('HeldAfterCutover');
    expect(summary.finalWeights).toEqual({ source: 0, target: 999 });
    expect(summary.exposure).toMatchObject({ policy: 'hold' });
  });

  it('refuses bad reads-first flags before anything starts, naming the flag', () => {
    expect(() => parseLocalOptions({ ...base, traffic: 'writes-first' })).toThrow(/--traffic.*reads-first/);
    expect(() => parseLocalOptions({ ...base, plan: '10:1s,50:1s' })).toThrow(/must reach 100/);
    expect(() => parseLocalOptions({ portBase: '0', rehearsal: true })).toThrow(/acceptWritesOnTarget/);
    expect(() => parseLocalOptions({ portBase: '0', targetErrors: '0.5@cutover' })).toThrow(
      /--target-errors/,
    );
  });
});
