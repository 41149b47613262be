import { randomInt } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it, vi } from 'vitest';
import { faultStepFunctions, runScenario } from './fault-run.ts';
import { scenarioArbitrary } from './fault-scenario.ts';
import { expectInvariants } from './invariants.ts';

/**
 * Model-based fault testing: random plans and random fault schedules run through the real ASL and the real
 * engine over stateful fakes of ELBv2, CloudWatch, the record store and the Step Functions callbacks, and
 * the invariants of docs/guarantees.md are checked on the fakes' actual state (invariants.ts has one function
 * per invariant). The executor behaves as AWS does (timeouts race invocations, retries overlap, StopExecution
 * leaves Lambdas running, status events may be lost) and everything runs on a virtual clock (fault-scenario.ts),
 * so a seed replays the same run whatever the machine's load.
 *
 * Every run draws a fresh seed. A failure prints it with the path and the shrunk scenario; replay it with
 * `SWING_FC_SEED=<seed> SWING_FC_PATH=<path> npx vitest run test/proof/faults.property.test.ts`. A third of
 * the runs are reads-first (read rules, the write cutover, rehearsals). `SWING_FC_RUNS=<n>` runs more.
 */
const NUM_RUNS = Number(process.env.SWING_FC_RUNS ?? 500);

describe('Model: random plans under random faults', () => {
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  it(`keeps I1-I5 and I7-I9 on the fakes over ${NUM_RUNS} random plans (a third reads-first) and fault schedules`, async () => {
    const stepFunctions = faultStepFunctions();
    const seed = process.env.SWING_FC_SEED
      ? Number(process.env.SWING_FC_SEED)
      : // Uniform over fast-check's seeds: fc.integer() favours small and extreme values, so its "fresh" seeds recurred.
        randomInt(-(2 ** 31), 2 ** 31);
    const path = process.env.SWING_FC_PATH;
    const details = await fc.check(
      fc.asyncProperty(scenarioArbitrary, async (scenario) => {
        const run = await runScenario(scenario, stepFunctions);
        await expectInvariants(run);
      }),
      // SWING_FC_SHRINK=0 reports the first failure as found (its seed and path replay it), unshrunk.
      {
        numRuns: NUM_RUNS,
        seed,
        ...(path || process.env.SWING_FC_SHRINK === '0' ? { endOnFailure: true } : {}),
        ...(path ? { path } : {}),
      },
    );
    if (details.failed) {
      const drawn = process.env.SWING_FC_DRAW ? `SWING_FC_DRAW=${process.env.SWING_FC_DRAW} ` : '';
      throw new Error(
        `replay: ${drawn}SWING_FC_SEED=${details.seed} SWING_FC_PATH=${details.counterexamplePath} ` +
          `npx vitest run test/proof/faults.property.test.ts\n${fc.defaultReportMessage(details)}`,
        { cause: details.errorInstance },
      );
    }
  }, 240_000);
});
