import { LockLost, Superseded } from './errors.ts';
import type { LogPort } from './log.ts';
import type { Notification, NotifierPort, RolloutStore } from './types.ts';

/** A notification that cannot be sent must not turn a finished rollout into a failed one: logged, not thrown. */
export async function notifyQuietly(
  deps: { readonly notifier: NotifierPort; readonly log: LogPort },
  notification: Notification,
): Promise<void> {
  try {
    await deps.notifier.notify(notification);
  } catch (error) {
    deps.log.error('could not send the outcome notification', { error: String(error) });
  }
}

/**
 * One outcome notification per rollout, whoever finishes it and however often: the task that ends a rollout
 * notifies, then releases the lock, and a release that fails is retried (Complete's and Finalize's Retry, then
 * the safety net or the reconciler), each attempt reaching this point again. Before it notifies, an attempt
 * records the outcome with a write conditional on no outcome recorded yet (`notified`): of all attempts, one
 * wins and sends it. A notification that fails after the record is not sent again (as before: logged).
 */
export async function notifyOnce(
  deps: {
    readonly listenerArn: string;
    readonly store: Pick<RolloutStore, 'update'>;
    readonly notifier: NotifierPort;
    readonly log: LogPort;
  },
  notification: Notification,
): Promise<void> {
  try {
    await deps.store.update(
      deps.listenerArn,
      notification.executionArn,
      { notified: notification.outcome },
      undefined,
      { notNotified: true },
    );
  } catch (error) {
    // Another attempt notified (Superseded), or finished the rollout already (the lock is gone).
    if (error instanceof Superseded || error instanceof LockLost) {
      deps.log.info('outcome already notified: not sending it again', {
        executionArn: notification.executionArn,
        outcome: notification.outcome,
      });
      return;
    }
    throw error;
  }
  await notifyQuietly(deps, notification);
}
