import {
  abortRollout,
  type OperatorResult,
  pauseRollout,
  promoteGate,
  resumeRollout,
} from '#domain/operator.ts';
import type { PauseEffect } from '#domain/pause.ts';
import { runSteps } from '#domain/reads-first.ts';
import { type CommandHandler, durationOption } from '../action.ts';
import { CliFailure, ExitCodes } from '../exit-codes.ts';
import { executionName } from '../render.ts';
import { watchToEnd } from './status.ts';

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
    'flag-only': 'the rollout holds before its next step; `swing resume` continues it',
  },
  resume: {
    'task-failed': 'the open task failed',
    'task-succeeded': 'the pause ended: the rollout continues with the next step',
    'flag-only': 'the pause request was withdrawn: the rollout continues as planned',
  },
  promote: {
    'task-failed': 'the open task failed',
    'task-succeeded': 'the gate was passed: the rollout continues with the next step',
    'flag-only': 'nothing was open to promote',
  },
};

/** When a pause takes effect, as the record the request wrote tells (PauseEffect). */
const PAUSE_TAKES_EFFECT: Record<PauseEffect, string> = {
  'after-this-bake':
    'a step is under way: it goes on to the end of its bake (alarms still watched), then the rollout holds ' +
    'before the next step; `swing resume` continues it',
  'before-next-step':
    'the next step does not start: the rollout holds before it (alarms still watched); `swing resume` continues it',
  'at-gate':
    'the rollout holds at its gate: should the gate time out, it does not go on (a pause never promotes: it ' +
    'holds for the gate timeout once more, then rolls back); `swing resume` withdraws the pause, ' +
    '`swing promote` passes the gate',
  'already-paused': 'the rollout already holds for a pause; `swing resume` continues it',
  'too-late': 'the rollout is already ending (rolling back or completing): there is nothing left to hold',
};

function report(verb: string, result: OperatorResult) {
  const said = result.duringCutover
    ? 'the write cutover was already being written: its ModifyListener cannot be called back, so writes reach ' +
      'the target until the rollback, which starts as soon as the cutover lands, restores the source; the ' +
      'rollback reports the write exposure'
    : result.holds !== undefined
      ? PAUSE_TAKES_EFFECT[result.holds]
      : result.gateStillOpen
        ? 'the pause request was withdrawn; the rollout still waits at its gate, which only `swing promote` passes'
        : (DELIVERED[verb]?.[result.delivered] ?? result.delivered);
  return {
    json: {
      action: verb,
      executionArn: result.executionArn,
      delivered: result.delivered,
      ...(result.holds !== undefined ? { holds: result.holds } : {}),
      ...(result.gateStillOpen ? { gateStillOpen: true } : {}),
      ...(result.duringCutover ? { duringCutover: true } : {}),
    },
    human: () => `${verb}: ${executionName(result.executionArn)}: ${said}`,
  };
}

/** `swing pause`: see its definition in cli/definitions/operator.ts. */
export const runPause: CommandHandler = async (ctx) => {
  const { json, human } = report('pause', await pauseRollout(await ctx.operator()));
  ctx.result(json, human);
};

/** `swing resume`: see its definition in cli/definitions/operator.ts. */
export const runResume: CommandHandler = async (ctx) => {
  const { json, human } = report('resume', await resumeRollout(await ctx.operator()));
  ctx.result(json, human);
};

/** `swing promote`: see its definition in cli/definitions/operator.ts. */
export const runPromote: CommandHandler = async (ctx) => {
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
};

/** `swing abort`: see its definition in cli/definitions/operator.ts. */
export const runAbort: CommandHandler = async (ctx, command) => {
  const options = command.opts<{ watch?: boolean; interval: string; maxWait: string }>();
  if (options.watch) {
    durationOption(options.interval, '--interval', 1);
    durationOption(options.maxWait, '--max-wait', 1);
  }
  const result = await abortRollout(await ctx.operator(), ctx.deps.requestedBy);
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
};
