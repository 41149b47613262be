import type { Command } from 'commander';
import {
  abortRollout,
  type OperatorResult,
  pauseRollout,
  promoteGate,
  resumeRollout,
} from '#domain/operator.ts';
import { runSteps } from '#domain/reads-first.ts';
import { action, durationOption } from '../action.ts';
import type { CliDeps } from '../deps.ts';
import { CliFailure, ExitCodes } from '../exit-codes.ts';
import { executionName } from '../render.ts';
import { addWatchOptions, watchToEnd } from './status.ts';

/** What each request did, in words an operator can act on. */
const DELIVERED: Record<string, Partial<Record<OperatorResult['delivered'], string>>> = {
  abort: {
    'task-failed': 'the open bake or gate failed with Aborted: the rollback starts now',
    'task-succeeded': 'the open gate was passed',
    'flag-only': 'no bake or gate was open: the rollout rolls back at its next task',
  },
  pause: {
    'task-failed': 'the open task failed',
    'task-succeeded': 'the open gate was passed',
    'flag-only': 'the rollout holds at the end of the current bake; `swing resume` continues it',
  },
  resume: {
    'task-failed': 'the open task failed',
    'task-succeeded': 'the hold was passed: the rollout continues with the next step',
    'flag-only': 'the pause request was withdrawn: the rollout continues as planned',
  },
  promote: {
    'task-failed': 'the open task failed',
    'task-succeeded': 'the gate was passed: the rollout continues with the next step',
    'flag-only': 'nothing was open to promote',
  },
};

function report(verb: string, result: OperatorResult) {
  return {
    json: { action: verb, executionArn: result.executionArn, delivered: result.delivered },
    human: () =>
      `${verb}: ${executionName(result.executionArn)}: ${DELIVERED[verb]?.[result.delivered] ?? result.delivered}`,
  };
}

export function registerOperatorCommands(program: Command, deps: CliDeps): void {
  program
    .command('pause')
    .description('Hold the rollout at the end of its current bake')
    .addHelpText(
      'after',
      `
The bake and its alarm watch go on; the next weight change waits for \`swing resume\` (or \`swing promote\`).
Refused (exit 1) when no rollout holds the listener.

Example:
  $ swing pause && swing status`,
    )
    .action(
      action(deps, async (ctx) => {
        const { json, human } = report('pause', await pauseRollout(await ctx.operator()));
        ctx.result(json, human);
      }),
    );

  program
    .command('resume')
    .description('Continue a paused rollout')
    .addHelpText('after', '\nExample:\n  $ swing resume')
    .action(
      action(deps, async (ctx) => {
        const { json, human } = report('resume', await resumeRollout(await ctx.operator()));
        ctx.result(json, human);
      }),
    );

  program
    .command('promote')
    .description('Pass the manual gate the rollout waits at')
    .addHelpText(
      'after',
      `
Refused (exit 1) unless the rollout waits at a gate; \`swing status\` shows when it does.

Example:
  $ swing promote`,
    )
    .action(
      action(deps, async (ctx) => {
        const operator = await ctx.operator();
        const rollout = (await operator.store.get(operator.listenerArn))?.rollout;
        // Reads-first: the gate before the write cutover is the one after which a rollback loses writes.
        const cutover = rollout !== undefined && runSteps(rollout)[rollout.stepIndex + 1]?.kind === 'cutover';
        const result = await promoteGate(operator);
        const { json, human } = report('promote', result);
        const cutsOver = cutover && result.delivered === 'task-succeeded';
        ctx.result({ ...json, cutsWritesOver: cutsOver }, () =>
          cutsOver
            ? `${human()}\nWrites cut over next: from then on every write the target takes is on the target only, and a rollback reports the write exposure`
            : human(),
        );
      }),
    );

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
    .action(
      action(deps, async (ctx, command) => {
        const options = command.opts<{ watch?: boolean; interval: string; maxWait: string }>();
        if (options.watch) {
          durationOption(options.interval, '--interval', 1);
          durationOption(options.maxWait, '--max-wait', 1);
        }
        const result = await abortRollout(await ctx.operator(), deps.requestedBy);
        if (result.delivered === 'too-late') {
          throw new CliFailure(
            ExitCodes.RolledBackOrRefused,
            `rollout ${executionName(result.executionArn)} had already verified its final weights and is ` +
              'completing: nothing was aborted. To undo it, start a new rollout or use `swing rollback --force`',
          );
        }
        const { json, human } = report('abort', result);
        if (options.watch) {
          ctx.say(human());
          await watchToEnd(ctx, result.executionArn, options);
        } else {
          ctx.result(json, human);
        }
      }),
    );
}
