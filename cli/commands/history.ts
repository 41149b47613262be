import { formatPlanSpec } from '#domain/plan.ts';
import type { Rollout } from '#domain/types.ts';
import { printableDeep } from '#report/printable.ts';
import { type CommandHandler, integerOption } from '../action.ts';
import { deliveredSplits, deliveredSummary } from '../delivered.ts';
import { exposureText, reachedShares, readsFirstPhase } from '../reads-first-status.ts';
import { durationText, executionName, publicRollout, secondsBetween, table } from '../render.ts';

function durationOf(rollout: Rollout): number | undefined {
  return rollout.endedAt ? Math.max(0, secondsBetween(rollout.startedAt, rollout.endedAt)) : undefined;
}

function reasonOf(rollout: Rollout): string {
  if (!rollout.reason) return '';
  const alarm = rollout.reason.alarm ? ` (alarm ${rollout.reason.alarm})` : '';
  const text = `${rollout.reason.error}: ${rollout.reason.cause}${alarm}`.replace(/\s+/g, ' ');
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}

/** `swing history`: see its definition in cli/definitions/history.ts. */
export const runHistory: CommandHandler = async (ctx, command) => {
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
        reached: (({ readPercent, writePercent }) => ({ readPercent, writePercent }))(reachedShares(rollout)),
        phase: rollout.traffic === 'reads-first' ? readsFirstPhase(rollout) : null,
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
          reachedShares(rollout).text,
          seconds === undefined ? '-' : durationText(seconds),
          executionName(rollout.executionArn),
          formatPlanSpec(rollout.plan),
          deliveredSummary(splits.get(rollout.executionArn)),
          reasonOf(rollout),
        ];
      });
      const exposures = printableDeep(finished).flatMap((rollout) =>
        rollout.exposure ? [`${executionName(rollout.executionArn)}: ${exposureText(rollout.exposure)}`] : [],
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
              'REACHED',
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
};
