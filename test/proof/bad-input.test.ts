import type { Action, Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, describe, expect, it } from 'vitest';
import { AlbListener } from '#adapters/listener.ts';
import {
  alarmOptionsFromEnv,
  insufficientDataPolicyFromEnv,
  listenerTargetFromEnv,
  watchedAlarmsFromEnv,
} from '#commons/config.ts';
import { afterBake } from '#domain/engine/after-bake.ts';
import { handleAlarmEvent } from '#domain/engine/alarm-event.ts';
import { openWaitTask } from '#domain/engine/bake.ts';
import type { EngineDeps } from '#domain/engine/deps.ts';
import { finalize } from '#domain/engine/finalize.ts';
import { preflight } from '#domain/engine/preflight.ts';
import { rollback } from '#domain/engine/rollback.ts';
import { safetyNet } from '#domain/engine/safety-net.ts';
import { shiftWeights } from '#domain/engine/shift-weights.ts';
import { smokeTest } from '#domain/engine/smoke-test.ts';
import { parseSmokeConfig } from '#domain/smoke-config.ts';
import type { ListenerTarget, TaskCallbackPort, Weights } from '#domain/types.ts';
import { LocalStepFunctions } from '#local/executor.ts';
import { LISTENER } from '#test/support/fake-aws.ts';
import { baking, makeWorld } from '#test/support/rollout-world.ts';

/**
 * I6, bad input changes nothing: a corpus of invalid plans, execution inputs, ARNs, listener shapes, smoke and
 * alarm configurations, and malformed events reaching each engine function. Each is refused with its named
 * error and a message naming the field (`names`), and afterwards no ModifyListener reached ELBv2, the record
 * store took no write, no task callback (SendTaskSuccess/Failure) was sent, and the listener's weights are
 * the ones it had.
 *
 * Schedule specs are refused in their own suites, before anything is created: `swing schedule add`
 * (test/cli/schedule.test.ts, "rejects %j with exit 2 before any AWS call": no AWS client is even created) and
 * the CDK config's `schedules` (test/infra/config.test.ts, which fails synth naming the schedule and field).
 */

const STARTING: Weights = { source: 999, target: 0 };
const stepFunctions = new LocalStepFunctions({ msPerSecond: 1, retryDelayMs: 1 });
const EXECUTION_ARN = `${stepFunctions.stateMachineArn.replace(':stateMachine:', ':execution:')}:probe`;

interface Refusal {
  readonly error: string;
  /** What the message must contain: the field (with its `: ` for ValidationFailed) or the offending value. */
  readonly names: string;
}

/** A world whose every write path is counted. */
function countedWorld() {
  const world = makeWorld({ starting: STARTING, stepFunctions });
  const callbacks = { sent: 0 };
  const counting: TaskCallbackPort = {
    fail: (token, error, cause) => {
      callbacks.sent += 1;
      return world.sfn.fail(token, error, cause);
    },
    succeed: (token, output) => {
      callbacks.sent += 1;
      return world.sfn.succeed(token, output);
    },
  };
  const deps: EngineDeps = { ...world.deps, callbacks: counting };
  const snapshot = () => ({
    modifyCalls: world.elb.mock.commandCalls(ModifyListenerCommand).length,
    storeWrites: world.store.writes,
    callbacks: callbacks.sent,
    weights: world.elb.weights,
  });
  return { world, deps, snapshot };
}

/** The Lambda error message inside a FAILED execution's cause. */
function messageOf(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    return typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause;
  } catch {
    return cause;
  }
}

function expectRefused(error: unknown, refusal: Refusal): void {
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).name).toBe(refusal.error);
  expect((error as Error).message).toContain(refusal.names);
}

// ---- Plans and execution input: the whole state machine runs and refuses in Preflight ---------------------

const FIFTY_ONE_STEPS = { steps: Array.from({ length: 51 }, (_, index) => ({ targetPercent: index + 1 })) };

