import type { Command } from 'commander';
import type { CliDeps } from '../deps.ts';
import { lazyAction } from '../lazy-action.ts';
import { addTrafficOptions } from './options.ts';

export function registerPlan(program: Command, deps: CliDeps): void {
  addTrafficOptions(
    program
      .command('plan')
      .description('Validate a plan and print its timeline (no AWS)')
      .argument('[plan]', 'a preset, a spec like 5:5m,25:10m,50:10m!,100, or { "steps": [...] } JSON'),
    'the plan',
  )
    .addHelpText(
      'after',
      `
Spec: PERCENT[:BAKE][!] per step, comma-separated; BAKE like 90s, 5m, 1h30m; '!' waits for \`swing promote\`.
Without a plan, lists the presets. With --traffic reads-first the steps move reads, and the write cutover
follows as its own line (a rehearsal, --rehearsal, ends with the restore instead). The reads-first settings
shown are Swing's defaults under your flags; a stack's readsFirst config changes its defaults.

Examples:
  $ swing plan canary
  $ swing plan '5:5m,25:10m,50:10m!,100'
  $ swing plan '5:5m,25:10m,100' --traffic reads-first --cutover-gate replay-lag
  $ swing plan 5:30m --traffic reads-first --rehearsal
  $ swing plan '{"steps":[{"targetPercent":10,"bakeSeconds":600},{"targetPercent":100}]}' --json`,
    )
    .action(lazyAction(deps, async () => (await import('../commands/plan.ts')).runPlan));
}
