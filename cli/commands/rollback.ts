import { DescribeExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { AlbSwingRules } from '#adapters/swing-rules.ts';
import { CloudWatchTargetRequests } from '#adapters/target-requests.ts';
import {
  type ExecutionControlPort,
  type ForceRollbackPlan,
  type ForceRollbackResult,
  forceRollback,
} from '#domain/force-rollback.ts';
import { QUIET_AFTER_RELEASE_SECONDS } from '#domain/quiet.ts';
import type { ExecutionStatus } from '#domain/types.ts';
import { formatWeights } from '#domain/weights.ts';
import type { CommandHandler } from '../action.ts';
import type { CommandContext } from '../context.ts';
import { CliFailure, ExitCodes } from '../exit-codes.ts';
import { executionName } from '../render.ts';

interface RollbackOptions {
  force?: boolean;
  yes?: boolean;
  releaseLock?: boolean;
}

/** Step Functions through the CLI's client. */
function executionControl(ctx: CommandContext): ExecutionControlPort {
  return {
    describe: async (executionArn) => {
      const execution = await ctx.clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
      // As read: an unknown status is no RUNNING, and the lock's note names it.
      return { status: execution.status as ExecutionStatus, stoppedAt: execution.stopDate };
    },
    stop: async (executionArn, error, cause) => {
      await ctx.clients.sfn.send(new StopExecutionCommand({ executionArn, error, cause }));
    },
  };
}

/** `swing rollback`: see its definition in cli/definitions/rollback.ts. The work is the domain's forceRollback. */
export const runRollback: CommandHandler = async (ctx, command) => {
  const options = command.opts<RollbackOptions>();
  if (!options.force) {
    throw new CliFailure(
      ExitCodes.BadInput,
      'this writes the listener directly, bypassing the state machine: pass --force if this is an ' +
        'emergency; to roll back a running rollout normally use `swing abort`',
    );
  }
  if (!options.yes && !ctx.deps.isTTY) {
    throw new CliFailure(
      ExitCodes.BadInput,
      'rollback --force changes live traffic and needs confirmation, and there is no terminal to ask on: ' +
        'rerun with --yes',
    );
  }
  const { store, listenerArn } = await ctx.store();
  const listener = await ctx.listener();
  const target = await ctx.listenerTarget();
  const result = await forceRollback(
    {
      listenerArn,
      store,
      listener,
      rules: new AlbSwingRules(ctx.clients.elbv2, target),
      targetRequests: new CloudWatchTargetRequests(ctx.clients.cloudWatch, target),
      executions: executionControl(ctx),
      now: () => ctx.deps.now(),
      requestedBy: ctx.deps.requestedBy,
      quietAfterReleaseMs: QUIET_AFTER_RELEASE_SECONDS * 1000,
    },
    {
      releaseLock: Boolean(options.releaseLock),
      confirm: options.yes ? undefined : (plan) => ctx.deps.confirm(confirmQuestion(listenerArn, plan)),
    },
  );
  if (result.kind === 'refused') throw refusal(listenerArn, result);
  reportRollback(ctx, listenerArn, result);
};

function startingText(plan: ForceRollbackPlan): string {
  const name = executionName(plan.rollout.executionArn);
  return plan.malformed
    ? `everything on the source: the record of rollout ${name} has no usable starting weights (${plan.malformed})`
    : `the starting weights of rollout ${name}`;
}

/** Why the pins stay, when they do: a stalled attempt of the holder may still create a read rule behind them. */
function keptText(plan: ForceRollbackPlan): string {
  return (
    `Its ${plan.rulesKept.length} pins and writes-to-source rules stay, sending only to the source, until no task of ` +
    `${executionName(plan.owner ?? '')} can still create a read rule: whoever then settles the rollout (its ` +
    'safety net or the reconciler once stopped, its own rollback after `swing abort`) removes them, and any read ' +
    'rule such a task made, pins last.'
  );
}

function confirmQuestion(listenerArn: string, plan: ForceRollbackPlan): string {
  const { current, starting, rules, owner } = plan;
  const name = executionName(plan.rollout.executionArn);
  return [
    plan.needsWrite
      ? `Write listener ${listenerArn}\n  from ${formatWeights(current)}\n  to   ${formatWeights(starting)} ` +
        `(${startingText(plan)})`
      : `The listener is already at the starting weights of rollout ${name}.`,
    ...(rules.length > 0
      ? [
          plan.rulesKept.length > 0
            ? `Remove the ${rules.length} read rules of Swing's that rollout ${name} created.`
            : `Remove the ${rules.length} listener rules of Swing's that rollout ${name} created ` +
              '(its read rules first, its pins last).',
        ]
      : []),
    ...(plan.rulesKept.length > 0 ? [keptText(plan)] : []),
    ...(current.target > starting.target
      ? ['Client writes sent to the target while it had traffic were not captured for the source.']
      : []),
    ...(plan.release
      ? [
          plan.ownerStatus === 'RUNNING'
            ? `Stop ${executionName(owner ?? '')}; its safety net then frees the lock.`
            : `Release the lock held by ${executionName(owner ?? '')}.`,
        ]
      : []),
    'Proceed? [y/N] ',
  ].join('\n');
}

function refusal(listenerArn: string, result: ForceRollbackResult & { kind: 'refused' }): CliFailure {
  switch (result.why) {
    case 'no-rollout':
      return new CliFailure(
        ExitCodes.BadInput,
        `no rollout is recorded for listener ${listenerArn}, so there are no starting weights to restore: ` +
          'set weights with `swing set-weights --target 0`',
      );
    case 'holder-unknown': {
      const { name, message } =
        result.error instanceof Error ? result.error : { name: 'Error', message: String(result.error) };
      return new CliFailure(
        ExitCodes.AwsError,
        `cannot learn whether execution ${executionName(result.owner)} still runs (${name}: ${message}), so its ` +
          'lock is not released and nothing was changed. Retry in a minute, check that your role may call ' +
          'states:DescribeExecution, or run without --release-lock to restore the weights only',
      );
    }
    case 'safety-net-first':
      return new CliFailure(
        ExitCodes.RolledBackOrRefused,
        `execution ${executionName(result.owner ?? '')} is ${result.ownerStatus ?? 'stopped'}: the safety net restores the ` +
          `starting weights and frees the lock by ${result.due.toISOString()}, once no task of it can still ` +
          'write. Check `swing status` then; run this again only if the lock is still held',
      );
    case 'not-confirmed':
      return new CliFailure(ExitCodes.RolledBackOrRefused, 'not confirmed: nothing was changed');
    case 'changed':
      return new CliFailure(
        ExitCodes.RolledBackOrRefused,
        `while you were asked, the listener's lock changed hands (it was held by ${holderText(result.plan.owner)}, ` +
          `now by ${holderText(result.now.owner)}, record of rollout ${executionName(result.now.rollout.executionArn)}): ` +
          'nothing was changed. Check `swing status`, then run this again to see what it would do now',
      );
    case 'lock-lost':
      return new CliFailure(
        ExitCodes.RolledBackOrRefused,
        `rollout ${executionName(result.plan.rollout.executionArn)} released the lock just now (its own rollback or ` +
          'its safety net ended it), so the listener may have moved again: nothing was changed. Check `swing ' +
          'status`, then run this again if the listener still needs restoring',
      );
    case 'completing':
      return new CliFailure(
        ExitCodes.RolledBackOrRefused,
        `too late: Complete has verified the final weights of rollout ${executionName(result.plan.rollout.executionArn)} ` +
          'and is finishing it, so nothing was changed. Once it has released the lock (`swing status`), run this ' +
          'again to restore its starting weights',
      );
  }
}

function holderText(owner: string | undefined): string {
  return owner ? `execution ${executionName(owner)}` : 'nobody';
}

function lockNote(result: ForceRollbackResult & { kind: 'done' }): string | undefined {
  const { owner, ownerStatus } = result.plan;
  if (!owner) return undefined;
  if (result.stopped && result.lockFreesBy) {
    return (
      `Stopped execution ${executionName(owner)}: its safety net frees the lock by ` +
      `${result.lockFreesBy.toISOString()}, once no task of it can still write (\`swing status\` shows it).`
    );
  }
  if (result.plan.release) {
    return `${result.released ? 'Released' : 'Found already released'} the lock of ${executionName(owner)}.`;
  }
  if (ownerStatus === 'RUNNING') {
    return (
      `Rollout ${executionName(owner)} still runs and holds the lock: it does not go on, it rolls back at its ` +
      "next check (or at its bake's end) and removes what rules of Swing's are left; end it now with `swing abort`."
    );
  }
  return (
    `Execution ${executionName(owner)} (${ownerStatus ?? 'status unknown'}) still holds the lock: ` +
    'rerun with --release-lock to free the listener for the next rollout.'
  );
}

function reportRollback(
  ctx: CommandContext,
  listenerArn: string,
  result: ForceRollbackResult & { kind: 'done' },
): void {
  const { plan } = result;
  const { current, starting, rules } = plan;
  const note = lockNote(result);
  ctx.result(
    {
      listenerArn,
      executionArn: plan.rollout.executionArn,
      previousWeights: current,
      weights: starting,
      written: plan.needsWrite,
      rulesRemoved: rules.length,
      rulesKept: plan.rulesKept.length,
      lockOwner: plan.owner ?? null,
      lockOwnerStatus: plan.ownerStatus ?? null,
      released: result.released,
      stopped: result.stopped,
      lockFreesBy: result.lockFreesBy?.toISOString() ?? null,
    },
    () =>
      [
        plan.needsWrite
          ? `Restored listener ${listenerArn} to ${formatWeights(starting)} (was ${formatWeights(current)}), ` +
            `${startingText(plan)}.`
          : `Listener ${listenerArn} is already at ${formatWeights(starting)}, ${startingText(plan)}: nothing written.`,
        ...(rules.length > 0
          ? [
              `Removed the ${rules.length} ${plan.rulesKept.length > 0 ? 'read' : 'listener'} rules of Swing's of rollout ${executionName(plan.rollout.executionArn)}.`,
            ]
          : []),
        ...(plan.rulesKept.length > 0 ? [keptText(plan)] : []),
        ...(note ? [note] : []),
      ].join('\n'),
  );
}
