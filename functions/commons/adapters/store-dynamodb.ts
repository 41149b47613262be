import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  applyRolloutPatch,
  boundedHistory,
  ENDING_STATUSES,
  fencedOut,
  guardRefusal,
  type LockFields,
  lockLostMessage,
  nobodyHoldsMessage,
  refusedAcquire,
  refusedStartsIn,
  supersededMessage,
  withRefusedStart,
} from '#adapters/rollout-record.ts';
import { classifyAwsError, LockLost, Superseded, TransientFailure, withoutSecret } from '#domain/errors.ts';
import type {
  AcquireResult,
  ListenerRecord,
  Rollout,
  RolloutPatch,
  RolloutStore,
  UpdateGuard,
  WaitOpening,
} from '#domain/types.ts';

export interface DynamoDbRolloutStoreOptions {
  /** Finished rollouts kept per listener, oldest dropped first. @default 25 */
  readonly historyLimit?: number;
}

/** Conditional writes a refusal tries (one of the racing refusals lands each round), then TransientFailure. */
const REFUSE_ATTEMPTS = 30;

interface PatchExpression {
  readonly sets: string[];
  readonly removes: string[];
  readonly names: Record<string, string>;
  readonly values: Record<string, unknown>;
}

/**
 * `SET rollout.#p0 = :p0` for each defined value and `REMOVE rollout.#p1` for each key explicitly set to
 * `undefined`. Names always go through placeholders: `status` is a DynamoDB reserved word.
 */
function patchExpression(patch: RolloutPatch): PatchExpression {
  const expression: PatchExpression = { sets: [], removes: [], names: {}, values: {} };
  Object.entries(patch).forEach(([key, value], i) => {
    expression.names[`#p${i}`] = key;
    if (value === undefined) {
      expression.removes.push(`rollout.#p${i}`);
    } else {
      expression.values[`:p${i}`] = withoutUndefined(value);
      expression.sets.push(`rollout.#p${i} = :p${i}`);
    }
  });
  return expression;
}

function updateExpression(sets: readonly string[], removes: readonly string[]): string {
  return [
    sets.length > 0 ? `SET ${sets.join(', ')}` : '',
    removes.length > 0 ? `REMOVE ${removes.join(', ')}` : '',
  ]
    .filter((clause) => clause !== '')
    .join(' ');
}

/**
 * Drops `undefined` members at any depth. The document client refuses them unless it was built with
 * `removeUndefinedValues`, and this store must not depend on how its injected client was configured.
 */
function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutUndefined) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, member]) => member !== undefined)
        .map(([key, member]) => [key, withoutUndefined(member)]),
    ) as T;
  }
  return value;
}

/**
 * The lock owner in the item a failed condition returned. It arrives marshalled (`{ S: ... }`): the document
 * client passes errors through without converting them.
 */
/** A string attribute, as the document client returns it or marshalled (`{ S }`, in a condition failure's Item). */
function stringIn(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const marshalled = (value as { S?: unknown } | undefined)?.S;
  return typeof marshalled === 'string' ? marshalled : undefined;
}

/** A list of strings, as the document client returns it or marshalled (`{ L: [{ S }] }`). */
function stringListIn(value: unknown): unknown {
  const marshalled = (value as { L?: unknown } | undefined)?.L;
  return Array.isArray(marshalled) ? marshalled.map(stringIn) : value;
}

/** Who holds the lock, and whose rollout the record keeps, from an item in either form. */
function lockFieldsIn(item: unknown): LockFields {
  const record = item as {
    refusedStarts?: unknown;
    lockOwner?: unknown;
    rollout?: {
      executionArn?: unknown;
      quietUntil?: unknown;
      M?: { executionArn?: unknown; quietUntil?: unknown };
    };
  };
  const holder = stringIn(record?.lockOwner);
  const lastRollout = stringIn(record?.rollout?.executionArn ?? record?.rollout?.M?.executionArn);
  const quietUntil = stringIn(record?.rollout?.quietUntil ?? record?.rollout?.M?.quietUntil);
  const refusedStarts = refusedStartsIn(stringListIn(record?.refusedStarts));
  return {
    ...(refusedStarts ? { refusedStarts } : {}),
    ...(holder ? { holder } : {}),
    ...(lastRollout ? { lastRollout } : {}),
    ...(quietUntil ? { quietUntil } : {}),
  };
}

function rolloutIn(attributes: Record<string, unknown> | undefined, doing: string): Rollout {
  const rollout = (attributes as Partial<ListenerRecord> | undefined)?.rollout;
  if (!rollout) throw new Error(`${doing}: DynamoDB returned no rollout although ReturnValues was ALL_NEW`);
  return rollout;
}

