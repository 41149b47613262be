import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { AlbSwingRules } from '#adapters/swing-rules.ts';
import { refuseRestoreRaisingTarget } from '#domain/engine/record.ts';
import { LockLost } from '#domain/errors.ts';
import { removeRules, rulesOf } from '#domain/reads-first.ts';
import { malformedStartingWeights } from '#domain/record-check.ts';
import type { RolloutPatch } from '#domain/types.ts';
import { formatWeights, percentToWeights, sameWeights } from '#domain/weights.ts';
import type { CommandHandler } from '../action.ts';
import type { CommandContext } from '../context.ts';
import { CliFailure, ExitCodes } from '../exit-codes.ts';
import { executionName } from '../render.ts';
import { safetyNetActsBy, safetyNetDueAt } from '../rollout-view.ts';

const quietLog = { info: () => {}, warn: () => {}, error: () => {} };

const ALL_ON_SOURCE = percentToWeights(0);

/** Step Functions' view of an execution, or why it could not be read. */
async function describe(
  ctx: CommandContext,
  executionArn: string,
): Promise<{ execution?: DescribeExecutionCommandOutput; error?: unknown }> {
  try {
    return { execution: await ctx.clients.sfn.send(new DescribeExecutionCommand({ executionArn })) };
  } catch (error) {
    return { error };
  }
}

interface RollbackOptions {
  force?: boolean;
  yes?: boolean;
  releaseLock?: boolean;
}

