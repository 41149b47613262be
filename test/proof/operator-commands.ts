import { forceRollback } from '#domain/force-rollback.ts';
import { SWING_OWNER_TAG, SWING_RULE_TAG } from '#domain/listener-rules.ts';
import { pauseRollout, promoteGate, resumeRollout } from '#domain/operator.ts';
import type { SwingRulesPort, TargetRequestsPort } from '#domain/types.ts';
import type { LocalStepFunctions } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { operatorOf } from '#test/support/rollout-world.ts';
import type { World } from './fault-run.ts';
import type { OperatorCommand } from './fault-scenario.ts';

/** What a command needs from the run: stopping the execution, and what follows a forced rollback. */
export interface OperatorHooks {
  readonly stop: (executionArn: string) => void;
  /** `swing abort`, as the abort fault runs it (its ending signal counted). */
  readonly abort: () => Promise<string>;
  /** An alarm into ALARM whose event comes at once, as the alarm fault runs it. */
  readonly alarm: () => Promise<string>;
  /** The run's count of the target's requests, for the exposure a forced release records. */
  readonly targetRequests?: TargetRequestsPort;
}

/**
 * What an operator's command does to the fakes, for the fault model. `pause`, `resume` and `promote` are the
 * domain's own functions, as the CLI calls them, and so is `swing rollback --force --yes [--release-lock]`
 * (forceRollback), which talks to ELBv2 directly, from outside the state machine: here its writes go through the
 * fakes' hand changes (so the checks see exactly what it changed). After a forced rollback without
 * `--release-lock` that acted, `force-abort` and `force-alarm` end the holder as the docs say (`swing abort`) or
 * as an alarm would. Resolves with what the command reports (its `delivered`, or the name of the error it fails
 * with). The `…-after-lost-stop` commands are run by the fault run (it stops the execution first).
 */
export async function runOperatorCommand(
  command: OperatorCommand,
  world: World,
  stepFunctions: LocalStepFunctions,
  hooks: OperatorHooks,
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
    case 'force-release-after-lost-stop':
    case 'force-after-lost-stop':
      return forceRollbackByHand(world, stepFunctions, hooks, command.startsWith('force-release'));
    case 'force-abort':
    case 'force-alarm': {
      const forced = await forceRollbackByHand(world, stepFunctions, hooks, false);
      if (!forced.startsWith('restored')) return forced;
      const then = command === 'force-abort' ? await hooks.abort() : await hooks.alarm();
      return `${forced}, then ${then}`;
    }
  }
}

/**
 * `swing rollback --force --yes [--release-lock]` as the CLI runs it (the domain's forceRollback), its writes
 * played as hand changes: ELBv2 is called from outside the state machine.
 */
async function forceRollbackByHand(
  world: World,
  stepFunctions: LocalStepFunctions,
  hooks: OperatorHooks,
  releaseLock: boolean,
): Promise<string> {
  const tag = (rule: { tags: { Key?: string; Value?: string }[] }, key: string) =>
    rule.tags.find((candidate) => candidate.Key === key)?.Value ?? '';
  const rules: SwingRulesPort = {
    readSwingRules: async () =>
      world.elb.swingRules.map((rule) => ({
        arn: rule.RuleArn ?? '',
        name: tag(rule, SWING_RULE_TAG),
        owner: tag(rule, SWING_OWNER_TAG),
        priority: Number(rule.Priority),
        conditions: [],
      })),
    createRule: async () => {
      throw new Error('a forced rollback creates no rule');
    },
    setRuleWeights: async (ruleArn, weights) => world.elb.setRuleByHand(ruleArn, weights),
    deleteRule: async (ruleArn) => world.elb.setRuleByHand(ruleArn, undefined),
  };
  const result = await forceRollback(
    {
      listenerArn: LISTENER.listenerArn,
      store: world.store,
      listener: {
        readWeights: async () => world.elb.weights,
        writeWeights: async (weights) => world.elb.setByHand(weights),
      },
      rules,
      executions: {
        describe: (executionArn) => stepFunctions.describe(executionArn),
        stop: async (executionArn) => hooks.stop(executionArn),
      },
      now: () => new Date(),
      ...(hooks.targetRequests ? { targetRequests: hooks.targetRequests } : {}),
    },
    { releaseLock },
  );
  if (result.kind === 'refused') return `refused: ${result.why}`;
  if (result.stopped) return 'restored, stopped';
  return result.released ? 'restored, released' : 'restored';
}
