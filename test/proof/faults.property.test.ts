import fc from 'fast-check';
import { describe, it } from 'vitest';
import { LocalStepFunctions } from '#local/executor.ts';
import { runScenario } from './fault-run.ts';
import { MS_PER_SECOND, scenarioArbitrary } from './fault-scenario.ts';
import { expectInvariants } from './invariants.ts';

/**
 * Model-based fault testing: random plans and random fault schedules run through the real ASL and the real
 * engine over stateful fakes of ELBv2, CloudWatch, the record store and the Step Functions callbacks, and
 * the invariants of docs/guarantees.md are checked on the fakes' actual state (invariants.ts has one function
 * per invariant).
 *
 * A failure prints fast-check's seed, path and shrunk scenario; replay one with
 * `fc.assert(property, { seed, path, endOnFailure: true })`. Faults strike at the Nth AWS call of the rollout
 * (deterministic) or at whole-millisecond delays into a bake or gate, always due before the wait's own
 * timeout (fault-scenario.ts), so a seed replays the same run.
 */
describe('Model: random plans under random faults', () => {
  // One executor for every run: building one validates the ASL, which costs more than a short rollout.
  const stepFunctions = new LocalStepFunctions({ msPerSecond: MS_PER_SECOND, retryDelayMs: 1 });

  it('keeps I1-I5 and I7 on the fakes over 500 random plans and fault schedules', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary, async (scenario) => {
        const run = await runScenario(scenario, stepFunctions);
        await expectInvariants(run);
      }),
      { numRuns: 500 },
    );
  }, 180_000);
});
