import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  ListSchedulesCommand,
  type ScheduleSummary,
} from '@aws-sdk/client-scheduler';
import type { ReadsFirstDefaults } from '#commons/config.ts';
import { ValidationFailed } from '#domain/errors.ts';
import type { ExecutionInput } from '#domain/events.ts';
import { formatPlanSpec, resolvePlan } from '#domain/plan.ts';
import { type CommandHandler, gateFromOptions, planFromText } from '../action.ts';
import type { CommandContext } from '../context.ts';
import { CliFailure, ExitCodes } from '../exit-codes.ts';
import { table } from '../render.ts';
import {
  allModeWarning,
  resolveTraffic,
  type TrafficOptions,
  trafficChoice,
  trafficInput,
} from '../traffic.ts';

/** As the stack's own schedules: retried 3 times, dropped to the dead-letter queue after 15 minutes. */
export const SCHEDULE_RETRY_POLICY = { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 900 } as const;

const SCHEDULE_NAME = /^[0-9A-Za-z_.-]{1,64}$/;
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;

function checkName(name: string): string {
  if (!SCHEDULE_NAME.test(name)) {
    throw new ValidationFailed([
      {
        field: 'name',
        message: `is '${name}': use 1-64 letters, digits, ".", "_" or "-", e.g. saturday-ramp`,
      },
    ]);
  }
  return name;
}

function checkTimeZone(timeZone: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return timeZone;
  } catch {
    throw new ValidationFailed([
      {
        field: '--timezone',
        message: `is '${timeZone}', not an IANA time zone: use e.g. UTC, Europe/Berlin`,
      },
    ]);
  }
}

/** Milliseconds that `timeZone` is ahead of UTC at `instant`. */
function zoneOffset(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(instant));
  const part = (type: string) => Number(parts.find((candidate) => candidate.type === type)?.value ?? 0);
  const asUtc = Date.UTC(
    part('year'),
    part('month') - 1,
    part('day'),
    part('hour'),
    part('minute'),
    part('second'),
  );
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/** The instant a wall-clock time in `timeZone` names (the later one across a DST change). */
export function instantOf(localDateTime: string, timeZone: string): Date {
  const match = LOCAL_DATE_TIME.exec(localDateTime);
  const fields = match?.slice(1).map(Number) ?? [];
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = fields;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(wall);
  if (
    !match ||
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    throw new ValidationFailed([
      {
        field: '--at',
        message: `is '${localDateTime}': write a real local date-time yyyy-mm-ddThh:mm:ss, e.g. 2026-12-01T02:00:00`,
      },
    ]);
  }
  const first = wall - zoneOffset(wall, timeZone);
  return new Date(wall - zoneOffset(first, timeZone));
}

/** EventBridge Scheduler cron: six fields, and one of day-of-month / day-of-week must be '?'. */
export function checkCron(expression: string): string {
  const fields = expression.trim().split(/\s+/);
  const problem =
    fields.length !== 6
      ? `has ${fields.length} fields: write the six Scheduler fields "minutes hours day-of-month month day-of-week year", e.g. "0 2 ? * SAT *"`
      : fields[2] !== '?' && fields[4] !== '?'
        ? 'sets both day-of-month and day-of-week: put \'?\' in one of them, e.g. "0 2 ? * SAT *"'
        : undefined;
  if (problem) throw new ValidationFailed([{ field: '--cron', message: problem }]);
  return fields.join(' ');
}

interface AddOptions extends TrafficOptions {
  at?: string;
  cron?: string;
  timezone: string;
  plan: string;
  description?: string;
  gateTimeout?: string;
  gateAction?: string;
}

export interface ScheduleRequest {
  readonly name: string;
  readonly expression: string;
  readonly timeZone: string;
  readonly oneTime: boolean;
  readonly input: ExecutionInput;
  readonly description: string;
  /** In all mode (or the stack's default mode): writes sent to the target are not captured. */
  readonly warning?: string;
}

/**
 * Checks everything the operator typed. `stack` is the stack's ReadsFirstDefaults (undefined: not known, all is
 * assumed); `defer` checks all but what depends on the stack's mode, before any AWS call.
 */
