import * as z from 'zod';
import { ListenerShapeInvalid, ValidationFailed, WeightsDrifted } from './errors.ts';
import type { LogPort } from './log.ts';
import {
  FREEZE_RULE_SET,
  isFrozenWritesRule,
  isIntact,
  isSourceOnly,
  PIN_WEIGHTS,
  pinIsOwn,
  SWING_PRIORITY_SPAN,
  SWING_RULE_SET,
  specOf,
} from './swing-rules.ts';
import type {
  FoundSwingRule,
  PlanEnd,
  PlanStep,
  ReadsFirstSettings,
  RollbackReason,
  Rollout,
  SwingRulesPort,
  TrafficMode,
  Weights,
} from './types.ts';
import { strictObjectOf } from './validation.ts';
import { formatWeights, isIncrease, percentToWeights, sameWeights } from './weights.ts';

/**
 * Reads first, writes last. In reads-first mode the plan's steps move Swing's read rules; the default action
 * (writes, and everything no rule matches) stays on the source until the write cutover, the last step, which
 * moves it in one ModifyListener.
 */

export const DEFAULT_READS_FIRST: ReadsFirstSettings = Object.freeze({
  basePriority: 1000,
  scrollKeepAliveSeconds: 300,
  cutoverGate: 'manual',
  cutoverGateTimeoutSeconds: 3600,
  cutoverGateTimeoutAction: 'rollback',
  replayWaitSeconds: 1800,
  cutoverBakeSeconds: 600,
  afterCutover: 'rollback',
});

const seconds = (what: string, min: number, max: number) =>
  z
    .number({ error: `must be a number of seconds (${what})` })
    .int({ error: 'must be a whole number of seconds' })
    .min(min, { error: `must be at least ${min} s` })
    .max(max, { error: `must be at most ${max} s` });

export const ReadsFirstSettingsSchema = strictObjectOf(
  {
    basePriority: z
      .number({ error: 'must be the first listener rule priority Swing may take, e.g. 1000' })
      .int({ error: 'must be a whole number' })
      .min(1, { error: 'must be at least 1' })
      .max(50_000 - SWING_PRIORITY_SPAN + 1, {
        error: `must be at most ${50_000 - SWING_PRIORITY_SPAN + 1}: Swing takes ${SWING_PRIORITY_SPAN} priorities from it`,
      }),
    scrollKeepAliveSeconds: seconds(
      'how long scroll contexts stay pinned to the source after the cutover',
      0,
      86_400,
    ),
    cutoverGate: z.enum(['manual', 'replay-lag'], {
      error:
        "must be 'manual' (swing promote cuts writes over) or 'replay-lag' (once the replayer has caught up)",
    }),
    cutoverGateTimeoutSeconds: seconds('how long the cutover gate waits', 60, 31_536_000),
    cutoverGateTimeoutAction: z.enum(['rollback', 'promote'], {
      error: "must be 'rollback' (the reads go back, nothing lost) or 'promote'",
    }),
    replayWaitSeconds: seconds('how long a step waits for the replayer', 1, 86_400),
    cutoverBakeSeconds: seconds('how long the cutover bakes under alarm watch', 0, 86_400),
    afterCutover: z.enum(['rollback', 'hold'], {
      error:
        "must be 'rollback' (availability first, exposure reported) or 'hold' (writes stay on the target)",
    }),
  },
  'an object like { "cutoverGate": "manual", "afterCutover": "rollback" }',
);

export const ReadsFirstOverridesSchema = ReadsFirstSettingsSchema.partial();

/** The stack's defaults for rollouts whose input does not say. */
export interface TrafficDefaults {
  readonly traffic: TrafficMode;
  readonly settings: ReadsFirstSettings;
  /** False when the stack has no replay-lag check (no alarm): a reads-first rollout could never pass it. */
  readonly replayLagCheck?: boolean;
}

export const DEFAULT_TRAFFIC: TrafficDefaults = { traffic: 'all', settings: DEFAULT_READS_FIRST };

/** A step as the state machine runs it: a plan step, or (reads-first) the write cutover after them. */
export interface RunStep extends PlanStep {
  readonly kind?: 'reads' | 'cutover' | 'pins';
}

