import { PublishCommand, SNSClient, SNSServiceException } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { LogNotifier, SnsNotifier, subjectOf } from '#adapters/notifier.ts';
import { TransientFailure } from '#domain/errors.ts';
import type { Notification } from '#domain/types.ts';

const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:swing-outcomes';

const ROLLED_BACK: Notification = {
  outcome: 'rolled-back',
  listenerArn:
    'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/migration-alb/50dc6c495c0c9188/f2f7dc8efc522ab2',
  executionArn: 'arn:aws:states:us-east-1:123456789012:execution:swing:run-1',
  finalWeights: { source: 999, target: 0 },
  reason: {
    error: 'AlarmFired',
    cause: 'target-5xx went to ALARM',
    alarm: 'target-5xx',
    at: '2026-11-24T10:05:00.000Z',
  },
};

describe('Class: SnsNotifier', () => {
  const sns = mockClient(SNSClient);
  const notifier = new SnsNotifier(new SNSClient({ region: 'us-east-1' }), TOPIC_ARN);

  beforeEach(() => sns.reset());

  it('publishes the outcome as JSON with a human subject and a filterable outcome attribute', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });

    await notifier.notify(ROLLED_BACK);

    expect(sns).toReceiveCommandWith(PublishCommand, {
      TopicArn: TOPIC_ARN,
      Subject: 'Swing: rollout rolled back (AlarmFired)',
      MessageAttributes: { outcome: { DataType: 'String', StringValue: 'rolled-back' } },
    });
    const message = sns.commandCalls(PublishCommand)[0]!.args[0].input.Message!;
    expect(JSON.parse(message)).toEqual(ROLLED_BACK);
  });

  it('wraps throttling as TransientFailure', async () => {
    sns.on(PublishCommand).rejects(
      new SNSServiceException({
        name: 'ThrottledException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'Rate exceeded',
      }),
    );

    await expect(notifier.notify(ROLLED_BACK)).rejects.toBeInstanceOf(TransientFailure);
  });
});

describe('Function: subjectOf', () => {
  it('says the outcome, with no reason when it completed', () => {
    expect(subjectOf({ ...ROLLED_BACK, outcome: 'completed', reason: undefined })).toBe(
      'Swing: rollout completed',
    );
    expect(
      subjectOf({
        ...ROLLED_BACK,
        outcome: 'halted',
        reason: { ...ROLLED_BACK.reason!, error: 'WeightsDrifted' },
      }),
    ).toBe('Swing: rollout halted (WeightsDrifted)');
  });

  it('says who started a refused rollout', () => {
    expect(
      subjectOf({
        ...ROLLED_BACK,
        outcome: 'refused',
        requestedBy: 'schedule:tuesday-canary',
        reason: { ...ROLLED_BACK.reason!, error: 'RolloutLocked' },
      }),
    ).toBe('Swing: rollout refused (RolloutLocked), started by schedule:tuesday-canary');
  });

  it('stays under 100 characters with no line breaks or control characters, whatever the error says', () => {
    const subject = subjectOf({
      ...ROLLED_BACK,
      reason: { ...ROLLED_BACK.reason!, error: `Bad\r\nname\u0007é${'x'.repeat(200)}` },
    });

    expect(subject.length).toBeLessThan(100);
    expect(subject).toMatch(/^Swing: rollout rolled back \(Bad name\?\?x+$/);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
  });
});

describe('Class: LogNotifier', () => {
  it('writes one line with the subject and the notification as JSON', async () => {
    const lines: string[] = [];

    await new LogNotifier((line) => lines.push(line)).notify(ROLLED_BACK);

    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(`Swing: rollout rolled back (AlarmFired): ${JSON.stringify(ROLLED_BACK)}`);
    expect(lines[0]).not.toContain('\n');
  });
});
