import { LockLost, RolloutLocked } from '#domain/errors.ts';
import type { ListenerRecord, Rollout, RolloutPatch, RolloutStore } from '#domain/types.ts';

function applyPatch(rollout: Rollout, patch: RolloutPatch): Rollout {
  const next: Record<string, unknown> = { ...rollout };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete next[key];
    else next[key] = value;
  }
  return next as unknown as Rollout;
}

/** The record store in process memory: the local mode's and the tests' stand-in for DynamoDB. */
export class MemoryRolloutStore implements RolloutStore {
  private readonly records = new Map<string, ListenerRecord>();
  writes = 0;

  constructor(private readonly historyLimit = 25) {}

  async get(listenerArn: string): Promise<ListenerRecord | undefined> {
    const record = this.records.get(listenerArn);
    return record ? structuredClone(record) : undefined;
  }

  // No await between the check and the write: atomic for every caller in this process, like a conditional write.
  async acquire(listenerArn: string, rollout: Rollout): Promise<void> {
    const record = this.records.get(listenerArn);
    if (record?.lockOwner && record.lockOwner !== rollout.executionArn) {
      throw new RolloutLocked(
        `listener ${listenerArn} is held by rollout ${record.lockOwner}: wait for it to finish, or abort it with \`swing abort\``,
        record.lockOwner,
      );
    }
    this.records.set(listenerArn, {
      listenerArn,
      lockOwner: rollout.executionArn,
      rollout: structuredClone(rollout),
      history: record?.history ?? [],
    });
    this.writes += 1;
  }

  async update(listenerArn: string, executionArn: string, patch: RolloutPatch): Promise<Rollout> {
    const record = this.records.get(listenerArn);
    if (record?.lockOwner !== executionArn || !record.rollout) {
      throw new LockLost(`execution ${executionArn} does not hold the lock on listener ${listenerArn}`);
    }
    const rollout = applyPatch(record.rollout, structuredClone(patch));
    this.records.set(listenerArn, { ...record, rollout });
    this.writes += 1;
    return structuredClone(rollout);
  }

  async release(listenerArn: string, executionArn: string, final: RolloutPatch): Promise<boolean> {
    const record = this.records.get(listenerArn);
    if (record?.lockOwner !== executionArn || !record.rollout) return false;
    const rollout = applyPatch(record.rollout, structuredClone(final));
    this.records.set(listenerArn, {
      listenerArn,
      rollout,
      history: [...record.history, rollout].slice(-this.historyLimit),
    });
    this.writes += 1;
    return true;
  }

  async request(
    listenerArn: string,
    flags: Pick<RolloutPatch, 'abortRequested' | 'pauseRequested'>,
  ): Promise<Rollout> {
    const record = this.records.get(listenerArn);
    if (!record?.lockOwner || !record.rollout) {
      throw new LockLost(`no rollout holds listener ${listenerArn}: start one with \`swing start\``);
    }
    return this.update(listenerArn, record.lockOwner, flags);
  }
}
