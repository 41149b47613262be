import { createColors } from 'picocolors';
import { describe, expect, it } from 'vitest';
import { judgeDeliveredSplit } from '#domain/delivered-split.ts';
import type { Rollout } from '#domain/types.ts';
import type { DocumentWrite } from '#local/documents.ts';
import { summarize } from '#local/summarize.ts';
import type { LocalSummary, StepSummary } from '#local/summary.ts';
import { summaryLines } from '#local/summary-text.ts';
import { LocalTimeline } from '#local/timeline.ts';

const c = createColors(false);

/** A step as the local run records it, its delivered split judged from its counts as the run judges it. */
function step(
  number: number,
  kind: StepSummary['kind'],
  percent: number,
  weights: StepSummary['weights'],
  requests: StepSummary['requests'],
  delivered: StepSummary['requests'] = requests,
): StepSummary {
  return {
    index: number - 1,
    number,
    of: 5,
    kind,
    percent,
    weights,
    startedAt: '2026-12-07T07:00:00.000Z',
    requests,
    errors: { source: 0, target: 0 },
    delivered: judgeDeliveredSplit({ weights, requests: delivered }),
    gate: false,
  };
}

describe('The local summary names each step as the live view does', () => {
  // A completed reads-first run: three read steps, the write cutover, the pins' step. The pins' step changes no
  // weight: its split counts the default action from the pins' removal, which every request then follows.
  const steps = [
    step(1, 'reads', 10, { source: 899, target: 100 }, { source: 900, target: 100 }),
    step(2, 'reads', 50, { source: 499, target: 500 }, { source: 500, target: 500 }),
    step(3, 'reads', 100, { source: 0, target: 999 }, { source: 0, target: 1000 }),
    step(4, 'cutover', 100, { source: 0, target: 999 }, { source: 0, target: 400 }),
    step(5, 'pins', 100, { source: 0, target: 999 }, { source: 0, target: 380 }, { source: 0, target: 372 }),
  ];
  const summary = {
    outcome: 'completed',
    finalWeights: { source: 0, target: 999 },
    startingWeights: { source: 999, target: 0 },
    steps,
    stateTransitions: 40,
    clientRequests: { sent: 2380, failed: 0, failedByCluster: {}, failedBySwitching: 0 },
    traffic: 'reads-first',
    swingRulesLeft: 0,
    durationMs: 15_000,
  } as unknown as LocalSummary;
  const lines = summaryLines(summary, c);

  it('numbers the steps and names the write cutover and the pins, never "step 100 %"', () => {
    const stepLines = lines.filter((line) => line.startsWith('  step'));
    expect(stepLines.map((line) => line.split(':')[0])).toEqual([
      '  step 1/5, reads 10 %',
      '  step 2/5, reads 50 %',
      '  step 3/5, reads 100 %',
      '  step 4/5, write cutover',
      '  step 5/5, pins removed',
    ]);
  });

  it("judges the pins' step's split as the report's row does (as asked), saying what it counted", () => {
    const splits = lines.filter((line) => line.startsWith('    delivered split:'));
    expect(splits).toHaveLength(5);
    expect(steps[4]!.delivered.verdict).toBe('as-asked');
    expect(splits[4]).toBe(
      '    delivered split: asked 100 %, delivered 100 % of 372 (as asked at level 0.001, p=1.0); ' +
        "the default action's requests, which every read and write follows once the pins left",
    );
    expect(splits[4]).not.toContain('not judged');
    expect(splits[1]).toMatch(/asked 50(\.\d+)? %, delivered 50 % of 1000 \(as asked/);
  });
});

describe("The local summary's write cutover is the instant the events, the live view and the report show", () => {
  // The engine records cutoverStartedAt, writes the default action, then records cutoverAt a few ms later.
  const cutoverStartedAt = '2026-12-07T07:00:10.000Z';
  const cutoverWrite = '2026-12-07T07:00:10.001Z';
  const clientWrite = '2026-12-07T07:00:10.003Z';
  const recordedCutoverAt = '2026-12-07T07:00:10.006Z';
  const counts = { requests: 0, errors5xx: 0 };
  const totals = {
    weighted: { source: counts, target: counts },
    all: { source: counts, target: counts },
    routed: { source: 0, target: 0 },
    byRoute: {},
  };
  let now = Date.parse('2026-12-07T07:00:00.000Z');
  const timeline = new LocalTimeline({ totals: () => totals } as never, () => now);
  timeline.recordWeights({ source: 1, target: 0 });
  now = Date.parse(cutoverWrite);
  timeline.recordWeights({ source: 0, target: 999 });
  const rollout = {
    traffic: 'reads-first',
    plan: { steps: [{ targetPercent: 100, bakeSeconds: 1, gate: false }] },
    steps: [],
    cutoverStartedAt,
    cutoverAt: recordedCutoverAt,
  } as unknown as Rollout;
  // A client's write the target took between the weight change and the record's cutoverAt.
  const target = { writes: () => [{ at: Date.parse(clientWrite), replayed: false } as DocumentWrite] };
  const summary = summarize({
    result: { status: 'SUCCEEDED' } as never,
    rollout,
    interrupted: false,
    startingWeights: { source: 1, target: 0 },
    finalWeights: { source: 0, target: 999 },
    writes: [],
    firstAlarmAt: undefined,
    transitions: 10,
    clients: { sent: 0, ok: 0, failed: 0, failedByCluster: {}, unknownApi: 0, scrolls: {} } as never,
    divergence: undefined,
    traffic: 'reads-first',
    target,
    swingRulesLeft: 0,
    startedAt: Date.parse('2026-12-07T07:00:00.000Z'),
    endTotals: totals.weighted,
    plan: rollout.plan,
    timeline,
  });

  it("says writes cut over at the cutover's weights event, not at the record's time after it", () => {
    const event = summary.timeline.events.find((each) => each.kind === 'weights' && each.weights.target > 0);
    expect(event?.at).toBe(cutoverWrite);
    expect(summary.cutoverAt).toBe(cutoverWrite);
    expect(summaryLines(summary, c)).toContainEqual(
      expect.stringContaining(`reads first: writes cut over at ${cutoverWrite}; `),
    );
  });

  it('counts the writes the target took before and after that same instant', () => {
    expect(summary.targetWrites).toEqual({ beforeCutover: 0, afterCutover: 1 });
  });
});
