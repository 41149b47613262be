import { describe, expect, it } from 'vitest';
import { silentLog } from '#domain/log.ts';
import { resolvePlan } from '#domain/plan.ts';
import { removeRules, runSteps } from '#domain/reads-first.ts';
import { isSourceOnly, PIN_WEIGHTS, SWING_RULE_SET } from '#domain/swing-rules.ts';
import type { FoundSwingRule, SwingRulesPort, Weights } from '#domain/types.ts';

const OWNER = 'arn:aws:states:us-east-1:123456789012:execution:swing:one';
const HALF: Weights = { source: 500, target: 499 };

function found(): FoundSwingRule[] {
  return SWING_RULE_SET.map((spec, index) => ({
    arn: `rule-${spec.name}`,
    name: spec.name,
    owner: OWNER,
    priority: 1000 + index,
    conditions: spec.conditions,
    weights: isSourceOnly(spec) ? PIN_WEIGHTS : HALF,
  }));
}

/** A rules port that records the calls in order. */
function recordingPort() {
  const calls: string[] = [];
  const port: SwingRulesPort = {
    readSwingRules: async () => [],
    createRule: async () => 'new',
    setRuleWeights: async (arn, weights) => void calls.push(`set ${arn} ${weights.target}`),
    deleteRule: async (arn) => void calls.push(`delete ${arn}`),
  };
  return { port, calls };
}

describe('removeRules: Swing leaves no rule, and never sends reads back on the way', () => {
  it('deletes the read rules first, then writes-to-source, then the pins, and re-weights none', async () => {
    const { port, calls } = recordingPort();

    expect(await removeRules(port, found(), silentLog)).toBe(SWING_RULE_SET.length);

    const reads = SWING_RULE_SET.filter((spec) => spec.role === 'reads').map((spec) => `rule-${spec.name}`);
    const pins = SWING_RULE_SET.filter((spec) => spec.role === 'pin').map((spec) => `rule-${spec.name}`);
    // A read rule set to the source on its way out would, after the cutover, send reads to a source that misses
    // the target's writes: it is deleted as it is, its reads then following the default action. Until the last
    // read rule is gone, writes-to-source keeps the writes a read pattern would match on the source.
    expect(calls).toEqual([
      ...reads.map((arn) => `delete ${arn}`),
      'delete rule-writes-to-source',
      ...pins.map((arn) => `delete ${arn}`),
    ]);
  });

  it('keeps the pins when asked for the read rules only (the cutover), removing writes-to-source with them', async () => {
    const { port, calls } = recordingPort();
    await removeRules(port, found(), silentLog, 'reads');
    expect(calls.some((call) => call.includes('pin-'))).toBe(false);
    expect(calls).toHaveLength(SWING_RULE_SET.filter((spec) => spec.role !== 'pin').length);
    expect(calls.at(-1)).toBe('delete rule-writes-to-source');
  });

  it('fails on an error of ELBv2, so that the state machine retries', async () => {
    const { port } = recordingPort();
    const failing: SwingRulesPort = {
      ...port,
      deleteRule: async () => {
        throw new Error('Throttling');
      },
    };
    await expect(removeRules(failing, found(), silentLog)).rejects.toThrow('Throttling');
  });
});

describe('runSteps: what a rollout runs', () => {
  const plan = resolvePlan('10,50,100');
  it('adds the write cutover after the read steps in reads-first, then the pins leaving in a step of their own', () => {
    const steps = runSteps({ plan, traffic: 'reads-first' });
    expect(steps.map((step) => `${step.kind}:${step.targetPercent}`)).toEqual([
      'reads:10',
      'reads:50',
      'reads:100',
      'cutover:100',
      'pins:100',
    ]);
  });
  it('never cuts writes over in a rehearsal, and runs the plan as is in all mode', () => {
    expect(runSteps({ plan, traffic: 'reads-first', planEnd: 'restore' }).map((step) => step.kind)).toEqual([
      'reads',
      'reads',
      'reads',
    ]);
    expect(runSteps({ plan })).toEqual(plan.steps);
  });
});
