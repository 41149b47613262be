import type { Command } from 'commander';
import { ValidationFailed } from '#domain/errors.ts';
import { type GateSettings, GateSettingsSchema } from '#domain/events.ts';
import { parseDuration, resolvePlan } from '#domain/plan.ts';
import type { Plan } from '#domain/types.ts';
import { fieldIssuesFrom } from '#domain/validation.ts';
import { printable } from '#report/printable.ts';
import { CommandContext, type GlobalOptions } from './context.ts';
import type { CliDeps } from './deps.ts';
import { classifyError, ExitCodes } from './exit-codes.ts';

export type CommandHandler = (ctx: CommandContext, command: Command) => Promise<void>;

/** `schedule add`, not `swing schedule add`. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current?.parent; current = current.parent) {
    names.unshift(current.name());
  }
  return names.join(' ');
}

/**
 * A command's action: builds its context, runs it, and turns any failure into one line on stderr and an
 * exit code through commander (`command.error`), so `exitOverride()` in tests sees the same code.
 */
export function action(deps: CliDeps, handler: CommandHandler) {
  return async (...params: unknown[]): Promise<void> => {
    const command = params[params.length - 1] as Command;
    const ctx = new CommandContext(deps, command.optsWithGlobals<GlobalOptions>());
    try {
      await handler(ctx, command);
    } catch (error) {
      const { exitCode, message } = classifyError(error);
      // An error's message may carry text from outside Swing (an AWS error echoing a value, a record's cause).
      command.error(message === '' ? '' : `swing ${commandPath(command)}: ${printable(message)}`, {
        exitCode,
        code: `swing.${ExitCodes[exitCode]}`,
      });
    }
  };
}

/** A plan from the command line: a preset, a spec like `5:5m,25:10m!,100`, or a `{ "steps": [...] }` JSON. */
export function planFromText(text: string, field: string): Plan {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return resolvePlan(trimmed, field);
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    throw new ValidationFailed([
      {
        field,
        message: 'is not valid JSON: write { "steps": [{ "targetPercent": 100 }] } or a spec like 5:5m,100',
      },
    ]);
  }
  return resolvePlan(parsed, field);
}

/** `--gate-timeout` and `--gate-action`, checked as the state machine will check them. */
export function gateFromOptions(options: {
  gateTimeout?: string;
  gateAction?: string;
}): Partial<GateSettings> {
  const gate: Record<string, unknown> = {};
  if (options.gateTimeout !== undefined) {
    try {
      gate.timeoutSeconds = parseDuration(options.gateTimeout);
    } catch {
      throw new ValidationFailed([
        {
          field: '--gate-timeout',
          message: `'${options.gateTimeout}' is not a duration: use e.g. 30m, 2h, 3600`,
        },
      ]);
    }
  }
  if (options.gateAction !== undefined) gate.action = options.gateAction;
  const result = GateSettingsSchema.partial().safeParse(gate);
  if (!result.success) {
    throw new ValidationFailed(
      fieldIssuesFrom(result.error, '').map((issue) => ({
        field: issue.field === 'timeoutSeconds' ? '--gate-timeout' : '--gate-action',
        message: issue.message,
      })),
    );
  }
  return result.data;
}

/** A whole number option in a range, e.g. `--limit`. */
export function integerOption(
  text: string | undefined,
  flag: string,
  min: number,
  max: number,
): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ValidationFailed([
      { field: flag, message: `is '${text}': use a whole number from ${min} to ${max}` },
    ]);
  }
  return value;
}

/** A duration option such as `--interval 5s` or `--max-wait 2h`, in milliseconds. */
export function durationOption(text: string, flag: string, minSeconds: number): number {
  let seconds: number;
  try {
    seconds = parseDuration(text);
  } catch {
    throw new ValidationFailed([
      { field: flag, message: `'${text}' is not a duration: use e.g. 5s, 10m, 2h` },
    ]);
  }
  if (seconds < minSeconds) {
    throw new ValidationFailed([{ field: flag, message: `is ${text}: use at least ${minSeconds}s` }]);
  }
  return seconds * 1000;
}
