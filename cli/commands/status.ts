import type { Command } from 'commander';
import { action, durationOption } from '../action.ts';
import type { CommandContext } from '../context.ts';
import { deliveredLines, deliveredSplits } from '../delivered.ts';
import type { CliDeps } from '../deps.ts';
import { CliFailure } from '../exit-codes.ts';
import {
  endJson,
  exitCodeOf,
  readSnapshot,
  renderEnd,
  renderSnapshot,
  snapshotJson,
  watchRollout,
} from '../rollout-view.ts';

export const DEFAULT_INTERVAL = '5s';
export const DEFAULT_MAX_WAIT = '24h';

/** `--watch`, `--interval`, `--max-wait`, shared by status, start and abort. */
export function addWatchOptions(command: Command, what: string): Command {
  return command
    .option('--watch', what)
    .option('--interval <duration>', 'refresh interval while watching', DEFAULT_INTERVAL)
    .option('--max-wait <duration>', 'stop watching after this long (exit 5)', DEFAULT_MAX_WAIT);
}

/** Watches `executionArn` to its end, prints the outcome, and exits with the outcome's code. */
export async function watchToEnd(
  ctx: CommandContext,
  executionArn: string,
  options: { interval: string; maxWait: string },
): Promise<void> {
  const intervalMs = durationOption(options.interval, '--interval', 1);
  const maxWaitMs = durationOption(options.maxWait, '--max-wait', 1);
  const { store, listenerArn } = await ctx.store();
  const end = await watchRollout({ ctx, store, listenerArn }, executionArn, { intervalMs, maxWaitMs });
  ctx.result(endJson(end), () => renderEnd(end, ctx.deps.isTTY));
  const exitCode = exitCodeOf(end);
  // The outcome is already printed; the failure only carries the exit code.
  if (exitCode !== 0) throw new CliFailure(exitCode, '');
}

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
    .action(
      action(deps, async (ctx, command) => {
        const options = command.opts<{ watch?: boolean; interval: string; maxWait: string }>();
        // Checked before any AWS call, so that a typo costs nothing.
        durationOption(options.interval, '--interval', 1);
        durationOption(options.maxWait, '--max-wait', 1);
        const { store, listenerArn } = await ctx.store();
        const snapshot = await readSnapshot({ ctx, store, listenerArn });
        const owner = snapshot.record?.lockOwner;
        if (!options.watch || !owner) {
          const rollout = snapshot.record?.rollout;
          // The split that really reached the target, per step; measured once here, not on every watch tick.
          const splits = rollout
            ? (await deliveredSplits(ctx, [rollout], snapshot.stickinessSeconds)).get(rollout.executionArn)
            : undefined;
          const delivered = rollout ? deliveredLines(rollout, splits) : [];
          ctx.result({ ...snapshotJson(snapshot), delivered: splits ?? null }, () =>
            [
              renderSnapshot(snapshot, deps.isTTY),
              ...(delivered.length > 0
                ? [
                    "Delivered split (target groups' RequestCount, whole settled minutes):",
                    ...delivered.map((line) => `  ${line}`),
                  ]
                : []),
            ].join('\n'),
          );
          if (options.watch) ctx.say('No rollout is running: nothing to watch.');
          return;
        }
        await watchToEnd(ctx, owner, options);
      }),
    );
}
