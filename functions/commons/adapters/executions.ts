import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { classifyAwsError } from '#domain/errors.ts';
import type { ExecutionStatus, ExecutionStatusPort, ExecutionView } from '#domain/types.ts';

const KNOWN_STATUSES = new Set<string>([
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
  'PENDING_REDRIVE',
]);

/** An execution's status from Step Functions (DescribeExecution). */
export class StepFunctionsExecutions implements ExecutionStatusPort {
  constructor(private readonly client: SFNClient) {}

  async describe(executionArn: string): Promise<ExecutionView> {
    let output: DescribeExecutionCommandOutput;
    try {
      output = await this.client.send(new DescribeExecutionCommand({ executionArn }));
    } catch (error) {
      throw classifyAwsError(error, `DescribeExecution of ${executionArn}`);
    }
    // A status this code does not know is not one it may act on: report it as unknown.
    if (!output.status || !KNOWN_STATUSES.has(output.status)) {
      throw new Error(`DescribeExecution of ${executionArn} returned status '${output.status ?? 'none'}'`);
    }
    return {
      status: output.status as ExecutionStatus,
      ...(output.stopDate ? { stoppedAt: output.stopDate } : {}),
    };
  }
}
