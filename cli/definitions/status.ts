import type { Command } from 'commander';
import type { CliDeps } from '../deps.ts';
import { lazyAction } from '../lazy-action.ts';
import { addWatchOptions } from './options.ts';

export function registerStatus(program: Command, deps: CliDeps): void {
  addWatchOptions(
    program
      .command('status')
      .description('Show the step, the live listener weights, alarms and bake time left'),
    'refresh until the running rollout ends, then print its outcome and exit with its code',
  )
    .addHelpText(
      'after',
      `
The weights shown are read from the listener (DescribeListeners), not from Swing's record: when they differ
from what Swing last wrote, status says DRIFT. With target-group stickiness on, real traffic lags the weights.

Examples:
  $ swing status
  $ swing status --watch --interval 10s --max-wait 3h
  $ swing status --json | jq .weights`,
    )
    .action(lazyAction(deps, async () => (await import('../commands/status.ts')).runStatus));
}
