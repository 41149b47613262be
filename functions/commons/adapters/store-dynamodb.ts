import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { classifyAwsError, LockLost, RolloutLocked } from '#domain/errors.ts';
import type { ListenerRecord, Rollout, RolloutPatch, RolloutStore } from '#domain/types.ts';

/** `SET rollout.#k = :k` for defined values, `REMOVE rollout.#k` for keys explicitly undefined. */
function patchExpression(patch: RolloutPatch, prefix = 'rollout') {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  const removes: string[] = [];
  Object.entries(patch).forEach(([key, value], i) => {
    names[`#p${i}`] = key;
    if (value === undefined) removes.push(`${prefix}.#p${i}`);
    else {
      values[`:p${i}`] = value;
      sets.push(`${prefix}.#p${i} = :p${i}`);
    }
  });
  return { names, values, sets, removes };
}

/**
 * The one record per listener in DynamoDB. The lock is a conditional write (I3): `attribute_not_exists`
 * on the owner, never a read-then-write; every later write is conditional on still owning it.
 */
export class DynamoDbRolloutStore implements RolloutStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: { historyLimit?: number } = {},
  ) {}

  async get(listenerArn: string): Promise<ListenerRecord | undefined> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { listenerArn }, ConsistentRead: true }),
      );
      if (!Item) return undefined;
      const record = Item as ListenerRecord;
      return { ...record, history: (record.history ?? []).slice(-(this.options.historyLimit ?? 25)) };
    } catch (error) {
      throw classifyAwsError(error, 'GetItem');
    }
  }

  async acquire(listenerArn: string, rollout: Rollout): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { listenerArn },
          UpdateExpression:
            'SET lockOwner = :owner, rollout = :rollout, history = if_not_exists(history, :empty)',
          // The same owner again is a Lambda retry of preflight: idempotent.
          ConditionExpression: 'attribute_not_exists(lockOwner) OR lockOwner = :owner',
          ExpressionAttributeValues: { ':owner': rollout.executionArn, ':rollout': rollout, ':empty': [] },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const holder = (error.Item as { lockOwner?: { S?: string } } | undefined)?.lockOwner?.S;
        throw new RolloutLocked(
          `listener ${listenerArn} is held by rollout ${holder ?? '(unknown)'}: wait for it to finish, or abort it with \`swing abort\``,
          holder,
          { cause: error },
        );
      }
      throw classifyAwsError(error, 'UpdateItem (acquire)');
    }
  }

  async update(listenerArn: string, executionArn: string, patch: RolloutPatch): Promise<Rollout> {
    const { names, values, sets, removes } = patchExpression(patch);
    const expression = [
      sets.length ? `SET ${sets.join(', ')}` : '',
      removes.length ? `REMOVE ${removes.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { listenerArn },
          UpdateExpression: expression || 'SET lockOwner = :owner',
          ConditionExpression: 'lockOwner = :owner',
          ExpressionAttributeNames: Object.keys(names).length ? names : undefined,
          ExpressionAttributeValues: { ...values, ':owner': executionArn },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return (Attributes as ListenerRecord).rollout as Rollout;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new LockLost(`execution ${executionArn} does not hold the lock on listener ${listenerArn}`, {
          cause: error,
        });
      }
      throw classifyAwsError(error, 'UpdateItem');
    }
  }

  async release(listenerArn: string, executionArn: string, final: RolloutPatch): Promise<boolean> {
    const record = await this.get(listenerArn);
    if (record?.lockOwner !== executionArn || !record.rollout) return false;
    const finished: Record<string, unknown> = { ...record.rollout, ...final };
    for (const key of Object.keys(finished)) if (finished[key] === undefined) delete finished[key];
    const history = [...record.history, finished].slice(-(this.options.historyLimit ?? 25));
    try {
      // Read-modify-write is safe only because the write is conditional on still owning the lock.
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { listenerArn },
          UpdateExpression: 'SET rollout = :rollout, history = :history REMOVE lockOwner',
          ConditionExpression: 'lockOwner = :owner',
          ExpressionAttributeValues: { ':rollout': finished, ':history': history, ':owner': executionArn },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw classifyAwsError(error, 'UpdateItem (release)');
    }
  }

  async request(
    listenerArn: string,
    flags: Pick<RolloutPatch, 'abortRequested' | 'pauseRequested'>,
  ): Promise<Rollout> {
    const { names, values, sets } = patchExpression(flags);
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { listenerArn },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_exists(lockOwner)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return (Attributes as ListenerRecord).rollout as Rollout;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new LockLost(`no rollout holds listener ${listenerArn}: start one with \`swing start\``, {
          cause: error,
        });
      }
      throw classifyAwsError(error, 'UpdateItem (request)');
    }
  }
}
