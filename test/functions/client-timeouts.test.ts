import type { SNSClient } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { cloudWatchClient } from '#clients/cloudwatch.ts';
import { documentClient } from '#clients/dynamodb.ts';
import { elbv2Client } from '#clients/elbv2.ts';
import { notifierFromEnv } from '#clients/notifier.ts';
import { sfnClient } from '#clients/sfn.ts';
import { SHIFT_WEIGHTS_TIMEOUT_SECONDS } from '#domain/engine/stale-shift-window.ts';

/**
 * Issue 20, "Also": no SDK client set a request timeout, so a hung call ran a Lambda into its own timeout. Every
 * client the functions use gives up on a connection and on an answer, and its attempts all fit well inside the
 * shortest function timeout (30 s), so the function still answers (and the state machine's Retry decides).
 */

interface Timeouts {
  connectionTimeout?: number;
  requestTimeout?: number;
}

async function timeoutsOf(client: { config: { requestHandler: unknown; maxAttempts: unknown } }) {
  // NodeHttpHandler resolves its options lazily, from this promise.
  const handler = client.config.requestHandler as { configProvider?: Promise<Timeouts> };
  const attempts = await (client.config.maxAttempts as () => Promise<number>)();
  return { ...(await handler.configProvider), attempts };
}

const SNS = (
  notifierFromEnv({ TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:swing' }) as unknown as {
    client: SNSClient;
  }
).client;

describe('SDK clients of the functions', () => {
  it.each([
    ['CloudWatch', cloudWatchClient],
    ['DynamoDB', documentClient],
    ['ELBv2', elbv2Client],
    ['Step Functions', sfnClient],
    ['SNS', SNS],
  ])('%s gives up on a hung call, every attempt within the shortest function timeout', async (_, client) => {
    const { connectionTimeout, requestTimeout, attempts } = await timeoutsOf(client as never);

    expect(connectionTimeout).toBeGreaterThan(0);
    expect(requestTimeout).toBeGreaterThan(0);
    const worstMs = ((connectionTimeout ?? 0) + (requestTimeout ?? 0)) * attempts;
    expect(worstMs).toBeLessThan(SHIFT_WEIGHTS_TIMEOUT_SECONDS * 1000);
  });
});
