import { formatPlanSpec } from '#domain/plan.ts';
import { formatWeights } from '#domain/weights.ts';
import { StackMissing } from '../config.ts';
import type { CommandContext } from '../context.ts';
import { classifyError } from '../exit-codes.ts';
import {
  checkListener,
  checkStack,
  type ListenerChecked,
  type StartRequest,
  trafficText,
} from '../start-checks.ts';
import { allModeWarning, type ResolvedTraffic, resolveTraffic } from '../traffic.ts';
import { renderTimeline } from './plan.ts';

/** What a dry run checks from the flags alone, anywhere. */
const OFFLINE_CHECKS = [
  'the plan',
  'the gate flags',
  "the traffic mode's rules on the plan",
  'the execution name',
  'the stack-output flags given',
] as const;

/** What needs the deployed stack and its listener: checked only when AWS can be reached. */
export const LISTENER_CHECKS = [
  "the stack's outputs and default traffic mode",
  'the replay-lag alarm (reads-first)',
  'the lock',
  "the first step against the target's current share",
  "the listener's shape and rules",
] as const;

/** Errors that mean AWS cannot be asked from here, as opposed to AWS answering no. */
const NETWORK_CODES = new Set([
  'ENOTFOUND',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ECONNRESET',
  'EAI_AGAIN',
  'ENETUNREACH',
]);

function unreachable(error: unknown): boolean {
  if (error instanceof StackMissing) return true;
  if (!(error instanceof Error)) return false;
  return (
    error.name === 'CredentialsProviderError' ||
    /region is missing|could not load credentials/i.test(error.message) ||
    NETWORK_CODES.has((error as { code?: string }).code ?? '')
  );
}

/**
 * Why AWS cannot be asked (no region, no credentials), or undefined when it can. Resolved from the clients' own
 * configuration, so nothing is sent to learn it.
 */
async function awsUnavailable(ctx: CommandContext): Promise<string | undefined> {
  const { config } = ctx.clients.elbv2;
  try {
    await config.region();
    await config.credentials();
    return undefined;
  } catch (error) {
    if (!unreachable(error)) throw error;
    return classifyError(error).message;
  }
}

interface Online {
  readonly stateMachineArn: string;
  readonly resolved: ResolvedTraffic;
  readonly listener: ListenerChecked;
}

/**
 * `swing start --dry-run`: the flags are checked here, always; the stack, its lock and its listener when AWS can
 * be reached, as a start would check them (a refusal is the start's, with its exit code). When AWS cannot be
 * reached (no region, no credentials, no such stack, no network) the dry run says which checks it skipped and why.
 * It never writes anything.
 */
export async function dryRun(ctx: CommandContext, request: StartRequest): Promise<void> {
  ctx.config.checkFlags();
  let online: Online | undefined;
  let skippedBecause = await awsUnavailable(ctx);
  if (skippedBecause === undefined) {
    try {
      const { stateMachineArn, resolved } = await checkStack(ctx, request);
      online = { stateMachineArn, resolved, listener: await checkListener(ctx, request, resolved) };
    } catch (error) {
      if (!unreachable(error)) throw error;
      skippedBecause = classifyError(error).message;
    }
  }
  // Offline, the mode is --traffic's, or the one --reads-first-defaults gives, or all (the config's default).
  const resolved =
    online?.resolved ??
    resolveTraffic(request.traffic, request.plan, ctx.config.fromFlag('readsFirstDefaults'));
  const warning = allModeWarning(resolved);
  const reverseLagAlarm = await reverseLagAlarmOf(ctx, online);
  const unswungRules = online?.listener.unswung.recorded ?? [];
  const unswungCount = online?.listener.unswung.count ?? 0;
  ctx.result(
    {
      dryRun: true,
      stateMachineArn: online?.stateMachineArn ?? null,
      listenerArn: online?.listener.listenerArn ?? null,
      name: request.name ?? null,
      input: request.input,
      traffic: resolved.traffic,
      trafficFrom: resolved.from,
      ...(warning ? { warning } : {}),
      unswungRules,
      checked: [...OFFLINE_CHECKS, ...(online ? LISTENER_CHECKS : [])],
      skipped: online ? [] : [...LISTENER_CHECKS],
      ...(skippedBecause !== undefined ? { skippedBecause } : {}),
    },
    () =>
      [
        online
          ? `Dry run: would start ${online.stateMachineArn}${request.name ? ` as ${request.name}` : ''}`
          : `Dry run, without AWS: would start the stack's state machine${request.name ? ` as ${request.name}` : ''}`,
        ...(online
          ? [`Listener ${online.listener.listenerArn} is free, at ${formatWeights(online.listener.current)}.`]
          : []),
        `Traffic: ${trafficText(resolved)}`,
        ...(resolved.traffic === 'reads-first' && !resolved.settingsFromStack
          ? [
              "The cutover's settings below are Swing's defaults under your flags; the stack's readsFirst config may set others.",
            ]
          : []),
        ...(unswungCount > 0
          ? [
              `Not swung: ${unswungCount === 1 ? '1 rule of the listener sends what it matches' : `${unswungCount} rules of the listener send what they match`} elsewhere, whatever the weights:`,
              ...unswungRules.map(
                (rule) =>
                  `  priority ${rule.priority}: ${rule.arn}${rule.conditions.length > 0 ? `, ${rule.conditions.join(' and ')}` : ''} -> ${rule.action}`,
              ),
            ]
          : []),
        `Plan ${formatPlanSpec(request.plan)}`,
        renderTimeline(request.plan, { ...resolved, reverseLagAlarm }),
        ...(warning ? [warning] : []),
        `Input ${JSON.stringify(request.input)}`,
        `Checked: ${[...OFFLINE_CHECKS, ...(online ? LISTENER_CHECKS : [])].join('; ')}.`,
        ...(online
          ? []
          : [
              `Not checked (they need the stack and its listener): ${LISTENER_CHECKS.join('; ')}.`,
              `Skipped because ${skippedBecause}`,
            ]),
      ].join('\n'),
  );
}

/** The stack's reverse lag alarm (a rollback after the cutover is lossless), null when it has none, once online. */
async function reverseLagAlarmOf(ctx: CommandContext, online: unknown): Promise<string | null | undefined> {
  if (!online) return undefined;
  return (await ctx.config.known('reverseLagAlarm')) ?? null;
}
