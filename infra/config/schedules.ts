import * as z from 'zod';
import { TrafficModeSchema } from '#commons/config.ts';
import { ValidationFailed } from '#domain/errors.ts';
import { resolvePlan } from '#domain/plan.ts';
import { refuseTrafficPlan } from '#domain/reads-first.ts';
import type { PlanEnd, TrafficMode } from '#domain/types.ts';

const TIME_ZONE = z.string().refine(
  (zone) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  },
  { error: 'is not an IANA time zone: use e.g. UTC, Europe/Berlin, America/New_York' },
);

/** EventBridge Scheduler cron: six fields, and one of day-of-month / day-of-week must be '?'. */
export function cronIssue(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 6) {
    return `has ${fields.length} fields: write the six Scheduler fields "minutes hours day-of-month month day-of-week year", e.g. "0 2 ? * TUE *"`;
  }
  if (fields[2] !== '?' && fields[4] !== '?') {
    return 'sets both day-of-month and day-of-week: put \'?\' in one of them, e.g. "0 2 ? * TUE *"';
  }
  return undefined;
}

export const ScheduleSchema = z
  .strictObject({
    /** Names the schedule in the template and the execution's `requestedBy`. */
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,40}$/, { error: 'must be 1-40 letters, digits, ".", "_" or "-"' }),
    /** Recurring: the six EventBridge Scheduler cron fields, e.g. "0 2 ? * TUE *". */
    cron: z.string().optional(),
    /** One time: local date-time in `timezone`, e.g. "2030-01-15T02:00:00". */
    at: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/, {
        error: 'must be a local date-time yyyy-mm-ddThh:mm:ss, e.g. 2030-01-15T02:00:00',
      })
      .optional(),
    timezone: TIME_ZONE.default('UTC'),
    /** The execution input's plan: a preset, a spec or { steps }, checked here as the state machine will. */
    plan: z.unknown(),
    /** The rollout's traffic mode. @default the config's `traffic` */
    traffic: TrafficModeSchema.optional(),
    /** `restore`: a rehearsal, which goes back to the starting weights at its end. @default 'hold' */
    // biome-ignore lint/suspicious/noThenProperty: operators spell a plan's end `then: restore`; never awaited.
    then: z
      .enum(['hold', 'restore'], {
        error:
          "must be 'hold' (a rollout: keep the last step) or 'restore' (a rehearsal: go back at the end)",
      })
      .optional(),
    /** An all-mode rehearsal leaves the writes it sent on the target: accepted only on purpose. */
    acceptWritesOnTarget: z.boolean().optional(),
    requestedBy: z.string().min(1).max(256).optional(),
    enabled: z.boolean().default(true),
    description: z.string().max(512).optional(),
  })
  .superRefine((schedule, context) => {
    if ((schedule.cron === undefined) === (schedule.at === undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['cron'],
        message: 'set exactly one of cron (recurring) or at (one time)',
      });
    }
    const problem = schedule.cron === undefined ? undefined : cronIssue(schedule.cron);
    if (problem) context.addIssue({ code: 'custom', path: ['cron'], message: problem });
  });
export type ScheduleConfig = z.infer<typeof ScheduleSchema>;

/**
 * A scheduled start's plan, checked as Preflight will check it: the plan itself, then its traffic mode and end
 * (a reads-first rollout's reads reach 100 before the cutover; an all-mode rehearsal needs acceptWritesOnTarget).
 */
export function checkScheduledPlan(
  schedule: { plan: unknown; traffic?: TrafficMode; then?: PlanEnd; acceptWritesOnTarget?: boolean },
  stackTraffic: TrafficMode,
  field: string,
): void {
  const plan = resolvePlan(schedule.plan, `${field}.plan`);
  try {
    refuseTrafficPlan({
      traffic: schedule.traffic ?? stackTraffic,
      planEnd: schedule.then ?? 'hold',
      acceptWritesOnTarget: schedule.acceptWritesOnTarget ?? false,
      steps: plan.steps,
    });
  } catch (error) {
    if (!(error instanceof ValidationFailed)) throw error;
    throw new ValidationFailed(error.issues.map((issue) => ({ ...issue, field: `${field}.${issue.field}` })));
  }
}
