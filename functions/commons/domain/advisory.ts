import { type DeliveredSplit, notMeasured } from './delivered-split.ts';
import type { LogPort } from './log.ts';
import type { StepRecord } from './types.ts';

/**
 * Advice (the delivered split AfterBake measures from CloudWatch) never decides a rollout: a measure that fails
 * or does not answer in time is reported as not measured, and the rollout goes on. The deadline keeps a hung
 * call (a GetMetricData that never answers) from running AfterBake into its function timeout, which the state
 * machine would take for a failure and roll a healthy rollout back.
 */
export const ADVISORY_MEASURE_DEADLINE_MS = 10_000;

export async function measureAsAdvice(
  measure: (step: StepRecord, until: Date) => Promise<DeliveredSplit>,
  step: StepRecord,
  until: Date,
  context: { readonly log: LogPort; readonly executionArn: string; readonly deadlineMs?: number },
): Promise<DeliveredSplit> {
  const deadlineMs = context.deadlineMs ?? ADVISORY_MEASURE_DEADLINE_MS;
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
