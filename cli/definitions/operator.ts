import type { Command } from 'commander';
import type { CliDeps } from '../deps.ts';
import { lazyAction } from '../lazy-action.ts';
import { addWatchOptions } from './options.ts';

export function registerOperatorCommands(program: Command, deps: CliDeps): void {
  program
    .command('pause')
    .description('Hold the rollout before its next step, whenever the pause arrives')
    .addHelpText(
      'after',
      `
No further step starts, and the rollout does not complete, until \`swing resume\` (or \`swing promote\`): a
step whose write is under way goes on to the end of its bake, then holds. Alarms are still watched. At a gate
the pause keeps the gate from passing on its timeout. A pause never promotes: if it is not ended before it
times out (the gate timeout), the rollout rolls back. Says when the pause takes effect.
Refused (exit 1) when no rollout holds the listener.

Example:
  $ swing pause && swing status`,
    )
    .action(lazyAction(deps, async () => (await import('../commands/operator.ts')).runPause));

  program
    .command('resume')
    .description('End a pause: the rollout continues')
    .addHelpText(
      'after',
      `
Ends a pause only: a gate (the plan's, or the write cutover's) stays closed until \`swing promote\`.

Example:
  $ swing resume`,
    )
    .action(lazyAction(deps, async () => (await import('../commands/operator.ts')).runResume));

  program
    .command('promote')
    .description('Pass the manual gate the rollout waits at (or the hold of a pause)')
    .addHelpText(
      'after',
      `
Also ends a pause. Refused (exit 1) unless the rollout waits at a gate or a pause; \`swing status\` shows when.

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
