import { describe, expect, it } from 'vitest';
import { SDK_CLIENT_CONFIG } from '#clients/request-timeouts.ts';
import { ADVISORY_RESERVE_MS } from '#domain/advisory.ts';
import type { StepRecord } from '#domain/types.ts';
import { currentInvocation } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { makeWorld } from '#test/support/rollout-world.ts';

/**
 * Issue 20 review: AfterBake (30 s function timeout) could run past its timeout through slow calls that each
 * answered within their SDK timeouts: the delivered-split measure waited its full 10 s whatever time the
 * invocation had left, and the record write after it then met the timeout (Sandbox.Timedout: a rollback of a
 * healthy rollout). The measure is bounded by the invocation's remaining time (Lambda's context, injected), less
 * what the record write after it may need; a measure that cannot be taken is reported, never waited for.
 */

async function runWithTimeLeft(remainingMs: number) {
  const world = makeWorld();
  const measured: string[] = [];
  const deps = {
    ...world.deps,
    remainingMs: () => remainingMs,
    measureDeliveredSplit: (step: StepRecord) => {
      measured.push(step.startedAt);
      // A GetMetricData that never answers (each page within its SDK timeout, the whole too slow).
      return new Promise<never>(() => {});
    },
  };
  const result = await world.sfn.start(deps, { plan: '50:1,100' }).result;
  const steps = (await world.store.get(LISTENER.listenerArn))?.history.at(-1)?.steps ?? [];
  return { world, result, steps, measured };
}

describe('An advisory measure in AfterBake, bounded by the time left in the invocation', () => {
  it('is not taken when the record write after it needs all the time left: reported, and the rollout completes', async () => {
    // 20 s left of AfterBake's 30 s: the calls before it were slow.
    const { result, steps, measured, world } = await runWithTimeLeft(20_000);

    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expect(measured).toEqual([]);
    expect(steps[0]?.delivered).toMatchObject({
      verdict: 'not-measured',
      notes: [expect.stringContaining('20 s left in the invocation')],
    });
    expect(world.elb.weights).toEqual({ source: 0, target: 999 });
  });

  it('waits no longer than the time left less the record write, then reports it not measured', async () => {
    // 300 ms more than the write's reserve: the hung measure is given up after 0.3 s, not its 10 s deadline.
    const { result, steps, measured } = await runWithTimeLeft(ADVISORY_RESERVE_MS + 300);

    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expect(measured).toHaveLength(2);
    expect(steps[0]?.delivered).toMatchObject({
      verdict: 'not-measured',
      notes: [expect.stringContaining('no answer within 0.3 s')],
    });
  });

  it('keeps back at least what one AWS call may take at worst under the SDK timeouts', () => {
    const { maxAttempts, requestHandler } = SDK_CLIENT_CONFIG;
    expect(ADVISORY_RESERVE_MS).toBeGreaterThanOrEqual(
      maxAttempts * (requestHandler.connectionTimeout + requestHandler.requestTimeout),
    );
  });
});

describe('AfterBake timed out by Lambda', () => {
  it('is tried again, not taken for a failure of the target: the rollout completes', async () => {
    const world = makeWorld();
    let timeouts = 0;
    const evaluate = world.deps.alarms.evaluate.bind(world.deps.alarms);
    const deps = {
      ...world.deps,
      alarms: {
        ...world.deps.alarms,
        evaluate: async () => {
          // AfterBake's first check runs into the function's timeout (slow DescribeAlarms, say).
          if (currentInvocation()?.stateName === 'AfterBake' && timeouts === 0) {
            timeouts += 1;
            throw Object.assign(new Error('Task timed out after 30.00 seconds'), {
              name: 'Sandbox.Timedout',
            });
          }
          return evaluate();
        },
      },
    };

    const result = await world.sfn.start(deps, { plan: '50:1,100' }).result;

    expect(timeouts).toBe(1);
    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expect(world.elb.weights).toEqual({ source: 0, target: 999 });
  });
});
