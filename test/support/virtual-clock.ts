import { afterEach, beforeEach, vi } from 'vitest';
import { LocalStepFunctions, type LocalStepFunctionsOptions } from '#local/executor.ts';
import { makeWorld } from '#test/support/rollout-world.ts';

/**
 * Runs each test of the enclosing describe on vitest's fake clock (timers, immediates and Date), and puts the
 * real clock back after it: the proofs' virtual clock.
 */
export function useVirtualClock(): void {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}

/**
 * Advances vitest's fake clock until `promise` settles, failing instead of hanging, and says how much of that
 * clock it took. For proofs that run the executor on a virtual clock: the order of events is the plan's, not
 * the machine's load.
 */
export async function settleWithin<T>(
  promise: Promise<T>,
  maxMs: number,
  stepMs = 50,
): Promise<{ value: T; atMs: number }> {
  const start = Date.now();
  let outcome: { value: T } | { error: unknown } | undefined;
  promise.then(
    (value) => {
      outcome = { value };
    },
    (error: unknown) => {
      outcome = { error };
    },
  );
  while (!outcome && Date.now() - start <= maxMs) await vi.advanceTimersByTimeAsync(stepMs);
  if (!outcome) throw new Error(`not settled within ${maxMs} ms of the virtual clock`);
  if ('error' in outcome) throw outcome.error;
  return { value: outcome.value, atMs: Date.now() - start };
}

/**
 * A rollout world whose executor counts plan seconds as real seconds of vitest's fake clock (they cost nothing),
 * with a short Retry pause and these invocation timings (slow starts, lost answers).
 */
export function virtualClockWorld(invocations?: LocalStepFunctionsOptions['invocations']) {
  return makeWorld({
    stepFunctions: new LocalStepFunctions({
      msPerSecond: 1000,
      retryDelayMs: 100,
      ...(invocations ? { invocations } : {}),
    }),
  });
}