const executionInputs: [string, unknown, Refusal][] = [
  [
    'a spec whose percents go down',
    { plan: '50,25' },
    { error: 'ValidationFailed', names: 'plan (step 2 "25"):' },
  ],
  ['a spec step of 0 %', { plan: '0,100' }, { error: 'ValidationFailed', names: 'plan (step 1 "0"):' }],
  [
    'a spec step above 100 %',
    { plan: '50,101' },
    { error: 'ValidationFailed', names: 'plan (step 2 "101"):' },
  ],
  [
    'a spec percent with two decimals',
    { plan: '12.55,100' },
    { error: 'ValidationFailed', names: 'plan (step 1 "12.55"):' },
  ],
  [
    'a spec bake that is not a duration',
    { plan: '10:5x,100' },
    { error: 'ValidationFailed', names: 'plan (step 1 "10:5x"):' },
  ],
  [
    'a spec step with two colons',
    { plan: '10:5m:3,100' },
    { error: 'ValidationFailed', names: 'plan (step 1 "10:5m:3"):' },
  ],
  [
    'a spec with an empty step',
    { plan: '10,,100' },
    { error: 'ValidationFailed', names: 'plan (step 2 ""):' },
  ],
  [
    'a spec percent that is not a number',
    { plan: 'abc%' },
    { error: 'ValidationFailed', names: 'plan (step 1 "abc%"):' },
  ],
  [
    'a spec bake over 24 h',
    { plan: '10:25h,100' },
    { error: 'ValidationFailed', names: 'plan (step 1 "10:25h"):' },
  ],
  ['an unknown preset', { plan: 'canery' }, { error: 'ValidationFailed', names: "unknown preset 'canery'" }],
  ['an empty plan text', { plan: '   ' }, { error: 'ValidationFailed', names: 'plan:' }],
  [
    'a plan object with no steps',
    { plan: { steps: [] } },
    { error: 'ValidationFailed', names: 'plan.steps:' },
  ],
  [
    'a plan object whose percents do not increase',
    { plan: { steps: [{ targetPercent: 50 }, { targetPercent: 50 }] } },
    { error: 'ValidationFailed', names: 'plan.steps[1].targetPercent:' },
  ],
  [
    'a plan object with a percent given as text',
    { plan: { steps: [{ targetPercent: '50' }] } },
    { error: 'ValidationFailed', names: 'plan.steps[0].targetPercent:' },
  ],
  [
    'a plan step with an unknown key',
    { plan: { steps: [{ targetPercent: 50, bake: 30 }] } },
    { error: 'ValidationFailed', names: "plan.steps[0]: has unknown key 'bake'" },
  ],
  [
    'a fractional bake',
    { plan: { steps: [{ targetPercent: 50, bakeSeconds: 1.5 }] } },
    { error: 'ValidationFailed', names: 'plan.steps[0].bakeSeconds:' },
  ],
  [
    'a negative bake',
    { plan: { steps: [{ targetPercent: 50, bakeSeconds: -1 }] } },
    { error: 'ValidationFailed', names: 'plan.steps[0].bakeSeconds:' },
  ],
  [
    'a gate that is not a boolean',
    { plan: { steps: [{ targetPercent: 50, gate: 'yes' }] } },
    { error: 'ValidationFailed', names: 'plan.steps[0].gate:' },
  ],
  [
    'a plan object with a misspelt key',
    { plan: { step: [] } },
    { error: 'ValidationFailed', names: "unknown key 'step'" },
  ],
  ['a plan of 51 steps', { plan: FIFTY_ONE_STEPS }, { error: 'ValidationFailed', names: 'plan.steps:' }],
  ['a plan that is a number', { plan: 42 }, { error: 'ValidationFailed', names: 'plan:' }],
  ['a plan that is null', { plan: null }, { error: 'ValidationFailed', names: 'plan:' }],
  ['an input with no plan', {}, { error: 'ValidationFailed', names: 'plan:' }],
  [
    'an input with a misspelt key',
    { plan: 'canary', plna: 'linear-10' },
    { error: 'ValidationFailed', names: 'plna' },
  ],
  ['an input that is not an object', 'canary', { error: 'ValidationFailed', names: '(input):' }],
  [
    'a requestedBy longer than 256 characters',
    { plan: 'canary', requestedBy: 'x'.repeat(257) },
    { error: 'ValidationFailed', names: 'requestedBy:' },
  ],
  [
    'a gate timeout under 60 s',
    { plan: 'canary', gate: { timeoutSeconds: 30 } },
    { error: 'ValidationFailed', names: 'gate.timeoutSeconds:' },
  ],
  [
    'a fractional gate timeout',
    { plan: 'canary', gate: { timeoutSeconds: 90.5 } },
    { error: 'ValidationFailed', names: 'gate.timeoutSeconds:' },
  ],
  [
    'an unknown gate timeout action',
    { plan: 'canary', gate: { action: 'skip' } },
    { error: 'ValidationFailed', names: 'gate.action:' },
  ],
  [
    'a misspelt gate setting',
    { plan: 'canary', gate: { timeout: 600 } },
    { error: 'ValidationFailed', names: 'timeout' },
  ],
];

