import type { Command } from 'commander';
import type { CliDeps } from '../deps.ts';
import { lazyAction } from '../lazy-action.ts';

export function registerHistory(program: Command, deps: CliDeps): void {
  program
    .command('history')
    .description('Finished rollouts, newest first: outcome, traffic mode, reason, duration, write exposure')
    .option('--limit <n>', 'how many to show', '10')
    .addHelpText(
      'after',
      `
The record keeps the last 25 rollouts per listener. DELIVERED SPLIT judges each step's real share of the
target groups' RequestCount (CloudWatch, whole settled minutes) against its weights; \`swing report\` shows
the figures. TRAFFIC is the mode (all, reads-first) and a rehearsal's restore; a rollout rolled back (or held) after
its write cutover is followed by its write exposure: the window from the cutover to the restore and the requests
the target took in it, every write of which is on the target only.

Examples:
  $ swing history
  $ swing history --limit 3 --json`,
    )
    .action(lazyAction(deps, async () => (await import('../commands/history.ts')).runHistory));
}
