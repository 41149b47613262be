import { afterAll, beforeAll, describe, it, vi } from 'vitest';
import { faultStepFunctions, runScenario } from './fault-run.ts';
import type { Scenario } from './fault-scenario.ts';
import { expectInvariants } from './invariants.ts';

/**
 * Found by the fault model's `SWING_FC_DRAW=settlerHandChange` (off by default while it fails):
 * `SWING_FC_DRAW=settlerHandChange SWING_FC_SEED=-29 SWING_FC_PATH=423 npx vitest run test/proof/faults.property.test.ts`.
 * A reads-first rollout with reverse capture and `afterCutover: hold`: an alarm in the cutover's bake holds it
 * (Rollback records reason AlarmFired and a `hold` exposure) and the operator stops the execution meanwhile. The
 * safety net, an operator having decided, freezes writes and drains; during the drain the operator sets the
 * listener's weights by hand, so the safety net halts for that hand change (`halted-drift`), lifting the freeze and
 * leaving the rest. The record still says AlarmFired and `hold`, so the reconciler's sweep takes the rollout for a
 * hold (reconciler.ts sweepLeftoverRules: `held`) rather than one halted for drift, and once the scroll keep-alive
 * passed it removes all of the rollout's rules (the pins, writes-to-source, the POST-read forwards) after the
 * operator changed the listener by hand: I4 says Swing then writes nothing.
 */
const SCENARIO = {
  starting: {
    source: 999,
    target: 0,
  },
  steps: [
    {
      targetPercent: 4.5,
      bakeSeconds: 16,
      gate: false,
    },
    {
      targetPercent: 28.1,
      bakeSeconds: 6,
      gate: false,
    },
    {
      targetPercent: 100,
      bakeSeconds: 20,
      gate: false,
    },
  ],
  readsFirst: {
    cutoverGate: 'replay-lag',
    afterCutover: 'hold',
    cutoverBakeSeconds: 2,
    scrollKeepAliveSeconds: 9,
    replayWaitSeconds: 92,
    rehearsal: false,
    reverse: {
      drainTimeoutSeconds: 85,
      drainsAfterMs: 14311,
      ok: {
        by: 'none',
      },
      alarmAfterCutover: {
        in: 'cutover',
        afterMs: 1597,
      },
      endAfterCutover: {
        in: 'cutover',
        afterMs: 2937,
        by: 'stop',
      },
      freezeFault: {
        kind: 'late-rule',
        rule: 4,
        lostAfterMs: 580,
        afterEndMs: 7,
        handChangeAfterMs: 2363,
        handWeights: {
          source: 2,
          target: 313,
        },
      },
      alarmDatapoints: {
        freezeIntoPeriodMs: 7,
        sampleAtMs: 26635,
        judgedAfterMs: 82890,
        caughtUpSamples: 2,
      },
    },
    cutoverResolution: {
      by: 'promote',
      afterMs: 2000,
    },
  },
  gate: {
    timeoutSeconds: 101,
    action: 'promote',
  },
  gateResolutions: [],
  asSpec: true,
  insufficientData: 'not-firing',
  latencyMs: 200,
  statusEventLost: false,
  faults: [
    {
      kind: 'alarm',
      at: {
        on: 'wait',
        k: 3,
        afterMs: 1597,
      },
      value: 'ALARM',
      delivery: {
        by: 'at-once',
      },
    },
    {
      kind: 'stop',
      at: {
        on: 'wait',
        k: 3,
        afterMs: 2937,
      },
    },
    {
      kind: 'drift',
      at: {
        on: 'frozen',
        afterMs: 2363,
        settlers: true,
      },
      weights: {
        source: 2,
        target: 313,
      },
    },
  ],
} as unknown as Scenario;

describe('A hold that a settler halted for a hand change', () => {
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  it('keeps its rules: the reconciler writes nothing after the hand change (I4)', async () => {
    const run = await runScenario(SCENARIO, faultStepFunctions());
    await expectInvariants(run);
  }, 60_000);
});
