import type { Command } from 'commander';
import type { CliDeps } from '../deps.ts';
import { lazyAction } from '../lazy-action.ts';

export function registerSmoke(program: Command, deps: CliDeps): void {
  program
    .command('smoke')
    .description('Run the smoke checks now against the source-only and target-only smoke endpoints')
    .addHelpText(
      'after',
      `
The checks run from this machine: it must reach the smoke endpoints of the stack's SmokeConfig output
(or of --smoke-config). Basic-auth secrets are read from Secrets Manager and never printed. Exit 1 if any
check fails.

Examples:
  $ swing smoke
  $ swing smoke --smoke-config @smoke.json --json`,
    )
    .action(lazyAction(deps, async () => (await import('../commands/smoke.ts')).runSmoke));
}