/**
 * The steps a rollout runs. In reads-first mode the plan's steps move the reads, and the write cutover follows
 * them unless the plan is a rehearsal (`then: restore`), which never cuts writes over. After the cutover's bake
 * (at least the scroll keep-alive) the pins leave in a step of their own: the pinned reads (index-less
 * searches, scroll, point in time, tasks, cursors) go from 0 % to all on the target then, and bake under alarm
 * watch for `cutoverBakeSeconds`, an alarm rolling back as after the cutover.
 */
export function runSteps(rollout: Pick<Rollout, 'plan' | 'traffic' | 'readsFirst' | 'planEnd'>): RunStep[] {
  if (rollout.traffic !== 'reads-first') return [...rollout.plan.steps];
  const reads = rollout.plan.steps.map((step) => ({ ...step, kind: 'reads' as const }));
  if (rollout.planEnd === 'restore') return reads;
  const settings = rollout.readsFirst ?? DEFAULT_READS_FIRST;
  return [
    ...reads,
    { targetPercent: 100, bakeSeconds: settings.cutoverBakeSeconds, gate: false, kind: 'cutover' },
    { targetPercent: 100, bakeSeconds: settings.cutoverBakeSeconds, gate: false, kind: 'pins' },
  ];
}

/**
 * Refuses what reads-first and rehearsals cannot do, before anything is written: a rehearsal in all mode
 * (writes sent to the target stay there) without the operator's explicit consent; a reads-first rollout whose
 * reads do not reach 100 % before the writes move (reads on the source would miss the target's new writes).
 */
export function refuseTrafficPlan(input: {
  traffic: TrafficMode;
  planEnd: PlanEnd;
  acceptWritesOnTarget: boolean;
  steps: readonly PlanStep[];
}): void {
  const { traffic, planEnd: then, steps } = input;
  if (traffic === 'all' && then === 'restore' && !input.acceptWritesOnTarget) {
    throw new ValidationFailed([
      {
        field: 'acceptWritesOnTarget',
        message:
          'is not set: a rehearsal in all mode sends writes to the target, and they stay there (the source never ' +
          'gets them) after the restore. Use traffic reads-first, which rehearses with reads only, or pass ' +
          'acceptWritesOnTarget: true (swing start --accept-writes-on-target) to accept it',
      },
    ]);
  }
  const last = steps.at(-1);
  if (traffic === 'reads-first' && then === 'hold' && last && last.targetPercent !== 100) {
    throw new ValidationFailed([
      {
        field: `plan.steps[${steps.length - 1}].targetPercent`,
        message:
          `is ${last.targetPercent}: in reads-first mode the reads must reach 100 before the write cutover, ` +
          'or reads on the source would miss what the target takes. End the plan at 100, or make it a ' +
          'rehearsal (then: restore)',
      },
    ]);
  }
}

/** Refuses a reads-first start while the default action sends anything to the target (writes would land there). */
export function refuseTargetDefaultShare(listenerArn: string, starting: Weights): void {
  if (starting.target === 0) return;
  throw new ListenerShapeInvalid(
    `listener ${listenerArn} sends ${formatWeights(starting)} by its default action: in reads-first mode the ` +
      'writes stay on the source until the cutover, so the target must get none of them at the start. Set the ' +
      'weights first (swing set-weights --target 0), then start again',
  );
}

/** Swing's rules of this execution (rules of other owners are an earlier rollout's: the reconciler's). */
export async function rulesOf(port: SwingRulesPort, executionArn: string): Promise<FoundSwingRule[]> {
  return (await port.readSwingRules()).filter((rule) => rule.owner === executionArn);
}

export function hasCutOver(rollout: Rollout): boolean {
  return rollout.cutoverAt !== undefined || rollout.cutoverStartedAt !== undefined;
}

/**
 * Read-rule weights Swing may find: what it last wrote, or a write it had begun (a crash between the two); and,
 * while a stale read step may still land its ModifyRule (`staleSteps`), the weights of any of the plan's read steps.
 */
function isOwnReads(rollout: Rollout, weights: Weights, staleSteps: boolean): boolean {
  return (
    (rollout.readsWritten !== undefined && sameWeights(weights, rollout.readsWritten)) ||
    (rollout.pendingReads !== undefined && sameWeights(weights, rollout.pendingReads)) ||
    (staleSteps &&
      runSteps(rollout).some(
        (step) => step.kind === 'reads' && sameWeights(weights, percentToWeights(step.targetPercent)),
      ))
  );
}

/**
 * I4 for rules: why the rules of Swing's are not as it left them (reshaped, re-weighted or deleted by hand), or
 * undefined when they are. Swing then halts and touches nothing.
 */
