import * as z from 'zod';
import { type FieldIssue, ValidationFailed } from './errors.ts';
import type { Plan, PlanStep } from './types.ts';
import { fieldIssuesFrom, strictObjectOf } from './validation.ts';

/** A plan is a preset name, a compact spec (`5:5m,25:10m,50:10m!,100`) or `{ steps: [...] }`. */

export const MAX_STEPS = 50;
export const MAX_BAKE_SECONDS = 86_400;
const SPEC_EXAMPLE = '5:5m,25:10m,100';

export const PRESETS = ['canary', 'linear-10', 'linear-25'] as const;
export type PresetName = (typeof PRESETS)[number];

const PRESET_PERCENTS: Record<PresetName, readonly number[]> = {
  canary: [5, 25, 50, 100],
  'linear-10': [10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
  'linear-25': [25, 50, 75, 100],
};
const PRESET_BAKE_SECONDS = 300;

const hasOneDecimalAtMost = (value: number) => Number(value.toFixed(1)) === value;
const isStepPercent = (value: unknown): value is number =>
  typeof value === 'number' && value > 0 && value <= 100;

export const PlanStepSchema = strictObjectOf(
  {
    targetPercent: z
      .number({ error: 'is required: the percent of traffic to the target after this step, e.g. 25' })
      .gt(0, {
        error: (issue) =>
          `is ${issue.input}: must be greater than 0 (a plan only moves traffic towards the target)`,
      })
      .lte(100, { error: (issue) => `is ${issue.input}: must be at most 100` })
      .refine(hasOneDecimalAtMost, {
        error: (issue) => `is ${issue.input}: must have at most one decimal (0.1 % resolution), e.g. 12.5`,
      }),
    bakeSeconds: z
      .number({ error: 'must be a number of seconds, e.g. 300' })
      .int({ error: (issue) => `is ${issue.input}: must be a whole number of seconds` })
      .min(0, { error: (issue) => `is ${issue.input}: must be 0 or more seconds` })
      .max(MAX_BAKE_SECONDS, {
        error: (issue) => `is ${issue.input}: must be at most ${MAX_BAKE_SECONDS} s (24h); split the step`,
      })
      .default(0),
    gate: z.boolean({ error: 'must be true or false' }).default(false),
  },
  'an object like { "targetPercent": 25, "bakeSeconds": 300, "gate": false }',
);

export const PlanSchema = strictObjectOf(
  {
    steps: z
      .array(PlanStepSchema, {
        error: (issue) =>
          `${issue.input === undefined ? 'is required:' : 'must be'} a list of steps like [{ "targetPercent": 100 }]`,
      })
      .min(1, { error: 'is empty: give at least one step, e.g. [{ "targetPercent": 100 }]' })
      .max(MAX_STEPS, {
        error: (issue) =>
          `has ${(issue.input as unknown[]).length} steps: at most ${MAX_STEPS} are allowed; use larger increments`,
      })
      .superRefine((steps, context) => {
        for (const [index, step] of steps.entries()) {
          // A step that breaks its own range already has an issue; comparing it would only add noise.
          const previous = steps[index - 1]?.targetPercent;
          if (!isStepPercent(previous) || !isStepPercent(step.targetPercent)) continue;
          if (step.targetPercent > previous) continue;
          context.addIssue({
            code: 'custom',
            path: [index, 'targetPercent'],
            message:
              `is ${step.targetPercent}: must be greater than the previous step's ${previous}: ` +
              'percents must strictly increase',
          });
        }
      }),
  },
  `a preset (${PRESETS.join(', ')}), a spec like ${SPEC_EXAMPLE}, or { "steps": [...] }`,
);

/** The plan for a preset: every step bakes 5 minutes except the last, which ends the rollout at once. */
export function presetPlan(name: PresetName): Plan {
  const percents = PRESET_PERCENTS[name];
  return freezePlan(
    percents.map((targetPercent, index) => ({
      targetPercent,
      bakeSeconds: index === percents.length - 1 ? 0 : PRESET_BAKE_SECONDS,
      gate: false,
    })),
  );
}

/** Every preset with its spec, for `swing plans` and help texts. */
export function listPresets(): { name: PresetName; spec: string; plan: Plan }[] {
  return PRESETS.map((name) => {
    const plan = presetPlan(name);
    return { name, spec: formatPlanSpec(plan), plan };
  });
}

function isPreset(text: string): text is PresetName {
  return (PRESETS as readonly string[]).includes(text);
}

/**
 * Resolves a preset name, a compact spec or a `{ steps }` object to a normalized, frozen plan. Throws
 * `ValidationFailed` whose issues name the field (`plan.steps[2].targetPercent`, `plan (step 3 "50:xx")`)
 * and the fix.
 */
export function resolvePlan(input: unknown, field = 'plan'): Plan {
  if (typeof input !== 'string') return parsePlanObject(input, field);
  const text = input.trim();
  if (isPreset(text)) return presetPlan(text);
  if (text === '') {
    throw new ValidationFailed([
      { field, message: `is empty: use a preset (${PRESETS.join(', ')}) or a spec like ${SPEC_EXAMPLE}` },
    ]);
  }
  if (/^[a-z][\w-]*$/i.test(text)) {
    throw new ValidationFailed([
      {
        field,
        message: `unknown preset '${text}': use one of ${PRESETS.join(', ')} or a spec like ${SPEC_EXAMPLE}`,
      },
    ]);
  }
  return parsePlanSpec(text, field);
}

function parsePlanObject(input: unknown, field: string): Plan {
  const result = PlanSchema.safeParse(input);
  if (!result.success) throw new ValidationFailed(fieldIssuesFrom(inStepOrder(result.error), field));
  return freezePlan(result.data.steps);
}

/** Zod lists the ordering issues after the per-step ones; an operator reads them step by step. */
function inStepOrder(error: z.ZodError): z.ZodError {
  const stepOf = (issue: z.core.$ZodIssue) => (typeof issue.path[1] === 'number' ? issue.path[1] : -1);
  return new z.ZodError([...error.issues].sort((a, b) => stepOf(a) - stepOf(b)));
}

const PERCENT_TEXT = /^\d+(?:\.\d+)?$/;
const SPEC_KEY_NAMES: Record<string, string> = {
  targetPercent: 'percent',
  bakeSeconds: 'bake',
  gate: 'gate',
};

/** `PERCENT[:BAKE][!]`, comma-separated. Syntax errors and rule breaks are reported per step, together. */
function parsePlanSpec(text: string, field: string): Plan {
  const parts = text.split(',').map((part) => part.trim());
  const stepField = (index: number) => `${field} (step ${index + 1} "${parts[index] ?? ''}")`;
  const issues: FieldIssue[] = [];
  const steps = parts.map((part, index) => {
    const gate = part.endsWith('!');
    const [percentText = '', bakeText, ...extra] = (gate ? part.slice(0, -1) : part)
      .split(':')
      .map((piece) => piece.trim());
    const fail = (message: string) => issues.push({ field: stepField(index), message });
    if (part === '') fail(`is empty: remove the extra comma, e.g. ${SPEC_EXAMPLE}`);
    else if (extra.length > 0) fail('has more than one ":": write PERCENT[:BAKE][!], e.g. 50:10m!');
    else if (!PERCENT_TEXT.test(percentText)) {
      fail(`percent '${percentText}' is not a number: write it like 5 or 12.5`);
    }
    const bakeSeconds = bakeText === undefined ? 0 : durationSeconds(bakeText);
    if (bakeSeconds === undefined) {
      fail(`bake '${bakeText}' is not a duration: use seconds (90, 90s) or units like 5m, 1h, 1h30m`);
    }
    return { targetPercent: Number(percentText), bakeSeconds: bakeSeconds ?? 0, gate };
  });
  if (issues.length > 0) throw new ValidationFailed(issues);

  const result = PlanSchema.safeParse({ steps });
  if (!result.success) {
    throw new ValidationFailed(
      inStepOrder(result.error).issues.map((issue) => {
        const [, index, key] = issue.path;
        if (typeof index !== 'number') return { field, message: issue.message };
        return {
          field: stepField(index),
          message: `${SPEC_KEY_NAMES[String(key)] ?? ''} ${issue.message}`.trim(),
        };
      }),
    );
  }
  return freezePlan(result.data.steps);
}

/** The compact spec for a plan; `resolvePlan(formatPlanSpec(plan))` gives the same plan back. */
export function formatPlanSpec(plan: Plan): string {
  return plan.steps
    .map((step) => {
      const bake = step.bakeSeconds > 0 ? `:${formatDuration(step.bakeSeconds)}` : '';
      return `${step.targetPercent}${bake}${step.gate ? '!' : ''}`;
    })
    .join(',');
}

const DURATION_TEXT = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

function durationSeconds(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const match = DURATION_TEXT.exec(trimmed);
  if (trimmed === '' || match === null) return undefined;
  const [, hours = '0', minutes = '0', seconds = '0'] = match;
  return Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds);
}

