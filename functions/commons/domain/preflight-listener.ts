import { ListenerShapeInvalid, ValidationFailed } from './errors.ts';
import { type RulesOutsideTheSwing, rulesOutsideTheSwing } from './listener-rules.ts';
import { refuseTargetDefaultShare } from './reads-first.ts';
import { malformedRecord, recordMalformedError } from './record-check.ts';
import { refuseRuleConflicts } from './swing-rules.ts';
import type {
  ListenerPort,
  ListenerRulesPort,
  PlanStep,
  RolloutStore,
  SwingRuleSpec,
  TrafficMode,
  Weights,
} from './types.ts';
import { formatWeights, isIncrease, percentToWeights, sameWeights, weightsToPercent } from './weights.ts';

/**
 * Preflight's checks of the listener, made twice: before the lock (so that a refusal writes nothing) and on
 * what is read once the lock is held. Before it, another rollout may hold the listener: its weights and rules
 * say nothing about this plan, so the checks that depend on them wait for the second read, which must pass
 * them all, and must find the weights recorded as the starting weights (a rollback restores those).
 */

export interface ListenerChecks {
  readonly listenerArn: string;
  readonly traffic: TrafficMode;
  readonly basePriority: number;
  readonly firstStep: PlanStep | undefined;
  /** The rules whose priorities Swing needs: with reverse capture, the freeze's too. @default SWING_RULE_SET */
  readonly ruleSet?: readonly SwingRuleSpec[];
}

export interface CheckedListener {
  readonly startingWeights: Weights;
  readonly unswung: RulesOutsideTheSwing;
}

export type ListenerCheckDeps = {
  readonly listener: ListenerPort;
  readonly listenerRules: ListenerRulesPort;
};

/**
 * A rollback restores the starting weights. If the plan began below the target's current share, that restore
 * would raise the target's share while its alarms fire (I2): refuse such a plan instead.
 */
export function refuseStartBelowCurrentShare(
  first: PlanStep | undefined,
  starting: Weights,
  field = 'plan.steps[0].targetPercent',
): void {
  if (!first || !isIncrease(percentToWeights(first.targetPercent), starting)) return;
  const current = weightsToPercent(starting);
  // The smallest step (0.1 % resolution) whose weights give the target at least its current share.
  let lowest = Math.floor(current * 10) / 10;
  while (isIncrease(percentToWeights(lowest), starting)) lowest = Math.round(lowest * 10 + 1) / 10;
  throw new ValidationFailed([
    {
      field,
      message:
        `is ${first.targetPercent} % but the target already gets ${current.toFixed(2)} % ` +
        `(${formatWeights(starting)}): a rollback would raise it back while its alarms fire. Start the plan ` +
        `at ${lowest} % or more, or lower the weights first (swing set-weights)`,
    },
  ]);
}

/**
 * ALB keeps a client on the target group its stickiness cookie names, whatever the weights: with stickiness on,
 * a restore would leave every client that reached the target there for up to the duration (7 days at most).
 * Refused, naming the fix, rather than changed by Swing: the listener's settings are the operator's.
 */
export function refuseSticky(listenerArn: string, stickinessSeconds: number | undefined): void {
  if (stickinessSeconds === undefined) return;
  throw new ListenerShapeInvalid(
    `listener ${listenerArn} forwards with target-group stickiness on (TargetGroupStickinessConfig, ` +
      `${stickinessSeconds} s): ALB keeps each client on the target group its cookie names whatever the ` +
      'weights, so a rollback would leave the clients that reached the target there for up to that long. ' +
      'Turn it off for the rollout (aws elbv2 modify-listener, the forward with TargetGroupStickinessConfig ' +
      'Enabled=false), start again, and turn it back on once the rollout has ended if you need it',
  );
}

/**
 * Reads the listener's weights and rules and judges them. `heldByAnother`: another rollout holds the listener,
 * so only what does not depend on its weights or rules is judged now (its shape, rules that bypass the swing).
 */
export async function checkListener(
  deps: ListenerCheckDeps,
  checks: ListenerChecks,
  heldByAnother: boolean,
): Promise<CheckedListener> {
  const startingWeights = await deps.listener.readWeights();
  refuseSticky(checks.listenerArn, await deps.listener.stickinessSeconds());
  if (!heldByAnother) refuseStartBelowCurrentShare(checks.firstStep, startingWeights);
  const rules = await deps.listenerRules.readRules();
  const unswung = rulesOutsideTheSwing(checks.listenerArn, rules);
  if (checks.traffic === 'reads-first' && !heldByAnother) {
    refuseTargetDefaultShare(checks.listenerArn, startingWeights);
    refuseRuleConflicts({
      listenerArn: checks.listenerArn,
      rules,
      basePriority: checks.basePriority,
      ...(checks.ruleSet ? { ruleSet: checks.ruleSet } : {}),
    });
  }
  return { startingWeights, unswung };
}

/**
 * Every check once more, on what is read once the lock is held, and the weights it reads must be the starting
 * weights recorded with the lock. A refusal releases the lock again, unless the rollout has already moved on
 * (a stale overlapping attempt): then what comes next sees the drift or the lost lock.
 */
export async function recheckAfterLock(
  deps: ListenerCheckDeps & { readonly store: RolloutStore; readonly now: () => Date },
  checks: ListenerChecks,
  executionArn: string,
): Promise<void> {
  try {
    const { startingWeights } = await checkListener(deps, checks, false);
    const recorded = (await deps.store.get(checks.listenerArn))?.rollout;
    // A record damaged since the lock was written halts by name: a rollback could not trust it (record-check.ts).
    const malformed = recorded?.executionArn === executionArn ? malformedRecord(recorded) : undefined;
    if (recorded && malformed) throw recordMalformedError(checks.listenerArn, recorded, malformed);
    if (recorded?.executionArn === executionArn && !sameWeights(recorded.startingWeights, startingWeights)) {
      throw new ListenerShapeInvalid(
        `listener ${checks.listenerArn} changed while this start took the lock: it read ` +
          `${formatWeights(recorded.startingWeights)} before, ${formatWeights(startingWeights)} once the lock ` +
          'was held (the rollout that held it released it, or someone changed it). A rollback would restore ' +
          'weights the listener no longer has, so nothing was written: start again',
      );
    }
  } catch (refusal) {
    // A failed read (throttled, say) refuses nothing: the Retry reads again, with the lock still held.
    if (!(refusal instanceof ValidationFailed || refusal instanceof ListenerShapeInvalid)) throw refusal;
    const rollout = (await deps.store.get(checks.listenerArn))?.rollout;
    const untouched =
      rollout?.executionArn === executionArn &&
      rollout.status === 'smoke-testing' &&
      rollout.steps.length === 0 &&
      rollout.pendingWeights === undefined;
    if (untouched) {
      await deps.store.release(checks.listenerArn, executionArn, {
        status: 'refused',
        endedAt: deps.now().toISOString(),
        reason: {
          error: refusal instanceof Error ? refusal.name : 'ValidationFailed',
          cause: refusal instanceof Error ? refusal.message : String(refusal),
          at: deps.now().toISOString(),
        },
      });
    }
    throw refusal;
  }
}
