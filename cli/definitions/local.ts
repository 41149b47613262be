import type { Command } from 'commander';
import type { CliDeps } from '../deps.ts';
import { lazyAction } from '../lazy-action.ts';

/** `swing local`: the slot for the local mode. Its flags and its run come from `deps`. */
export function registerLocal(program: Command, deps: CliDeps): void {
  const command = program
    .command('local')
    .description('Run a real rollout on this machine (no AWS needed)')
    .addHelpText(
      'after',
      `
Needs no AWS account. Exit codes: 0 completed, 1 rolled back, 2 bad input or a taken port, 3 halted,
130 stopped by Ctrl-C (after the summary so far). On a terminal, at a gate: p promotes, a aborts.

Examples:
  $ swing local
  $ swing local --plan '10:3s,50:3s,100' --target-errors 0.5@50
  $ swing local --target-errors 0.5@50 --report run.html   # a self-contained HTML report of the run
  $ swing local --plan '10:3s!,100' --promote-at 10`,
    );
  if (deps.configureLocal) deps.configureLocal(command);
  else command.allowUnknownOption().allowExcessArguments();
  command.action(lazyAction(deps, async () => (await import('../commands/local.ts')).runLocalMode));
}
