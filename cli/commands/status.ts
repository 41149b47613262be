import { type CommandHandler, durationOption } from '../action.ts';
import type { CommandContext } from '../context.ts';
import { deliveredLines, deliveredSplits } from '../delivered.ts';
import { CliFailure } from '../exit-codes.ts';
import { refusedReplays, refusedReplaysText } from '../refused-replays.ts';
import { endJson, exitCodeOf, renderEnd } from '../rollout-end.ts';
import { renderSnapshot, snapshotJson, watchRollout } from '../rollout-view.ts';
import { readSnapshot } from '../status-snapshot.ts';

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

/** `swing status`: see its definition in cli/definitions/status.ts. */
export const runStatus: CommandHandler = async (ctx, command) => {
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
    // After a cutover with reverse capture: the writes the target refused that the source took anyway.
    const refused = rollout
      ? await refusedReplays(
          ctx.clients.cloudWatch,
          await ctx.config.known('reverseLagAlarm'),
          rollout,
          ctx.deps.now(),
        )
      : undefined;
    ctx.result(
      { ...snapshotJson(snapshot), delivered: splits ?? null, refusedReplays: refused ?? null },
      () =>
        [
          renderSnapshot(snapshot, ctx.deps.isTTY),
          ...(delivered.length > 0
            ? [
                "Delivered split (target groups' RequestCount, whole settled minutes):",
                ...delivered.map((line) => `  ${line}`),
              ]
            : []),
          ...(refused ? [`Refused writes replayed: ${refusedReplaysText(refused)}`] : []),
        ].join('\n'),
    );
    if (options.watch) ctx.say('No rollout is running: nothing to watch.');
    return;
  }
  await watchToEnd(ctx, owner, options);
};