export function rulesDrift(
  rollout: Rollout,
  rules: readonly FoundSwingRule[],
  /**
   * `ignoreMissing`: the caller removes the rules itself and may be retrying, so a missing one is its own doing.
   * `staleSteps`: a stale read step may still land, so any of the plan's read-step weights is Swing's own.
   */
  options: { ignoreMissing?: boolean; staleSteps?: boolean } = {},
): string | undefined {
  const base = rollout.readsFirst?.basePriority ?? DEFAULT_READS_FIRST.basePriority;
  for (const found of rules) {
    // The cutover's freeze makes writes-to-source answer 503 (cutover-freeze.ts): Swing's own, not a hand change.
    const rule = rollout.cutoverFreeze && isFrozenWritesRule(found) ? forwardOf(found) : found;
    const spec = specOf(rule);
    const where = `rule ${rule.name} (${rule.arn})`;
    if (!spec || !isIntact(rule, base)) return `${where} was reshaped: it is not as Swing created it`;
    if (spec.role === 'freeze') continue;
    if (isSourceOnly(spec) && !pinIsOwn(rule)) {
      return `${where} pins requests to the source but now forwards ${rule.weights ? formatWeights(rule.weights) : 'elsewhere'}`;
    }
    if (
      spec.role === 'reads' &&
      rule.weights &&
      !isOwnReads(rollout, rule.weights, options.staleSteps ?? false)
    ) {
      return (
        `${where} forwards ${formatWeights(rule.weights)} but Swing last wrote ` +
        `${rollout.readsWritten ? formatWeights(rollout.readsWritten) : 'nothing'} to it`
      );
    }
  }
  // Once recorded, every rule must be there until the cutover (after it Swing removes the read rules itself) or
  // until a rollback began removing them (a retried Rollback finds the rules its first attempt deleted).
  if (
    rollout.readsWritten !== undefined &&
    !hasCutOver(rollout) &&
    !removingOwnRules(rollout) &&
    !options.ignoreMissing
  ) {
    const missing = SWING_RULE_SET.filter((spec) => !rules.some((rule) => rule.name === spec.name));
    if (missing.length > 0) {
      return `rules ${missing.map((spec) => spec.name).join(', ')} of Swing's were deleted by someone`;
    }
  }
  return undefined;
}

/**
 * Whether Swing may be removing its own rules: every remover (Rollback, the settlers) records `rolling-back` before
 * its first DeleteRule. A rollback that found a hand change records that as its reason in the same write and
 * removes nothing (nor does one that found the record damaged): its `rolling-back` excuses no missing rule.
 */
export function removingOwnRules(rollout: Rollout): boolean {
  const haltsFor = rollout.reason?.error;
  return rollout.status === 'rolling-back' && haltsFor !== 'WeightsDrifted' && haltsFor !== 'RecordMalformed';
}

/**
 * The hand change (or damaged record) a rollback found and recorded with `rolling-back`, if it did: the rollout
 * halts on it. Whoever reads it later (a Retry of that Rollback, a settler) halts too and writes nothing, even if
 * the listener looks as Swing left it again: the operator, told of the halt, may have undone the change, and the
 * listener is theirs from the moment Swing found it (I4). `swing rollback --force` (recorded) overrides it: the
 * operator decided to go back.
 */
export function recordedHalt(rollout: Rollout): RollbackReason | undefined {
  const found = rollout.status === 'rolling-back' && !removingOwnRules(rollout);
  return found && rollout.forcedRollbackAt === undefined ? rollout.reason : undefined;
}

function forwardOf(rule: FoundSwingRule): FoundSwingRule {
  const { respond: _answered, ...forward } = rule;
  return { ...forward, weights: PIN_WEIGHTS };
}

export function rulesDriftError(listenerArn: string, why: string): WeightsDrifted {
  return new WeightsDrifted(
    `listener ${listenerArn}: ${why}. Someone changed Swing's rules by hand, so Swing halts and leaves the ` +
      "listener and its rules alone. Check who changed them; remove Swing's rules (tag swing:owner) with " +
      'aws elbv2 delete-rule once you have decided, then start a new rollout',
  );
}

/**
 * Puts the read rules at `reads`: creates what is missing (the pins and `writes-to-source` first, so that no
 * read rule ever routes a scroll continuation or a write before they exist), then re-weights the read rules
 * that differ.
 */
