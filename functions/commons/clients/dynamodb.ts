import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SDK_CLIENT_CONFIG } from './request-timeouts.ts';

export const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient(SDK_CLIENT_CONFIG), {
  marshallOptions: { removeUndefinedValues: true },
});