describe('Bad input: plans and execution input (I6)', () => {
  it.each(executionInputs)('refuses %s before any write', async (_, input, refusal) => {
    const { world, deps, snapshot } = countedWorld();

    const result = await world.sfn.start(deps, input).result;

    expect(result).toMatchObject({ status: 'FAILED', error: refusal.error, safetyNet: 'nothing-held' });
    expect(messageOf(result.status === 'FAILED' ? result.cause : '')).toContain(refusal.names);
    expect(snapshot()).toEqual({ modifyCalls: 0, storeWrites: 0, callbacks: 0, weights: STARTING });
    expect(await world.store.get(LISTENER.listenerArn)).toBeUndefined();
    // Refused out loud: one notification, with the same error and message.
    expect(world.notifications).toEqual([
      expect.objectContaining({
        outcome: 'refused',
        reason: expect.objectContaining({ error: refusal.error }),
      }),
    ]);
    expect(world.notifications[0]?.reason?.cause).toContain(refusal.names);
  });
});

// ---- Listener shapes: Preflight describes the listener and refuses a shape it cannot swing ------------------

const OTHER_GROUP = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/legacy/5a5a5a5a5a5a5a5a';
const OTHER_LISTENER =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/migration-alb/50dc6c495c0c9188/0000000000000000';
const forwardTo = (...groups: string[]): Action[] => [
  {
    Type: 'forward',
    Order: 1,
    ForwardConfig: { TargetGroups: groups.map((arn) => ({ TargetGroupArn: arn, Weight: 1 })) },
  },
];

/** A listener as ELBv2 describes it, a configuration that points at the wrong thing, or rules beside it. */
type Shape = Action[] | { readonly configured: ListenerTarget } | { readonly rules: Rule[] };

const OTHER_RULE = `${LISTENER.listenerArn.replace(':listener/', ':listener-rule/')}/7e7e7e7e7e7e7e7e`;
/** A rule someone else added to the weighted listener: path-pattern /_bulk, sending it where `actions` say. */
const ruleWith = (actions: Action[]): { rules: Rule[] } => ({
  rules: [
    {
      RuleArn: OTHER_RULE,
      Priority: '7',
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/_bulk'] } }],
      Actions: actions,
      IsDefault: false,
    },
  ],
});

