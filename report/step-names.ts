import type { ReportStep } from './model.ts';

/**
 * What a reads-first step moves, as the summary, the report's rows, its markers and its events name it, the
 * local run's and the AWS execution's alike: one name per step, wherever it is read.
 */
export const STEP_KIND_NAMES = {
  reads: 'reads',
  cutover: 'write cutover',
  pins: 'pins removed',
} as const satisfies Record<NonNullable<ReportStep['kind']>, string>;

/** An event's step: `step 2/4`, and in reads-first what it moves: `step 4/5, write cutover`, `step 5/5, pins removed`. */
export function eventStepLabel(number: number, of: number | undefined, kind: ReportStep['kind']): string {
  return `step ${number}${of ? `/${of}` : ''}${kind ? `, ${STEP_KIND_NAMES[kind]}` : ''}`;
}
