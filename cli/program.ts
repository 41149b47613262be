import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { registerFrontDoor } from './definitions/front-door.ts';
import { registerHistory } from './definitions/history.ts';
import { registerInit } from './definitions/init.ts';
import { registerLocal } from './definitions/local.ts';
import { registerOperatorCommands } from './definitions/operator.ts';
import { registerPlan } from './definitions/plan.ts';
import { registerReport } from './definitions/report.ts';
import { registerRollback } from './definitions/rollback.ts';
import { registerSchedule } from './definitions/schedule.ts';
import { registerSetWeights } from './definitions/set-weights.ts';
import { registerSmoke } from './definitions/smoke.ts';
import { registerStart } from './definitions/start.ts';
import { registerStatus } from './definitions/status.ts';
import type { CliDeps } from './deps.ts';
import { classifyError, EXIT_CODES_HELP, ExitCodes } from './exit-codes.ts';
import { DEFAULT_STACK_NAME, SETTING_FLAGS } from './settings.ts';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** Commander's own exits: help and version are fine, anything else is a usage error (exit 2). */
function usageExit(error: CommanderError): never {
  const ownError = error.code.startsWith('commander.');
  if (ownError && error.exitCode !== 0)
    throw new CommanderError(ExitCodes.BadInput, error.code, error.message);
  throw error;
}

/**
 * The `swing` program. Everything it touches comes from `deps`, so tests run it with mocked AWS clients
 * and captured output. Exits go through `exitOverride`: parseAsync rejects with a CommanderError whose
 * `exitCode` is the process exit code (see `runCli`).
 */
export function makeProgram(deps: CliDeps): Command {
  const program = new Command('swing')
    .description('Progressive traffic swing of an ALB listener from a source to a target cluster')
    .version(version, '-V, --version')
    // Set before the commands are added: subcommands copy these settings when they are created.
    .exitOverride(usageExit)
    .configureOutput({
      writeOut: deps.stdout,
      writeErr: deps.stderr,
      outputError: (text, write) => {
        if (text.trim() === '') return;
        // Commander's own messages name the problem (and a suggestion on a second line): one line, with the fix.
        const line = text.trim().replace(/\s*\n\s*/g, ' ');
        write(line.startsWith('error: ') ? `swing: ${line.slice(7)}; see --help\n` : `${line}\n`);
      },
    });

  program
    .optionsGroup('Global options (any command):')
    .option(
      '--stack-name <name>',
      'the deployed Swing stack whose outputs configure the CLI',
      DEFAULT_STACK_NAME,
    )
    .option('--region <region>', "AWS region (default: AWS_REGION or the profile's region)")
    .option('--profile <profile>', 'named profile from ~/.aws/config (default: AWS_PROFILE or default)')
    .option('--json', 'machine-readable output on stdout')
    .optionsGroup('Stack output overrides (default: read from the stack):');
  for (const setting of Object.values(SETTING_FLAGS)) {
    program.option(`${setting.flag} <value>`, `${setting.description} (output ${setting.output})`);
  }
  program.optionsGroup('Options:');

  program.commandsGroup('Rollouts:');
  registerPlan(program, deps);
  registerStart(program, deps);
  registerStatus(program, deps);
  registerOperatorCommands(program, deps);
  registerHistory(program, deps);
  registerReport(program, deps);
  program.commandsGroup('Direct listener changes and checks:');
  registerRollback(program, deps);
  registerSetWeights(program, deps);
  registerSmoke(program, deps);
  program.commandsGroup('Setting up:');
  registerInit(program, deps);
  registerFrontDoor(program, deps);
  program.commandsGroup('Scheduling and local mode:');
  registerSchedule(program, deps);
  registerLocal(program, deps);

  program.addHelpText(
    'after',
    `
Configuration: every command reads what it needs from the CloudFormation outputs of --stack-name
(StateMachineArn, TableName, ListenerArn, ...); a flag above overrides one output. Region and credentials
come from the standard AWS environment and config files, or --region / --profile.

${EXIT_CODES_HELP}

Examples:
  $ swing plan canary
  $ swing start --plan '5:5m,25:10m,50:10m!,100' --watch
  $ swing status --profile prod --region eu-west-1`,
  );
  return program;
}

/** Runs `swing` with `argv` (without node and script) and returns the exit code; never calls process.exit. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const program = makeProgram(deps);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCodes.Ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    const { exitCode, message } = classifyError(error);
    deps.stderr(`swing: ${message}\n`);
    return exitCode;
  }
}
