import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import { AlbListenerRules } from '#adapters/listener-rules.ts';
import { ListenerShapeInvalid, ValidationFailed } from '#domain/errors.ts';
import type { ExecutionInput } from '#domain/events.ts';
import { type RulesOutsideTheSwing, rulesOutsideTheSwing } from '#domain/listener-rules.ts';
import { formatDuration, formatPlanSpec } from '#domain/plan.ts';
import { refuseStartBelowCurrentShare } from '#domain/preflight-listener.ts';
import { refuseTargetDefaultShare, runSteps } from '#domain/reads-first.ts';
import { refuseRuleConflicts } from '#domain/swing-rules.ts';
import type { DescribedListenerRule, Weights } from '#domain/types.ts';
import { formatWeights } from '#domain/weights.ts';
import { action, durationOption, gateFromOptions, planFromText } from '../action.ts';
import type { CommandContext } from '../context.ts';
import type { CliDeps } from '../deps.ts';
import { CliFailure, ExitCodes } from '../exit-codes.ts';
import { executionName } from '../render.ts';
import {
  addTrafficOptions,
  allModeWarning,
  type ResolvedTraffic,
  resolveTraffic,
  type TrafficChoice,
  type TrafficOptions,
  trafficChoice,
  trafficInput,
} from '../traffic.ts';
import { renderTimeline } from './plan.ts';
import { addWatchOptions, watchToEnd } from './status.ts';

export const DEFAULT_PLAN = 'canary';

/** Step Functions execution names: 1-80 characters; these are the ones that need no escaping anywhere. */
const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

interface StartOptions extends TrafficOptions {
  plan: string;
  name?: string;
  dryRun?: boolean;
  gateTimeout?: string;
  gateAction?: string;
  watch?: boolean;
  interval: string;
  maxWait: string;
}

