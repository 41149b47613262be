import type { Command } from 'commander';
import { formatPlanSpec } from '#domain/plan.ts';
import type { Rollout } from '#domain/types.ts';
import { printableDeep } from '#report/printable.ts';
import { action, integerOption } from '../action.ts';
import { deliveredSplits, deliveredSummary } from '../delivered.ts';
import type { CliDeps } from '../deps.ts';
import { durationText, executionName, publicRollout, secondsBetween, table } from '../render.ts';
import { exposureText } from '../rollout-view.ts';

function durationOf(rollout: Rollout): number | undefined {
  return rollout.endedAt ? Math.max(0, secondsBetween(rollout.startedAt, rollout.endedAt)) : undefined;
}

function reasonOf(rollout: Rollout): string {
  if (!rollout.reason) return '';
  const alarm = rollout.reason.alarm ? ` (alarm ${rollout.reason.alarm})` : '';
  const text = `${rollout.reason.error}: ${rollout.reason.cause}${alarm}`.replace(/\s+/g, ' ');
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}

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
    .action(
      action(deps, async (ctx, command) => {
        const limit = integerOption(command.opts<{ limit: string }>().limit, '--limit', 1, 1000) ?? 10;
        const { store, listenerArn } = await ctx.store();
        const record = await store.get(listenerArn);
        const finished = [...(record?.history ?? [])].reverse().slice(0, limit);
        const splits = await deliveredSplits(ctx, finished);
        ctx.result(
          {
            listenerArn,
            running: record?.lockOwner ?? null,
            rollouts: finished.map((rollout) => ({
              ...publicRollout(rollout),
              traffic: rollout.traffic ?? 'all',
              planEnd: rollout.planEnd ?? 'hold',
              exposure: rollout.exposure ?? null,
              durationSeconds: durationOf(rollout) ?? null,
              delivered: splits.get(rollout.executionArn) ?? null,
            })),
          },
          () => {
            if (finished.length === 0) return `No finished rollouts on listener ${listenerArn}.`;
            const rows = printableDeep(finished).map((rollout) => {
              const seconds = durationOf(rollout);
              return [
                rollout.endedAt ?? '-',
                rollout.outcome ?? rollout.status,
                `${rollout.traffic ?? 'all'}${rollout.planEnd === 'restore' ? ', restore' : ''}`,
                seconds === undefined ? '-' : durationText(seconds),
                executionName(rollout.executionArn),
                formatPlanSpec(rollout.plan),
                deliveredSummary(splits.get(rollout.executionArn)),
                reasonOf(rollout),
              ];
            });
            const exposures = printableDeep(finished).flatMap((rollout) =>
              rollout.exposure
                ? [`${executionName(rollout.executionArn)}: ${exposureText(rollout.exposure)}`]
                : [],
            );
            const running = record?.lockOwner
              ? `\nRunning now: ${executionName(record.lockOwner)} (see \`swing status\`)`
              : '';
            return (
              [
                table(
                  [
                    'ENDED',
                    'OUTCOME',
                    'TRAFFIC',
                    'DURATION',
                    'EXECUTION',
                    'PLAN',
                    'DELIVERED SPLIT',
                    'REASON',
                  ],
                  rows,
                ),
                ...exposures,
              ].join('\n') + running
            );
          },
        );
      }),
    );
}
