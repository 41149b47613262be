import { describe, expect, it } from 'vitest';
import type { RolloutPatch, RolloutStore, SwingRulesPort } from '#domain/types.ts';
import { currentInvocation, LocalStepFunctions } from '#local/executor.ts';
import { holdingCalls } from '#test/support/held-calls.ts';
import { readsFirstWorld, replayLagCutover } from '#test/support/reads-first-world.ts';
import { ALARM } from '#test/support/rollout-world.ts';

/**
 * Review 7 (after ae0cfb4): a stale attempt of the write cutover lands between Rollback's first record read and its
 * rules read; Rollback takes the read rules the cutover removed for a hand deletion and halts, leaving the writes
 * cut over to the target, with no hand change anywhere.
 *
 * AWS sequence: a reads-first rollout (no reverse capture: the cutover without a freeze, AWS today) starts its write
 * cutover. The cutover's ShiftWeights first attempt passes its alarm check (all clear), then its first record write
 * (the pending mark, fenced) stalls in DynamoDB throttling; Step Functions loses its answer
 * (Lambda.ServiceException while it runs on) and retries. An alarm fires: the Retry's alarm check refuses the
 * cutover (AlarmFiring, no record write), Freeze (nothing to freeze before a cutover), Rollback. Rollback reads the
 * record (no cutover begun) and the listener (the starting weights), then its DescribeRules stalls. The first
 * attempt's write lands now (its fence passes: no later attempt wrote, nothing recorded rolling-back yet), and it
 * cuts over: ModifyListener to the target, its record write (cutoverAt), the listener read again (its own write),
 * then it removes the read rules. Rollback's DescribeRules answers without them: rulesDrift judged against the
 * record read at its start (no cutover) says "rules reads-get-head, ... of Swing's were deleted by someone"; ae0cfb4's
 * re-read of the record (judgedRules, removedByOwnHand) asks only whether it says rolling-back or forced, not that
 * the cutover (which removes the read rules itself) has happened since. Rollback records rolling-back with
 * WeightsDrifted and throws: Halt, `halted`, the listener left at 0/999 (every write on the target) after an
 * alarm. Present before ae0cfb4 too (no re-read), but the re-read it added is where the record says so.
 *
 * Broken: "So a halt for missing rules means someone other than Swing deleted one" (docs/guarantees.md), the fault
 * model's "halts for a hand change only after one happened" (invariants.ts); the alarm's rollback never happens.
 * Rollback's outlastStaleShifts looks for a cutover landing after its rolling-back write, not before it.
 * Suggested fix: in judgedRules, judge the rules again against the record read after them (rulesDrift(now, rules),
 * which skips missing rules once the cutover began), and when that record shows a cutover the start's did not,
 * throw a retryable error so that the Retry reads the record, the listener and the rules afresh (it then restores
 * or holds per policy).
 */

describe('A stale write cutover landing while Rollback reads the rules', () => {
  it('is not taken for a hand deletion: the rollout does not halt for one', async () => {
    let shifts = 0;
    const world = readsFirstWorld({
      stepFunctions: new LocalStepFunctions({
        msPerSecond: 1,
        retryDelayMs: 1,
        invocations: (call) => {
          if (call.stateName !== 'ShiftWeights' || call.retryCount !== 0) return undefined;
          shifts += 1;
          // The second ShiftWeights is the write cutover (plan: reads at 100 %, cutover, pins).
          return shifts === 2 ? { answerLostAfterMs: 0 } : undefined;
        },
      }),
    });
    const inState = (name: string, retryCount: number) => () => {
      const call = currentInvocation();
      return call?.stateName === name && call.retryCount === retryCount;
    };
    const realStore = world.deps.store as RolloutStore;
    // The cutover's first attempt: its pending mark (cutoverStartedAt) stalls.
    const staleCutover = holdingCalls(
      realStore,
      'update',
      (_listener: string, _execution: string, patch: RolloutPatch) =>
        inState('ShiftWeights', 0)() && patch.cutoverStartedAt !== undefined,
    );
    // The Retry's first read waits until the alarm has fired.
    const retryRead = holdingCalls(staleCutover.port, 'get', inState('ShiftWeights', 1));
    const rollbackRules = holdingCalls(
      world.deps.swingRules as SwingRulesPort,
      'readSwingRules',
      inState('Rollback', 0),
    );
    Object.assign(world.deps, { store: retryRead.port, swingRules: rollbackRules.port });
    const execution = world.start({
      plan: '100:1',
      readsFirst: replayLagCutover({ afterCutover: 'rollback' }),
    });

    const until = async (check: () => boolean, what: string): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    };
    await until(
      () => staleCutover.stalled && retryRead.stalled,
      'the cutover attempt stalled, its Retry held',
    );
    await world.fireAlarm(ALARM);
    retryRead.release();
    await until(() => rollbackRules.stalled, 'Rollback in DescribeRules');
    const before = world.elb.weights;
    staleCutover.release();
    await until(
      () =>
        world.elb.swingRules.every(
          (rule) => !(rule.tags.find((tag) => tag.Key === 'swing:rule')?.Value ?? '').startsWith('reads-'),
        ),
      'the stale cutover removed the read rules',
    );
    const cutOver = world.elb.weights;
    rollbackRules.release();
    const result = await execution.result;

    expect(before).toEqual({ source: 999, target: 0 });
    expect(cutOver).toEqual({ source: 0, target: 999 });
    // No hand change happened: no halt for one, and the alarm's rollback restores the starting weights.
    expect.soft(result).not.toMatchObject({ error: 'WeightsDrifted' });
    expect.soft(world.notifications.at(-1)?.reason?.cause ?? '').not.toMatch(/deleted by someone/);
    expect.soft(world.elb.weights).toEqual({ source: 999, target: 0 });
  });
});
