import { AlbListenerRules } from '#adapters/listener-rules.ts';
import { ListenerShapeInvalid, ValidationFailed } from '#domain/errors.ts';
import type { ExecutionInput } from '#domain/events.ts';
import { type RulesOutsideTheSwing, rulesOutsideTheSwing } from '#domain/listener-rules.ts';
import { formatDuration } from '#domain/plan.ts';
import { refuseStartBelowCurrentShare } from '#domain/preflight-listener.ts';
import { quietMessage, stillQuiet } from '#domain/quiet.ts';
import { refuseTargetDefaultShare, runSteps } from '#domain/reads-first.ts';
import { refuseRuleConflicts } from '#domain/swing-rules.ts';
import type { DescribedListenerRule, Plan, Weights } from '#domain/types.ts';
import { durationOption, gateFromOptions, planFromText } from './action.ts';
import type { CommandContext } from './context.ts';
import { CliFailure, ExitCodes } from './exit-codes.ts';
import { executionName } from './render.ts';
import {
  type ResolvedTraffic,
  resolveTraffic,
  type TrafficChoice,
  type TrafficOptions,
  trafficChoice,
  trafficInput,
} from './traffic.ts';

/**
 * The checks `swing start` makes before it starts anything, in two kinds: those on its own flags (no AWS needed,
 * so a dry run makes them anywhere) and those that read the deployed stack, its lock and its listener.
 */

export interface StartOptions extends TrafficOptions {
  plan: string;
  name?: string;
  dryRun?: boolean;
  gateTimeout?: string;
  gateAction?: string;
  watch?: boolean;
  interval: string;
  maxWait: string;
}

/** What the flags ask for, checked. */
export interface StartRequest {
  readonly plan: Plan;
  readonly traffic: TrafficChoice;
  readonly input: ExecutionInput;
  readonly name?: string;
}

/** Step Functions execution names: 1-80 characters; these are the ones that need no escaping anywhere. */
const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/**
 * The offline checks: the plan, the gate, the traffic flags and, when --traffic says the mode, the plan under that
 * mode's rules (Preflight's), the execution name and the watch durations. Bad input throws, naming the flag.
 */
export function startRequest(options: StartOptions, requestedBy: string): StartRequest {
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
  const input: ExecutionInput = {
    plan,
    requestedBy,
    ...(Object.keys(gate).length > 0 ? { gate } : {}),
    ...trafficInput(traffic),
  };
  return { plan, traffic, input, ...(options.name !== undefined ? { name: options.name } : {}) };
}

/**
 * The stack's side: its state machine, and the traffic mode and settings the rollout will run with (the stack's
 * default unless --traffic), the plan checked under that mode; a reads-first start needs a replay-lag alarm.
 */
export async function checkStack(
  ctx: CommandContext,
  request: StartRequest,
): Promise<{ stateMachineArn: string; resolved: ResolvedTraffic }> {
  const { stateMachineArn } = await ctx.config.require(['stateMachineArn']);
  // The stack's default mode and settings, when its outputs say (they were just read, if from anywhere).
  const resolved = resolveTraffic(
    request.traffic,
    request.plan,
    await ctx.config.known('readsFirstDefaults'),
  );
  if (resolved.traffic === 'reads-first') await refuseWithoutReplayLagAlarm(ctx, resolved);
  return { stateMachineArn, resolved };
}

/** What the listener said: it is free, at these weights, with these rules outside the swing. */
export interface ListenerChecked {
  readonly listenerArn: string;
  readonly current: Weights;
  readonly unswung: RulesOutsideTheSwing;
}

/**
 * The listener's side, as Preflight checks it: no rollout holds the lock, the plan's first step does not lower the
 * target's share, the listener can be swung, and in reads-first mode the default action gives the target nothing
 * and Swing's rules fit. A courtesy for a clear message: the atomic refusal is Preflight's conditional write (I3).
 */
export async function checkListener(
  ctx: CommandContext,
  request: StartRequest,
  resolved: ResolvedTraffic,
): Promise<ListenerChecked> {
  const { store, listenerArn } = await ctx.store();
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
  const now = ctx.deps.now();
  if (stillQuiet(record?.rollout, now.toISOString()) && record?.rollout?.quietUntil) {
    const seconds = Math.ceil((Date.parse(record.rollout.quietUntil) - now.getTime()) / 1000);
    throw new CliFailure(
      ExitCodes.RolledBackOrRefused,
      `${quietMessage(listenerArn, record.rollout)} (in ${seconds} s)`,
    );
  }

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
  refuseStartBelowCurrentShare(request.plan.steps[0], current, '--plan (step 1)');
  if (resolved.traffic === 'reads-first') {
    refuseReadsFirstListener(listenerArn, current, rules, resolved, request.traffic);
  }
  return { listenerArn, current, unswung };
}

export function trafficText(resolved: ResolvedTraffic): string {
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
