import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { faultStepFunctions, runScenario } from './fault-run.ts';
import type { Scenario } from './fault-scenario.ts';
import { expectInvariants, expectRestoredByTheSafetyNet, finalRecord } from './invariants.ts';

/**
 * I7 with the status event lost under the `hold` policy. An alarm in the cutover's bake makes Rollback hold;
 * its first DeleteRule of the read rules is refused for good, so the hold leaves the read rules behind (the
 * pins it keeps for the scroll keep-alive too) and Halt releases the lock. The scheduled reconciler then
 * sweeps them: its runs fail while the refusal lasts, then answer `swept-rules`, an answer for a lock already
 * free, never one that settled a holder. The invariant reads the reconciler's first settling answer.
 */
const scenario: Scenario = {
  starting: { source: 1, target: 0 },
  readsFirst: {
    cutoverGate: 'manual',
    afterCutover: 'hold',
    cutoverBakeSeconds: 5,
    scrollKeepAliveSeconds: 60,
    replayWaitSeconds: 30,
    rehearsal: false,
    cutoverResolution: { by: 'promote', afterMs: 100 },
  },
  steps: [{ targetPercent: 100, bakeSeconds: 2, gate: false }],
  asSpec: false,
  gate: { timeoutSeconds: 60, action: 'rollback' },
  gateResolutions: [],
  faults: [
    // The waits: the read step's bake, the cutover gate, the cutover's bake.
    { kind: 'alarm', at: { on: 'wait', k: 2, afterMs: 500 }, value: 'ALARM', delivery: { by: 'at-once' } },
    { kind: 'rule-fail', at: { on: 'in-state', state: 'Rollback', n: 1 }, times: 2 },
  ],
  insufficientData: 'not-firing',
  latencyMs: 10,
  statusEventLost: true,
};

describe('I7: a hold whose status event is lost', () => {
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  it('ends held after the cutover; the reconciler only sweeps what the hold left, and the invariants hold', async () => {
    const run = await runScenario(scenario, faultStepFunctions());
    const record = await finalRecord(run);
    const held = record?.history.find((rollout) => rollout.executionArn === run.executionArn);
    expect(run.result).toMatchObject({ status: 'FAILED', error: 'HeldAfterCutover' });
    expect(held).toMatchObject({ status: 'halted', exposure: { policy: 'hold' } });
    expect(run.world.elb.weights).toEqual(held?.lastWritten);
    // Two runs meet the refusal, the third sweeps: the last answer is a sweep of a free lock.
    expect(run.reconciled).toEqual([
      'failed: InvalidConfigurationRequest',
      'failed: InvalidConfigurationRequest',
      'swept-rules',
    ]);
    expect(run.world.elb.swingRules).toEqual([]);
    expectRestoredByTheSafetyNet(run, record);
    await expectInvariants(run);
  });
});
