import type { Command } from 'commander';
import type { CliDeps } from '../deps.ts';
import { lazyAction } from '../lazy-action.ts';

export function registerRollback(program: Command, deps: CliDeps): void {
  program
    .command('rollback')
    .description('Emergency: restore the starting weights directly through ELBv2 (--force)')
    .option('--force', 'required: this writes the listener directly')
    .option('--yes', 'do not ask for confirmation (required without a terminal)')
    .option(
      '--release-lock',
      'also free the listener: release the rollout lock and stop its execution if it still runs',
    )
    .addHelpText(
      'after',
      `
Use \`swing abort\` first: it rolls back through the state machine. This command is for when that cannot work.

What it does:
  - writes the starting weights recorded by the current rollout (or, if none runs, the last one: that undoes
    a completed rollout), then reads the listener back to verify them;
  - under a held lock it records the forced rollback first: a rollout that still runs does not go on, it
    rolls back at its next check and removes the rules of Swing's left (or end it now with \`swing abort\`);
    without --release-lock the lock is left alone until then;
  - with --release-lock it also frees the listener for the next \`swing start\`: a lock holder that no longer
    runs (status says STALE LOCK) is recorded as rolled back and released at once; one that still runs is
    stopped, and its safety net releases the lock about 75 s later, once no task of it can still write.
Asks before writing unless --yes; without a terminal, --yes is required (exit 2 otherwise).

Examples:
  $ swing rollback --force
  $ swing rollback --force --yes --release-lock`,
    )
    .action(lazyAction(deps, async () => (await import('../commands/rollback.ts')).runRollback));
}
