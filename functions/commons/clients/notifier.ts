import { SNSClient } from '@aws-sdk/client-sns';
import { LogNotifier, SnsNotifier } from '#adapters/notifier.ts';
import type { NotifierPort } from '#domain/types.ts';
import { logger } from '#powertools/logger.ts';

/** SNS when the stack configured a topic, else the outcome goes to the log only. */
export function notifierFromEnv(env: NodeJS.ProcessEnv = process.env): NotifierPort {
  const topicArn = env.TOPIC_ARN;
  if (topicArn) return new SnsNotifier(new SNSClient({ maxAttempts: 3 }), topicArn);
  return new LogNotifier((line) => logger.info(line));
}