/** `swing rollback`: see its definition in cli/definitions/rollback.ts. */
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
  const record = await store.get(listenerArn);
  const rollout = record?.rollout;
  if (!rollout) {
    throw new CliFailure(
      ExitCodes.BadInput,
      `no rollout is recorded for listener ${listenerArn}, so there are no starting weights to restore: ` +
        'set weights with `swing set-weights --target 0`',
    );
  }
  // A malformed record (issue 20): with no usable starting weights, everything goes to the source, which
  // never raises the target's share and, before a cutover, loses nothing.
  const malformed = malformedStartingWeights(rollout);
  const starting = malformed ? ALL_ON_SOURCE : rollout.startingWeights;
  const current = await listener.readWeights();
  // The record is only as trustworthy as everyone who may update it: never raise the target's share.
  refuseRestoreRaisingTarget({ ...rollout, startingWeights: starting }, current, listenerArn);
  const owner = record.lockOwner;
  const described = owner ? await describe(ctx, owner) : undefined;
  if (options.releaseLock && owner && described?.error !== undefined) {
    // Released under a holder that still runs, its next task would write with no lock held.
    const { name, message } =
      described.error instanceof Error
        ? described.error
        : { name: 'Error', message: String(described.error) };
    throw new CliFailure(
      ExitCodes.AwsError,
      `cannot learn whether execution ${executionName(owner)} still runs (${name}: ${message}), so its ` +
        'lock is not released and nothing was changed. Retry in a minute, check that your role may call ' +
        'states:DescribeExecution, or run without --release-lock to restore the weights only',
    );
  }
  const ownerExecution = described?.execution;
  const ownerStatus = ownerExecution?.status;
  const due = safetyNetDueAt({ at: ctx.deps.now(), lockOwnerStoppedAt: ownerExecution?.stopDate });
  if (options.releaseLock && ownerStatus !== 'RUNNING' && due) {
    // Released now, a task of that execution still running could write after us, with no lock left.
    throw new CliFailure(
      ExitCodes.RolledBackOrRefused,
      `execution ${executionName(owner ?? '')} is ${ownerStatus ?? 'stopped'}: the safety net restores the ` +
        `starting weights and frees the lock by ${due.toISOString()}, once no task of it can still ` +
        'write. Check `swing status` then; run this again only if the lock is still held',
    );
  }
  const needsWrite = !sameWeights(current, starting);
  const startingText = malformed
    ? `everything on the source: the record of rollout ${executionName(rollout.executionArn)} has no usable starting weights (${malformed})`
    : `the starting weights of rollout ${executionName(rollout.executionArn)}`;
  const release = Boolean(options.releaseLock && owner);
  const name = executionName(rollout.executionArn);
  // Reads-first: the rollout's own listener rules go too, the reads sent back to the source first.
  const swingRules = new AlbSwingRules(ctx.clients.elbv2, await ctx.listenerTarget());
  const rules = rollout.traffic === 'reads-first' ? await rulesOf(swingRules, rollout.executionArn) : [];

  if (needsWrite || release || rules.length > 0) {
    if (!options.yes) {
      const question = [
        needsWrite
          ? `Write listener ${listenerArn}\n  from ${formatWeights(current)}\n  to   ${formatWeights(starting)} ` +
            `(${startingText})`
          : `The listener is already at the starting weights of rollout ${name}.`,
        ...(rules.length > 0
          ? [
              `Remove the ${rules.length} listener rules of Swing's that rollout ${name} created ` +
                '(its read rules first, its pins last).',
            ]
          : []),
        ...(current.target > starting.target
          ? ['Client writes sent to the target while it had traffic were not captured for the source.']
          : []),
        ...(release
          ? [
              ownerStatus === 'RUNNING'
                ? `Stop ${executionName(owner ?? '')}; its safety net then frees the lock.`
                : `Release the lock held by ${executionName(owner ?? '')}.`,
            ]
          : []),
        'Proceed? [y/N] ',
      ].join('\n');
      if (!(await ctx.deps.confirm(question))) {
        throw new CliFailure(ExitCodes.RolledBackOrRefused, 'not confirmed: nothing was changed');
      }
    }
    // The default action first: a removed read rule's requests then follow the starting weights.
    if (needsWrite) await listener.writeWeights(starting);
    if (rules.length > 0) await removeRules(swingRules, rules, quietLog);
  }

  let released = false;
  let stopped = false;
  let lockFreesBy: Date | undefined;
  const reason = {
    error: 'ForcedRollback',
    cause: `swing rollback --force --release-lock by ${ctx.deps.requestedBy}`,
    at: ctx.deps.now().toISOString(),
  };
  if (release && owner && ownerStatus === 'RUNNING') {
    // Not released here: a task of the running execution could still write after the lock was gone.
    // Stopped instead; its safety net waits those tasks out, restores if needed, records this reason
    // and releases the lock.
    await store.update(listenerArn, owner, { reason }).catch((error: unknown) => {
      if (!(error instanceof LockLost)) throw error;
    });
    await ctx.clients.sfn.send(
      new StopExecutionCommand({
        executionArn: owner,
        error: 'ForcedRollback',
        cause: `the listener was restored by swing rollback --force (${ctx.deps.requestedBy})`,
      }),
    );
    stopped = true;
    lockFreesBy = safetyNetActsBy(ctx.deps.now());
  } else if (release && owner) {
    const final: RolloutPatch = {
      outcome: 'rolled-back',
      status: 'rolled-back',
      reason,
      restored: true,
      lastWritten: starting,
      endedAt: reason.at,
      pendingWeights: undefined,
      taskToken: undefined,
      taskKind: undefined,
      bakeEndsAt: undefined,
    };
    released = await store.release(listenerArn, owner, final);
  }

  const lockNote = (): string | undefined => {
    if (!owner) return undefined;
    if (stopped && lockFreesBy) {
      return (
        `Stopped execution ${executionName(owner)}: its safety net frees the lock by ` +
        `${lockFreesBy.toISOString()}, once no task of it can still write (\`swing status\` shows it).`
      );
    }
    if (release) {
      return `${released ? 'Released' : 'Found already released'} the lock of ${executionName(owner)}.`;
    }
    if (ownerStatus === 'RUNNING') {
      return (
        `Rollout ${executionName(owner)} still runs and holds the lock: it sees this change as drift and ` +
        'halts at its next check without touching the listener; end it now with `swing abort`.'
      );
    }
    return (
      `Execution ${executionName(owner)} (${ownerStatus ?? 'status unknown'}) still holds the lock: ` +
      'rerun with --release-lock to free the listener for the next rollout.'
    );
  };
  const note = lockNote();
  ctx.result(
    {
      listenerArn,
      executionArn: rollout.executionArn,
      previousWeights: current,
      weights: starting,
      written: needsWrite,
      rulesRemoved: rules.length,
      lockOwner: owner ?? null,
      lockOwnerStatus: ownerStatus ?? null,
      released,
      stopped,
      lockFreesBy: lockFreesBy?.toISOString() ?? null,
    },
    () =>
      [
        needsWrite
          ? `Restored listener ${listenerArn} to ${formatWeights(starting)} (was ${formatWeights(current)}), ` +
            `${startingText}.`
          : `Listener ${listenerArn} is already at ${formatWeights(starting)}, ${startingText}: nothing written.`,
        ...(rules.length > 0
          ? [`Removed the ${rules.length} listener rules of Swing's of rollout ${name}.`]
          : []),
        ...(note ? [note] : []),
      ].join('\n'),
  );
};