export async function writeReadRules(
  port: SwingRulesPort,
  rollout: Rollout,
  existing: readonly FoundSwingRule[],
  reads: Weights,
): Promise<void> {
  const base = rollout.readsFirst?.basePriority ?? DEFAULT_READS_FIRST.basePriority;
  for (const spec of SWING_RULE_SET) {
    const found = existing.find((rule) => rule.name === spec.name);
    const weights = isSourceOnly(spec) ? PIN_WEIGHTS : reads;
    if (!found) {
      await port.createRule(spec, base + spec.offset, weights, rollout.executionArn);
    } else if (spec.role === 'reads' && (!found.weights || !sameWeights(found.weights, weights))) {
      await port.setRuleWeights(found.arn, weights);
    }
  }
}

/**
 * Removes rules of Swing's: the read rules first, then `writes-to-source` (while a read rule routes, it keeps
 * on the source the writes a read pattern would match), then the pins (while a read rule routes, they keep scroll
 * and point-in-time contexts on the source). A removed read rule's requests follow the default action; a read
 * rule is never re-weighted on its way out, which after the cutover would send reads back to a source that
 * misses the target's writes. So a caller restores the default action first, when it restores at all: then no
 * removal raises the target's share. `which: 'reads'` keeps the pins (the cutover), removing the read rules and `writes-to-source`.
 */
export async function removeRules(
  port: SwingRulesPort,
  rules: readonly FoundSwingRule[],
  log: LogPort,
  which: 'all' | 'reads' = 'all',
): Promise<number> {
  // writes-to-source goes below: no need to make it forward again first.
  const lifted = await liftFreeze(port, rules, log, { restoreWrites: false });
  const reads = rules.filter((rule) => specOf(rule)?.role === 'reads');
  // writes-to-source after the read rules: while one still routes, a write it would match stays on the source.
  const writes = rules.filter((rule) => specOf(rule)?.role === 'writes' || specOf(rule) === undefined);
  const pins = rules.filter((rule) => specOf(rule)?.role === 'pin');
  for (const rule of [...reads, ...writes]) await port.deleteRule(rule.arn);
  if (which === 'all') for (const rule of pins) await port.deleteRule(rule.arn);
  const removed = lifted + reads.length + writes.length + (which === 'all' ? pins.length : 0);
  if (removed > 0) log.info("removed Swing's listener rules", { removed, which });
  return removed;
}

/**
 * The freeze order of removal: the catch-alls that answer 503 first (those before the pins too: what they refused
 * then goes where a pin sends it, as before the freeze), then the POST reads' forwards, then
 * `freeze-writes` last (while a POST-read forward routes, a write a read pattern also matches must still be
 * refused, not sent where the reads go). Every freeze rule goes, whatever else is found: a freeze never outlives
 * the rollback (I9). Returns how many it removed.
 */
export async function liftFreeze(
  port: SwingRulesPort,
  rules: readonly FoundSwingRule[],
  log: LogPort,
  options: { restoreWrites?: boolean } = {},
): Promise<number> {
  // The write cutover's freeze made writes-to-source answer 503: it forwards to the source again, as before it.
  if (options.restoreWrites !== false)
    for (const rule of rules.filter(isFrozenWritesRule)) await port.setRuleWeights(rule.arn, PIN_WEIGHTS);
  const order = [
    'freeze-post',
    'freeze-methods',
    'freeze-dot-segments',
    'freeze-encoded-dots',
    'freeze-by-query',
    'freeze-pinned-ids',
    'freeze-reads-search',
    'freeze-reads-lookups',
    'freeze-writes',
  ];
  const frozen = rules
    .filter((rule) => FREEZE_RULE_SET.some((spec) => spec.name === rule.name))
    .sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  for (const rule of frozen) await port.deleteRule(rule.arn);
  if (frozen.length > 0) log.info('lifted the write freeze', { removed: frozen.length });
  return frozen.length;
}

/** The read share a set of rules gives the target (the highest of the read rules), for records and checks. */
export function readShareOf(rules: readonly FoundSwingRule[]): Weights | undefined {
  return rules
    .filter((rule) => specOf(rule)?.role === 'reads' && rule.weights !== undefined)
    .map((rule) => rule.weights as Weights)
    .reduce<Weights | undefined>(
      (high, weights) => (!high || isIncrease(high, weights) ? weights : high),
      undefined,
    );
}
