import {
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  SFNServiceException,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_CAUSE_LENGTH, MAX_ERROR_LENGTH, StepFunctionsCallbacks, truncate } from '#adapters/callbacks.ts';
import { TransientFailure } from '#domain/errors.ts';

const TOKEN = 'AQB4AAAAKgAAAAMAAAAAAAAAAZ-secret-task-token';

describe('Class: StepFunctionsCallbacks', () => {
  const sfn = mockClient(SFNClient);
  const callbacks = new StepFunctionsCallbacks(new SFNClient({ region: 'us-east-1' }));

  beforeEach(() => sfn.reset());

  const staleErrors = [
    ['TaskTimedOut', () => new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} })],
    ['TaskDoesNotExist', () => new TaskDoesNotExist({ message: 'Task does not exist', $metadata: {} })],
    ['InvalidToken', () => new InvalidToken({ message: 'Invalid Token', $metadata: {} })],
  ] as const;

  describe('Method: fail', () => {
    it('sends the named error and its cause to the task token', async () => {
      sfn.on(SendTaskFailureCommand).resolves({});

      const result = await callbacks.fail(TOKEN, 'AlarmFired', '{"alarm":"target-5xx"}');

      expect(result).toBe('sent');
      expect(sfn).toReceiveCommandWith(SendTaskFailureCommand, {
        taskToken: TOKEN,
        error: 'AlarmFired',
        cause: '{"alarm":"target-5xx"}',
      });
    });

    it.each(staleErrors)('calls a token that answers %s stale rather than an error', async (_, stale) => {
      sfn.on(SendTaskFailureCommand).rejects(stale());

      expect(await callbacks.fail(TOKEN, 'Aborted', 'operator abort')).toBe('stale');
    });

    it('cuts the error and the cause to the API limits', async () => {
      sfn.on(SendTaskFailureCommand).resolves({});

      await callbacks.fail(TOKEN, 'E'.repeat(300), 'c'.repeat(40_000));

      const input = sfn.commandCalls(SendTaskFailureCommand)[0]!.args[0].input;
      expect(input.error).toBe('E'.repeat(MAX_ERROR_LENGTH));
      expect(input.cause).toBe('c'.repeat(MAX_CAUSE_LENGTH));
      expect(MAX_ERROR_LENGTH).toBe(256);
      expect(MAX_CAUSE_LENGTH).toBe(32_768);
    });

    it('wraps throttling as TransientFailure without putting the token in the message', async () => {
      sfn.on(SendTaskFailureCommand).rejects(
        new SFNServiceException({
          name: 'ThrottlingException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
          message: 'Rate exceeded',
        }),
      );

      const failure = callbacks.fail(TOKEN, 'AlarmFired', '{}');

      await expect(failure).rejects.toBeInstanceOf(TransientFailure);
      await expect(failure).rejects.toMatchObject({ message: expect.not.stringContaining(TOKEN) });
      await expect(failure).rejects.toMatchObject({ message: expect.stringContaining('SendTaskFailure') });
    });

    it('lets a permanent error through as it is', async () => {
      const denied = new SFNServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'not authorized to perform states:SendTaskFailure',
      });
      sfn.on(SendTaskFailureCommand).rejects(denied);

      await expect(callbacks.fail(TOKEN, 'AlarmFired', '{}')).rejects.toBe(denied);
    });
  });

  describe('Method: succeed', () => {
    it('sends the output as a JSON document', async () => {
      sfn.on(SendTaskSuccessCommand).resolves({});

      const result = await callbacks.succeed(TOKEN, { promoted: true, by: 'operator' });

      expect(result).toBe('sent');
      expect(sfn).toReceiveCommandWith(SendTaskSuccessCommand, {
        taskToken: TOKEN,
        output: '{"promoted":true,"by":"operator"}',
      });
    });

    it('sends an empty JSON object when there is no output', async () => {
      sfn.on(SendTaskSuccessCommand).resolves({});

      await callbacks.succeed(TOKEN, undefined);

      expect(sfn).toReceiveCommandWith(SendTaskSuccessCommand, { taskToken: TOKEN, output: '{}' });
    });

    it.each(staleErrors)('calls a token that answers %s stale rather than an error', async (_, stale) => {
      sfn.on(SendTaskSuccessCommand).rejects(stale());

      expect(await callbacks.succeed(TOKEN, {})).toBe('stale');
    });

    it('wraps a service fault as TransientFailure', async () => {
      sfn.on(SendTaskSuccessCommand).rejects(
        new SFNServiceException({
          name: 'InternalFailure',
          $fault: 'server',
          $metadata: { httpStatusCode: 500 },
          message: 'internal error',
        }),
      );

      await expect(callbacks.succeed(TOKEN, {})).rejects.toBeInstanceOf(TransientFailure);
    });
  });
});

describe('Function: truncate', () => {
  it('leaves text within the limit untouched', () => {
    expect(truncate('AlarmFired', 256)).toBe('AlarmFired');
  });

  it('never ends on half of a surrogate pair', () => {
    const text = `${'a'.repeat(9)}😀tail`;

    const cut = truncate(text, 10);

    expect(cut).toBe('a'.repeat(9));
    expect(cut.isWellFormed()).toBe(true);
  });
});
