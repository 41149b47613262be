import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notification, NotifierPort } from '#domain/types.ts';

export function subjectOf(notification: Notification): string {
  const outcome = notification.outcome.replace('-', ' ');
  const why = notification.reason ? ` (${notification.reason.error})` : '';
  // SNS subjects: at most 100 characters, no line breaks.
  return `Swing: rollout ${outcome}${why}`.replace(/[\r\n]+/g, ' ').slice(0, 100);
}

/** Outcomes to the encrypted SNS topic the stack creates. */
export class SnsNotifier implements NotifierPort {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async notify(notification: Notification): Promise<void> {
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: subjectOf(notification),
        Message: JSON.stringify(notification, null, 2),
      }),
    );
  }
}

/** Outcomes to a log line, when no topic is configured. */
export class LogNotifier implements NotifierPort {
  constructor(private readonly write: (line: string) => void) {}

  async notify(notification: Notification): Promise<void> {
    this.write(`${subjectOf(notification)}: ${JSON.stringify(notification)}`);
  }
}
