import { ValidationFailed } from '#domain/errors.ts';
import { formatWeights, isIncrease, percentToWeights, sameWeights } from '#domain/weights.ts';
import type { CommandHandler } from '../action.ts';
import { CliFailure, ExitCodes } from '../exit-codes.ts';
import { executionName } from '../render.ts';

function percentOption(text: string | undefined): number {
  const value = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 100) {
    throw new ValidationFailed([
      {
        field: '--target',
        message: `is '${text ?? ''}': give the target's share in percent, 0 to 100, e.g. 25`,
      },
    ]);
  }
  if (Number(value.toFixed(1)) !== value) {
    throw new ValidationFailed([
      { field: '--target', message: `is ${text}: use at most one decimal (0.1 % resolution), e.g. 12.5` },
    ]);
  }
  return value;
}

/** `swing set-weights`: see its definition in cli/definitions/set-weights.ts. */
export const runSetWeights: CommandHandler = async (ctx, command) => {
  const options = command.opts<{ target?: string; force?: boolean }>();
  const percent = percentOption(options.target);
  const desired = percentToWeights(percent);
  const { store, listenerArn } = await ctx.store();
  const listener = await ctx.listener();
  const record = await store.get(listenerArn);
  const owner = record?.lockOwner;
  if (owner && !options.force) {
    throw new CliFailure(
      ExitCodes.RolledBackOrRefused,
      `listener ${listenerArn} is held by rollout ${executionName(owner)}: use \`swing pause\` or ` +
        '`swing abort`, or pass --force to change it anyway (the rollout then halts on drift)',
    );
  }
  const current = await listener.readWeights();
  if (sameWeights(current, desired)) {
    ctx.result(
      { listenerArn, weights: current, written: false },
      () => `Listener ${listenerArn} is already at ${formatWeights(current)}: nothing written.`,
    );
    return;
  }
  if (isIncrease(current, desired) && !options.force && (await listener.healthyTargetCount()) === 0) {
    throw new CliFailure(
      ExitCodes.RolledBackOrRefused,
      'the target target group has no healthy target, so it must not get more traffic: fix its targets ' +
        '(aws elbv2 describe-target-health), or pass --force',
    );
  }
  await listener.writeWeights(desired);
  if (owner) {
    ctx.warn(
      `swing set-weights: rollout ${executionName(owner)} holds the listener: it sees this change as drift ` +
        'and halts at its next check, leaving these weights alone',
    );
  }
  ctx.result(
    { listenerArn, previousWeights: current, weights: desired, written: true },
    () => `Set listener ${listenerArn} to ${formatWeights(desired)} (was ${formatWeights(current)}).`,
  );
};