const listenerShapes: [string, Shape, Refusal][] = [
  [
    'a forward to a wrong target group',
    forwardTo(LISTENER.sourceTargetGroupArn, OTHER_GROUP),
    { error: 'ListenerShapeInvalid', names: OTHER_GROUP },
  ],
  [
    'a forward to three target groups',
    forwardTo(LISTENER.sourceTargetGroupArn, LISTENER.targetTargetGroupArn, OTHER_GROUP),
    { error: 'ListenerShapeInvalid', names: OTHER_GROUP },
  ],
  [
    'a plain forward to a group that is neither source nor target',
    [{ Type: 'forward', TargetGroupArn: OTHER_GROUP }],
    { error: 'ListenerShapeInvalid', names: `forwards to [${OTHER_GROUP}]` },
  ],
  [
    'a redirect action',
    [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } }],
    { error: 'ListenerShapeInvalid', names: '[redirect]' },
  ],
  [
    'a fixed-response action',
    [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503' } }],
    { error: 'ListenerShapeInvalid', names: '[fixed-response]' },
  ],
  ['no default action at all', [], { error: 'ListenerShapeInvalid', names: 'no actions' }],
  [
    'a listener ARN that does not exist',
    { configured: { ...LISTENER, listenerArn: OTHER_LISTENER } },
    { error: 'ListenerShapeInvalid', names: OTHER_LISTENER },
  ],
  [
    'a rule that is not Swing’s forwarding to the source group',
    ruleWith([{ Type: 'forward', TargetGroupArn: LISTENER.sourceTargetGroupArn }]),
    { error: 'ListenerShapeInvalid', names: `${OTHER_RULE} (priority 7, path-pattern /_bulk)` },
  ],
  [
    'a rule that is not Swing’s forwarding to the target group',
    ruleWith(forwardTo(LISTENER.targetTargetGroupArn)),
    { error: 'ListenerShapeInvalid', names: `${OTHER_RULE} (priority 7, path-pattern /_bulk)` },
  ],
  [
    'a rule that is not Swing’s with its own weighted forward to both groups',
    ruleWith(forwardTo(LISTENER.sourceTargetGroupArn, LISTENER.targetTargetGroupArn)),
    { error: 'ListenerShapeInvalid', names: 'sends to the source and target target group' },
  ],
  [
    'the same group configured as source and target',
    { configured: { ...LISTENER, targetTargetGroupArn: LISTENER.sourceTargetGroupArn } },
    { error: 'ListenerShapeInvalid', names: 'configure two different target groups' },
  ],
];

describe('Bad input: listener shapes (I6)', () => {
  it.each(listenerShapes)('refuses %s before any write', async (_, shape, refusal) => {
    const { world, deps, snapshot } = countedWorld();
    // A configuration error: the adapter asks ELBv2 for exactly what the configuration names.
    const listener =
      'configured' in shape ? new AlbListener(world.elb.client, shape.configured) : deps.listener;
    if (Array.isArray(shape)) world.elb.setDefaultActions(shape);
    if ('rules' in shape) world.elb.setRules(shape.rules);
    const actionsBefore = world.elb.rawActions;

    const execution = world.sfn.start({ ...deps, listener }, { plan: 'canary' });
    const result = await execution.result;

    expect(result).toMatchObject({ status: 'FAILED', error: refusal.error, safetyNet: 'nothing-held' });
    expect(messageOf(result.status === 'FAILED' ? result.cause : '')).toContain(refusal.names);
    const { weights, ...writes } = snapshot();
    // One store write, after the refusal: ReportRefusal records it, so that a late attempt of this Preflight (the
    // listener fixed meanwhile) cannot take the lock for an ended execution. Nothing else is on the record.
    expect(writes).toEqual({ modifyCalls: 0, storeWrites: 1, callbacks: 0 });
    expect(await world.store.get(LISTENER.listenerArn)).toEqual({
      listenerArn: LISTENER.listenerArn,
      history: [],
      refusedStarts: [execution.executionArn],
    });
    expect(world.elb.rawActions).toEqual(actionsBefore);
    expect(weights).toEqual(world.elb.weights);
  });
});

// ---- ARNs and malformed events reaching each engine function, while a rollout bakes ------------------------

type EngineCall = (deps: EngineDeps, executionArn: string) => Promise<unknown>;

const GOOD_CURSOR = {
  index: 0,
  stepCount: 2,
  done: false,
  hold: false,
  gate: { timeoutSeconds: 3600, action: 'rollback' },
};
const alarmChange = (patch: Record<string, unknown>, state: Record<string, unknown> = {}) => ({
  source: 'aws.cloudwatch',
  'detail-type': 'CloudWatch Alarm State Change',
  detail: { alarmName: 'swing-target-composite', state: { value: 'ALARM', ...state } },
  ...patch,
});
const statusChange = (patch: Record<string, unknown>, detail: Record<string, unknown> = {}) => ({
  source: 'aws.states',
  'detail-type': 'Step Functions Execution Status Change',
  ...patch,
  detail: { executionArn: EXECUTION_ARN, status: 'ABORTED', ...detail },
});

