import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  DynamoDBServiceException,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbRolloutStore } from '#adapters/store-dynamodb.ts';
import { MemoryRolloutStore } from '#adapters/store-memory.ts';
import { LockLost, RolloutLocked, TransientFailure } from '#domain/errors.ts';
import { MAX_STEPS } from '#domain/plan.ts';
import type { Rollout, RolloutStore } from '#domain/types.ts';
import { type DynaliteServer, startDynalite } from '#test/support/dynalite.ts';

const LISTENER_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/migration-alb/50dc6c495c0c9188/f2f7dc8efc522ab2';
const OTHER_LISTENER_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/migration-alb/50dc6c495c0c9188/0000000000000000';

const executionArn = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:swing:${name}`;

function rolloutOf(name: string, overrides: Partial<Rollout> = {}): Rollout {
  return {
    executionArn: executionArn(name),
    startedAt: '2026-11-24T10:00:00.000Z',
    plan: { steps: [{ targetPercent: 100, bakeSeconds: 600, gate: false }] },
    startingWeights: { source: 999, target: 0 },
    lastWritten: { source: 999, target: 0 },
    stepIndex: 0,
    status: 'smoke-testing',
    steps: [],
    ...overrides,
  };
}

const FINAL = { status: 'completed', outcome: 'completed', endedAt: '2026-11-24T11:00:00.000Z' } as const;

/** A store under the contract, and how many mutating calls it accepted (refusals do not count). */
interface StoreUnderTest {
  readonly store: RolloutStore;
  writes(): number;
}

interface ContractTarget {
  readonly name: string;
  /**
   * Whether a refused acquire names the holder. DynamoDB returns the held item with the failed condition
   * (`ReturnValuesOnConditionCheckFailure`, covered by the mocked-client tests below); dynalite 4 returns
   * none, and the adapter then reads the record to learn it.
   */
  readonly namesTheHolder: boolean;
  fresh(options?: { historyLimit?: number }): Promise<StoreUnderTest>;
}

let dynaliteServer: DynaliteServer | undefined;

const CONTRACT_TARGETS: ContractTarget[] = [
  {
    name: 'MemoryRolloutStore',
    namesTheHolder: true,
    fresh: async (options) => {
      const store = new MemoryRolloutStore(options);
      return { store, writes: () => store.writes };
    },
  },
  {
    name: 'DynamoDbRolloutStore on dynalite',
    // dynalite 4 returns no item with a failed condition: the adapter reads the record to name the holder.
    namesTheHolder: true,
    fresh: async (options) => {
      dynaliteServer ??= await startDynalite();
      const { client, tableName, writes } = await dynaliteServer.table();
      return { store: new DynamoDbRolloutStore(client, tableName, options), writes };
    },
  },
];

afterAll(async () => {
  await dynaliteServer?.stop();
});

describe.each(CONTRACT_TARGETS)('Contract: RolloutStore, run against $name', (target) => {
  describe('Method: acquire', () => {
    it('lets exactly one of 20 concurrent rollouts take the lock, and refuses the others (naming the winner where the store can)', async () => {
      // Prepare
      const { store, writes } = await target.fresh();
      const contenders = Array.from({ length: 20 }, (_, i) => rolloutOf(`run-${i}`));

      // Act
      const results = await Promise.allSettled(
        contenders.map((rollout) => store.acquire(LISTENER_ARN, rollout)),
      );

      // Assess
      const won = results.flatMap((result, i) => (result.status === 'fulfilled' ? [contenders[i]!] : []));
      expect(won).toHaveLength(1);
      const winner = won[0]!.executionArn;
      const refusals = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
      expect(refusals).toHaveLength(19);
      for (const refusal of refusals) {
        expect(refusal).toBeInstanceOf(RolloutLocked);
        expect(refusal).toMatchObject({
          name: 'RolloutLocked',
          holder: target.namesTheHolder ? winner : undefined,
        });
        if (target.namesTheHolder) expect((refusal as RolloutLocked).message).toContain(winner);
        expect((refusal as RolloutLocked).message).toContain('swing abort');
      }
      expect(await store.get(LISTENER_ARN)).toMatchObject({
        lockOwner: winner,
        rollout: { executionArn: winner },
      });
      expect(writes()).toBe(1);
    });

    it('writes nothing on a second acquire by the holder: a late preflight attempt never replaces the running rollout', async () => {
      const { store } = await target.fresh();
      expect(await store.acquire(LISTENER_ARN, rolloutOf('run-1'))).toBe('acquired');
      await store.update(LISTENER_ARN, executionArn('run-1'), {
        status: 'baking',
        stepIndex: 2,
        taskToken: 'token-2',
      });

      const again = await store.acquire(LISTENER_ARN, rolloutOf('run-1', { status: 'preflight' }));

      expect(again).toBe('already-held');
      expect(await store.get(LISTENER_ARN)).toMatchObject({
        lockOwner: executionArn('run-1'),
        rollout: { status: 'baking', stepIndex: 2, taskToken: 'token-2' },
      });
    });

    it('refuses the lock to an execution that already released it (a stale preflight attempt waking up late)', async () => {
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1'));
      await store.release(LISTENER_ARN, executionArn('run-1'), { status: 'completed' });

      await expect(store.acquire(LISTENER_ARN, rolloutOf('run-1'))).rejects.toThrow(
        /already released the lock .*a late attempt of its preflight must not take it again/,
      );
      expect((await store.get(LISTENER_ARN))?.lockOwner).toBeUndefined();
      expect(await store.acquire(LISTENER_ARN, rolloutOf('run-2'))).toBe('acquired');
    });

    it("refuses the lock with ListenerQuiet within the last rollout's quiet period, naming when, and takes it after", async () => {
      const { store, writes } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1'));
      await store.release(LISTENER_ARN, executionArn('run-1'), {
        status: 'rolled-back',
        quietUntil: '2026-11-24T10:01:15.000Z',
      });
      const before = writes();

      const refusal = store.acquire(
        LISTENER_ARN,
        rolloutOf('run-2', { startedAt: '2026-11-24T10:01:14.999Z' }),
      );

      await expect(refusal).rejects.toMatchObject({
        name: 'ListenerQuiet',
        quietUntil: '2026-11-24T10:01:15.000Z',
        message: expect.stringContaining('quiet until 2026-11-24T10:01:15.000Z'),
      });
      expect(writes()).toBe(before);
      expect((await store.get(LISTENER_ARN))?.lockOwner).toBeUndefined();
      expect(
        await store.acquire(LISTENER_ARN, rolloutOf('run-2', { startedAt: '2026-11-24T10:01:15.000Z' })),
      ).toBe('acquired');
    });

    it('locks each listener separately', async () => {
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1'));

      await store.acquire(OTHER_LISTENER_ARN, rolloutOf('run-2'));

      expect((await store.get(OTHER_LISTENER_ARN))?.lockOwner).toBe(executionArn('run-2'));
    });

    it('starts a new record with an empty history', async () => {
      const { store } = await target.fresh();

      await store.acquire(LISTENER_ARN, rolloutOf('run-1'));

      expect(await store.get(LISTENER_ARN)).toEqual({
        listenerArn: LISTENER_ARN,
        lockOwner: executionArn('run-1'),
        rollout: rolloutOf('run-1'),
        history: [],
      });
    });
  });

  describe('Method: update', () => {
    it('applies the patch for the holder and removes keys set to undefined', async () => {
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1', { taskToken: 'token-1', taskKind: 'bake' }));

      const updated = await store.update(LISTENER_ARN, executionArn('run-1'), {
        status: 'shifting',
        stepIndex: 1,
        taskToken: undefined,
        taskKind: undefined,
      });

      expect(updated).toEqual(rolloutOf('run-1', { status: 'shifting', stepIndex: 1 }));
      expect(updated).not.toHaveProperty('taskToken');
      expect((await store.get(LISTENER_ARN))?.rollout).toEqual(updated);
    });

    it('refuses an execution that does not hold the lock, changing nothing', async () => {
      const { store, writes } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1'));
      const before = await store.get(LISTENER_ARN);

      await expect(store.update(LISTENER_ARN, executionArn('run-2'), { status: 'baking' })).rejects.toThrow(
        LockLost,
      );

      expect(await store.get(LISTENER_ARN)).toEqual(before);
      expect(writes()).toBe(1);
    });

    it('refuses the former holder after it released the lock', async () => {
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1'));
      await store.release(LISTENER_ARN, executionArn('run-1'), FINAL);

      await expect(
        store.update(LISTENER_ARN, executionArn('run-1'), { status: 'baking' }),
      ).rejects.toMatchObject({ name: 'LockLost', message: expect.stringContaining(executionArn('run-1')) });
    });

    it('accepts an empty patch from the holder, changing nothing, and refuses it from anyone else', async () => {
      // Prepare
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1'));
      const before = await store.get(LISTENER_ARN);

      // Act
      const unchanged = await store.update(LISTENER_ARN, executionArn('run-1'), {});

      // Assess
      expect(unchanged).toEqual(rolloutOf('run-1'));
      await expect(store.update(LISTENER_ARN, executionArn('run-2'), {})).rejects.toThrow(LockLost);
      expect(await store.get(LISTENER_ARN)).toEqual(before);
    });

    it('accepts a patch with nested undefined members and reads them back as absent', async () => {
      // Prepare
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1'));
      const reason = { error: 'AlarmFired', cause: 'x', at: '2026-11-24T10:05:00.000Z', alarm: undefined };

      // Act
      await store.update(LISTENER_ARN, executionArn('run-1'), { status: 'rolling-back', reason });

      // Assess
      const stored = (await store.get(LISTENER_ARN))?.rollout?.reason;
      expect(stored).toEqual({ error: 'AlarmFired', cause: 'x', at: '2026-11-24T10:05:00.000Z' });
    });

    it('refuses a fenced update with Superseded once a later wait opened, or while the rollout is ending', async () => {
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1', { status: 'baking', stepIndex: 0 }));
      const bakeOpened = '2026-11-24T10:05:00.000Z#000000';
      await store.openWait(
        LISTENER_ARN,
        executionArn('run-1'),
        { kind: 'bake', stepIndex: 0, attempt: bakeOpened },
        { taskToken: 'live' },
      );

      const stale = store.update(
        LISTENER_ARN,
        executionArn('run-1'),
        { taskToken: undefined, status: 'shifting' },
        '2026-11-24T10:04:00.000Z#000000',
      );
      await expect(stale).rejects.toMatchObject({ name: 'Superseded' });
      const later = '2026-11-24T10:06:00.000Z#000000';
      await store.update(LISTENER_ARN, executionArn('run-1'), { status: 'rolling-back' });
      await expect(
        store.update(LISTENER_ARN, executionArn('run-1'), { status: 'shifting' }, later),
      ).rejects.toMatchObject({ name: 'Superseded' });

      expect((await store.get(LISTENER_ARN))?.rollout).toMatchObject({
        taskToken: 'live',
        status: 'rolling-back',
      });
    });

    it('lets a fenced update through for an attempt entered after the last wait opened', async () => {
      const { store } = await target.fresh();
      await store.acquire(
        LISTENER_ARN,
        rolloutOf('run-1', { lastAttempt: '2026-11-24T10:05:00.000Z#000002' }),
      );

      const updated = await store.update(
        LISTENER_ARN,
        executionArn('run-1'),
        { status: 'shifting' },
        '2026-11-24T10:05:00.001Z#000000',
      );

      expect(updated).toMatchObject({ status: 'shifting', lastAttempt: '2026-11-24T10:05:00.001Z#000000' });
    });

    it('refuses a fenced update once a later attempt of any state wrote, and then a wait it would hide', async () => {
      // Issue 20, defect 3: a stale AfterBake wrote after the next ShiftWeights and hid the next bake's token.
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1', { status: 'baking', stepIndex: 0 }));
      const staleAfterBake = '2026-11-24T10:05:00.000Z#000000';
      const nextShift = '2026-11-24T10:05:01.000Z#000000';
      await store.update(LISTENER_ARN, executionArn('run-1'), { status: 'baking', stepIndex: 1 }, nextShift);

      const stale = store.update(
        LISTENER_ARN,
        executionArn('run-1'),
        { status: 'shifting', taskToken: undefined },
        staleAfterBake,
      );
      await expect(stale).rejects.toMatchObject({ name: 'Superseded' });
      const bake = await store.openWait(
        LISTENER_ARN,
        executionArn('run-1'),
        { kind: 'bake', stepIndex: 1, attempt: '2026-11-24T10:05:02.000Z#000000' },
        { taskToken: 'live' },
      );

      expect(bake).toMatchObject({ status: 'baking', stepIndex: 1, taskToken: 'live' });
    });

    it('records one outcome notification: a second mark is refused (Superseded), changing nothing', async () => {
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1'));
      const mark = () =>
        store.update(LISTENER_ARN, executionArn('run-1'), { notified: 'completed' }, undefined, {
          notNotified: true,
        });

      await mark();

      await expect(mark()).rejects.toMatchObject({ name: 'Superseded' });
      expect((await store.get(LISTENER_ARN))?.rollout?.notified).toBe('completed');
    });

    it('refuses a write guarded against a pause while one is requested (Paused), changing nothing', async () => {
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1', { status: 'baking' }));
      await store.request(LISTENER_ARN, { pauseRequested: true });

      const guarded = store.update(
        LISTENER_ARN,
        executionArn('run-1'),
        { status: 'shifting' },
        '2026-11-24T10:05:00.000Z#000000',
        { notPaused: true },
      );

      await expect(guarded).rejects.toMatchObject({ name: 'Paused' });
      expect((await store.get(LISTENER_ARN))?.rollout?.status).toBe('baking');
      await store.request(LISTENER_ARN, { pauseRequested: false });
      await expect(
        store.update(LISTENER_ARN, executionArn('run-1'), { status: 'shifting' }, undefined, {
          notPaused: true,
        }),
      ).resolves.toMatchObject({ status: 'shifting' });
    });

    it('refuses a write guarded against a forced rollback once forcedRollbackAt is recorded (Aborted), changing nothing', async () => {
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1', { status: 'shifting' }));
      const stepDone = () =>
        store.update(
          LISTENER_ARN,
          executionArn('run-1'),
          { status: 'baking' },
          '2026-11-24T10:05:00.000Z#000000',
          { notForced: true },
        );
      await store.update(LISTENER_ARN, executionArn('run-1'), {
        forcedRollbackAt: '2026-11-24T10:05:01.000Z',
      });

      await expect(stepDone()).rejects.toMatchObject({ name: 'Aborted' });
      expect((await store.get(LISTENER_ARN))?.rollout?.status).toBe('shifting');
    });

    it('refuses a write guarded against completing once Complete marked it (Superseded), changing nothing', async () => {
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1', { status: 'baking' }));
      const forced = () =>
        store.update(
          LISTENER_ARN,
          executionArn('run-1'),
          { forcedRollbackAt: '2026-11-24T10:05:01.000Z' },
          undefined,
          { notCompleting: true },
        );
      await store.update(LISTENER_ARN, executionArn('run-1'), { status: 'completing' });

      await expect(forced()).rejects.toMatchObject({ name: 'Superseded' });
      expect((await store.get(LISTENER_ARN))?.rollout?.forcedRollbackAt).toBeUndefined();
      await store.update(LISTENER_ARN, executionArn('run-1'), { status: 'baking' });
      await expect(forced()).resolves.toMatchObject({ forcedRollbackAt: '2026-11-24T10:05:01.000Z' });
    });

    it('lets one settler claim the freeze: a claim on a freeze that is no longer the one read is refused (Superseded), changing nothing', async () => {
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1', { status: 'baking' }));
      const claim = (read: string | null, startedAt: string) =>
        store.update(
          LISTENER_ARN,
          executionArn('run-1'),
          { status: 'rolling-back', freeze: { startedAt, drainDeadline: startedAt } },
          undefined,
          { freezeStartedAt: read },
        );
      const first = '2026-11-24T10:05:01.000Z';
      await expect(claim(null, first)).resolves.toMatchObject({ freeze: { startedAt: first } });
      // The twin read no freeze too: its claim comes second.
      await expect(claim(null, '2026-11-24T10:05:01.002Z')).rejects.toMatchObject({ name: 'Superseded' });
      await expect(claim('2026-11-24T10:00:00.000Z', '2026-11-24T10:05:02.000Z')).rejects.toMatchObject({
        name: 'Superseded',
      });
      expect((await store.get(LISTENER_ARN))?.rollout?.freeze?.startedAt).toBe(first);
      // Its maker's later writes, and a claim anew on the freeze as read, pass.
      await expect(
        store.update(
          LISTENER_ARN,
          executionArn('run-1'),
          { freeze: { startedAt: first, frozenAt: first, drainDeadline: first } },
          undefined,
          { freezeStartedAt: first },
        ),
      ).resolves.toMatchObject({ freeze: { frozenAt: first } });
      const later = '2026-11-24T10:08:00.000Z';
      await expect(claim(first, later)).resolves.toMatchObject({ freeze: { startedAt: later } });
    });

    it('refuses a write guarded against a recorded halt once a rollback recorded the hand change it found (its error), changing nothing', async () => {
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1', { status: 'baking' }));
      const alarm = { error: 'AlarmFired', cause: 'alarm swing-alarm fired', at: '2026-11-24T10:05:00.000Z' };
      const rollingBack = () =>
        store.update(
          LISTENER_ARN,
          executionArn('run-1'),
          { status: 'rolling-back', reason: alarm },
          undefined,
          {
            noRecordedHalt: true,
          },
        );
      // rolling-back with another reason, or a hand change recorded without rolling-back (the hold path), passes.
      await expect(rollingBack()).resolves.toMatchObject({ reason: { error: 'AlarmFired' } });
      const drift = {
        ...alarm,
        error: 'WeightsDrifted',
        cause: 'rules pin-scroll-pit were deleted by someone',
      };
      await store.update(LISTENER_ARN, executionArn('run-1'), { status: 'baking', reason: drift });
      await expect(rollingBack()).resolves.toMatchObject({ reason: { error: 'AlarmFired' } });

      for (const found of [drift, { ...drift, error: 'RecordMalformed', cause: 'the record is malformed' }]) {
        await store.update(LISTENER_ARN, executionArn('run-1'), { status: 'rolling-back', reason: found });
        await expect(rollingBack()).rejects.toMatchObject({ name: found.error, message: found.cause });
        expect((await store.get(LISTENER_ARN))?.rollout?.reason).toEqual(found);
      }
      // A recorded swing rollback --force overrides it: the operator decided to go back.
      await store.update(LISTENER_ARN, executionArn('run-1'), {
        forcedRollbackAt: '2026-11-24T10:06:00.000Z',
      });
      await expect(rollingBack()).resolves.toMatchObject({ reason: { error: 'AlarmFired' } });
    });

    it('refuses an update on a listener that has no record', async () => {
      const { store } = await target.fresh();

      await expect(store.update(LISTENER_ARN, executionArn('run-1'), {})).rejects.toThrow(LockLost);
    });
  });

  describe('Method: openWait', () => {
    const bake = (attempt: string) => ({ kind: 'bake' as const, stepIndex: 1, attempt });
    const at = (minute: string, retry: number) =>
      `2026-11-24T10:0${minute}:00.000Z#${String(retry).padStart(6, '0')}`;

    it('stores the token of a later attempt and records the attempt', async () => {
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1', { status: 'baking', stepIndex: 1 }));

      await store.openWait(LISTENER_ARN, executionArn('run-1'), bake(at('1', 0)), { taskToken: 'first' });
      const retried = await store.openWait(LISTENER_ARN, executionArn('run-1'), bake(at('1', 1)), {
        taskToken: 'retried',
      });

      expect(retried).toMatchObject({ taskToken: 'retried', lastAttempt: at('1', 1) });
    });

    it('refuses an earlier attempt (a retried bake has the same step and status), changing nothing', async () => {
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1', { status: 'baking', stepIndex: 1 }));
      await store.openWait(LISTENER_ARN, executionArn('run-1'), bake(at('2', 1)), { taskToken: 'live' });
      const before = await store.get(LISTENER_ARN);

      const stale = await store.openWait(LISTENER_ARN, executionArn('run-1'), bake(at('2', 0)), {
        taskToken: 'dead',
      });

      expect(stale).toBeUndefined();
      expect(await store.get(LISTENER_ARN)).toEqual(before);
    });

    it('refuses a wait once a later attempt wrote or the rollout is ending, whatever its status and step', async () => {
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1', { status: 'baking', stepIndex: 2 }));
      await store.update(LISTENER_ARN, executionArn('run-1'), { status: 'shifting' }, at('3', 1));

      const superseded = await store.openWait(LISTENER_ARN, executionArn('run-1'), bake(at('3', 0)), {
        taskToken: 'dead',
      });
      // The live attempt stores its token even where a stale write left another status or step.
      const live = await store.openWait(LISTENER_ARN, executionArn('run-1'), bake(at('4', 0)), {
        taskToken: 'live',
      });
      await store.update(LISTENER_ARN, executionArn('run-1'), {
        status: 'rolling-back',
        taskToken: undefined,
      });
      const rollingBack = await store.openWait(LISTENER_ARN, executionArn('run-1'), bake(at('5', 0)), {
        taskToken: 'dead',
      });

      expect([superseded, rollingBack]).toEqual([undefined, undefined]);
      expect(live).toMatchObject({ taskToken: 'live', status: 'shifting' });
      expect((await store.get(LISTENER_ARN))?.rollout?.taskToken).toBeUndefined();
    });

    it('throws LockLost for an execution that does not hold the lock', async () => {
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1', { status: 'baking', stepIndex: 1 }));

      await expect(
        store.openWait(LISTENER_ARN, executionArn('run-2'), bake(at('4', 0)), { taskToken: 't' }),
      ).rejects.toThrow(LockLost);
    });
  });

  describe('Method: release', () => {
    it('frees the lock and moves the final rollout to history, newest last', async () => {
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1', { taskToken: 'token-1' }));

      const released = await store.release(LISTENER_ARN, executionArn('run-1'), {
        ...FINAL,
        taskToken: undefined,
      });

      const finished = rolloutOf('run-1', FINAL);
      expect(released).toBe(true);
      const record = await store.get(LISTENER_ARN);
      expect(record).not.toHaveProperty('lockOwner');
      expect(record?.rollout).toEqual(finished);
      expect(record?.history).toEqual([finished]);
    });

    it('returns false the second time and changes nothing', async () => {
      const { store, writes } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1'));
      await store.release(LISTENER_ARN, executionArn('run-1'), FINAL);
      const before = await store.get(LISTENER_ARN);
      const writesBefore = writes();

      const second = await store.release(LISTENER_ARN, executionArn('run-1'), { outcome: 'rolled-back' });

      expect(second).toBe(false);
      expect(await store.get(LISTENER_ARN)).toEqual(before);
      expect(writes()).toBe(writesBefore);
    });

    it('returns false for an execution that does not hold the lock, leaving the holder in place', async () => {
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1'));

      const released = await store.release(LISTENER_ARN, executionArn('run-2'), FINAL);

      expect(released).toBe(false);
      expect((await store.get(LISTENER_ARN))?.lockOwner).toBe(executionArn('run-1'));
    });

    it('keeps only the newest historyLimit rollouts, and keeps them across new acquires', async () => {
      const { store } = await target.fresh({ historyLimit: 3 });

      for (let i = 1; i <= 5; i++) {
        await store.acquire(LISTENER_ARN, rolloutOf(`run-${i}`));
        await store.release(LISTENER_ARN, executionArn(`run-${i}`), FINAL);
      }
      await store.acquire(LISTENER_ARN, rolloutOf('run-6'));

      const history = (await store.get(LISTENER_ARN))?.history ?? [];
      expect(history.map((rollout) => rollout.executionArn)).toEqual([
        executionArn('run-3'),
        executionArn('run-4'),
        executionArn('run-5'),
      ]);
    });

    it("keeps the record under DynamoDB's 400 KB item limit: large rollouts push the oldest out of history sooner", async () => {
      // Prepare: 12 of the largest rollouts a plan allows (50 steps, each step measured, a long rollback cause).
      const { store } = await target.fresh();
      const steps = Array.from({ length: MAX_STEPS }, (_, i) => ({
        targetPercent: (i + 1) * 2,
        bakeSeconds: 600,
        gate: true,
      }));
      const at = '2026-11-24T10:00:00.000Z';
      const stepRecords = steps.map((step, index) => ({
        index,
        targetPercent: step.targetPercent,
        weights: { source: 999 - index, target: index },
        startedAt: at,
        bakedAt: at,
        endedAt: at,
        delivered: {
          askedPercent: step.targetPercent,
          verdict: 'as-asked' as const,
          from: at,
          to: at,
          requests: { source: 123_456, target: 23_456 },
          deliveredPercent: 15.97,
          pValue: 0.4213,
          level: 0.001,
          notes: [
            'stickiness is on: clients keep the cluster they had, so the split lags the weights',
            'the smoke checks of this step are in the counts: they go to both clusters whatever the weights',
            'CloudWatch had no datapoint for the first minute of the bake: the window starts one minute late',
          ],
        },
      }));

      // Act
      for (let i = 1; i <= 12; i++) {
        await store.acquire(LISTENER_ARN, rolloutOf(`run-${i}`, { plan: { steps } }));
        await store.update(LISTENER_ARN, executionArn(`run-${i}`), {
          steps: stepRecords,
          reason: { error: 'AlarmFired', cause: 'c'.repeat(2000), at },
        });
        expect(await store.release(LISTENER_ARN, executionArn(`run-${i}`), FINAL)).toBe(true);
      }

      // Assess: the newest rollouts are kept, the oldest dropped, and the item fits with room to spare.
      const record = await store.get(LISTENER_ARN);
      const history = record?.history ?? [];
      expect(history.at(-1)?.executionArn).toBe(executionArn('run-12'));
      expect(history.length).toBeGreaterThan(1);
      expect(history.length).toBeLessThan(12);
      expect(Buffer.byteLength(JSON.stringify(record))).toBeLessThan(350 * 1024);
    });

    it('lets the next rollout take the lock once released', async () => {
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1'));
      await expect(store.acquire(LISTENER_ARN, rolloutOf('run-2'))).rejects.toThrow(RolloutLocked);
      await store.release(LISTENER_ARN, executionArn('run-1'), FINAL);

      await store.acquire(LISTENER_ARN, rolloutOf('run-2'));

      expect((await store.get(LISTENER_ARN))?.lockOwner).toBe(executionArn('run-2'));
    });
  });

  describe('Method: request', () => {
    it('sets the operator flags on whoever holds the lock', async () => {
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1'));

      const rollout = await store.request(LISTENER_ARN, { abortRequested: true });

      expect(rollout).toMatchObject({ executionArn: executionArn('run-1'), abortRequested: true });
      expect((await store.get(LISTENER_ARN))?.rollout?.abortRequested).toBe(true);
    });

    it('refuses with LockLost naming the listener when no rollout holds it', async () => {
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1'));
      await store.release(LISTENER_ARN, executionArn('run-1'), FINAL);

      await expect(store.request(LISTENER_ARN, { abortRequested: true })).rejects.toMatchObject({
        name: 'LockLost',
        message: expect.stringContaining(`no rollout holds listener ${LISTENER_ARN}`),
      });
      await expect(store.request(OTHER_LISTENER_ARN, { pauseRequested: true })).rejects.toThrow(LockLost);
      expect((await store.get(LISTENER_ARN))?.rollout).not.toHaveProperty('abortRequested');
    });
  });

  describe('Copies', () => {
    it('keeps what it stores away from the caller: mutating inputs or results changes nothing', async () => {
      // Prepare
      const { store } = await target.fresh();
      const input = rolloutOf('run-1') as { -readonly [K in keyof Rollout]: Rollout[K] };
      await store.acquire(LISTENER_ARN, input);
      const patch = { lastWritten: { source: 899, target: 100 } };
      const updated = (await store.update(LISTENER_ARN, executionArn('run-1'), patch)) as {
        status: string;
      };
      const read = await store.get(LISTENER_ARN);

      // Act
      input.status = 'halted';
      (input.startingWeights as { source: number }).source = 1;
      (patch.lastWritten as { target: number }).target = 999;
      updated.status = 'halted';
      (read!.rollout!.plan.steps as unknown[]).push({ targetPercent: 1, bakeSeconds: 0, gate: false });
      (read!.history as unknown[]).push(rolloutOf('intruder'));

      // Assess
      expect(await store.get(LISTENER_ARN)).toEqual({
        listenerArn: LISTENER_ARN,
        lockOwner: executionArn('run-1'),
        rollout: rolloutOf('run-1', { lastWritten: { source: 899, target: 100 } }),
        history: [],
      });
    });

    it('keeps history entries apart from the released rollout and from callers', async () => {
      const { store } = await target.fresh();
      await store.acquire(LISTENER_ARN, rolloutOf('run-1'));
      await store.release(LISTENER_ARN, executionArn('run-1'), FINAL);

      const first = await store.get(LISTENER_ARN);
      (first!.history[0]!.steps as unknown[]).push({ index: 9 });

      expect((await store.get(LISTENER_ARN))?.history[0]?.steps).toEqual([]);
    });
  });

  describe('Property: writes', () => {
    it('counts successful mutating calls only', async () => {
      const { store, writes } = await target.fresh();

      await store.acquire(LISTENER_ARN, rolloutOf('run-1'));
      await store.update(LISTENER_ARN, executionArn('run-1'), { status: 'shifting' });
      await store.request(LISTENER_ARN, { pauseRequested: true });
      await store.get(LISTENER_ARN);
      await expect(store.acquire(LISTENER_ARN, rolloutOf('run-2'))).rejects.toThrow(RolloutLocked);
      await expect(store.update(LISTENER_ARN, executionArn('run-2'), {})).rejects.toThrow(LockLost);
      await store.release(LISTENER_ARN, executionArn('run-1'), FINAL);
      await store.release(LISTENER_ARN, executionArn('run-1'), FINAL);

      expect(writes()).toBe(4);
    });
  });
});

