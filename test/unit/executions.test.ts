import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { StepFunctionsExecutions } from '#adapters/executions.ts';
import { TransientFailure } from '#domain/errors.ts';

const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:swing-rollout:migrate-orders-3';

function awsError(name: string, httpStatusCode: number): Error {
  const error = new Error(`${name} from Step Functions`);
  error.name = name;
  Object.assign(error, { $fault: 'client', $metadata: { httpStatusCode } });
  return error;
}

describe('Class: StepFunctionsExecutions', () => {
  const sfn = mockClient(SFNClient);
  const executions = new StepFunctionsExecutions(new SFNClient({ region: 'us-east-1' }));

  beforeEach(() => sfn.reset());

  describe('Method: describe', () => {
    it('returns the status and when the execution stopped', async () => {
      const stopDate = new Date('2026-03-02T10:00:00Z');
      sfn.on(DescribeExecutionCommand).resolves({ status: 'ABORTED', stopDate });

      expect(await executions.describe(EXECUTION)).toEqual({ status: 'ABORTED', stoppedAt: stopDate });
      expect(sfn).toReceiveCommandWith(DescribeExecutionCommand, { executionArn: EXECUTION });
    });

    it('returns no stop time while the execution runs', async () => {
      sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });

      expect(await executions.describe(EXECUTION)).toEqual({ status: 'RUNNING' });
    });

    it('throws throttling as TransientFailure and access denied as it is: the status is unknown either way', async () => {
      sfn.on(DescribeExecutionCommand).rejects(awsError('ThrottlingException', 400));
      await expect(executions.describe(EXECUTION)).rejects.toBeInstanceOf(TransientFailure);

      sfn.reset();
      sfn.on(DescribeExecutionCommand).rejects(awsError('AccessDeniedException', 400));
      await expect(executions.describe(EXECUTION)).rejects.toMatchObject({ name: 'AccessDeniedException' });
    });

    it('refuses a status it does not know rather than act on it', async () => {
      sfn.on(DescribeExecutionCommand).resolves({ status: 'SOMETHING_NEW' as never });

      await expect(executions.describe(EXECUTION)).rejects.toThrow("returned status 'SOMETHING_NEW'");
    });
  });
});
