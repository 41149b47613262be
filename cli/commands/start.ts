import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { formatPlanSpec } from '#domain/plan.ts';
import type { CommandHandler } from '../action.ts';
import { CliFailure, ExitCodes } from '../exit-codes.ts';
import { frontDoorTrafficWarning } from '../front-door-traffic.ts';
import { executionName } from '../render.ts';
import { checkListener, checkStack, type StartOptions, startRequest, trafficText } from '../start-checks.ts';
import { allModeWarning } from '../traffic.ts';
import { dryRun } from './start-dry-run.ts';
import { watchToEnd } from './status.ts';

/** `swing start`: see its definition in cli/definitions/start.ts. */
export const runStart: CommandHandler = async (ctx, command) => {
  const options = command.opts<StartOptions>();
  const request = startRequest(options, ctx.deps.requestedBy);
  if (options.dryRun) {
    await dryRun(ctx, request);
    return;
  }
  const { stateMachineArn, resolved } = await checkStack(ctx, request);
  await checkListener(ctx, request, resolved);
  // A start says it on stderr, so that it never corrupts --json.
  const warning = allModeWarning(resolved);
  if (warning) ctx.warn(warning);
  const quiet = await frontDoorTrafficWarning(ctx);
  if (quiet) ctx.warn(quiet);

  const { input } = request;
  let started: { executionArn?: string; startDate?: Date };
  try {
    started = await ctx.clients.sfn.send(
      new StartExecutionCommand({
        stateMachineArn,
        ...(options.name ? { name: options.name } : {}),
        input: JSON.stringify(input),
      }),
    );
  } catch (error) {
    if (error instanceof Error && error.name === 'ExecutionAlreadyExists') {
      throw new CliFailure(
        ExitCodes.BadInput,
        `an execution named '${options.name}' already exists: execution names are single-use, pick another --name`,
      );
    }
    if (error instanceof Error && error.name === 'StateMachineDoesNotExist') {
      throw new CliFailure(
        ExitCodes.BadInput,
        `state machine ${stateMachineArn} does not exist: check --stack-name, --region and --state-machine-arn`,
      );
    }
    throw error;
  }
  const executionArn = started.executionArn ?? '';
  if (!options.watch) {
    ctx.result({ executionArn, startDate: started.startDate ?? null, input }, () =>
      [
        `Started ${executionName(executionArn)} (${executionArn})`,
        `Plan ${formatPlanSpec(request.plan)}, traffic ${trafficText(resolved)}`,
        'Watch it with `swing status --watch`; stop it with `swing abort`.',
      ].join('\n'),
    );
  } else {
    ctx.say(`Started ${executionName(executionArn)} (${executionArn})`);
  }
  if (options.watch) await watchToEnd(ctx, executionArn, options);
};