const malformedEvents: [string, EngineCall, Refusal][] = [
  [
    'preflight: an execution ARN that is not one',
    (deps) => preflight(deps, { executionArn: 'rollout-42', input: { plan: 'canary' } }),
    { error: 'ValidationFailed', names: 'executionArn:' },
  ],
  [
    'preflight: a state machine ARN instead of an execution ARN',
    (deps) => preflight(deps, { executionArn: stepFunctions.stateMachineArn, input: { plan: 'canary' } }),
    { error: 'ValidationFailed', names: 'executionArn:' },
  ],
  [
    'preflight: an execution ARN with a short account id',
    (deps) =>
      preflight(deps, {
        executionArn: 'arn:aws:states:us-east-1:1234:execution:swing:x',
        input: { plan: 'canary' },
      }),
    { error: 'ValidationFailed', names: 'executionArn:' },
  ],
  [
    'preflight: no input at all',
    (deps, executionArn) => preflight(deps, { executionArn }),
    { error: 'ValidationFailed', names: 'input:' },
  ],
  [
    'smoke test: no execution ARN',
    (deps) => smokeTest(deps, {}),
    { error: 'ValidationFailed', names: 'executionArn:' },
  ],
  [
    'smoke test: a Lambda ARN as the execution ARN',
    (deps) =>
      smokeTest(deps, { executionArn: 'arn:aws:lambda:us-east-1:123456789012:function:swing-smoke-test' }),
    { error: 'ValidationFailed', names: 'executionArn:' },
  ],
  [
    'shift weights: a negative step index',
    (deps, executionArn) => shiftWeights(deps, { executionArn, index: -1 }),
    { error: 'ValidationFailed', names: 'index:' },
  ],
  [
    'shift weights: a step index given as text',
    (deps, executionArn) => shiftWeights(deps, { executionArn, index: 'one' }),
    { error: 'ValidationFailed', names: 'index:' },
  ],
  [
    'shift weights: a fractional step index',
    (deps, executionArn) => shiftWeights(deps, { executionArn, index: 0.5 }),
    { error: 'ValidationFailed', names: 'index:' },
  ],
  [
    'bake: an unknown task kind',
    (deps, executionArn) =>
      openWaitTask(deps, { executionArn, index: 0, kind: 'soak', taskToken: 't', timeoutSeconds: 60 }),
    { error: 'ValidationFailed', names: 'kind:' },
  ],
  [
    'bake: no task token',
    (deps, executionArn) => openWaitTask(deps, { executionArn, index: 0, kind: 'bake', timeoutSeconds: 60 }),
    { error: 'ValidationFailed', names: 'taskToken:' },
  ],
  [
    'bake: a timeout of 0 s',
    (deps, executionArn) =>
      openWaitTask(deps, { executionArn, index: 0, kind: 'bake', taskToken: 't', timeoutSeconds: 0 }),
    { error: 'ValidationFailed', names: 'timeoutSeconds:' },
  ],
  [
    'check alarms: no cursor',
    (deps, executionArn) => afterBake(deps, { executionArn }),
    { error: 'ValidationFailed', names: 'cursor:' },
  ],
  [
    'check alarms: a cursor whose gate timeout is too short',
    (deps, executionArn) =>
      afterBake(deps, {
        executionArn,
        cursor: { ...GOOD_CURSOR, gate: { timeoutSeconds: 10, action: 'rollback' } },
      }),
    { error: 'ValidationFailed', names: 'cursor.gate.timeoutSeconds:' },
  ],
  [
    'check alarms: a cursor with no step count',
    (deps, executionArn) =>
      afterBake(deps, { executionArn, cursor: { ...GOOD_CURSOR, stepCount: undefined } }),
    { error: 'ValidationFailed', names: 'cursor.stepCount:' },
  ],
  [
    'rollback: an error with no name',
    (deps, executionArn) => rollback(deps, { executionArn, error: { Cause: 'alarm' } }),
    { error: 'ValidationFailed', names: 'error.Error:' },
  ],
  [
    'rollback: an execution ARN from another region format',
    (deps) => rollback(deps, { executionArn: 'arn:aws:states:::execution:swing:x' }),
    { error: 'ValidationFailed', names: 'executionArn:' },
  ],
  [
    'finalize: an unknown outcome',
    (deps, executionArn) => finalize(deps, { executionArn, outcome: 'done' }),
    { error: 'ValidationFailed', names: 'outcome:' },
  ],
  [
    'alarm event: from another source',
    (deps) => handleAlarmEvent(deps, alarmChange({ source: 'aws.ec2' })),
    { error: 'ValidationFailed', names: 'source:' },
  ],
  [
    'alarm event: another detail type',
    (deps) =>
      handleAlarmEvent(deps, alarmChange({ 'detail-type': 'EC2 Instance State-change Notification' })),
    { error: 'ValidationFailed', names: 'detail-type:' },
  ],
  [
    'alarm event: an unknown alarm state',
    (deps) => handleAlarmEvent(deps, alarmChange({}, { value: 'BROKEN' })),
    { error: 'ValidationFailed', names: 'detail.state.value:' },
  ],
  [
    'alarm event: no alarm name',
    (deps) =>
      handleAlarmEvent(deps, { ...alarmChange({}), detail: { alarmName: '', state: { value: 'ALARM' } } }),
    { error: 'ValidationFailed', names: 'detail.alarmName:' },
  ],
  [
    'safety net: an unknown execution status',
    (deps) => safetyNet(deps, statusChange({}, { status: 'EXPLODED' })),
    { error: 'ValidationFailed', names: 'detail.status:' },
  ],
  [
    'safety net: an event from CloudWatch',
    (deps) => safetyNet(deps, statusChange({ source: 'aws.cloudwatch' })),
    { error: 'ValidationFailed', names: 'source:' },
  ],
  [
    'safety net: an execution ARN that is a state machine ARN',
    (deps) => safetyNet(deps, statusChange({}, { executionArn: stepFunctions.stateMachineArn })),
    { error: 'ValidationFailed', names: 'detail.executionArn:' },
  ],
];