describe('Class: DynamoDbRolloutStore', () => {
  // The instance, not the class: mocking DynamoDBDocumentClient's prototype would also stub the contract
  // suite's clients of dynalite.
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const dynamo = mockClient(client);
  const store = new DynamoDbRolloutStore(client, 'swing-rollouts');
  const owner = executionArn('run-1');

  const conditionFailed = (item?: Record<string, unknown>) =>
    new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: {},
      ...(item ? { Item: item as never } : {}),
    });
  const throttled = () =>
    new ProvisionedThroughputExceededException({
      message: 'Rate of requests exceeds capacity',
      $metadata: {},
    });

  beforeEach(() => dynamo.reset());

  describe('Method: acquire', () => {
    it('takes the lock with one conditional write, never a read', async () => {
      // Prepare
      dynamo.on(UpdateCommand).resolves({});
      const rollout = rolloutOf('run-1', { taskToken: undefined });

      // Act
      await store.acquire(LISTENER_ARN, rollout);

      // Assess
      expect(dynamo).toReceiveCommandTimes(UpdateCommand, 1);
      expect(dynamo).not.toReceiveCommand(GetCommand);
      expect(dynamo).toReceiveCommandWith(UpdateCommand, {
        TableName: 'swing-rollouts',
        Key: { listenerArn: LISTENER_ARN },
        UpdateExpression:
          'SET lockOwner = :owner, rollout = :rollout, history = if_not_exists(history, :empty)',
        ConditionExpression:
          'attribute_not_exists(lockOwner) AND (attribute_not_exists(rollout) OR rollout.executionArn <> :owner)' +
          ' AND (attribute_not_exists(rollout.quietUntil) OR rollout.quietUntil <= :startedAt)' +
          ' AND NOT contains(#refusedStarts, :owner)',
        ExpressionAttributeNames: { '#refusedStarts': 'refusedStarts' },
        ExpressionAttributeValues: {
          ':owner': owner,
          ':startedAt': rollout.startedAt,
          ':rollout': rolloutOf('run-1'),
          ':empty': [],
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      const sent = dynamo.commandCalls(UpdateCommand)[0]!.args[0].input.ExpressionAttributeValues!;
      expect(sent[':rollout']).not.toHaveProperty('taskToken');
    });

    it('refuses with RolloutLocked naming the holder from the item the failed condition returned', async () => {
      const holder = executionArn('run-0');
      dynamo
        .on(UpdateCommand)
        .rejects(conditionFailed({ listenerArn: { S: LISTENER_ARN }, lockOwner: { S: holder } }));

      const refusal = store.acquire(LISTENER_ARN, rolloutOf('run-1'));

      await expect(refusal).rejects.toBeInstanceOf(RolloutLocked);
      await expect(refusal).rejects.toMatchObject({
        holder,
        message: expect.stringMatching(
          new RegExp(`${holder}.*wait for it to finish, or abort it with \`swing abort\``),
        ),
      });
    });

    it('writes nothing and says already-held when the failed condition returned its own hold', async () => {
      dynamo
        .on(UpdateCommand)
        .rejects(conditionFailed({ listenerArn: { S: LISTENER_ARN }, lockOwner: { S: owner } }));

      expect(await store.acquire(LISTENER_ARN, rolloutOf('run-1'))).toBe('already-held');
      expect(dynamo).toReceiveCommandTimes(UpdateCommand, 1);
    });

    it('still refuses when the failed condition returned no item', async () => {
      dynamo.on(UpdateCommand).rejects(conditionFailed());

      await expect(store.acquire(LISTENER_ARN, rolloutOf('run-1'))).rejects.toMatchObject({
        name: 'RolloutLocked',
        holder: undefined,
      });
    });

    it('wraps throttling as TransientFailure, so the state machine retries it', async () => {
      dynamo.on(UpdateCommand).rejects(throttled());

      await expect(store.acquire(LISTENER_ARN, rolloutOf('run-1'))).rejects.toBeInstanceOf(TransientFailure);
    });

    it('lets a permanent AWS error through as it is', async () => {
      const denied = new DynamoDBServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'not authorized to perform dynamodb:UpdateItem',
      });
      dynamo.on(UpdateCommand).rejects(denied);

      await expect(store.acquire(LISTENER_ARN, rolloutOf('run-1'))).rejects.toBe(denied);
    });
  });

  describe('Method: update', () => {
    it('sets and removes rollout keys only while the caller holds the lock, returning the new rollout', async () => {
      const after = rolloutOf('run-1', { status: 'baking' });
      dynamo
        .on(UpdateCommand)
        .resolves({ Attributes: { listenerArn: LISTENER_ARN, lockOwner: owner, rollout: after } });

      const returned = await store.update(LISTENER_ARN, owner, {
        status: 'baking',
        reason: { error: 'AlarmFired', cause: 'x', at: '2026-11-24T10:05:00.000Z', alarm: undefined },
        taskToken: undefined,
      });

      expect(returned).toEqual(after);
      expect(dynamo).toReceiveCommandWith(UpdateCommand, {
        TableName: 'swing-rollouts',
        Key: { listenerArn: LISTENER_ARN },
        UpdateExpression: 'SET rollout.#p0 = :p0, rollout.#p1 = :p1 REMOVE rollout.#p2',
        ConditionExpression: 'lockOwner = :owner',
        ExpressionAttributeNames: { '#p0': 'status', '#p1': 'reason', '#p2': 'taskToken' },
        ExpressionAttributeValues: {
          ':p0': 'baking',
          ':p1': { error: 'AlarmFired', cause: 'x', at: '2026-11-24T10:05:00.000Z' },
          ':owner': owner,
        },
        ReturnValues: 'ALL_NEW',
      });
    });

    it('still checks the lock for an empty patch', async () => {
      dynamo.on(UpdateCommand).resolves({ Attributes: { rollout: rolloutOf('run-1') } });

      await store.update(LISTENER_ARN, owner, {});

      expect(dynamo).toReceiveCommandWith(UpdateCommand, {
        UpdateExpression: 'SET lockOwner = :owner',
        ConditionExpression: 'lockOwner = :owner',
        ExpressionAttributeValues: { ':owner': owner },
      });
    });

    it('adds the fence to the condition, and tells a stale attempt (Superseded) from a lost lock', async () => {
      const fence = '2026-11-24T10:05:00.000Z#000001';
      dynamo.on(UpdateCommand).rejects(conditionFailed());
      // The read after the refusal finds a later attempt's write: this one is stale.
      const later = rolloutOf('run-1', { lastAttempt: '2026-11-24T10:06:00.000Z#000000' });
      dynamo
        .on(GetCommand)
        .resolves({ Item: { listenerArn: LISTENER_ARN, lockOwner: owner, rollout: later, history: [] } });

      await expect(store.update(LISTENER_ARN, owner, { status: 'shifting' }, fence)).rejects.toMatchObject({
        name: 'Superseded',
      });

      expect(dynamo).toReceiveCommandWith(UpdateCommand, {
        ConditionExpression:
          'lockOwner = :owner AND (attribute_not_exists(rollout.lastAttempt) OR rollout.lastAttempt <= :fence)' +
          ' AND NOT (rollout.#fenceStatus IN (:ending0, :ending1))',
        UpdateExpression: 'SET rollout.#p0 = :p0, rollout.#p1 = :p1',
        ExpressionAttributeNames: { '#p0': 'status', '#p1': 'lastAttempt', '#fenceStatus': 'status' },
        ExpressionAttributeValues: {
          ':p0': 'shifting',
          ':p1': fence,
          ':fence': fence,
          ':ending0': 'rolling-back',
          ':ending1': 'completing',
          ':owner': owner,
        },
      });
    });

    it('reports LockLost when the condition fails', async () => {
      dynamo.on(UpdateCommand).rejects(conditionFailed());

      await expect(store.update(LISTENER_ARN, owner, { status: 'baking' })).rejects.toMatchObject({
        name: 'LockLost',
        message: expect.stringContaining(owner),
      });
    });

    it('wraps throttling as TransientFailure', async () => {
      dynamo.on(UpdateCommand).rejects(throttled());

      await expect(store.update(LISTENER_ARN, owner, { status: 'baking' })).rejects.toBeInstanceOf(
        TransientFailure,
      );
    });
  });

  describe('Method: openWait', () => {
    const opening = { kind: 'gate' as const, stepIndex: 2, attempt: '2026-11-24T10:00:00.000Z#000001' };

    it('stores the token with one write conditional on the lock, the rollout not ending and no later attempt', async () => {
      const after = rolloutOf('run-1', { status: 'gated', stepIndex: 2, taskToken: 't' });
      dynamo.on(UpdateCommand).resolves({ Attributes: { rollout: after } });

      expect(await store.openWait(LISTENER_ARN, owner, opening, { taskToken: 't' })).toEqual(after);

      expect(dynamo).toReceiveCommandWith(UpdateCommand, {
        UpdateExpression: 'SET rollout.#p0 = :p0, rollout.#p1 = :p1',
        ConditionExpression:
          'lockOwner = :owner AND NOT (rollout.#waitStatus IN (:ending0, :ending1)) AND ' +
          '(attribute_not_exists(rollout.lastAttempt) OR rollout.lastAttempt <= :waitAttempt)',
        ExpressionAttributeNames: { '#p0': 'taskToken', '#p1': 'lastAttempt', '#waitStatus': 'status' },
        ExpressionAttributeValues: {
          ':p0': 't',
          ':p1': opening.attempt,
          ':owner': owner,
          ':ending0': 'rolling-back',
          ':ending1': 'completing',
          ':waitAttempt': opening.attempt,
        },
        ReturnValues: 'ALL_NEW',
      });
    });

    it('returns undefined for a stale attempt while the caller still holds the lock', async () => {
      dynamo.on(UpdateCommand).rejects(conditionFailed());
      dynamo.on(GetCommand).resolves({ Item: { listenerArn: LISTENER_ARN, lockOwner: owner, history: [] } });

      expect(await store.openWait(LISTENER_ARN, owner, opening, { taskToken: 't' })).toBeUndefined();
    });

    it('reports LockLost when the condition failed because the lock is gone', async () => {
      dynamo.on(UpdateCommand).rejects(conditionFailed());
      dynamo.on(GetCommand).resolves({ Item: { listenerArn: LISTENER_ARN, history: [] } });

      await expect(store.openWait(LISTENER_ARN, owner, opening, { taskToken: 't' })).rejects.toThrow(
        LockLost,
      );
    });
  });

  describe('Method: release', () => {
    const held = (history: Rollout[]) => ({
      Item: {
        listenerArn: LISTENER_ARN,
        lockOwner: owner,
        rollout: rolloutOf('run-1', { taskToken: 't' }),
        history,
      },
    });

    it('removes the lock, patches the rollout and appends it to a bounded history, all conditional on the lock', async () => {
      // Prepare
      const bounded = new DynamoDbRolloutStore(client, 'swing-rollouts', { historyLimit: 2 });
      dynamo.on(GetCommand).resolves(held([rolloutOf('run-a'), rolloutOf('run-b')]));
      dynamo.on(UpdateCommand).resolves({});

      // Act
      const released = await bounded.release(LISTENER_ARN, owner, { ...FINAL, taskToken: undefined });

      // Assess
      expect(released).toBe(true);
      expect(dynamo).toReceiveCommandWith(GetCommand, {
        Key: { listenerArn: LISTENER_ARN },
        ConsistentRead: true,
      });
      expect(dynamo).toReceiveCommandWith(UpdateCommand, {
        Key: { listenerArn: LISTENER_ARN },
        UpdateExpression:
          'SET rollout.#p0 = :p0, rollout.#p1 = :p1, rollout.#p2 = :p2, history = :history ' +
          'REMOVE lockOwner, rollout.#p3',
        ConditionExpression: 'lockOwner = :owner',
        ExpressionAttributeNames: { '#p0': 'status', '#p1': 'outcome', '#p2': 'endedAt', '#p3': 'taskToken' },
        ExpressionAttributeValues: {
          ':p0': 'completed',
          ':p1': 'completed',
          ':p2': FINAL.endedAt,
          ':history': [rolloutOf('run-b'), rolloutOf('run-1', FINAL)],
          ':owner': owner,
        },
      });
    });

    it('returns false without writing when the caller does not hold the lock', async () => {
      dynamo
        .on(GetCommand)
        .resolves({ Item: { listenerArn: LISTENER_ARN, rollout: rolloutOf('run-1'), history: [] } });

      expect(await store.release(LISTENER_ARN, owner, FINAL)).toBe(false);
      expect(dynamo).not.toReceiveCommand(UpdateCommand);
    });

    it('returns false when the lock went away between the read and the conditional write', async () => {
      dynamo.on(GetCommand).resolves(held([]));
      dynamo.on(UpdateCommand).rejects(conditionFailed());

      expect(await store.release(LISTENER_ARN, owner, FINAL)).toBe(false);
    });

    it('wraps throttling as TransientFailure rather than reporting it as released or not', async () => {
      dynamo.on(GetCommand).resolves(held([]));
      dynamo.on(UpdateCommand).rejects(throttled());

      await expect(store.release(LISTENER_ARN, owner, FINAL)).rejects.toBeInstanceOf(TransientFailure);
    });
  });

  describe('Method: request', () => {
    it('sets the flags on whoever holds the lock', async () => {
      const after = rolloutOf('run-1', { abortRequested: true });
      dynamo.on(UpdateCommand).resolves({ Attributes: { lockOwner: owner, rollout: after } });

      expect(await store.request(LISTENER_ARN, { abortRequested: true })).toEqual(after);
      expect(dynamo).toReceiveCommandWith(UpdateCommand, {
        UpdateExpression: 'SET rollout.#p0 = :p0',
        ConditionExpression: 'attribute_exists(lockOwner)',
        ExpressionAttributeNames: { '#p0': 'abortRequested' },
        ExpressionAttributeValues: { ':p0': true },
        ReturnValues: 'ALL_NEW',
      });
    });

    it('reports LockLost naming the listener when nobody holds it', async () => {
      dynamo.on(UpdateCommand).rejects(conditionFailed());

      await expect(store.request(LISTENER_ARN, { pauseRequested: true })).rejects.toMatchObject({
        name: 'LockLost',
        message: expect.stringContaining(`no rollout holds listener ${LISTENER_ARN}`),
      });
    });
  });

  describe('Method: get', () => {
    it('reads consistently and defaults a missing history to empty', async () => {
      dynamo
        .on(GetCommand)
        .resolves({ Item: { listenerArn: LISTENER_ARN, lockOwner: owner, rollout: rolloutOf('run-1') } });

      const record = await store.get(LISTENER_ARN);

      expect(record).toEqual({
        listenerArn: LISTENER_ARN,
        lockOwner: owner,
        rollout: rolloutOf('run-1'),
        history: [],
      });
      expect(dynamo).toReceiveCommandWith(GetCommand, {
        TableName: 'swing-rollouts',
        Key: { listenerArn: LISTENER_ARN },
        ConsistentRead: true,
      });
    });

    it('returns undefined for a listener with no record', async () => {
      dynamo.on(GetCommand).resolves({});

      expect(await store.get(LISTENER_ARN)).toBeUndefined();
    });

    it('wraps throttling as TransientFailure', async () => {
      dynamo.on(GetCommand).rejects(throttled());

      await expect(store.get(LISTENER_ARN)).rejects.toBeInstanceOf(TransientFailure);
    });
  });
});
