import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';

/**
 * The listener record table's key as the CDK stack deploys it (one item per listener, partition key
 * `listenerArn`, a string, no sort key). `test/infra/rollout-controller.test.ts` checks it against the
 * synthesized template, so a table created from it here is the deployed table's shape.
 */
export const RECORD_TABLE_KEY: Required<Pick<CreateTableCommandInput, 'KeySchema' | 'AttributeDefinitions'>> =
  {
    KeySchema: [{ AttributeName: 'listenerArn', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'listenerArn', AttributeType: 'S' }],
  };

const WRITE_COMMAND = /^(Put|Update|Delete|BatchWrite|TransactWrite)/;

/** A fresh table on the server, and a document client whose successful writes are counted. */
export interface DynaliteTable {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Write commands DynamoDB accepted; refused conditional writes do not count. */
  writes(): number;
}

export interface DynaliteServer {
  /** Creates a new, empty table with the deployed key schema. */
  table(): Promise<DynaliteTable>;
  stop(): Promise<void>;
}

/**
 * dynalite, an implementation of the DynamoDB API on an in-memory LevelDB, listening on an ephemeral port of
 * 127.0.0.1: a real database under the DynamoDB store, with no Java, no network and no AWS account.
 * Known difference: dynalite 4 returns no item for `ReturnValuesOnConditionCheckFailure`.
 */
export async function startDynalite(): Promise<DynaliteServer> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: DynamoDBClient[] = [];
  let tables = 0;

  return {
    async table() {
      const base = new DynamoDBClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'dynalite', secretAccessKey: 'dynalite' },
      });
      clients.push(base);
      let writes = 0;
      base.middlewareStack.add(
        (next, context) => async (args) => {
          const output = await next(args);
          if (WRITE_COMMAND.test(context.commandName ?? '')) writes += 1;
          return output;
        },
        { step: 'initialize', name: 'countAcceptedWrites' },
      );
      tables += 1;
      const tableName = `swing-rollouts-${tables}`;
      await base.send(
        new CreateTableCommand({ TableName: tableName, BillingMode: 'PAY_PER_REQUEST', ...RECORD_TABLE_KEY }),
      );
      // dynalite answers CreateTable with CREATING and flips the table to ACTIVE on a timer; until then
      // every item call fails with ResourceNotFoundException, as in DynamoDB.
      for (let polls = 0; ; polls += 1) {
        const { Table } = await base.send(new DescribeTableCommand({ TableName: tableName }));
        if (Table?.TableStatus === 'ACTIVE') break;
        if (polls >= 500) throw new Error(`dynalite table ${tableName} is still ${Table?.TableStatus}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      writes = 0;
      return { client: DynamoDBDocumentClient.from(base), tableName, writes: () => writes };
    },
    async stop() {
      for (const client of clients) client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}
