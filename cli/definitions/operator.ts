import type { Command } from 'commander';
import type { CliDeps } from '../deps.ts';
import { lazyAction } from '../lazy-action.ts';
import { addWatchOptions } from './options.ts';

export function registerOperatorCommands(program: Command, deps: CliDeps): void {
  program
    .command('pause')
    .description('Hold the rollout at the end of its current bake')
    .addHelpText(
      'after',
      `
The bake and its alarm watch go on; the next weight change waits for \`swing resume\` (or \`swing promote\`).
Refused (exit 1) when no rollout holds the listener.

Example:
  $ swing pause && swing status`,
    )
    .action(lazyAction(deps, async () => (await import('../commands/operator.ts')).runPause));

  program
    .command('resume')
    .description('Continue a paused rollout')
    .addHelpText('after', '\nExample:\n  $ swing resume')
    .action(lazyAction(deps, async () => (await import('../commands/operator.ts')).runResume));

  program
    .command('promote')
    .description('Pass the manual gate the rollout waits at')
    .addHelpText(
      'after',
      `
Refused (exit 1) unless the rollout waits at a gate; \`swing status\` shows when it does.

Example:
  $ swing promote`,
    )
    .action(lazyAction(deps, async () => (await import('../commands/operator.ts')).runPromote));

  addWatchOptions(
    program.command('abort').description('Roll back the running rollout through the state machine'),
    'after aborting, refresh until the rollback ends and exit with its outcome',
  )
    .addHelpText(
      'after',
      `
The rollback runs in the state machine: it restores the starting weights, verifies them and releases the lock.
Use \`swing rollback --force\` only when the state machine cannot.

Examples:
  $ swing abort
  $ swing abort --watch`,
    )
    .action(lazyAction(deps, async () => (await import('../commands/operator.ts')).runAbort));
}