export function registerStart(program: Command, deps: CliDeps): void {
  addWatchOptions(
    addTrafficOptions(
      program
        .command('start')
        .description('Start a rollout: smoke test both paths, then shift the weights step by step')
        .option(
          '--plan <plan>',
          'a preset, a spec like 5:5m,25:10m,50:10m!,100, or { "steps": [...] } JSON',
          DEFAULT_PLAN,
        )
        .option('--name <name>', 'execution name (1-80 letters, digits, "-" or "_"); default: generated')
        .option('--dry-run', 'validate and print what would start, without starting it')
        .option('--gate-timeout <duration>', 'how long a manual gate waits for `swing promote` (default 1h)')
        .option(
          '--gate-action <action>',
          'what a gate does when it times out: rollback (default) or promote',
        ),
    ),
    'after starting, refresh until the rollout ends and exit with its outcome',
  )
    .addHelpText(
      'after',
      `
Refused (exit 1) while another rollout holds the listener (the state machine takes the lock atomically anyway)
or when the listener's shape cannot be swung; exit 2 for a bad plan, including one whose first step is below
the target's current share. Needs the listener's target groups (stack outputs or flags) to read its weights.

Traffic: without --traffic the stack's default mode applies (its ReadsFirstDefaults output; all when the stack
does not say). In all mode every request is split by weight, so writes reach the target from the first step
and are not captured for the source: swing start says so. In reads-first mode the steps move reads only and
the write cutover comes last, behind its own gate; the start is refused (exit 1) while the target gets any
share of the default action (swing set-weights --target 0) or when Swing's listener rules would conflict with
the listener's (at --rule-priority, else the stack's). A rehearsal (--rehearsal) restores the starting weights
at its end (outcome rehearsed); in all mode it needs --accept-writes-on-target (exit 2 without it).

Examples:
  $ swing start --plan canary --dry-run
  $ swing start --plan '5:5m,25:10m,50:10m!,100' --name migrate-orders --watch
  $ swing start --plan linear-25 --gate-timeout 2h --gate-action rollback
  $ swing start --plan '5:10m,25:10m,100' --traffic reads-first --cutover-gate manual --dry-run
  $ swing start --plan 5:30m --traffic reads-first --rehearsal`,
    )
    .action(
      action(deps, async (ctx, command) => {
        const options = command.opts<StartOptions>();
        const plan = planFromText(options.plan, '--plan');
        const gate = gateFromOptions(options);
        const traffic = trafficChoice(options, plan);
        if (options.name !== undefined && !EXECUTION_NAME.test(options.name)) {
          throw new ValidationFailed([
            {
              field: '--name',
              message: `is '${options.name}': use 1-80 letters, digits, "-" or "_", e.g. migrate-orders-1`,
            },
          ]);
        }
        if (options.watch) {
          durationOption(options.interval, '--interval', 1);
          durationOption(options.maxWait, '--max-wait', 1);
        }
        const { stateMachineArn } = await ctx.config.require(['stateMachineArn']);
        // The stack's default mode and settings, when its outputs say (they were just read, if from anywhere).
        const resolved = resolveTraffic(traffic, plan, await ctx.config.known('readsFirstDefaults'));
        if (resolved.traffic === 'reads-first') await refuseWithoutReplayLagAlarm(ctx, resolved);
        const { store, listenerArn } = await ctx.store();

        // A courtesy check for a clear message: the atomic refusal is preflight's conditional write (I3).
        const record = await store.get(listenerArn);
        if (record?.lockOwner) {
          const rollout = record.rollout;
          const where = rollout
            ? ` (${rollout.status}, step ${rollout.stepIndex + 1} of ${runSteps(rollout).length})`
            : '';
          throw new CliFailure(
            ExitCodes.RolledBackOrRefused,
            `listener ${listenerArn} is held by rollout ${executionName(record.lockOwner)}${where}: ` +
              'watch it with `swing status --watch`, or stop it with `swing abort`',
          );
        }

        // The same check preflight makes, so that a plan it would refuse is not started at all.
        let current: Weights;
        let unswung: RulesOutsideTheSwing;
        let rules: readonly DescribedListenerRule[];
        try {
          current = await (await ctx.listener()).readWeights();
          rules = await new AlbListenerRules(ctx.clients.elbv2, await ctx.listenerTarget()).readRules();
          unswung = rulesOutsideTheSwing(listenerArn, rules);
        } catch (error) {
          // Preflight would refuse it the same way; nothing started.
          if (!(error instanceof ListenerShapeInvalid)) throw error;
          throw new CliFailure(ExitCodes.RolledBackOrRefused, error.message);
        }
        refuseStartBelowCurrentShare(plan.steps[0], current, '--plan (step 1)');
        if (resolved.traffic === 'reads-first') {
          refuseReadsFirstListener(listenerArn, current, rules, resolved, traffic);
        }

        const input: ExecutionInput = {
          plan,
          requestedBy: deps.requestedBy,
          ...(Object.keys(gate).length > 0 ? { gate } : {}),
          ...trafficInput(traffic),
        };
        // A dry run shows it in its own output; a start says it on stderr, so that it never corrupts --json.
        const warning = allModeWarning(resolved);
        if (warning && !options.dryRun) ctx.warn(warning);
        if (options.dryRun) {
          const unswungRules = unswung.recorded;
          ctx.result(
            {
              dryRun: true,
              stateMachineArn,
              listenerArn,
              name: options.name ?? null,
              input,
              traffic: resolved.traffic,
              trafficFrom: resolved.from,
              ...(warning ? { warning } : {}),
              unswungRules,
            },
            () =>
              [
                `Dry run: would start ${stateMachineArn}${options.name ? ` as ${options.name}` : ''}`,
                `Listener ${listenerArn} is free, at ${formatWeights(current)}.`,
                `Traffic: ${trafficText(resolved)}`,
                ...(resolved.traffic === 'reads-first' && !resolved.settingsFromStack
                  ? [
                      "The cutover's settings below are Swing's defaults under your flags; the stack's readsFirst config may set others.",
                    ]
                  : []),
                ...(unswung.count > 0
                  ? [
                      `Not swung: ${unswung.count === 1 ? '1 rule of the listener sends what it matches' : `${unswung.count} rules of the listener send what they match`} elsewhere, whatever the weights:`,
                      ...unswungRules.map(
                        (rule) =>
                          `  priority ${rule.priority}: ${rule.arn}${rule.conditions.length > 0 ? `, ${rule.conditions.join(' and ')}` : ''} -> ${rule.action}`,
                      ),
                    ]
                  : []),
                `Plan ${formatPlanSpec(plan)}`,
                renderTimeline(plan, resolved),
                ...(warning ? [warning] : []),
                `Input ${JSON.stringify(input)}`,
              ].join('\n'),
          );
          return;
        }

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
              `Plan ${formatPlanSpec(plan)}, traffic ${trafficText(resolved)}`,
              'Watch it with `swing status --watch`; stop it with `swing abort`.',
            ].join('\n'),
          );
        } else {
          ctx.say(`Started ${executionName(executionArn)} (${executionArn})`);
        }
        if (options.watch) await watchToEnd(ctx, executionArn, options);
      }),
    );
}

