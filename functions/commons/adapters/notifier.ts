import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { classifyAwsError } from '#domain/errors.ts';
import type { Notification, NotifierPort } from '#domain/types.ts';

/** SNS requires a subject under 100 characters with no line breaks or control characters. */
export const MAX_SUBJECT_LENGTH = 99;

/** The one-line human summary, e.g. `Swing: rollout rolled back (AlarmFired)`. */
export function subjectOf(notification: Notification): string {
  const outcome = notification.outcome.replace('-', ' ');
  const why = notification.reason ? ` (${notification.reason.error})` : '';
  const by = notification.requestedBy ? `, started by ${notification.requestedBy}` : '';
  // Printable ASCII only: SNS rewrites subjects holding control or non-ASCII characters.
  const printable = `Swing: rollout ${outcome}${why}${by}`.replace(/\s+/g, ' ').replace(/[^\x20-\x7e]/g, '?');
  return printable.slice(0, MAX_SUBJECT_LENGTH);
}

/**
 * Outcomes to the SNS topic the stack creates. The message is the notification as JSON, for machines; the
 * `outcome` message attribute lets a subscription filter (page on `rolled-back` and `halted` only).
 */
export class SnsNotifier implements NotifierPort {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async notify(notification: Notification): Promise<void> {
    try {
      await this.client.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          Subject: subjectOf(notification),
          Message: JSON.stringify(notification, null, 2),
          MessageAttributes: { outcome: { DataType: 'String', StringValue: notification.outcome } },
        }),
      );
    } catch (error) {
      throw classifyAwsError(error, `Publish to ${this.topicArn}`);
    }
  }
}

/** Outcomes to one log line each, when no topic is configured (and in the local mode). */
export class LogNotifier implements NotifierPort {
  constructor(private readonly write: (line: string) => void) {}

  async notify(notification: Notification): Promise<void> {
    this.write(`${subjectOf(notification)}: ${JSON.stringify(notification)}`);
  }
}
