import * as z from 'zod';
import { ReadsFirstOverridesSchema } from './reads-first.ts';
import { strictObjectOf } from './validation.ts';

/** What Step Functions passes to each task, and what EventBridge delivers. Parsed at each handler's edge. */

const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+$/;

export const ExecutionArnSchema = z
  .string({ error: 'is required: pass $$.Execution.Id from the state machine' })
  .regex(EXECUTION_ARN, {
    error: 'is not a Step Functions execution ARN (arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME)',
  });

const StepIndexSchema = z
  .number({ error: 'must be a step index (integer >= 0) from the state machine cursor' })
  .int({ error: 'must be an integer step index' })
  .min(0, { error: 'must be >= 0' });

export const GateSettingsSchema = strictObjectOf(
  {
    timeoutSeconds: z
      .number({ error: 'must be a number of seconds' })
      .int({ error: 'must be a whole number of seconds' })
      .min(60, { error: 'must be at least 60 s: a shorter gate gives nobody time to promote' })
      .max(31_536_000, { error: 'must be at most 31536000 s (one year, the Step Functions limit)' }),
    action: z.enum(['rollback', 'promote'], {
      error: "must be 'rollback' (default: a forgotten gate rolls back) or 'promote'",
    }),
  },
  'an object like { "timeoutSeconds": 3600, "action": "rollback" }',
);
export type GateSettings = z.infer<typeof GateSettingsSchema>;

export const DEFAULT_GATE: GateSettings = { timeoutSeconds: 3600, action: 'rollback' };

/** The execution input an operator, the CLI or a schedule passes to StartExecution. */
export const ExecutionInputSchema = strictObjectOf(
  {
    plan: z.unknown().refine((value) => value !== undefined, {
      error: "is required: a preset ('canary'), a spec ('5:5m,25:10m,100') or { steps: [...] }",
    }),
    requestedBy: z.string().max(256, { error: 'must be at most 256 characters' }).optional(),
    gate: GateSettingsSchema.partial().optional(),
    traffic: z
      .enum(['all', 'reads-first'], {
        error:
          "must be 'reads-first' (reads ramp, writes stay on the source until the cutover) or 'all' (every request split by weight)",
      })
      .optional(),
    // biome-ignore lint/suspicious/noThenProperty: the plan's end is spelled `then: restore` by operators; this parsed input is never awaited.
    then: z
      .enum(['hold', 'restore'], {
        error:
          "must be 'hold' (a rollout: keep the last step) or 'restore' (a rehearsal: go back at the end)",
      })
      .optional(),
    acceptWritesOnTarget: z.boolean({ error: 'must be true or false' }).optional(),
    readsFirst: ReadsFirstOverridesSchema.optional(),
  },
  'an object like { "plan": "canary" }',
);
export type ExecutionInput = z.infer<typeof ExecutionInputSchema>;

/** `requestedBy` from an execution input that may be malformed: a refusal must still be reported. */
export function requestedByOf(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null || !('requestedBy' in input)) return undefined;
  return typeof input.requestedBy === 'string' ? input.requestedBy.slice(0, 256) : undefined;
}

export const PreflightEventSchema = z.object({ executionArn: ExecutionArnSchema, input: z.unknown() });

/** Which attempt of its state a task is (`$$.State.EnteredTime`, `$$.State.RetryCount`): it fences stale ones. */
const AttemptFields = {
  stateEnteredTime: z.iso.datetime({ error: 'must be $$.State.EnteredTime' }).optional(),
  retryCount: z.number({ error: 'must be $$.State.RetryCount' }).int().min(0).optional(),
};

export const StepEventSchema = z.object({
  executionArn: ExecutionArnSchema,
  index: StepIndexSchema,
  ...AttemptFields,
});

export const CursorSchema = z.object({
  index: StepIndexSchema,
  stepCount: z.number().int().min(1),
  done: z.boolean(),
  hold: z.boolean(),
  gate: GateSettingsSchema,
  /** The plan ends by restoring its starting weights (`then: restore`): the state machine goes to Rehearse. */
  rehearsal: z.boolean().default(false),
  /** How long a step waits for the replayer to catch up (reads-first) before it rolls back. */
  replayWaitSeconds: z.number().int().min(1).default(1800),
});
export type Cursor = z.infer<typeof CursorSchema>;

