import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { REFUSED_STARTS_LIMIT } from '#adapters/rollout-record.ts';
import { DynamoDbRolloutStore } from '#adapters/store-dynamodb.ts';
import { MemoryRolloutStore } from '#adapters/store-memory.ts';
import type { ListenerRecord, Rollout, RolloutStore } from '#domain/types.ts';
import { type DynaliteServer, startDynalite } from '#test/support/dynalite.ts';

/**
 * The store's record of refused starts (RolloutStore.refuse), in both stores: a start reported refused never
 * takes the lock after, whichever of its late Preflight attempt's acquire and the refusal's write comes first.
 */

const LISTENER_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/migration-alb/50dc6c495c0c9188/f2f7dc8efc522ab2';

const executionArn = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:swing:${name}`;

function rolloutOf(name: string): Rollout {
  return {
    executionArn: executionArn(name),
    startedAt: '2026-11-24T10:00:00.000Z',
    plan: { steps: [{ targetPercent: 100, bakeSeconds: 600, gate: false }] },
    startingWeights: { source: 999, target: 0 },
    lastWritten: { source: 999, target: 0 },
    stepIndex: 0,
    status: 'smoke-testing',
    steps: [],
  };
}

interface StoreUnderTest {
  readonly store: RolloutStore;
  writes(): number;
  /** Puts `value` in the record's refusedStarts as is (someone with UpdateItem damaged it). */
  damage(value: unknown): Promise<void>;
}

let dynaliteServer: DynaliteServer | undefined;

const TARGETS: { name: string; fresh(): Promise<StoreUnderTest> }[] = [
  {
    name: 'MemoryRolloutStore',
    fresh: async () => {
      const store = new MemoryRolloutStore();
      const records = Reflect.get(store, 'records') as Map<string, ListenerRecord>;
      return {
        store,
        writes: () => store.writes,
        damage: async (value) => {
          const record = records.get(LISTENER_ARN) ?? { listenerArn: LISTENER_ARN, history: [] };
          records.set(LISTENER_ARN, { ...record, refusedStarts: value as string[] });
        },
      };
    },
  },
  {
    name: 'DynamoDbRolloutStore on dynalite',
    fresh: async () => {
      dynaliteServer ??= await startDynalite();
      const { client, tableName, writes } = await dynaliteServer.table();
      return {
        store: new DynamoDbRolloutStore(client, tableName),
        writes,
        damage: async (value) => {
          await client.send(
            new UpdateCommand({
              TableName: tableName,
              Key: { listenerArn: LISTENER_ARN },
              UpdateExpression: 'SET #refusedStarts = :value',
              ExpressionAttributeNames: { '#refusedStarts': 'refusedStarts' },
              ExpressionAttributeValues: { ':value': value },
            }),
          );
        },
      };
    },
  },
];

afterAll(async () => {
  await dynaliteServer?.stop();
});

describe.each(TARGETS)('Contract: RolloutStore.refuse, run against $name', (target) => {
  it('refuses the lock to a start recorded as refused (its late Preflight attempt), and only to it', async () => {
    const { store, writes } = await target.fresh();

    expect(await store.refuse(LISTENER_ARN, executionArn('refused'))).toBe('recorded');
    const late = store.acquire(LISTENER_ARN, rolloutOf('refused'));

    await expect(late).rejects.toMatchObject({
      name: 'LockLost',
      message: expect.stringContaining('was reported refused'),
    });
    expect((await store.get(LISTENER_ARN))?.lockOwner).toBeUndefined();
    expect(writes()).toBe(1);
    // Another start takes the lock; the refusal outlives its rollout and release.
    expect(await store.acquire(LISTENER_ARN, rolloutOf('next'))).toBe('acquired');
    await store.release(LISTENER_ARN, executionArn('next'), { status: 'completed' });
    await expect(store.acquire(LISTENER_ARN, rolloutOf('refused'))).rejects.toMatchObject({
      name: 'LockLost',
    });
    expect((await store.get(LISTENER_ARN))?.refusedStarts).toEqual([executionArn('refused')]);
  });

  it('writes nothing and answers held when the refused start holds the lock (its late attempt acquired first)', async () => {
    const { store, writes } = await target.fresh();
    expect(await store.acquire(LISTENER_ARN, rolloutOf('refused'))).toBe('acquired');

    expect(await store.refuse(LISTENER_ARN, executionArn('refused'))).toBe('held');
    expect(writes()).toBe(1);
    expect((await store.get(LISTENER_ARN))?.refusedStarts).toBeUndefined();

    // As ReportRefusal does: release as refused, then record.
    expect(await store.release(LISTENER_ARN, executionArn('refused'), { status: 'refused' })).toBe(true);
    expect(await store.refuse(LISTENER_ARN, executionArn('refused'))).toBe('recorded');
    await expect(store.acquire(LISTENER_ARN, rolloutOf('refused'))).rejects.toMatchObject({
      name: 'LockLost',
    });
    // Refusing another execution while one holds the lock records it and leaves the holder alone.
    expect(await store.acquire(LISTENER_ARN, rolloutOf('holder'))).toBe('acquired');
    expect(await store.refuse(LISTENER_ARN, executionArn('racer'))).toBe('recorded');
    expect(await store.get(LISTENER_ARN)).toMatchObject({
      lockOwner: executionArn('holder'),
      rollout: { executionArn: executionArn('holder'), status: 'smoke-testing' },
      refusedStarts: [executionArn('refused'), executionArn('racer')],
    });
  });

  it('ends with the lock not held by the refused start, whichever of the acquire and the refusal lands first', async () => {
    for (let round = 0; round < 5; round += 1) {
      const { store } = await target.fresh();
      const [acquired, refused] = await Promise.allSettled([
        store.acquire(LISTENER_ARN, rolloutOf('raced')),
        store.refuse(LISTENER_ARN, executionArn('raced')),
      ]);
      const record = await store.get(LISTENER_ARN);
      if (refused.status === 'fulfilled' && refused.value === 'recorded') {
        expect(acquired).toMatchObject({ status: 'rejected', reason: { name: 'LockLost' } });
        expect(record?.lockOwner).toBeUndefined();
      } else {
        // The acquire came first: refuse wrote nothing, and the caller releases.
        expect(refused).toEqual({ status: 'fulfilled', value: 'held' });
        expect(acquired).toEqual({ status: 'fulfilled', value: 'acquired' });
        expect(record?.refusedStarts).toBeUndefined();
      }
    }
  });

  it('records concurrent refusals each, keeping the newest within the bound', async () => {
    const { store } = await target.fresh();
    const together = ['a', 'b', 'c', 'd'].map((name) => executionArn(name));

    await Promise.all(together.map((arn) => store.refuse(LISTENER_ARN, arn)));

    expect([...((await store.get(LISTENER_ARN))?.refusedStarts ?? [])].sort()).toEqual([...together].sort());
    for (let index = 0; index < REFUSED_STARTS_LIMIT; index += 1) {
      await store.refuse(LISTENER_ARN, executionArn(`later-${index}`));
    }
    // Refused twice: listed once.
    await store.refuse(LISTENER_ARN, executionArn(`later-${REFUSED_STARTS_LIMIT - 1}`));
    const kept = (await store.get(LISTENER_ARN))?.refusedStarts ?? [];
    expect(kept).toHaveLength(REFUSED_STARTS_LIMIT);
    expect(kept.at(0)).toBe(executionArn('later-0'));
    expect(kept.at(-1)).toBe(executionArn(`later-${REFUSED_STARTS_LIMIT - 1}`));
  });

  it.each([
    ['a string', 'not-a-list'],
    ['a number', 42],
    ['a list with a non-string', [7]],
  ])(
    'replaces a malformed refusedStarts (%s) when it records, and takes it for no refusal when it acquires',
    async (_, damaged) => {
      const { store, damage } = await target.fresh();
      await damage(damaged);

      expect(await store.acquire(LISTENER_ARN, rolloutOf('first'))).toBe('acquired');
      await store.release(LISTENER_ARN, executionArn('first'), { status: 'completed' });
      expect(await store.refuse(LISTENER_ARN, executionArn('refused'))).toBe('recorded');

      expect((await store.get(LISTENER_ARN))?.refusedStarts).toEqual([executionArn('refused')]);
      await expect(store.acquire(LISTENER_ARN, rolloutOf('refused'))).rejects.toMatchObject({
        name: 'LockLost',
      });
    },
  );
});
