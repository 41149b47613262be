import type { Command } from 'commander';
import type { CliDeps } from '../deps.ts';
import { lazyAction } from '../lazy-action.ts';

export function registerSetWeights(program: Command, deps: CliDeps): void {
  program
    .command('set-weights')
    .description('Set the listener by hand: --target N % of traffic to the target')
    .requiredOption('--target <percent>', "the target's share in percent, 0 to 100 (0.1 resolution)")
    .option(
      '--force',
      'change it even while a rollout holds the listener, or when the target group has no healthy target',
    )
    .addHelpText(
      'after',
      `
Refused (exit 1) while a rollout holds the listener: with --force the change goes through and that rollout
sees it as drift, halts, and leaves your weights alone. Raising the target's share is refused while the target
target group has no healthy target, unless --force.

Examples:
  $ swing set-weights --target 0
  $ swing set-weights --target 12.5 --json`,
    )
    .action(lazyAction(deps, async () => (await import('../commands/set-weights.ts')).runSetWeights));
}