function trafficText(resolved: ResolvedTraffic): string {
  const mode =
    resolved.from === 'flag'
      ? resolved.traffic
      : resolved.from === 'stack'
        ? `${resolved.traffic} (the stack's default)`
        : "the stack's default";
  return resolved.planEnd === 'restore'
    ? `${mode}, a rehearsal (restores its starting weights at its end)`
    : mode;
}

/**
 * Preflight's reads-first refusals, made before anything starts: the target must get none of the default action
 * (writes stay on the source until the cutover), and Swing's rules must fit the listener's, at the priority the
 * rollout will use: --rule-priority, else the stack's (its ReadsFirstDefaults output), else Swing's default, saying so.
 */
function refuseReadsFirstListener(
  listenerArn: string,
  current: Weights,
  rules: readonly DescribedListenerRule[],
  resolved: ResolvedTraffic,
  traffic: TrafficChoice,
): void {
  try {
    refuseTargetDefaultShare(listenerArn, current);
  } catch (error) {
    if (!(error instanceof ListenerShapeInvalid)) throw error;
    throw new CliFailure(ExitCodes.RolledBackOrRefused, error.message);
  }
  const basePriority = resolved.settings.basePriority;
  try {
    refuseRuleConflicts({ listenerArn, rules, basePriority });
  } catch (error) {
    if (!(error instanceof ListenerShapeInvalid)) throw error;
    const note =
      traffic.readsFirst.basePriority === undefined && !resolved.settingsFromStack
        ? ` (checked at Swing's default rulePriority ${basePriority}: if the stack's config sets another, pass --rule-priority)`
        : '';
    throw new CliFailure(ExitCodes.RolledBackOrRefused, `${error.message}${note}`);
  }
}

/**
 * A stack that exports its reads-first defaults but no replay-lag alarm has none: every reads-first step waits for
 * a replay-lag check that cannot pass, and rolls back when the wait ends. Refused before anything starts.
 */
async function refuseWithoutReplayLagAlarm(ctx: CommandContext, resolved: ResolvedTraffic): Promise<void> {
  if (!(await ctx.config.hasOutput('readsFirstDefaults'))) return;
  if ((await ctx.config.known('replayLagAlarm')) !== undefined) return;
  throw new CliFailure(
    ExitCodes.RolledBackOrRefused,
    'this stack has no replay-lag alarm (no ReplayLagAlarm output): the first reads-first step would wait for ' +
      `the replayer without ever seeing it catch up, and roll back after ${formatDuration(resolved.settings.replayWaitSeconds)}. ` +
      'Set replayLag.qualifier (or replayLag.dimensions) in the Swing config and redeploy, or use --traffic all; ' +
      'nothing was started',
  );
}
