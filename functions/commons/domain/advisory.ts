import { type DeliveredSplit, notMeasured } from './delivered-split.ts';
import type { LogPort } from './log.ts';
import type { StepRecord } from './types.ts';

/**
 * Advice (the delivered split AfterBake measures from CloudWatch) never decides a rollout: a measure that fails
 * or does not answer in time is reported as not measured, and the rollout goes on. The deadline keeps a hung
 * call (a GetMetricData that never answers) from running AfterBake into its function timeout, which the state
 * machine would take for a failure and roll a healthy rollout back; so does the bound by the invocation's time
 * left, whatever the calls before it took.
 */
export const ADVISORY_MEASURE_DEADLINE_MS = 10_000;

/**
 * What a measure leaves of the invocation's time for the calls that follow it (AfterBake's fenced record
 * write): one AWS call at worst under the SDK timeouts (3 attempts of 2 s to connect and 5 s to answer,
 * clients/request-timeouts.ts), and a second for margin.
 */
export const ADVISORY_RESERVE_MS = 22_000;

export interface AdviceContext {
  readonly log: LogPort;
  readonly executionArn: string;
  /** @default ADVISORY_MEASURE_DEADLINE_MS */
  readonly measureDeadlineMs?: number;
  /** The invocation's time left (Lambda's `getRemainingTimeInMillis`). Absent: no bound but the deadline. */
  readonly remainingMs?: () => number;
}

export async function measureAsAdvice(
  measure: (step: StepRecord, until: Date) => Promise<DeliveredSplit>,
  step: StepRecord,
  until: Date,
  context: AdviceContext,
): Promise<DeliveredSplit> {
  const left = context.remainingMs?.();
  const deadlineMs = Math.min(
    context.measureDeadlineMs ?? ADVISORY_MEASURE_DEADLINE_MS,
    left === undefined ? Number.POSITIVE_INFINITY : left - ADVISORY_RESERVE_MS,
  );
  if (deadlineMs <= 0) {
    const why = `${Math.round((left ?? 0) / 100) / 10} s left in the invocation, which the record write after it needs`;
    context.log.warn('delivered split not measured', {
      executionArn: context.executionArn,
      index: step.index,
      why,
    });
    return notMeasured(step.weights, `RequestCount was not read: ${why}`);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`no answer within ${deadlineMs / 1000} s (the measure is advice: not waited for)`)),
      deadlineMs,
    );
  });
  try {
    const delivered = await Promise.race([measure(step, until), late]);
    if (delivered.verdict === 'off') {
      context.log.warn('delivered split differs from the weights', {
        executionArn: context.executionArn,
        index: step.index,
        delivered,
      });
    }
    return delivered;
  } catch (error) {
    const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    context.log.warn('delivered split not measured', {
      executionArn: context.executionArn,
      index: step.index,
      error: why,
    });
    return notMeasured(step.weights, `RequestCount could not be read: ${why.slice(0, 300)}`);
  } finally {
    clearTimeout(timer);
  }
}
