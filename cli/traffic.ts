import type { ReadsFirstDefaults } from '#commons/config.ts';
import { type FieldIssue, ValidationFailed } from '#domain/errors.ts';
import type { ExecutionInput } from '#domain/events.ts';
import { parseDuration } from '#domain/plan.ts';
import { DEFAULT_READS_FIRST, ReadsFirstOverridesSchema, refuseTrafficPlan } from '#domain/reads-first.ts';
import type { Plan, PlanEnd, ReadsFirstSettings, TrafficMode } from '#domain/types.ts';
import { fieldIssuesFrom } from '#domain/validation.ts';

/** The traffic flags of `start`, `plan` and `schedule add`, as commander parsed them. */
export interface TrafficOptions {
  traffic?: string;
  rehearsal?: boolean;
  acceptWritesOnTarget?: boolean;
  cutoverGate?: string;
  afterCutover?: string;
  scrollKeepAlive?: string;
  rulePriority?: string;
}

/** How a rollout moves traffic, as the operator asked. */
export interface TrafficChoice {
  /** Absent: the stack's default (its config's `traffic`, `all` unless it says reads-first). */
  readonly traffic?: TrafficMode;
  readonly planEnd: PlanEnd;
  readonly acceptWritesOnTarget: boolean;
  /** Reads-first settings given by flags; the rest are the stack's. */
  readonly readsFirst: Partial<ReadsFirstSettings>;
}

const OVERRIDE_FLAGS: Record<string, string> = {
  cutoverGate: '--cutover-gate',
  afterCutover: '--after-cutover',
  scrollKeepAliveSeconds: '--scroll-keep-alive',
  basePriority: '--rule-priority',
};

function renamed(issues: readonly FieldIssue[], planFlag: string): FieldIssue[] {
  return issues.map((issue) => {
    if (issue.field === 'acceptWritesOnTarget') return { ...issue, field: '--accept-writes-on-target' };
    const step = /^plan\.steps\[(\d+)\]/.exec(issue.field);
    if (step) return { ...issue, field: `${planFlag} (step ${Number(step[1]) + 1})` };
    return { ...issue, field: OVERRIDE_FLAGS[issue.field] ?? issue.field };
  });
}

/**
 * The traffic flags checked before any AWS call: their values, and with --traffic the plan as Preflight checks it
 * (`refuseTrafficPlan`). Without --traffic the stack's default mode applies: see `resolveTraffic`.
 */
export function trafficChoice(options: TrafficOptions, plan: Plan, planFlag = '--plan'): TrafficChoice {
  const issues: FieldIssue[] = [];
  let traffic: TrafficMode | undefined;
  if (options.traffic !== undefined) {
    if (options.traffic === 'all' || options.traffic === 'reads-first') traffic = options.traffic;
    else {
      issues.push({
        field: '--traffic',
        message: `is '${options.traffic}': use reads-first (reads ramp, writes stay on the source until the cutover) or all`,
      });
    }
  }
  const overrides: Record<string, unknown> = {};
  if (options.cutoverGate !== undefined) overrides.cutoverGate = options.cutoverGate;
  if (options.afterCutover !== undefined) overrides.afterCutover = options.afterCutover;
  if (options.rulePriority !== undefined) overrides.basePriority = Number(options.rulePriority);
  if (options.scrollKeepAlive !== undefined) {
    try {
      overrides.scrollKeepAliveSeconds = parseDuration(options.scrollKeepAlive);
    } catch {
      issues.push({
        field: '--scroll-keep-alive',
        message: `'${options.scrollKeepAlive}' is not a duration: use e.g. 5m, 300s`,
      });
    }
  }
  const parsed = ReadsFirstOverridesSchema.safeParse(overrides);
  if (!parsed.success) issues.push(...renamed(fieldIssuesFrom(parsed.error, ''), planFlag));
  if (traffic === 'all') {
    for (const key of Object.keys(overrides)) {
      issues.push({
        field: OVERRIDE_FLAGS[key] ?? key,
        message: 'applies to --traffic reads-first only: drop it, or use --traffic reads-first',
      });
    }
  }
  if (issues.length > 0) throw new ValidationFailed(issues);
  const choice: TrafficChoice = {
    ...(traffic ? { traffic } : {}),
    planEnd: options.rehearsal ? 'restore' : 'hold',
    acceptWritesOnTarget: options.acceptWritesOnTarget === true,
    readsFirst: parsed.success ? (parsed.data as Partial<ReadsFirstSettings>) : {},
  };
  // Without --traffic the mode is the stack's, which only a command that reads the stack learns (`resolveTraffic`).
  if (choice.traffic) checkTrafficPlan(choice, choice.traffic, plan, planFlag);
  return choice;
}