/** The condition of an `UpdateGuard`: no flag it names is set (an absent flag is not set). */
function guardCondition(guard: UpdateGuard | undefined) {
  const flags = [
    ...(guard?.notAborted ? ['abortRequested'] : []),
    ...(guard?.notPaused ? ['pauseRequested'] : []),
  ];
  const absent = [
    ...(guard?.notNotified ? ['notified'] : []),
    ...(guard?.notForced ? ['forcedRollbackAt'] : []),
  ]
    .map((field) => ` AND attribute_not_exists(rollout.${field})`)
    .join('');
  const completing = guard?.notCompleting ? ' AND rollout.#guardStatus <> :completing' : '';
  const freezeAt = guard?.freezeStartedAt;
  const freeze =
    freezeAt === undefined
      ? ''
      : freezeAt === null
        ? ' AND attribute_not_exists(rollout.#guardFreeze)'
        : ' AND rollout.#guardFreeze.#guardStartedAt = :freezeStartedAt';
  // recordedHalt: rolling-back with a found hand change (or damaged record) as the reason, no forced rollback.
  const halt = guard?.noRecordedHalt
    ? ' AND (attribute_exists(rollout.forcedRollbackAt) OR NOT (rollout.#guardStatus = :rollingBack AND' +
      ' rollout.#guardReason.#guardError IN (:drifted, :malformed)))'
    : '';
  const names: Record<string, string> = {
    ...(completing || halt ? { '#guardStatus': 'status' } : {}),
    ...(halt ? { '#guardReason': 'reason', '#guardError': 'error' } : {}),
    ...(freeze ? { '#guardFreeze': 'freeze' } : {}),
    ...(typeof freezeAt === 'string' ? { '#guardStartedAt': 'startedAt' } : {}),
  };
  if (flags.length === 0 && !absent && !completing && !freeze && !halt) return undefined;
  return {
    condition:
      flags
        .map((flag) => ` AND (attribute_not_exists(rollout.${flag}) OR rollout.${flag} = :unflagged)`)
        .join('') +
      absent +
      completing +
      freeze +
      halt,
    names,
    values: {
      ...(flags.length > 0 ? { ':unflagged': false } : {}),
      ...(completing ? { ':completing': 'completing' } : {}),
      ...(typeof freezeAt === 'string' ? { ':freezeStartedAt': freezeAt } : {}),
      ...(halt
        ? { ':rollingBack': 'rolling-back', ':drifted': 'WeightsDrifted', ':malformed': 'RecordMalformed' }
        : {}),
    },
  };
}

/**
 * The one record per listener in DynamoDB (partition key `listenerArn`, a string; no sort key), holding
 * `lockOwner`, `rollout` and `history`. The lock is a conditional write (I3), never a read-then-write;
 * every later write is conditional on still owning it, so an execution whose lock was taken away (the
 * safety net released it) cannot touch the record again.
 */
