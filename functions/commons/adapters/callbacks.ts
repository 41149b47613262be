import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { classifyAwsError, withoutSecret } from '#domain/errors.ts';
import type { TaskCallbackPort } from '#domain/types.ts';

/** SendTaskFailure's limits, in characters. */
export const MAX_ERROR_LENGTH = 256;
export const MAX_CAUSE_LENGTH = 32_768;

// A token whose task already timed out or finished: the task it belonged to is over, which is fine.
const STALE_TOKEN_ERRORS = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

/** Cuts `text` to at most `max` UTF-16 units without leaving half of a surrogate pair at the end. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/**
 * Step Functions task-token callbacks (SendTaskSuccess / SendTaskFailure). The token is never put in an
 * error message: it is a credential for the open task.
 */
export class StepFunctionsCallbacks implements TaskCallbackPort {
  constructor(private readonly client: SFNClient) {}

  fail(token: string, error: string, cause: string): Promise<'sent' | 'stale'> {
    const command = new SendTaskFailureCommand({
      taskToken: token,
      error: truncate(error, MAX_ERROR_LENGTH),
      cause: truncate(cause, MAX_CAUSE_LENGTH),
    });
    return this.settle('SendTaskFailure', token, () => this.client.send(command));
  }

  succeed(token: string, output: unknown): Promise<'sent' | 'stale'> {
    // JSON.stringify(undefined) is undefined, and the API requires a JSON document.
    const command = new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output ?? {}) });
    return this.settle('SendTaskSuccess', token, () => this.client.send(command));
  }

  private async settle(
    doing: string,
    token: string,
    call: () => Promise<unknown>,
  ): Promise<'sent' | 'stale'> {
    try {
      await call();
      return 'sent';
    } catch (error) {
      if (error instanceof Error && STALE_TOKEN_ERRORS.has(error.name)) return 'stale';
      throw classifyAwsError(withoutSecret(error, token), doing);
    }
  }
}