/** Seconds in `90`, `90s`, `5m`, `1h`, `1h30m`, `1h30m15s` (a bare number is seconds). */
export function parseDuration(text: string): number {
  const seconds = typeof text === 'string' ? durationSeconds(text) : undefined;
  if (seconds === undefined) {
    throw new ValidationFailed([
      {
        field: 'duration',
        message: `'${String(text)}' is not a duration: use seconds (90, 90s) or units like 5m, 1h, 1h30m`,
      },
    ]);
  }
  return seconds;
}

/** The shortest spec form of whole seconds: `0s`, `45s`, `5m`, `1h30m`, `1h1m1s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 0) {
    throw new ValidationFailed([
      { field: 'seconds', message: `is ${seconds}: must be a whole number of seconds, 0 or more` },
    ]);
  }
  if (seconds === 0) return '0s';
  const units: [number, string][] = [
    [Math.floor(seconds / 3600), 'h'],
    [Math.floor((seconds % 3600) / 60), 'm'],
    [seconds % 60, 's'],
  ];
  return units
    .filter(([amount]) => amount > 0)
    .map(([amount, unit]) => `${amount}${unit}`)
    .join('');
}

export interface StepTimeline {
  readonly index: number;
  readonly targetPercent: number;
  readonly bakeSeconds: number;
  readonly gate: boolean;
  readonly startsAtSeconds: number;
  readonly endsAtSeconds: number;
}

export interface PlanTimeline {
  readonly steps: readonly StepTimeline[];
  /** Bake time only: a gate waits for an operator, so with gates this is a minimum. */
  readonly totalSeconds: number;
  /** How many steps wait for `promote`. */
  readonly gates: number;
}

/** When each step starts and ends its bake, counted from the first weight change, gate waits excluded. */
export function describePlan(plan: Plan): PlanTimeline {
  let elapsed = 0;
  const steps = plan.steps.map((step, index) => {
    const startsAtSeconds = elapsed;
    elapsed += step.bakeSeconds;
    return { index, ...step, startsAtSeconds, endsAtSeconds: elapsed };
  });
  return { steps, totalSeconds: elapsed, gates: plan.steps.filter((step) => step.gate).length };
}

function freezePlan(steps: readonly PlanStep[]): Plan {
  return Object.freeze({
    steps: Object.freeze(
      steps.map(({ targetPercent, bakeSeconds, gate }) =>
        Object.freeze({ targetPercent, bakeSeconds, gate }),
      ),
    ),
  });
}
