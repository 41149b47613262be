import { refuseRestoreRaisingTarget } from '#domain/engine/record.ts';
import { pauseRollout, promoteGate, resumeRollout } from '#domain/operator.ts';
import { malformedStartingWeights } from '#domain/record-check.ts';
import { SAFETY_NET_WAIT_SECONDS } from '#domain/rollout.ts';
import { PIN_WEIGHTS } from '#domain/swing-rules.ts';
import type { RolloutPatch } from '#domain/types.ts';
import { percentToWeights, sameWeights } from '#domain/weights.ts';
import type { LocalStepFunctions } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { operatorOf } from '#test/support/rollout-world.ts';
import type { World } from './fault-run.ts';
import type { OperatorCommand } from './fault-scenario.ts';

/**
 * What an operator's command does to the fakes, for the fault model. `pause`, `resume` and `promote` are the
 * domain's own functions, as the CLI calls them. `swing rollback --force --yes [--release-lock]` talks to
 * ELBv2 directly, from outside the state machine: here it is played through the fakes' hand changes (the
 * invariants judge it as a hand change: the rollout must leave it alone and halt), in the command's order and
 * with its refusals (cli/commands/rollback.ts): no record, a restore that would raise the target's share, a
 * stopped holder whose safety net has yet to act.
 * Resolves with what the command reports (its `delivered`, or the name of the error it fails with).
 */
export async function runOperatorCommand(
  command: OperatorCommand,
  world: World,
  stepFunctions: LocalStepFunctions,
  stop: (executionArn: string) => void,
): Promise<string> {
  const operator = operatorOf(world);
  switch (command) {
    case 'pause':
      return (await pauseRollout(operator)).delivered;
    case 'resume':
      return (await resumeRollout(operator)).delivered;
    case 'promote':
      return (await promoteGate(operator)).delivered;
    case 'force':
    case 'force-release':
      return forceRollback(world, stepFunctions, stop, command === 'force-release');
  }
}

async function forceRollback(
  world: World,
  stepFunctions: LocalStepFunctions,
  stop: (executionArn: string) => void,
  releaseLock: boolean,
): Promise<string> {
  const { listenerArn } = LISTENER;
  const record = await world.store.get(listenerArn);
  const rollout = record?.rollout;
  if (!rollout) return 'refused: no rollout recorded';
  const current = world.elb.weights;
  // A damaged record has no starting weights to restore: the command sends everything to the source.
  const starting = malformedStartingWeights(rollout) ? percentToWeights(0) : rollout.startingWeights;
  refuseRestoreRaisingTarget({ ...rollout, startingWeights: starting }, current, listenerArn);
  const owner = record.lockOwner;
  const status = owner ? await stepFunctions.describe(owner).catch(() => undefined) : undefined;
  if (releaseLock && owner && !status) return 'refused: holder status unknown';
  const stoppedAt = status?.stoppedAt?.getTime();
  if (
    releaseLock &&
    status?.status !== 'RUNNING' &&
    stoppedAt !== undefined &&
    Date.now() < stoppedAt + SAFETY_NET_WAIT_SECONDS * 1000
  ) {
    return 'refused: the safety net acts first';
  }
  if (!sameWeights(current, starting)) world.elb.setByHand(starting);
  if (rollout.traffic === 'reads-first') {
    // Its read rules first (back to the source, then gone), its pins last.
    const tag = (rule: { tags: { Key?: string; Value?: string }[] }, key: string) =>
      rule.tags.find((candidate) => candidate.Key === key)?.Value;
    const mine = world.elb.swingRules.filter((rule) => tag(rule, 'swing:owner') === rollout.executionArn);
    const pins = mine.filter((rule) => String(tag(rule, 'swing:rule')).startsWith('pin'));
    const reads = mine.filter((rule) => !pins.includes(rule));
    for (const rule of reads) world.elb.setRuleByHand(rule.RuleArn ?? '', PIN_WEIGHTS);
    for (const rule of [...reads, ...pins]) world.elb.setRuleByHand(rule.RuleArn ?? '', undefined);
  }
  if (!releaseLock || !owner) return 'restored';
  const reason = {
    error: 'ForcedRollback',
    cause: 'swing rollback --force --release-lock',
    at: new Date().toISOString(),
  };
  if (status?.status === 'RUNNING') {
    await world.store.update(listenerArn, owner, { reason }).catch(() => {});
    stop(owner);
    return 'restored, stopped';
  }
  const final: RolloutPatch = {
    outcome: 'rolled-back',
    status: 'rolled-back',
    reason,
    restored: true,
    lastWritten: starting,
    endedAt: reason.at,
    pendingWeights: undefined,
    taskToken: undefined,
    taskKind: undefined,
    bakeEndsAt: undefined,
  };
  return (await world.store.release(listenerArn, owner, final)) ? 'restored, released' : 'restored';
}
