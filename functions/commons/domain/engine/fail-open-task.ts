import type { Rollout } from '../types.ts';
import type { EngineDeps } from './deps.ts';

/**
 * Failing the open bake's or gate's task token: what an alarm event and an operator's abort do to a running
 * rollout.
 */

/**
 * Fails the bake or gate token the record holds (`known`: a rollout just read, which saves the first read).
 * The token may already be dead when the callback lands (a retried attempt stored a new one since): read
 * again and fail the new one, a few times at most.
 */
export async function failOpenTask(
  deps: Pick<EngineDeps, 'listenerArn' | 'store' | 'callbacks'>,
  error: string,
  cause: string,
  known?: Rollout,
): Promise<{ sent?: 'sent' | 'stale'; executionArn?: string }> {
  let failed: string | undefined;
  let outcome: { sent?: 'sent' | 'stale'; executionArn?: string } = {};
  for (let attempt = 0; attempt < 3; attempt += 1) {
    let open: { token?: string; owner?: string; kind?: string } = {
      token: known?.taskToken,
      owner: known?.executionArn,
      kind: known?.taskKind,
    };
    if (attempt > 0 || !known) {
      const record = await deps.store.get(deps.listenerArn);
      const held = record?.lockOwner ? record.rollout : undefined;
      open = { token: held?.taskToken, owner: record?.lockOwner, kind: held?.taskKind };
    }
    // A rollback's Drain is not failed: the rollback is what an alarm or an abort asks for, under way already.
    if (open.kind === 'drain') return outcome;
    if (!open.token || open.token === failed) return outcome;
    const sent = await deps.callbacks.fail(open.token, error, cause);
    outcome = { sent, executionArn: open.owner };
    if (sent === 'sent') return outcome;
    failed = open.token;
  }
  return outcome;
}
