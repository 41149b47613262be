import { ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoDbRolloutStore } from '#adapters/store-dynamodb.ts';
import { resolvePlan } from '#domain/plan.ts';
import type { RolloutStore, TaskCallbackPort } from '#domain/types.ts';
import { percentToWeights } from '#domain/weights.ts';
import { type DynaliteServer, startDynalite } from '#test/support/dynalite.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { makeWorld } from '#test/support/rollout-world.ts';

const STARTS = 24;

/** Each contender gets its own plan, so the listener's writes tell exactly whose rollout made them. */
const planOf = (index: number) => `${index + 1}:2,${50 + index}:2,100`;

function countingCallbacks(inner: TaskCallbackPort) {
  const calls = { fail: 0, succeed: 0 };
  const port: TaskCallbackPort = {
    fail: (token, error, cause) => {
      calls.fail += 1;
      return inner.fail(token, error, cause);
    },
    succeed: (token, output) => {
      calls.succeed += 1;
      return inner.succeed(token, output);
    },
  };
  return { port, calls };
}

/** A record store for one world, and how many mutating calls it accepted (refusals do not count). */
interface LockStore {
  readonly store: RolloutStore;
  writes(): number;
}

interface LockStoreKind {
  readonly name: string;
  /**
   * Whether a refusal names the holder: DynamoDB returns the held item with the failed condition; dynalite 4
   * does not, and the adapter then reads the record to learn it.
   */
  readonly namesTheHolder: boolean;
  fresh(world: ReturnType<typeof makeWorld>): Promise<LockStore>;
}

let dynaliteServer: DynaliteServer | undefined;

/** The lock is the record store's conditional write: the race runs on the in-memory store and on DynamoDB's. */
const LOCK_STORES: LockStoreKind[] = [
  {
    name: 'the in-memory store',
    namesTheHolder: true,
    fresh: async (world) => ({ store: world.store, writes: () => world.store.writes }),
  },
  {
    name: 'DynamoDbRolloutStore on dynalite',
    // dynalite 4 returns no item with a failed condition: the adapter reads the record to name the holder.
    namesTheHolder: true,
    fresh: async () => {
      dynaliteServer ??= await startDynalite();
      const { client, tableName, writes } = await dynaliteServer.table();
      return { store: new DynamoDbRolloutStore(client, tableName), writes };
    },
  },
];

afterAll(async () => {
  await dynaliteServer?.stop();
});

describe.each(LOCK_STORES)('Lock: simultaneous starts on one listener (I3), on $name', (lockStore) => {
  it(`lets exactly one of ${STARTS} simultaneous starts proceed; the others fail with RolloutLocked and write nothing but their refusal`, async () => {
    // Prepare: one listener, one record store, one executor; a reference run counts one rollout's store writes.
    const reference = makeWorld();
    const referenceStore = await lockStore.fresh(reference);
    await reference.sfn.start({ ...reference.deps, store: referenceStore.store }, { plan: planOf(0) }).result;
    const storeWritesOfOneRollout = referenceStore.writes();
    const world = makeWorld();
    const { store, writes } = await lockStore.fresh(world);
    const callbacks = countingCallbacks(world.sfn);
    const deps = { ...world.deps, store, callbacks: callbacks.port };

    // Act: every start is issued before any of them has run a single task.
    const executions = Array.from({ length: STARTS }, (_, index) =>
      world.sfn.start(deps, { plan: planOf(index) }, { name: `contender-${index}` }),
    );
    const results = await Promise.all(executions.map((execution) => execution.result));

    // Assess
    const winners = results.flatMap((result, index) => (result.status === 'SUCCEEDED' ? [index] : []));
    expect(winners).toHaveLength(1);
    const winner = winners[0] ?? -1;
    const holderNamed = lockStore.namesTheHolder ? executions[winner]?.executionArn : '(holder not returned)';
    const losers = results.filter((_, index) => index !== winner);
    expect(losers).toHaveLength(STARTS - 1);
    for (const result of losers) {
      expect(result).toMatchObject({ status: 'FAILED', error: 'RolloutLocked', safetyNet: 'nothing-held' });
      expect(result.status === 'FAILED' && result.cause).toContain(holderNamed);
    }
    const expectedWrites = resolvePlan(planOf(winner)).steps.map((step) =>
      percentToWeights(step.targetPercent),
    );
    expect(world.elb.writes).toEqual(expectedWrites);
    expect(world.elb.mock.commandCalls(ModifyListenerCommand)).toHaveLength(expectedWrites.length);
    expect(world.elb.weights).toEqual(percentToWeights(100));
    // The winner's rollout, and each refused start's record of its refusal (ReportRefusal), one write each.
    expect(writes()).toBe(storeWritesOfOneRollout + losers.length);
    const record = await store.get(LISTENER.listenerArn);
    expect(record?.lockOwner).toBeUndefined();
    expect([...(record?.refusedStarts ?? [])].sort()).toEqual(
      executions.flatMap((execution, index) => (index === winner ? [] : [execution.executionArn])).sort(),
    );
    expect(record?.history.map((rollout) => rollout.executionArn)).toEqual([
      executions[winner]?.executionArn,
    ]);
    // The winner's outcome, and each refusal reported, naming the winner.
    const refusals = world.notifications.filter((notification) => notification.outcome === 'refused');
    expect(world.notifications.filter((notification) => notification.outcome !== 'refused')).toEqual([
      expect.objectContaining({ outcome: 'completed', executionArn: executions[winner]?.executionArn }),
    ]);
    expect(refusals).toHaveLength(STARTS - 1);
    for (const refusal of refusals) {
      expect(refusal.reason).toMatchObject({ error: 'RolloutLocked' });
      expect(refusal.reason?.cause).toContain(holderNamed);
    }
    // The winner's bakes end by timing out; nobody sent a task callback.
    expect(callbacks.calls).toEqual({ fail: 0, succeed: 0 });
    expect(world.increasesUnderAlarm).toEqual([]);
  });

  it('frees the lock when the winner finishes, so the next start proceeds', async () => {
    const world = makeWorld();
    const { store } = await lockStore.fresh(world);
    const deps = { ...world.deps, store };
    const first = world.sfn.start(deps, { plan: '10:2,100' }, { name: 'first' });
    const refused = world.sfn.start(deps, { plan: '20:2,100' }, { name: 'refused' });
    await Promise.all([first.result, refused.result]);

    const next = await world.sfn.start(deps, { plan: '100' }, { name: 'next' }).result;

    expect(await refused.result).toMatchObject({ status: 'FAILED', error: 'RolloutLocked' });
    expect(next).toMatchObject({ status: 'SUCCEEDED' });
    expect(world.elb.writes).toEqual([percentToWeights(10), percentToWeights(100), percentToWeights(100)]);
    expect((await store.get(LISTENER.listenerArn))?.lockOwner).toBeUndefined();
  });
});
