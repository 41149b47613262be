import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { classifyAwsError } from '#domain/errors.ts';
import type { TaskCallbackPort } from '#domain/types.ts';

// A token that already timed out or finished is not an error: the task it belonged to is over.
const STALE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

/** Step Functions task-token callbacks (SendTaskSuccess / SendTaskFailure). */
export class StepFunctionsCallbacks implements TaskCallbackPort {
  constructor(private readonly client: SFNClient) {}

  private async send(command: SendTaskFailureCommand | SendTaskSuccessCommand): Promise<'sent' | 'stale'> {
    try {
      await this.client.send(command as SendTaskFailureCommand);
      return 'sent';
    } catch (error) {
      if (error instanceof Error && STALE.has(error.name)) return 'stale';
      throw classifyAwsError(error, command.constructor.name.replace(/Command$/, ''));
    }
  }

  fail(token: string, error: string, cause: string): Promise<'sent' | 'stale'> {
    return this.send(
      new SendTaskFailureCommand({
        taskToken: token,
        error: error.slice(0, 256),
        cause: cause.slice(0, 32_768),
      }),
    );
  }

  succeed(token: string, output: unknown): Promise<'sent' | 'stale'> {
    return this.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output ?? {}) }));
  }
}
