import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HANDLER_ENV, LISTENER } from '#test/support/fake-aws.ts';
import { aws, mockDeployedStack, resetAws, runningRecord, swing } from '../cli/harness.ts';

/**
 * A task token is a credential for the open bake or gate: whoever holds it can fail or pass it. The state
 * machine logs no execution data (the infra tests hold it to that); here, every path of Swing's own that
 * handles a token runs, succeeding and failing, and no log line, thrown error or CLI output may carry it.
 */

const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAZsecret-task-token-4f1d2c7e9a';
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:swing:run-1';

/** What AWS's JSON protocols answer for a bad parameter: the value is echoed in the message. */
function echoingValidationError(value: string) {
  return Object.assign(
    new Error(
      `1 validation error detected: Value '${value}' at 'taskToken' failed to satisfy constraint: ` +
        'Member must have length less than or equal to 2048',
    ),
    { name: 'ValidationException', $fault: 'client', $metadata: { httpStatusCode: 400 } },
  );
}

/** Everything the process writes (Powertools Logger writes to stdout and stderr) while `run` runs. */
async function capturedOutput(run: () => Promise<unknown>): Promise<string> {
  let written = '';
  const capture = (chunk: unknown) => {
    written += String(chunk);
    return true;
  };
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    await run();
  } catch (error) {
    // What the Lambda runtime prints for a handler that throws: its message and stack.
    written += `${(error as Error).name} ${(error as Error).message} ${(error as Error).stack}`;
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
  return written;
}

describe('Secrets: no task token reaches a log line', () => {
  // The CLI harness's mocks: one mock per client class, whoever creates the client.
  const { dynamo, sfn, cloudWatch } = aws;

  beforeEach(() => {
    vi.resetModules();
    resetAws();
    for (const [key, value] of Object.entries(HANDLER_ENV)) vi.stubEnv(key, value);
  });
  afterEach(() => vi.unstubAllEnvs());

  const bakeEvent = {
    executionArn: EXECUTION,
    index: 0,
    kind: 'bake',
    taskToken: TOKEN,
    timeoutSeconds: 60,
    stateEnteredTime: '2026-11-24T10:00:00.000Z',
    retryCount: 0,
  };
  const record = {
    listenerArn: LISTENER.listenerArn,
    lockOwner: EXECUTION,
    rollout: { executionArn: EXECUTION, taskToken: TOKEN, taskKind: 'bake', status: 'baking' },
    history: [],
  };
  const alarmEvent = {
    source: 'aws.cloudwatch',
    'detail-type': 'CloudWatch Alarm State Change',
    time: '2026-11-24T10:00:00Z',
    detail: { alarmName: 'swing-target-composite', state: { value: 'ALARM', reason: 'Threshold Crossed' } },
  };

  it('bake: storing the token, an alarm already firing, and a store that rejects it', async () => {
    const { handler } = await import('#functions/bake.ts');
    dynamo.on(UpdateCommand).resolves({ Attributes: record });
    cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [], CompositeAlarms: [] });
    const stored = await capturedOutput(() => handler(bakeEvent));

    cloudWatch.on(DescribeAlarmsCommand).resolves({
      CompositeAlarms: [{ AlarmName: 'swing-target-composite', StateValue: 'ALARM', StateReason: 'x' }],
    });
    const firing = await capturedOutput(() => handler(bakeEvent));

    dynamo.on(UpdateCommand).rejects(echoingValidationError(TOKEN));
    const rejected = await capturedOutput(() => handler(bakeEvent));

    // A stale attempt: its state already ended, so its token is not stored, and not logged either.
    dynamo
      .on(UpdateCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );
    dynamo.on(GetCommand).resolves({ Item: record });
    const stale = await capturedOutput(() => handler(bakeEvent));

    // The token did go through: it is stored for the alarm event and the operator.
    expect(JSON.stringify(dynamo.commandCalls(UpdateCommand)[0]?.args[0].input)).toContain(TOKEN);
    expect(firing).toContain('AlarmFired');
    expect(stale).toContain('stale bake or gate attempt');
    for (const output of [stored, firing, rejected, stale]) expect(output).not.toContain(TOKEN);
  });

  it('alarm-event: failing the token, a stale token, and Step Functions rejecting it', async () => {
    const { handler } = await import('#functions/alarm-event.ts');
    dynamo.on(GetCommand).resolves({ Item: record });
    sfn.on(SendTaskFailureCommand).resolves({});
    const sent = await capturedOutput(() => handler(alarmEvent));

    sfn
      .on(SendTaskFailureCommand)
      .rejects(Object.assign(new Error('Task Timed Out'), { name: 'TaskTimedOut' }));
    const stale = await capturedOutput(() => handler(alarmEvent));

    sfn.on(SendTaskFailureCommand).rejects(echoingValidationError(TOKEN));
    const rejected = await capturedOutput(() => handler(alarmEvent));

    expect(sfn).toReceiveCommandWith(SendTaskFailureCommand, { taskToken: TOKEN });
    expect(sent).toContain('alarm fired during a rollout');
    expect(rejected).toContain('ValidationException');
    for (const output of [sent, stale, rejected]) expect(output).not.toContain(TOKEN);
  });
});

describe('Secrets: no task token reaches the CLI output', () => {
  const token = runningRecord().rollout!.taskToken!;

  beforeEach(() => {
    resetAws();
    mockDeployedStack();
    const running = runningRecord();
    aws.dynamo
      .on(UpdateCommand)
      .resolves({ Attributes: { ...running, rollout: { ...running.rollout!, taskKind: 'gate' } } });
  });

  it('abort, promote and status, also when Step Functions echoes the token in an error', async () => {
    const outputs: string[] = [];
    for (const argv of [['status'], ['status', '--json'], ['abort'], ['abort', '--json']]) {
      const result = await swing(argv);
      outputs.push(result.stdout + result.stderr);
    }
    aws.sfn.on(SendTaskFailureCommand).rejects(echoingValidationError(token));
    aws.sfn.on(SendTaskSuccessCommand).rejects(echoingValidationError(token));
    aws.dynamo.on(GetCommand).resolves({
      Item: { ...runningRecord(), rollout: { ...runningRecord().rollout!, taskKind: 'gate' } },
    });
    for (const argv of [['abort'], ['promote'], ['promote', '--json']]) {
      const result = await swing(argv);
      expect(result.code, argv.join(' ')).not.toBe(0);
      outputs.push(result.stdout + result.stderr);
    }
    expect(outputs.join('\n')).toContain('ValidationException');
    for (const output of outputs) expect(output).not.toContain(token);
  });
});