export const AfterBakeEventSchema = z.object({
  executionArn: ExecutionArnSchema,
  cursor: CursorSchema,
  ...AttemptFields,
});

export const WaitTaskEventSchema = z.object({
  executionArn: ExecutionArnSchema,
  index: StepIndexSchema,
  kind: z.enum(['bake', 'gate', 'replay', 'pause', 'drain']),
  taskToken: z.string().min(1, { error: 'is required: pass $$.Task.Token' }),
  timeoutSeconds: z.number().int().min(1),
  stateEnteredTime: z.iso.datetime({ error: 'is required: pass $$.State.EnteredTime' }),
  retryCount: z.number({ error: 'is required: pass $$.State.RetryCount' }).int().min(0),
});

export const StateErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });
export type StateError = z.infer<typeof StateErrorSchema>;

export const RollbackEventSchema = z.object({
  executionArn: ExecutionArnSchema,
  error: StateErrorSchema.optional(),
  /** The plan ran to its end and restores its starting weights by design (`then: restore`). */
  rehearsal: z.boolean().optional(),
  /**
   * The rollback path after the write cutover runs on the rollback function: `freeze` (Freeze) and `drain-check`
   * (DrainCheck); absent, the restore itself (Rollback, Rehearse).
   */
  phase: z.enum(['freeze', 'drain-check']).optional(),
  /** DrainCheck: what Drain ended with (its release's output, or the error it failed with). */
  drain: z.unknown().optional(),
});

export const FinalizeEventSchema = z.object({
  executionArn: ExecutionArnSchema,
  outcome: z.enum(['completed', 'rolled-back', 'rehearsed', 'halted', 'refused']),
  error: StateErrorSchema.optional(),
  /** `refused` only: the execution input as given, which may not even be an object. */
  input: z.unknown().optional(),
});

/** EventBridge "CloudWatch Alarm State Change". */
export const AlarmStateChangeSchema = z.object({
  source: z.literal('aws.cloudwatch', { error: "must be 'aws.cloudwatch': route only alarm events here" }),
  'detail-type': z.literal('CloudWatch Alarm State Change', {
    error: "must be 'CloudWatch Alarm State Change'",
  }),
  time: z.string().optional(),
  detail: z.object(
    {
      alarmName: z
        .string({ error: 'is required: the name of the alarm that changed state' })
        .min(1, { error: 'must not be empty' }),
      state: z.object(
        {
          value: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA'], {
            error: "must be 'OK', 'ALARM' or 'INSUFFICIENT_DATA'",
          }),
          reason: z.string().optional(),
          /** The evaluation's JSON (CloudWatch's StateReasonData): its evaluated datapoints date the state. */
          reasonData: z.string().optional(),
          timestamp: z.string().optional(),
        },
        { error: 'is required: the new state, e.g. { "value": "ALARM" }' },
      ),
    },
    { error: 'is required: the alarm event detail (EventBridge puts it there)' },
  ),
});
export type AlarmStateChange = z.infer<typeof AlarmStateChangeSchema>;

/** EventBridge "Step Functions Execution Status Change". */
export const ExecutionStatusChangeSchema = z.object({
  source: z.literal('aws.states', { error: "must be 'aws.states': route only Step Functions events here" }),
  'detail-type': z.literal('Step Functions Execution Status Change', {
    error: "must be 'Step Functions Execution Status Change'",
  }),
  time: z.iso.datetime({ error: 'must be an ISO 8601 UTC time, e.g. 2026-11-24T10:00:00Z' }).optional(),
  detail: z.object(
    {
      executionArn: ExecutionArnSchema,
      status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'], {
        error: 'must be a Step Functions execution status (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED)',
      }),
    },
    { error: 'is required: the execution status detail (EventBridge puts it there)' },
  ),
});
export type ExecutionStatusChange = z.infer<typeof ExecutionStatusChangeSchema>;
