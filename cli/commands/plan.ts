import type { Command } from 'commander';
import {
  describePlan,
  formatDuration,
  formatPlanSpec,
  listPresets,
  type PlanTimeline,
} from '#domain/plan.ts';
import type { Plan } from '#domain/types.ts';
import { percentToWeights } from '#domain/weights.ts';
import { action, planFromText } from '../action.ts';
import type { CliDeps } from '../deps.ts';
import { table } from '../render.ts';

/** The timeline table that `plan`, `start --dry-run` and `schedule add` print. */
export function renderTimeline(plan: Plan): string {
  const timeline = describePlan(plan);
  const rows = timeline.steps.map((step) => {
    const weights = percentToWeights(step.targetPercent);
    return [
      String(step.index + 1),
      `${step.targetPercent} %`,
      `${weights.source}/${weights.target}`,
      formatDuration(step.bakeSeconds),
      step.gate ? 'promote' : '-',
      `+${formatDuration(step.startsAtSeconds)}`,
      `+${formatDuration(step.endsAtSeconds)}`,
    ];
  });
  return [
    table(['STEP', 'TARGET', 'WEIGHTS', 'BAKE', 'GATE', 'STARTS', 'BAKED'], rows),
    totalLine(timeline),
  ].join('\n');
}

function totalLine(timeline: PlanTimeline): string {
  const total = `Total: ${formatDuration(timeline.totalSeconds)} of bake after the smoke test`;
  if (timeline.gates === 0) return total;
  const gates = timeline.gates === 1 ? '1 gate' : `${timeline.gates} gates`;
  return `${total}, plus the wait at ${gates} for \`swing promote\``;
}

export function timelineJson(plan: Plan) {
  return { spec: formatPlanSpec(plan), plan, timeline: describePlan(plan) };
}

export function registerPlan(program: Command, deps: CliDeps): void {
  program
    .command('plan')
    .description('Validate a plan and print its timeline (no AWS)')
    .argument('[plan]', 'a preset, a spec like 5:5m,25:10m,50:10m!,100, or { "steps": [...] } JSON')
    .addHelpText(
      'after',
      `
Spec: PERCENT[:BAKE][!] per step, comma-separated; BAKE like 90s, 5m, 1h30m; '!' waits for \`swing promote\`.
Without a plan, lists the presets.

Examples:
  $ swing plan canary
  $ swing plan '5:5m,25:10m,50:10m!,100'
  $ swing plan '{"steps":[{"targetPercent":10,"bakeSeconds":600},{"targetPercent":100}]}' --json`,
    )
    .action(
      action(deps, async (ctx, command) => {
        const [text] = command.processedArgs as [string | undefined];
        if (text === undefined) {
          const presets = listPresets();
          ctx.result(
            presets.map(({ name, spec, plan }) => ({
              name,
              spec,
              totalSeconds: describePlan(plan).totalSeconds,
            })),
            () =>
              table(
                ['PRESET', 'SPEC', 'BAKE'],
                presets.map(({ name, spec, plan }) => [
                  name,
                  spec,
                  formatDuration(describePlan(plan).totalSeconds),
                ]),
              ),
          );
          return;
        }
        const plan = planFromText(text, 'plan');
        ctx.result(timelineJson(plan), () => `Plan ${formatPlanSpec(plan)}\n${renderTimeline(plan)}`);
      }),
    );
}
