import { describe, expect, it } from 'vitest';
import { parseLocalOptions } from '#local/options.ts';
import { runLocal } from '#local/run.ts';

/**
 * The numbers a reads-first run reports: each read step's delivered split counted by the local ALB per rule,
 * the write cutover a step of its own, and the write exposure measured to the millisecond from the cutover's
 * write to the restore's, its requests split into reads and writes.
 */

const quiet = { stdout: () => {}, isTTY: false };

describe('Local mode, reads-first: the summary tells the true numbers', () => {
  it('counts each read step exactly, reports the cutover as its own step and the exposure in ms', async () => {
    const { exitCode, summary } = await runLocal(
      parseLocalOptions({
        portBase: '0',
        rate: '200',
        writeRatio: '0.4',
        // A loaded machine's own latency is not the target's fault: only the injected errors should alarm.
        alarmP99: '30000',
        traffic: 'reads-first',
        plan: '10:3s,50:3s,100:3s',
        targetErrors: '0.5@cutover',
      }),
      quiet,
    );
    // The JSON a --json run prints.
    const json = JSON.parse(JSON.stringify(summary)) as typeof summary;

    expect(exitCode, JSON.stringify(json.rollback)).toBe(1);
    expect(json.outcome).toBe('rolled-back');
    // The rollout runs 5 steps: 3 read steps, the write cutover, then the pins leaving (a step of its own, baked
    // under alarm watch), which this run never reaches: the alarm rolls back in the cutover's bake.
    expect(json.steps.map((step) => [step.number, step.of, step.kind, step.percent])).toEqual([
      [1, 5, 'reads', 10],
      [2, 5, 'reads', 50],
      [3, 5, 'reads', 100],
      [4, 5, 'cutover', 100],
    ]);
    const reads = json.steps.filter((step) => step.kind === 'reads');
    const served = (step: (typeof reads)[number]) =>
      (step.delivered.requests?.source ?? 0) + (step.delivered.requests?.target ?? 0);
    // A loaded machine sends fewer requests than asked: a step that served 100 or fewer is too few to judge.
    expect(reads.filter((step) => served(step) > 100).length, JSON.stringify(reads)).toBeGreaterThan(0);
    for (const step of reads) {
      const { verdict, askedPercent } = step.delivered;
      // The stand-in routes exactly by the weights: the binomial test must not reject the asked share.
      expect(verdict, `step ${step.number}: ${JSON.stringify(step.delivered)}`).toBe(
        served(step) > 100 ? 'as-asked' : 'too-few',
      );
      expect(askedPercent).toBeCloseTo(step.percent, 1);
      expect(step.delivered.from).toBeDefined();
    }
    // Counted per rule: at 100 % no read reaches the source, at 10 % most do.
    expect(reads[2]?.delivered.requests?.source).toBe(0);
    expect(reads[0]?.delivered.requests?.source).toBeGreaterThan(reads[0]?.delivered.requests?.target ?? 0);
    // Each step's window follows the last: the three read rules are written one after the other, so one
    // step's window ends rule by rule (within milliseconds) as the next one's begins.
    for (let i = 1; i < reads.length; i += 1) {
      expect(Date.parse(reads[i]!.delivered.from!)).toBeGreaterThan(
        Date.parse(reads[i - 1]!.delivered.from!),
      );
      expect(
        Math.abs(Date.parse(reads[i]!.delivered.from!) - Date.parse(reads[i - 1]!.delivered.to!)),
      ).toBeLessThan(1000);
    }
    // The last read step ends at the cutover's write, where the cutover step starts.
    const cutover = json.steps[3]!;
    expect(cutover.delivered.from).toBe(reads[2]!.delivered.to);
    expect(cutover.delivered.askedPercent).toBe(100);
    expect(cutover.delivered.requests?.source).toBe(0);

    // The default action was written three times: the start, the cutover, the restore.
    const writes = json.timeline.events.filter((event) => event.kind === 'weights');
    expect(writes.map((event) => event.targetPercent)).toEqual([0, 100, 0]);
    const measured = json.exposure?.measured;
    expect(measured).toMatchObject({ from: writes[1]!.at, to: writes[2]!.at, until: 'restore' });
    expect(measured?.windowMs).toBe(Date.parse(writes[2]!.at) - Date.parse(writes[1]!.at));
    expect(measured?.windowMs).toBeGreaterThan(0);
    expect(cutover.delivered.to).toBe(writes[2]!.at);
    // Every request the target took in the window is a read or a write, and writes did reach it.
    const inWindow = measured!.targetRequests;
    expect(inWindow.reads + inWindow.writes).toBe(inWindow.total);
    expect(inWindow.writes).toBeGreaterThan(0);
    expect(inWindow.reads).toBeGreaterThan(0);
    // The record's own count (what AWS would report from RequestCount) is the same window's.
    expect(json.exposure?.targetRequests).toBe(inWindow.total);
  });
});