describe('Bad input: ARNs and malformed events reaching each engine function, mid-rollout (I6)', () => {
  // One rollout bakes (a long bake) under every case: a malformed event must neither move it nor end it.
  const { world, deps, snapshot } = countedWorld();
  const execution = world.sfn.start(deps, { plan: '50:86400,100' }, { name: 'baking' });
  const ready = world.until(baking(0), 'the rollout bakes its first step');

  afterAll(async () => {
    execution.stop();
    await execution.result;
  });

  it.each(malformedEvents)('refuses %s, touching nothing', async (_, call, refusal) => {
    const before = await ready;
    const counts = snapshot();

    const error = await call(deps, execution.executionArn).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );

    expectRefused(error, refusal);
    expect(snapshot()).toEqual(counts);
    expect(counts.weights).toEqual({ source: 499, target: 500 });
    const after = await world.rollout();
    expect(after).toEqual(before);
    expect(world.sfn.openTokens()).toContain(before?.taskToken);
  });
});

// ---- Configuration: smoke checks and watched alarms --------------------------------------------------------

const SMOKE = {
  sourceEndpoint: 'https://alb.example.com:9201',
  targetEndpoint: 'https://alb.example.com:9202',
};

const configurations: [string, () => unknown, Refusal][] = [
  [
    'a smoke source endpoint that is not a URL',
    () => parseSmokeConfig({ ...SMOKE, sourceEndpoint: 'alb.example.com 9201' }),
    { error: 'ValidationFailed', names: 'smoke.sourceEndpoint:' },
  ],
  [
    'a smoke target endpoint that is not http or https',
    () => parseSmokeConfig({ ...SMOKE, targetEndpoint: 'ftp://alb.example.com:9202' }),
    { error: 'ValidationFailed', names: 'smoke.targetEndpoint: must be the target path URL (http or https)' },
  ],
  [
    'a smoke config with no target endpoint',
    () => parseSmokeConfig({ sourceEndpoint: SMOKE.sourceEndpoint }),
    { error: 'ValidationFailed', names: 'smoke.targetEndpoint:' },
  ],
  [
    'a smoke timeout under 100 ms',
    () => parseSmokeConfig({ ...SMOKE, timeoutMs: 50 }),
    { error: 'ValidationFailed', names: 'smoke.timeoutMs:' },
  ],
  [
    'an unknown smoke auth type',
    () => parseSmokeConfig({ ...SMOKE, auth: { type: 'oauth' } }),
    { error: 'ValidationFailed', names: 'smoke.auth.type:' },
  ],
  [
    'basic smoke auth with no secret',
    () => parseSmokeConfig({ ...SMOKE, auth: { type: 'basic' } }),
    { error: 'ValidationFailed', names: 'smoke.auth.secretArn:' },
  ],
  [
    'a SigV4 smoke auth for an unknown service',
    () => parseSmokeConfig({ ...SMOKE, auth: { type: 'sigv4', service: 'ec2', region: 'us-east-1' } }),
    { error: 'ValidationFailed', names: 'smoke.auth.service:' },
  ],
  [
    'a smoke check path without its leading slash',
    () => parseSmokeConfig({ ...SMOKE, checks: [{ path: '_cluster/health' }] }),
    { error: 'ValidationFailed', names: 'smoke.checks[0].path:' },
  ],
  [
    'a smoke check status given as text',
    () => parseSmokeConfig({ ...SMOKE, checks: [{ path: '/', expectStatus: '200' }] }),
    { error: 'ValidationFailed', names: 'smoke.checks[0].expectStatus: must be an HTTP status code' },
  ],
  [
    'a smoke comparison pointer without its leading slash',
    () => parseSmokeConfig({ ...SMOKE, checks: [{ path: '/_count', compare: { pointer: 'count' } }] }),
    { error: 'ValidationFailed', names: 'smoke.checks[0].compare.pointer: must be a JSON pointer' },
  ],
  [
    'basic smoke auth with a username beside the secret',
    () => parseSmokeConfig({ ...SMOKE, auth: { type: 'basic', secretArn: 'arn:x', username: 'admin' } }),
    { error: 'ValidationFailed', names: "smoke.auth: has unknown key 'username': use only type, secretArn" },
  ],
  [
    'an empty list of smoke checks',
    () => parseSmokeConfig({ ...SMOKE, checks: [] }),
    { error: 'ValidationFailed', names: 'smoke.checks:' },
  ],
  [
    'a misspelt smoke setting',
    () => parseSmokeConfig({ ...SMOKE, insecure: true }),
    { error: 'ValidationFailed', names: 'insecure' },
  ],
  [
    'WATCHED_ALARMS that is not JSON',
    () => watchedAlarmsFromEnv({ WATCHED_ALARMS: 'swing-target-health' }),
    { error: 'ValidationFailed', names: 'WATCHED_ALARMS:' },
  ],
  [
    'WATCHED_ALARMS with an empty name',
    () => watchedAlarmsFromEnv({ WATCHED_ALARMS: '["swing-target-health", ""]' }),
    { error: 'ValidationFailed', names: 'WATCHED_ALARMS:' },
  ],
  [
    'WATCHED_ALARMS that is an object',
    () => alarmOptionsFromEnv({ WATCHED_ALARMS: '{"name":"swing-target-health"}' }),
    { error: 'ValidationFailed', names: 'WATCHED_ALARMS:' },
  ],
  [
    'an unknown INSUFFICIENT_DATA_POLICY',
    () => insufficientDataPolicyFromEnv({ INSUFFICIENT_DATA_POLICY: 'ignore' }),
    { error: 'ValidationFailed', names: 'INSUFFICIENT_DATA_POLICY:' },
  ],
  [
    'a missing LISTENER_ARN',
    () => listenerTargetFromEnv({ SOURCE_TARGET_GROUP_ARN: 'a', TARGET_TARGET_GROUP_ARN: 'b' }),
    { error: 'ValidationFailed', names: 'LISTENER_ARN:' },
  ],
];

describe('Bad input: smoke and alarm configuration (I6)', () => {
  it.each(configurations)('refuses %s', (_, parse, refusal) => {
    // These parse before any client exists: nothing can have reached AWS.
    let thrown: unknown;
    try {
      parse();
    } catch (error) {
      thrown = error;
    }
    expectRefused(thrown, refusal);
  });
});
