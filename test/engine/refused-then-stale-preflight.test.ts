import { describe, expect, it } from 'vitest';
import type { EngineDeps } from '#domain/engine/deps.ts';
import type { NotifierPort, RolloutStore, Weights } from '#domain/types.ts';
import { currentInvocation, LocalStepFunctions } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { HOLDER, holdListener, makeWorld } from '#test/support/rollout-world.ts';

/**
 * Found by the fault model (SWING_FC_SEED=-462455213 SWING_FC_PATH=10:81:0:0:3:3:4:3:3:5:3:5:3:3:4): a prior
 * rollout holds the listener. The new start's first Preflight attempt loses its answer and runs on beside the
 * Retry (Lambda.ServiceException while the invocation still runs, as on AWS). The Retry finds the lock held and
 * the start is reported refused (ReportRefusal, Refused: FAILED). Then the prior rollout releases, and the stale
 * attempt's acquire takes the lock for an execution that has ended: the operator was told "refused", the lock
 * blocked every other start until the safety net settled it and notified a second time. A start reported
 * refused never holds the lock afterwards, in either order of the stale acquire and ReportRefusal.
 */

const START: Weights = { source: 999, target: 0 };
const NEXT = 'arn:aws:states:us-east-1:000000000000:execution:swing-rollout:next-start';

/** Opened by the test: what waits on it resumes. */
function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

const inState = (name: string, retryCount?: number) => {
  const call = currentInvocation();
  return call?.stateName === name && (retryCount === undefined || call.retryCount === retryCount);
};

/**
 * The store and notifier as the refused start's functions see them: the first Preflight attempt's acquire waits
 * for `staleAcquire`, and everything ReportRefusal does waits for `reportRefusal`.
 */
function gatedDeps(deps: EngineDeps, staleAcquire: Promise<void>, reportRefusal: Promise<void>) {
  const acquired: {
    result?: unknown;
    error?: unknown;
    ownerAfter?: string;
    done: boolean;
    reportReached: boolean;
  } = {
    done: false,
    reportReached: false,
  };
  const holdReport = async () => {
    if (!inState('ReportRefusal')) return;
    acquired.reportReached = true;
    await reportRefusal;
  };
  const store: RolloutStore = new Proxy(deps.store, {
    get(target, property, receiver) {
      const member = Reflect.get(target, property, receiver);
      if (typeof member !== 'function') return member;
      return async (...args: unknown[]) => {
        if (property === 'acquire' && inState('Preflight', 0)) {
          await staleAcquire;
          try {
            acquired.result = await member.apply(target, args);
            return acquired.result;
          } catch (error) {
            acquired.error = error;
            throw error;
          } finally {
            // Read within the stale invocation: the executor runs the safety net only once it has ended.
            acquired.ownerAfter = (await target.get(LISTENER.listenerArn))?.lockOwner;
            acquired.done = true;
          }
        }
        await holdReport();
        return member.apply(target, args);
      };
    },
  });
  const notifier: NotifierPort = {
    notify: async (notification) => {
      await holdReport();
      return deps.notifier.notify(notification);
    },
  };
  return { deps: { ...deps, store, notifier }, acquired };
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function refusedStartWorld() {
  const sfn = new LocalStepFunctions({
    msPerSecond: 1,
    retryDelayMs: 1,
    invocations: (call) =>
      call.stateName === 'Preflight' && call.retryCount === 0 ? { answerLostAfterMs: 20 } : undefined,
  });
  return makeWorld({ starting: START, stepFunctions: sfn });
}

describe('A start reported refused never holds the lock afterwards', () => {
  it('refuses the stale Preflight attempt that acquires after ReportRefusal', async () => {
    const world = refusedStartWorld();
    await holdListener(world.store, {
      startingWeights: START,
      lastWritten: START,
      step: { targetPercent: 30, bakeSeconds: 600 },
    });
    const stale = gate();
    const { deps, acquired } = gatedDeps(world.deps, stale.opened, Promise.resolve());
    const execution = world.sfn.start(deps, { plan: '50,100' });

    // The Retry is refused and the execution ends (FAILED); the first attempt still runs.
    await until(
      async () => (await world.sfn.describe(execution.executionArn)).status === 'FAILED',
      'the refused execution to end',
    );
    expect(world.notifications.map((notice) => notice.outcome)).toEqual(['refused']);
    // The prior rollout ends, then the stale attempt's acquire lands.
    await world.store.release(LISTENER.listenerArn, HOLDER, { outcome: 'completed', status: 'completed' });
    stale.open();
    await until(() => acquired.done, 'the stale acquire');
    // Before the safety net (which would find the lock held by an ended execution, settle it, notify again).
    expect(acquired.ownerAfter).toBeUndefined();
    const result = await execution.result;
    await execution.idle;

    expect(result).toMatchObject({ status: 'FAILED', error: 'RolloutLocked' });
    expect(acquired.error).toMatchObject({ name: 'LockLost' });
    expect(await world.lockOwner()).toBeUndefined();
    expect(world.elb.writes).toEqual([]);
    expect(world.notifications.map((notice) => notice.outcome)).toEqual(['refused']);
    // The listener is free for the next start.
    await expect(world.deps.store.acquire(LISTENER.listenerArn, nextRollout())).resolves.toBe('acquired');
  });

  it('releases the lock a stale Preflight attempt took before ReportRefusal, as refused', async () => {
    const world = refusedStartWorld();
    await holdListener(world.store, {
      startingWeights: START,
      lastWritten: START,
      step: { targetPercent: 30, bakeSeconds: 600 },
    });
    const stale = gate();
    const report = gate();
    const { deps, acquired } = gatedDeps(world.deps, stale.opened, report.opened);
    const execution = world.sfn.start(deps, { plan: '50,100' });
    const executionArn = execution.executionArn;

    // The Retry was refused; before ReportRefusal acts, the prior rollout ends and the stale attempt takes the lock.
    await until(() => acquired.reportReached, 'ReportRefusal');
    await world.store.release(LISTENER.listenerArn, HOLDER, { outcome: 'completed', status: 'completed' });
    stale.open();
    await until(() => acquired.done, 'the stale acquire');
    expect(acquired.result).toBe('acquired');
    report.open();

    const result = await execution.result;
    await execution.idle;

    expect(result).toMatchObject({ status: 'FAILED', error: 'RolloutLocked' });
    expect(await world.lockOwner()).toBeUndefined();
    expect((await world.store.get(LISTENER.listenerArn))?.history.at(-1)).toMatchObject({
      executionArn,
      status: 'refused',
      reason: { error: 'RolloutLocked' },
    });
    expect(world.elb.writes).toEqual([]);
    expect(world.notifications.map((notice) => notice.outcome)).toEqual(['refused']);
    // Refused again by the lock's condition: a later attempt of the same Preflight takes nothing.
    await expect(
      world.deps.store.acquire(LISTENER.listenerArn, { ...nextRollout(), executionArn }),
    ).rejects.toMatchObject({ name: 'LockLost' });
    await expect(world.deps.store.acquire(LISTENER.listenerArn, nextRollout())).resolves.toBe('acquired');
  });
});

function nextRollout() {
  return {
    executionArn: NEXT,
    startedAt: new Date().toISOString(),
    plan: { steps: [{ targetPercent: 100, bakeSeconds: 1, gate: false }] },
    startingWeights: START,
    lastWritten: START,
    stepIndex: 0,
    status: 'smoke-testing' as const,
    steps: [],
  };
}
