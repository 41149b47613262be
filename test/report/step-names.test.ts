import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { executionReportData } from '#cli/report/from-execution.ts';
import { resolvePlan } from '#domain/plan.ts';
import type { Weights } from '#domain/types.ts';
import { localReportData } from '#local/report.ts';
import type { LocalSummary } from '#local/summary.ts';
import { stepName } from '#local/summary-text.ts';
import type { TimelineEvent } from '#local/timeline.ts';

// A completed reads-first rollout of plan 10:1,100:1: two read steps, the write cutover, the pins' step.
const KINDS = ['reads', 'reads', 'cutover', 'pins'] as const;
const PERCENTS = [10, 100, 100, 100];
const weightsAt = (percent: number): Weights =>
  percent === 100 ? { source: 0, target: 999 } : { source: 899, target: 100 };
const at = (second: number) => new Date(Date.UTC(2026, 11, 7, 7, 0, second)).toISOString();

/** The summary's name of the pins' step: the one the report's rows, its marker and its events must say. */
const pinsStepName = stepName({ number: 4, of: 4, kind: 'pins', percent: 100 });

describe("The reports' events name the pins' step as the summary and the step rows do", () => {
  it('the summary names it "step 4/4, pins removed"', () => {
    expect(pinsStepName).toBe('step 4/4, pins removed');
  });

  it("local report: every event of the pins' step says it (shifting, baking, baked)", () => {
    const events: TimelineEvent[] = KINDS.flatMap((stepKind, stepIndex) =>
      (['shifting', 'baking', 'baked'] as const).map(
        (status, offset): TimelineEvent => ({
          kind: 'phase',
          at: at(stepIndex * 3 + offset),
          status,
          stepIndex,
          steps: KINDS.length,
          targetPercent: PERCENTS[stepIndex]!,
          stepKind,
        }),
      ),
    );
    const summary = {
      outcome: 'completed',
      traffic: 'reads-first',
      plan: resolvePlan('10:1,100:1'),
      startedAt: at(0),
      endedAt: at(12),
      startingWeights: { source: 999, target: 0 },
      finalWeights: { source: 0, target: 999 },
      steps: [],
      clientRequests: { sent: 0, failed: 0, failedByCluster: {}, failedBySwitching: 0 },
      timeline: {
        events,
        readRuleWrites: [],
        series: {
          t: [],
          rps: { source: [], target: [] },
          errorPercent: { source: [], target: [] },
          p99LatencyMs: { source: [], target: [] },
        },
      },
    } as unknown as LocalSummary;
    const texts = localReportData(summary).events.map((event) => event.text);
    const pins = texts.filter((text) => text.includes('step 4/4'));
    expect(pins).toHaveLength(3);
    for (const text of pins) expect(text).toContain(`(${pinsStepName})`);
    expect(texts.filter((text) => text.includes('step 3/4'))[0]).toContain('(step 3/4, write cutover)');
  });

  it("AWS report (from the execution history): the pins' step's event says it", () => {
    const history: HistoryEvent[] = [
      {
        id: 1,
        type: 'ExecutionStarted',
        timestamp: new Date(at(0)),
        executionStartedEventDetails: {
          input: JSON.stringify({ plan: '10:1,100:1', traffic: 'reads-first' }),
        },
      },
      ...KINDS.map(
        (kind, index): HistoryEvent => ({
          id: index + 2,
          type: 'TaskStateExited',
          timestamp: new Date(at(index * 3 + 1)),
          stateExitedEventDetails: {
            name: 'ShiftWeights',
            output: JSON.stringify({
              step: { index, kind, targetPercent: PERCENTS[index], weights: weightsAt(PERCENTS[index]!) },
            }),
          },
        }),
      ),
      { id: KINDS.length + 2, type: 'ExecutionSucceeded', timestamp: new Date(at(12)) },
    ];
    const data = executionReportData({
      executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:swing:reads-first-1',
      events: history,
      minutes: [],
      now: new Date(at(20)),
    });
    const texts = data.events.map((event) => event.text);
    expect(texts).toContainEqual(`${pinsStepName}: weights source 0 / target 999 (100.0 % target)`);
    expect(texts).toContainEqual('step 3/4, write cutover: weights source 0 / target 999 (100.0 % target)');
    expect(texts.join('\n')).not.toMatch(/step 4\/4, pins(?! removed)/);
  });
});
