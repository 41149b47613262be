import type { EngineDeps } from '#domain/engine/deps.ts';
import type { ExecutionControlPort, ForceRollbackDeps } from '#domain/force-rollback.ts';
import type { ExecutionStatus, ExecutionStatusPort, RolloutStore } from '#domain/types.ts';

/**
 * What `swing rollback --force` acts through (the domain's forceRollback), on a test world: the world's store,
 * listener, Swing's rules and count of the target's requests, as the CLI passes them; Step Functions is the
 * world's executor, whose stop does nothing. `overrides` replace any of them (a holder the test sets, a clock).
 */
export function forceRollbackDeps(
  world: { readonly deps: EngineDeps; readonly store: RolloutStore; readonly sfn: ExecutionStatusPort },
  overrides: Partial<ForceRollbackDeps> = {},
): ForceRollbackDeps {
  const { deps } = world;
  if (!deps.swingRules) throw new Error('forceRollbackDeps: the world has no Swing rules port');
  return {
    listenerArn: deps.listenerArn,
    store: world.store,
    listener: deps.listener,
    rules: deps.swingRules,
    executions: { describe: (executionArn) => world.sfn.describe(executionArn), stop: async () => undefined },
    now: () => new Date(),
    requestedBy: 'operator',
    ...(deps.targetRequests ? { targetRequests: deps.targetRequests } : {}),
    ...overrides,
  };
}

/** Step Functions saying the lock's holder is `status` (ended at `stoppedAt`); its stop does nothing. */
export const holderExecutions = (status: ExecutionStatus, stoppedAt?: Date): ExecutionControlPort => ({
  describe: async () => ({ status, stoppedAt }),
  stop: async () => undefined,
});
