import { writeFileSync } from 'node:fs';
import { GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { TargetGroupMetrics } from '#adapters/target-group-metrics.ts';
import { ValidationFailed } from '#domain/errors.ts';
import { renderReportHtml } from '#report/html.ts';
import type { CommandHandler } from '../action.ts';
import { executionReportData } from '../report/from-execution.ts';

/** `arn:...:stateMachine:M` + `name` -> `arn:...:execution:M:name`; an ARN is taken as it is. */
export function executionArnFor(nameOrArn: string, stateMachineArn: string): string {
  if (nameOrArn.startsWith('arn:')) {
    if (!/^arn:aws[\w-]*:states:[^:]+:\d{12}:execution:[^:]+:[^:]+$/.test(nameOrArn)) {
      throw new ValidationFailed([
        {
          field: '--execution',
          message: `'${nameOrArn}' is not a Step Functions execution ARN: give its name or its ARN`,
        },
      ]);
    }
    return nameOrArn;
  }
  if (!/^[\w-]{1,80}$/.test(nameOrArn)) {
    throw new ValidationFailed([
      { field: '--execution', message: `'${nameOrArn}' is not an execution name: give its name or its ARN` },
    ]);
  }
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${nameOrArn}`;
}

/** Every task token the history holds (in the parameters of the bake and gate tasks). */
function taskTokensIn(events: readonly HistoryEvent[]): string[] {
  const tokens: string[] = [];
  for (const event of events) {
    const parameters = event.taskScheduledEventDetails?.parameters;
    if (!parameters) continue;
    for (const match of parameters.matchAll(/"taskToken"\s*:\s*"([^"]+)"/g))
      if (match[1]) tokens.push(match[1]);
  }
  return tokens;
}

/** `swing report`: see its definition in cli/definitions/report.ts. */
export const runReport: CommandHandler = async (ctx, command) => {
  const options = command.opts<{ execution: string; out?: string }>();
  const { stateMachineArn } = await ctx.config.require(['stateMachineArn']);
  const executionArn = executionArnFor(options.execution, stateMachineArn);
  const name = executionArn.split(':').at(-1) ?? 'execution';
  const out = options.out ?? `${name}.html`;

  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ctx.clients.sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        includeExecutionData: true,
        maxResults: 1000,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);

  const now = ctx.deps.now();
  const started = events.find((event) => event.type === 'ExecutionStarted')?.timestamp;
  if (!started) {
    throw new ValidationFailed([
      { field: '--execution', message: `the history of ${executionArn} has no ExecutionStarted event` },
    ]);
  }
  const ended = events.findLast((event) =>
    /^Execution(Succeeded|Failed|Aborted|TimedOut)$/.test(event.type ?? ''),
  )?.timestamp;
  const target = await ctx.listenerTarget();
  const metrics = new TargetGroupMetrics(ctx.clients.cloudWatch, target);
  const minute = 60_000;
  const from = new Date(Math.floor(new Date(started).getTime() / minute) * minute - minute);
  const to = new Date(
    Math.min(now.getTime(), Math.ceil(new Date(ended ?? now).getTime() / minute) * minute + minute),
  );
  const minutes = await metrics.minutes(from, to);
  let stickinessSeconds: number | undefined;
  try {
    stickinessSeconds = await (await ctx.listener()).stickinessSeconds();
  } catch {
    stickinessSeconds = undefined;
  }
  const data = executionReportData({
    executionArn,
    events,
    minutes,
    now,
    ...(stickinessSeconds ? { stickinessSeconds } : {}),
    generatedAt: now.toISOString(),
  });
  const html = renderReportHtml(data);
  // Built from named fields only; checked anyway, because a token in a file is a credential to fail a task.
  if (taskTokensIn(events).some((token) => html.includes(token))) {
    throw new Error('the report would contain a task token: nothing written');
  }
  writeFileSync(out, html);
  ctx.result(
    { file: out, executionArn, outcome: data.outcome, steps: data.steps },
    () =>
      `Wrote ${out}: ${name} ${data.outcome}, ${data.steps.filter((step) => step.state !== 'not-reached').length} of ${data.steps.length} steps reached, ${minutes.length} minutes of metrics.`,
  );
};