export class DynamoDbRolloutStore implements RolloutStore {
  private readonly historyLimit: number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoDbRolloutStoreOptions = {},
  ) {
    this.historyLimit = options.historyLimit ?? 25;
  }

  async get(listenerArn: string): Promise<ListenerRecord | undefined> {
    let item: Record<string, unknown> | undefined;
    try {
      ({ Item: item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { listenerArn }, ConsistentRead: true }),
      ));
    } catch (error) {
      throw classifyAwsError(error, `GetItem on listener record ${listenerArn}`);
    }
    if (!item) return undefined;
    const record = item as unknown as ListenerRecord;
    return { ...record, history: (record.history ?? []).slice(-this.historyLimit) };
  }

  async acquire(listenerArn: string, rollout: Rollout): Promise<AcquireResult> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { listenerArn },
          UpdateExpression:
            'SET lockOwner = :owner, rollout = :rollout, history = if_not_exists(history, :empty)',
          // Free, and not just released by this very execution. Never "or held by :owner": a stale preflight
          // attempt (its answer lost, a retry took the lock meanwhile) would replace the running rollout. Nor
          // within the last rollout's quiet period (quiet.ts): ISO times in one format compare as strings. Nor
          // reported refused (refuse): a late attempt of a refused start's preflight must not take the lock.
          ConditionExpression:
            'attribute_not_exists(lockOwner) AND (attribute_not_exists(rollout) OR rollout.executionArn <> :owner)' +
            ' AND (attribute_not_exists(rollout.quietUntil) OR rollout.quietUntil <= :startedAt)' +
            ' AND NOT contains(#refusedStarts, :owner)',
          ExpressionAttributeNames: { '#refusedStarts': 'refusedStarts' },
          ExpressionAttributeValues: {
            ':owner': rollout.executionArn,
            ':startedAt': rollout.startedAt,
            ':rollout': withoutUndefined(rollout),
            ':empty': [],
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'acquired';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        // DynamoDB returns the item that failed the condition; an implementation that does not, is read.
        const old = error.Item
          ? lockFieldsIn(error.Item)
          : await this.get(listenerArn).then(lockFieldsIn, () => ({}));
        return refusedAcquire(listenerArn, rollout, old, error);
      }
      throw classifyAwsError(error, `UpdateItem taking the lock on ${listenerArn}`);
    }
  }

  async update(
    listenerArn: string,
    executionArn: string,
    patch: RolloutPatch,
    fence?: string,
    guard?: UpdateGuard,
  ): Promise<Rollout> {
    // A fenced write records its attempt: every earlier attempt's write is refused from then on.
    const { sets, removes, names, values } = patchExpression(
      fence === undefined ? patch : { ...patch, lastAttempt: fence },
    );
    const fenced =
      fence === undefined
        ? undefined
        : {
            condition:
              ' AND (attribute_not_exists(rollout.lastAttempt) OR rollout.lastAttempt <= :fence)' +
              ' AND NOT (rollout.#fenceStatus IN (:ending0, :ending1))',
            names: { '#fenceStatus': 'status' },
            values: { ':fence': fence, ':ending0': ENDING_STATUSES[0], ':ending1': ENDING_STATUSES[1] },
          };
    const guarded = guardCondition(guard);
    const allNames = { ...names, ...fenced?.names, ...guarded?.names };
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { listenerArn },
          // An empty patch still checks the lock: a no-op SET keeps the expression valid.
          UpdateExpression: updateExpression(sets, removes) || 'SET lockOwner = :owner',
          ConditionExpression: `lockOwner = :owner${fenced?.condition ?? ''}${guarded?.condition ?? ''}`,
          ...(Object.keys(allNames).length > 0 ? { ExpressionAttributeNames: allNames } : {}),
          ExpressionAttributeValues: {
            ...values,
            ...fenced?.values,
            ...guarded?.values,
            ':owner': executionArn,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return rolloutIn(Attributes, 'UpdateItem');
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const record = fenced || guarded ? await this.get(listenerArn) : undefined;
        if (record?.lockOwner === executionArn && record.rollout) {
          if (fence !== undefined && fencedOut(record.rollout, fence)) {
            throw new Superseded(supersededMessage(listenerArn, executionArn), { cause: error });
          }
          const refusal = guardRefusal(record.rollout, guard);
          if (refusal) throw refusal;
          // The request that refused the write was withdrawn before the read (a resume right after a pause).
          throw new TransientFailure(
            `the rollout of ${listenerArn} changed while this write was refused: try again`,
            { cause: error },
          );
        }
        throw new LockLost(lockLostMessage(listenerArn, executionArn), { cause: error });
      }
      // The patch may carry the bake's or gate's task token, which AWS can echo in an error message.
      const hidden = patch.taskToken ? withoutSecret(error, patch.taskToken) : error;
      throw classifyAwsError(hidden, `UpdateItem on the rollout of ${listenerArn}`);
    }
  }

  /**
   * One conditional write: the lock, the rollout not ending, and no later attempt recorded (attempt keys sort
   * as strings). When the condition fails, a consistent read tells a lost lock from a stale attempt.
   */
  async openWait(
    listenerArn: string,
    executionArn: string,
    opening: WaitOpening,
    patch: RolloutPatch,
  ): Promise<Rollout | undefined> {
    const { sets, removes, names, values } = patchExpression({ ...patch, lastAttempt: opening.attempt });
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { listenerArn },
          UpdateExpression: updateExpression(sets, removes),
          ConditionExpression:
            'lockOwner = :owner AND NOT (rollout.#waitStatus IN (:ending0, :ending1)) AND ' +
            '(attribute_not_exists(rollout.lastAttempt) OR rollout.lastAttempt <= :waitAttempt)',
          ExpressionAttributeNames: { ...names, '#waitStatus': 'status' },
          ExpressionAttributeValues: {
            ...values,
            ':owner': executionArn,
            ':ending0': ENDING_STATUSES[0],
            ':ending1': ENDING_STATUSES[1],
            ':waitAttempt': opening.attempt,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return rolloutIn(Attributes, 'UpdateItem');
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) {
        // The patch carries the wait's task token, which AWS can echo in an error message.
        const hidden = patch.taskToken ? withoutSecret(error, patch.taskToken) : error;
        throw classifyAwsError(hidden, `UpdateItem opening a wait on the rollout of ${listenerArn}`);
      }
      const record = await this.get(listenerArn);
      if (record?.lockOwner !== executionArn) {
        throw new LockLost(lockLostMessage(listenerArn, executionArn), { cause: error });
      }
      return undefined;
    }
  }

  /**
   * History is read, appended to, trimmed and written back whole. That read-modify-write is safe because
   * the write is conditional on `lockOwner = :owner` and only the lock holder ever writes `history`: once
   * this write lands the lock is gone, so a concurrent or repeated release fails its condition instead
   * of writing a stale list. `list_append` with trimming on read was the alternative, but it lets the item
   * grow with every rollout until it hits DynamoDB's 400 KB item limit and every write on the listener fails.
   * The live `rollout` is patched key by key, so an operator flag set between the read and the write stays.
   */
  async release(listenerArn: string, executionArn: string, final: RolloutPatch): Promise<boolean> {
    const record = await this.get(listenerArn);
    if (record?.lockOwner !== executionArn || !record.rollout) return false;
    const finished = withoutUndefined(applyRolloutPatch(record.rollout, final));
    const history = boundedHistory([...record.history, finished], this.historyLimit);
    const { sets, removes, names, values } = patchExpression(final);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { listenerArn },
          UpdateExpression: updateExpression([...sets, 'history = :history'], ['lockOwner', ...removes]),
          ConditionExpression: 'lockOwner = :owner',
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: { ...values, ':history': history, ':owner': executionArn },
        }),
      );
      return true;
    } catch (error) {
      // Someone released it between the read and the write (a retry of this very call): already done.
      if (error instanceof ConditionalCheckFailedException) return false;
      throw classifyAwsError(error, `UpdateItem releasing the lock on ${listenerArn}`);
    }
  }

  /**
   * Read, append (bounded), then write on the condition that the list has not changed since the read (its version
   * is the same) and the execution does not hold the lock: concurrent refusals each land, and a stale preflight
   * attempt's acquire and this write are ordered by DynamoDB, whichever comes first (the acquire's condition
   * refuses a listed execution).
   */
  async refuse(listenerArn: string, executionArn: string): Promise<'recorded' | 'held'> {
    for (let attempt = 0; attempt < REFUSE_ATTEMPTS; attempt += 1) {
      const record = await this.get(listenerArn);
      if (record?.lockOwner === executionArn) return 'held';
      if (refusedStartsIn(record?.refusedStarts)?.includes(executionArn)) return 'recorded';
      const version: unknown = (record as { refusedStartsVersion?: unknown } | undefined)
        ?.refusedStartsVersion;
      // A damaged version (not a number) is replaced as a damaged list is; still one writer wins the condition.
      const unchanged =
        version === undefined
          ? 'attribute_not_exists(#version)'
          : typeof version === 'number'
            ? '#version = :version'
            : 'NOT attribute_type(#version, :number)';
      try {
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { listenerArn },
            UpdateExpression: 'SET #refusedStarts = :refusedStarts, #version = :nextVersion',
            ConditionExpression: `(attribute_not_exists(lockOwner) OR lockOwner <> :execution) AND ${unchanged}`,
            ExpressionAttributeNames: {
              '#refusedStarts': 'refusedStarts',
              '#version': 'refusedStartsVersion',
            },
            ExpressionAttributeValues: {
              ':refusedStarts': withRefusedStart(record?.refusedStarts, executionArn),
              ':execution': executionArn,
              ':nextVersion': typeof version === 'number' ? version + 1 : 1,
              ...(typeof version === 'number' ? { ':version': version } : {}),
              ...(version !== undefined && typeof version !== 'number' ? { ':number': 'N' } : {}),
            },
          }),
        );
        return 'recorded';
      } catch (error) {
        // The lock was taken or another refusal landed since the read: read again.
        if (!(error instanceof ConditionalCheckFailedException)) {
          throw classifyAwsError(error, `UpdateItem recording a refused start on ${listenerArn}`);
        }
      }
    }
    throw new TransientFailure(
      `the record of ${listenerArn} kept changing while the refusal of ${executionArn} was recorded: try again`,
    );
  }

  async request(
    listenerArn: string,
    flags: Pick<RolloutPatch, 'abortRequested' | 'pauseRequested' | 'abortDuringCutover'>,
  ): Promise<Rollout> {
    const { sets, removes, names, values } = patchExpression(flags);
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { listenerArn },
          // An empty request still proves someone holds the lock: a no-op SET keeps the expression valid.
          UpdateExpression: updateExpression(sets, removes) || 'SET lockOwner = lockOwner',
          ConditionExpression: 'attribute_exists(lockOwner)',
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return rolloutIn(Attributes, 'UpdateItem');
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new LockLost(nobodyHoldsMessage(listenerArn), { cause: error });
      }
      throw classifyAwsError(error, `UpdateItem requesting on the rollout of ${listenerArn}`);
    }
  }
}