/** `refuseTrafficPlan` in the mode the rollout will run in, its fields named as the operator's flags. */
export function checkTrafficPlan(
  choice: TrafficChoice,
  traffic: TrafficMode,
  plan: Plan,
  planFlag = '--plan',
) {
  try {
    refuseTrafficPlan({
      traffic,
      planEnd: choice.planEnd,
      acceptWritesOnTarget: choice.acceptWritesOnTarget,
      steps: plan.steps,
    });
  } catch (error) {
    if (!(error instanceof ValidationFailed)) throw error;
    throw new ValidationFailed(renamed(error.issues, planFlag));
  }
}

/** The mode and settings a rollout will run with, and where the mode comes from. */
export interface ResolvedTraffic {
  readonly traffic: TrafficMode;
  /** `flag`: --traffic; `stack`: its ReadsFirstDefaults output; `assumed`: neither (all, the config's default). */
  readonly from: 'flag' | 'stack' | 'assumed';
  readonly planEnd: PlanEnd;
  /** The stack's settings (Swing's defaults when it does not say) under the flags given. */
  readonly settings: ReadsFirstSettings;
  readonly settingsFromStack: boolean;
}

/**
 * The flags over the stack's defaults (`ReadsFirstDefaults`, when known), checked as Preflight will check them.
 * When the stack's mode is unknown, all is assumed (the config's default): a rehearsal is then refused without
 * consent rather than started only to be refused.
 */
export function resolveTraffic(
  choice: TrafficChoice,
  plan: Plan,
  stack: ReadsFirstDefaults | undefined,
  planFlag = '--plan',
): ResolvedTraffic {
  const traffic = choice.traffic ?? stack?.traffic ?? 'all';
  checkTrafficPlan(choice, traffic, plan, planFlag);
  return {
    traffic,
    from: choice.traffic ? 'flag' : stack ? 'stack' : 'assumed',
    planEnd: choice.planEnd,
    settings: { ...(stack?.settings ?? DEFAULT_READS_FIRST), ...choice.readsFirst },
    settingsFromStack: stack !== undefined,
  };
}

/** The execution input's traffic fields: only what the operator said, so the stack's defaults fill the rest. */
export function trafficInput(
  choice: TrafficChoice,
): Pick<ExecutionInput, 'traffic' | 'then' | 'acceptWritesOnTarget' | 'readsFirst'> {
  return {
    ...(choice.traffic ? { traffic: choice.traffic } : {}),
    // biome-ignore lint/suspicious/noThenProperty: the execution input spells the plan's end `then`; never awaited.
    ...(choice.planEnd === 'restore' ? { then: 'restore' as const } : {}),
    ...(choice.acceptWritesOnTarget ? { acceptWritesOnTarget: true } : {}),
    ...(Object.keys(choice.readsFirst).length > 0 ? { readsFirst: choice.readsFirst } : {}),
  };
}

/**
 * In all mode the target takes writes from the first step and nothing captures them for the source: say it,
 * every time, on one line. Undefined in reads-first mode.
 */
export function allModeWarning(resolved: ResolvedTraffic): string | undefined {
  if (resolved.traffic === 'reads-first') return undefined;
  const mode =
    resolved.from === 'flag'
      ? 'traffic all:'
      : resolved.from === 'stack'
        ? "traffic all (the stack's default):"
        : "traffic is the stack's default (all unless its config says reads-first); in all mode,";
  const stay =
    resolved.planEnd === 'restore'
      ? 'and this rehearsal restores the source, so every write the target takes stays on the target only'
      : 'and they stay on the target only if the rollout is rolled back';
  return (
    `Warning: ${mode} writes the listener sends to the target are not captured for the source, ${stay}; ` +
    '--traffic reads-first ramps reads first and cuts writes over last'
  );
}
