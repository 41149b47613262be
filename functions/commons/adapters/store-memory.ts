import {
  applyRolloutPatch,
  boundedHistory,
  fencedOut,
  guardRefusal,
  lockLostMessage,
  nobodyHoldsMessage,
  opensOn,
  refusedAcquire,
  refusedStartsIn,
  supersededMessage,
  withRefusedStart,
} from '#adapters/rollout-record.ts';
import { LockLost, Superseded } from '#domain/errors.ts';
import { stillQuiet } from '#domain/quiet.ts';
import type {
  AcquireResult,
  ListenerRecord,
  Rollout,
  RolloutPatch,
  RolloutStore,
  UpdateGuard,
  WaitOpening,
} from '#domain/types.ts';

export interface MemoryRolloutStoreOptions {
  /** Finished rollouts kept per listener, oldest dropped first. @default 25 */
  readonly historyLimit?: number;
}

/**
 * The record store in process memory: the local mode's and the tests' stand-in for DynamoDB, with the same
 * semantics. Every method checks and writes with no `await` in between, so for callers in one process each
 * call is as atomic as DynamoDB's conditional write (I3). What goes in and what comes out is deep-copied:
 * a caller that mutates an object it passed or received cannot change the record behind the store's back.
 */
export class MemoryRolloutStore implements RolloutStore {
  private readonly records = new Map<string, ListenerRecord>();
  private readonly historyLimit: number;
  private successfulWrites = 0;

  constructor(options: MemoryRolloutStoreOptions = {}) {
    this.historyLimit = options.historyLimit ?? 25;
  }

  /** Mutating calls that changed the record (acquire, update, release, request); refusals do not count. */
  get writes(): number {
    return this.successfulWrites;
  }

  async get(listenerArn: string): Promise<ListenerRecord | undefined> {
    const record = this.records.get(listenerArn);
    return record ? structuredClone(record) : undefined;
  }

  async acquire(listenerArn: string, rollout: Rollout): Promise<AcquireResult> {
    const record = this.records.get(listenerArn);
    const refusedStarts = refusedStartsIn(record?.refusedStarts) ?? [];
    // DynamoDB's condition: free, and not just released by this very execution, nor reported refused.
    // ... and not within the last rollout's quiet period (quiet.ts).
    if (
      record?.lockOwner !== undefined ||
      record?.rollout?.executionArn === rollout.executionArn ||
      refusedStarts.includes(rollout.executionArn) ||
      stillQuiet(record?.rollout, rollout.startedAt)
    ) {
      return refusedAcquire(listenerArn, rollout, {
        ...(record?.lockOwner ? { holder: record.lockOwner } : {}),
        ...(record?.rollout ? { lastRollout: record.rollout.executionArn } : {}),
        ...(record?.rollout?.quietUntil ? { quietUntil: record.rollout.quietUntil } : {}),
        refusedStarts,
      });
    }
    this.records.set(listenerArn, {
      ...record,
      listenerArn,
      lockOwner: rollout.executionArn,
      rollout: structuredClone(rollout),
      history: record?.history ?? [],
    });
    this.successfulWrites += 1;
    return 'acquired';
  }

  async update(
    listenerArn: string,
    executionArn: string,
    patch: RolloutPatch,
    fence?: string,
    guard?: UpdateGuard,
  ): Promise<Rollout> {
    const record = this.records.get(listenerArn);
    if (record?.lockOwner !== executionArn || !record.rollout) {
      throw new LockLost(lockLostMessage(listenerArn, executionArn));
    }
    if (fence !== undefined && fencedOut(record.rollout, fence)) {
      throw new Superseded(supersededMessage(listenerArn, executionArn));
    }
    const refusal = guardRefusal(record.rollout, guard);
    if (refusal) throw refusal;
    return this.patchHeld(record, fence === undefined ? patch : { ...patch, lastAttempt: fence });
  }

  async openWait(
    listenerArn: string,
    executionArn: string,
    opening: WaitOpening,
    patch: RolloutPatch,
  ): Promise<Rollout | undefined> {
    const record = this.records.get(listenerArn);
    if (record?.lockOwner !== executionArn || !record.rollout) {
      throw new LockLost(lockLostMessage(listenerArn, executionArn));
    }
    if (!opensOn(record.rollout, opening)) return undefined;
    return this.patchHeld(record, { ...patch, lastAttempt: opening.attempt });
  }

  async release(listenerArn: string, executionArn: string, final: RolloutPatch): Promise<boolean> {
    const record = this.records.get(listenerArn);
    if (record?.lockOwner !== executionArn || !record.rollout) return false;
    const rollout = applyRolloutPatch(record.rollout, structuredClone(final));
    const { lockOwner: _released, ...kept } = record;
    this.records.set(listenerArn, {
      ...kept,
      rollout,
      history: boundedHistory([...record.history, structuredClone(rollout)], this.historyLimit),
    });
    this.successfulWrites += 1;
    return true;
  }

  async refuse(listenerArn: string, executionArn: string): Promise<'recorded' | 'held'> {
    const record = this.records.get(listenerArn);
    if (record?.lockOwner === executionArn) return 'held';
    const refusedStarts = withRefusedStart(record?.refusedStarts, executionArn);
    this.records.set(listenerArn, { listenerArn, history: [], ...record, refusedStarts });
    this.successfulWrites += 1;
    return 'recorded';
  }

  async request(
    listenerArn: string,
    flags: Pick<RolloutPatch, 'abortRequested' | 'pauseRequested' | 'abortDuringCutover'>,
  ): Promise<Rollout> {
    const record = this.records.get(listenerArn);
    if (record?.lockOwner === undefined || !record.rollout) {
      throw new LockLost(nobodyHoldsMessage(listenerArn));
    }
    return this.patchHeld(record, flags);
  }

  /** Synchronous on purpose: the caller's ownership check and this write must not be split by an await. */
  private patchHeld(record: ListenerRecord, patch: RolloutPatch): Rollout {
    const rollout = applyRolloutPatch(record.rollout as Rollout, structuredClone(patch));
    this.records.set(record.listenerArn, { ...record, rollout });
    this.successfulWrites += 1;
    return structuredClone(rollout);
  }
}