export function scheduleRequest(
  name: string,
  options: AddOptions,
  now: Date,
  stack?: ReadsFirstDefaults | 'defer',
): ScheduleRequest {
  checkName(name);
  const timeZone = checkTimeZone(options.timezone);
  if ((options.at === undefined) === (options.cron === undefined)) {
    throw new ValidationFailed([
      {
        field: '--at/--cron',
        message: 'give exactly one: --at 2026-12-01T02:00:00 (once) or --cron "0 2 ? * SAT *"',
      },
    ]);
  }
  let expression: string;
  if (options.at !== undefined) {
    if (instantOf(options.at, timeZone).getTime() <= now.getTime()) {
      throw new ValidationFailed([
        { field: '--at', message: `is ${options.at} ${timeZone}, which is in the past: give a future time` },
      ]);
    }
    expression = `at(${options.at})`;
  } else {
    expression = `cron(${checkCron(options.cron ?? '')})`;
  }
  const plan = planFromText(options.plan, '--plan');
  const gate = gateFromOptions(options);
  const traffic = trafficChoice(options, plan);
  const resolved = stack === 'defer' ? undefined : resolveTraffic(traffic, plan, stack);
  const warning = resolved ? allModeWarning(resolved) : undefined;
  const what = traffic.planEnd === 'restore' ? 'rehearsal' : 'rollout';
  const mode = traffic.traffic ? `, traffic ${traffic.traffic}` : '';
  return {
    name,
    expression,
    timeZone,
    oneTime: options.at !== undefined,
    input: {
      plan,
      requestedBy: `schedule:${name}`,
      ...(Object.keys(gate).length > 0 ? { gate } : {}),
      ...trafficInput(traffic),
    },
    description: (options.description ?? `Swing ${what}, plan ${formatPlanSpec(plan)}${mode}`).slice(0, 512),
    ...(warning ? { warning } : {}),
  };
}

export interface ScheduleTarget {
  readonly stateMachineArn: string;
  readonly schedulerRoleArn: string;
  readonly scheduleGroupName: string;
  readonly scheduleDlqArn?: string;
}

/** The CreateSchedule request: StartExecution of the state machine through the stack's Scheduler role. */
export function createScheduleInput(
  request: ScheduleRequest,
  target: ScheduleTarget,
): CreateScheduleCommandInput {
  return {
    Name: request.name,
    GroupName: target.scheduleGroupName,
    ScheduleExpression: request.expression,
    ScheduleExpressionTimezone: request.timeZone,
    FlexibleTimeWindow: { Mode: 'OFF' },
    State: 'ENABLED',
    Description: request.description,
    // A one-time ramp removes itself once it has started the execution.
    ActionAfterCompletion: request.oneTime ? 'DELETE' : 'NONE',
    Target: {
      Arn: target.stateMachineArn,
      RoleArn: target.schedulerRoleArn,
      Input: JSON.stringify(request.input),
      RetryPolicy: { ...SCHEDULE_RETRY_POLICY },
      ...(target.scheduleDlqArn ? { DeadLetterConfig: { Arn: target.scheduleDlqArn } } : {}),
    },
  };
}

function planOfInput(input: string | undefined): string {
  try {
    return formatPlanSpec(resolvePlan((JSON.parse(input ?? '{}') as { plan?: unknown }).plan));
  } catch {
    return '(unreadable input)';
  }
}

/** A schedule's traffic mode as its input says: `reads-first`, `all`, or the stack's default; `restore` for a rehearsal. */
function trafficOfInput(input: string | undefined): { traffic: string; planEnd: string } {
  try {
    const parsed = JSON.parse(input ?? '{}') as { traffic?: unknown; then?: unknown };
    return {
      traffic: typeof parsed.traffic === 'string' ? parsed.traffic : 'default',
      planEnd: parsed.then === 'restore' ? 'restore' : 'hold',
    };
  } catch {
    return { traffic: '?', planEnd: '?' };
  }
}

function trafficCell(input: string | undefined): string {
  const { traffic, planEnd } = trafficOfInput(input);
  return planEnd === 'restore' ? `${traffic}, restore` : traffic;
}

async function swingSchedules(ctx: CommandContext, group: string, stateMachineArn: string) {
  const summaries: ScheduleSummary[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ctx.clients.scheduler.send(
      new ListSchedulesCommand({ GroupName: group, ...(nextToken ? { NextToken: nextToken } : {}) }),
    );
    summaries.push(...(page?.Schedules ?? []));
    nextToken = page?.NextToken;
  } while (nextToken);
  // The group may hold other schedules: only those that start this state machine are Swing's.
  const ours = summaries.filter((summary) => summary.Target?.Arn === stateMachineArn && summary.Name);
  const details: GetScheduleCommandOutput[] = [];
  for (const summary of ours) {
    details.push(
      await ctx.clients.scheduler.send(new GetScheduleCommand({ Name: summary.Name, GroupName: group })),
    );
  }
  return details;
}

