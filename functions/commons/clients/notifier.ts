import { SNSClient } from '@aws-sdk/client-sns';
import { LogNotifier, SnsNotifier } from '#adapters/notifier.ts';
import type { NotifierPort } from '#domain/types.ts';
import { logger } from '#powertools/logger.ts';
import { SDK_CLIENT_CONFIG } from './request-timeouts.ts';

/** SNS when the stack configured a topic, else the outcome goes to the log only. */
export function notifierFromEnv(env: NodeJS.ProcessEnv = process.env): NotifierPort {
  const topicArn = env.TOPIC_ARN;
  if (topicArn) return new SnsNotifier(new SNSClient(SDK_CLIENT_CONFIG), topicArn);
  return new LogNotifier((line) => logger.info(line));
}