/** `swing schedule add`: see its definition in cli/definitions/schedule.ts. */
export const runScheduleAdd: CommandHandler = async (ctx, command) => {
  const [name] = command.processedArgs as [string];
  const options = command.opts<AddOptions>();
  // Checked before the stack is even read: bad input costs no AWS call.
  scheduleRequest(name, options, ctx.deps.now(), 'defer');
  const target = await ctx.config.require(['stateMachineArn', 'schedulerRoleArn', 'scheduleGroupName']);
  // The stack's default mode, when its outputs say: a rehearsal without --traffic is checked in it.
  const request = scheduleRequest(
    name,
    options,
    ctx.deps.now(),
    await ctx.config.known('readsFirstDefaults'),
  );
  if (request.warning) ctx.warn(request.warning);
  const scheduleDlqArn = await ctx.config.optional('scheduleDlqArn');
  const input = createScheduleInput(request, {
    ...target,
    ...(scheduleDlqArn ? { scheduleDlqArn } : {}),
  });
  let scheduleArn: string | undefined;
  try {
    ({ ScheduleArn: scheduleArn } =
      (await ctx.clients.scheduler.send(new CreateScheduleCommand(input))) ?? {});
  } catch (error) {
    if (error instanceof Error && error.name === 'ConflictException') {
      throw new CliFailure(
        ExitCodes.BadInput,
        `a schedule named '${name}' already exists in group ${target.scheduleGroupName}: pick another name, ` +
          `or remove it with \`swing schedule rm ${name}\``,
      );
    }
    throw error;
  }
  ctx.result({ scheduleArn: scheduleArn ?? null, input }, () =>
    [
      `Scheduled ${name}: ${input.ScheduleExpression} ${input.ScheduleExpressionTimezone}, plan ${planOfInput(input.Target?.Input)}` +
        `${request.input.traffic ? `, traffic ${request.input.traffic}` : ''}${request.input.then === 'restore' ? ', a rehearsal (restores its starting weights at its end)' : ''}`,
      scheduleDlqArn
        ? `Undelivered starts go to ${scheduleDlqArn}.`
        : 'The stack exports no ScheduleDlqArn: undelivered starts are dropped after 3 retries.',
    ].join('\n'),
  );
};

/** `swing schedule list`: see its definition in cli/definitions/schedule.ts. */
export const runScheduleList: CommandHandler = async (ctx) => {
  const { stateMachineArn, scheduleGroupName } = await ctx.config.require([
    'stateMachineArn',
    'scheduleGroupName',
  ]);
  const schedules = await swingSchedules(ctx, scheduleGroupName, stateMachineArn);
  ctx.result(
    schedules.map((item) => ({
      name: item.Name,
      groupName: item.GroupName,
      state: item.State,
      expression: item.ScheduleExpression,
      timezone: item.ScheduleExpressionTimezone ?? 'UTC',
      plan: planOfInput(item.Target?.Input),
      ...trafficOfInput(item.Target?.Input),
      description: item.Description ?? null,
    })),
    () =>
      schedules.length === 0
        ? `No schedules start ${stateMachineArn} in group ${scheduleGroupName}.`
        : table(
            ['NAME', 'STATE', 'WHEN', 'TIMEZONE', 'PLAN', 'TRAFFIC'],
            schedules.map((item) => [
              item.Name ?? '',
              item.State ?? '',
              item.ScheduleExpression ?? '',
              item.ScheduleExpressionTimezone ?? 'UTC',
              planOfInput(item.Target?.Input),
              trafficCell(item.Target?.Input),
            ]),
          ),
  );
};

/** `swing schedule rm`: see its definition in cli/definitions/schedule.ts. */
export const runScheduleRm: CommandHandler = async (ctx, command) => {
  const [name] = command.processedArgs as [string];
  checkName(name);
  const { stateMachineArn, scheduleGroupName } = await ctx.config.require([
    'stateMachineArn',
    'scheduleGroupName',
  ]);
  let existing: GetScheduleCommandOutput;
  try {
    existing = await ctx.clients.scheduler.send(
      new GetScheduleCommand({ Name: name, GroupName: scheduleGroupName }),
    );
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException') {
      throw new CliFailure(
        ExitCodes.BadInput,
        `no schedule named '${name}' in group ${scheduleGroupName}: see \`swing schedule list\``,
      );
    }
    throw error;
  }
  if (existing?.Target?.Arn !== stateMachineArn) {
    throw new CliFailure(
      ExitCodes.BadInput,
      `schedule '${name}' does not start ${stateMachineArn}: it is not Swing's, so it was not deleted`,
    );
  }
  await ctx.clients.scheduler.send(new DeleteScheduleCommand({ Name: name, GroupName: scheduleGroupName }));
  ctx.result({ deleted: name, groupName: scheduleGroupName }, () => `Deleted schedule ${name}.`);
};
