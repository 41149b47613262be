import { AsyncLocalStorage } from 'node:async_hooks';
import { ExecutionAbortedError, type StateMachine } from 'aws-local-stepfunctions';
import { afterBake } from '#domain/engine/after-bake.ts';
import { openWaitTask } from '#domain/engine/bake.ts';
import type { EngineDeps } from '#domain/engine/deps.ts';
import { finalize } from '#domain/engine/finalize.ts';
import { preflight } from '#domain/engine/preflight.ts';
import { rollback } from '#domain/engine/rollback.ts';
import { type SafetyNetAction, safetyNet } from '#domain/engine/safety-net.ts';
import { shiftWeights } from '#domain/engine/shift-weights.ts';
import { smokeTest } from '#domain/engine/smoke-test.ts';
import { type ReconcileResult, type ReconcilerDeps, reconcile } from '#domain/reconciler.ts';
import type { ExecutionStatusPort, ExecutionView, TaskCallbackPort } from '#domain/types.ts';
import { type FUNCTION_PLACEHOLDERS, loadDefinition, localFunctionArn } from '../statemachine/definition.ts';
import { validatedStateMachine } from './validated-machine.ts';

type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

type HandlerName = (typeof FUNCTION_PLACEHOLDERS)[keyof typeof FUNCTION_PLACEHOLDERS];

const ENGINE: Record<HandlerName, (deps: EngineDeps, event: unknown) => Promise<unknown>> = {
  preflight,
  'smoke-test': smokeTest,
  'shift-weights': shiftWeights,
  bake: openWaitTask,
  'check-alarms': afterBake,
  rollback,
  finalize,
};

export type ExecutionResult =
  | { readonly status: 'SUCCEEDED'; readonly output: unknown }
  | { readonly status: 'FAILED'; readonly error: string; readonly cause: string }
  | { readonly status: 'ABORTED' };

export interface LocalExecution {
  readonly executionArn: string;
  /**
   * Settles when the execution has ended and, for FAILED/ABORTED, the safety net has run (as EventBridge
   * would), unless the status event was lost (`statusEventLost`).
   */
  readonly result: Promise<
    ExecutionResult & { readonly safetyNet?: SafetyNetAction; readonly statusEventLost?: true }
  >;
  /** Settles once the result has and every Lambda invocation the execution started has finished too. */
  readonly idle: Promise<void>;
  /** StopExecution. */
  stop(): void;
  /** State transitions so far (StateEntered events), the unit Step Functions bills. */
  transitions(): number;
  readonly events: EventLog[];
}

export interface LocalStepFunctionsOptions {
  /** Milliseconds per second of bake or gate timeout: 1000 is real time, tests use 1-10. */
  readonly msPerSecond?: number;
  /** Overrides every Retry pause (milliseconds); real `IntervalSeconds` backoff when omitted. */
  readonly retryDelayMs?: number;
  readonly region?: string;
  readonly account?: string;
  readonly stateMachineName?: string;
  /** How each Lambda invocation behaves on the executor's clock; by default it starts at once and answers. */
  readonly invocations?: (call: InvocationCall) => InvocationTiming | undefined;
  /**
   * When the "Execution Status Change" event reaches the safety net:
   * - `after-tasks` (default): once every invocation the execution started has finished, so a safety net
   *   with no wait of its own sees their last writes (local mode, most tests);
   * - `at-once`: as the execution ends, as on AWS, while its Lambdas may still run (StopExecution does not
   *   stop them): the safety net must wait them out itself (`waitAfterStopMs`).
   */
  readonly statusEventTiming?: 'after-tasks' | 'at-once';
  /** Whether EventBridge delivers this execution's status event (best effort on AWS). @default always */
  readonly deliverStatusEvent?: (executionArn: string, status: 'ABORTED' | 'FAILED') => boolean;
}

/** One Lambda invocation a Task state attempt makes. */
export interface InvocationCall {
  readonly executionArn: string;
  readonly stateName: string;
  readonly handler: HandlerName;
  /** `$$.State.RetryCount`: 0 for the state's first attempt. */
  readonly retryCount: number;
  /** The execution's invocations so far, this one included. */
  readonly n: number;
}

/**
 * The invocation whose function is running, for code it calls (a test's fakes): an attempt whose answer was
 * lost runs on beside its retry, and only this tells their AWS calls apart.
 */
const runningInvocation = new AsyncLocalStorage<InvocationCall>();

/** The Lambda invocation the caller runs in, if it runs in one of the executor's. */
export function currentInvocation(): InvocationCall | undefined {
  return runningInvocation.getStore();
}

/** Milliseconds on the executor's clock (`setTimeout`: a test's fake timers make it virtual). */
export interface InvocationTiming {
  /** From the state's attempt to the function's first line: queueing, a cold start. */
  readonly startDelayMs?: number;
  /**
   * The answer never reaches Step Functions: this long after the attempt began it fails with
   * `Lambda.ServiceException` (which the Retry may retry) while the function runs on.
   */
  readonly answerLostAfterMs?: number;
}

interface OpenTask {
  readonly executionArn: string;
  readonly stateName: string;
  readonly resolve: (output: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

interface WaitTaskState {
  Type: string;
  Resource?: string;
  TimeoutSecondsPath?: string;
  Parameters?: { Payload?: Record<string, unknown> };
}

/**
 * Step Functions reads `TimeoutSecondsPath` from the state's input; aws-local-stepfunctions 3.x reads it from
 * the input after `Parameters`. Point it at the Payload field that carries the same value, so both see one
 * number; a wait task without such a field is a definition error, caught here.
 */
export function withLibraryTimeoutPaths(definition: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(definition) as { States: Record<string, WaitTaskState> };
  for (const [name, state] of Object.entries(copy.States)) {
    if (state.Type !== 'Task' || !state.TimeoutSecondsPath) continue;
    const payload = state.Parameters?.Payload ?? {};
    const key = Object.keys(payload).find((field) => payload[field] === state.TimeoutSecondsPath);
    if (!key) {
      throw new Error(
        `state ${name}: TimeoutSecondsPath ${state.TimeoutSecondsPath} must also be passed in Parameters.Payload`,
      );
    }
    state.TimeoutSecondsPath = `$.Payload.${key.replace(/\.\$$/, '')}`;
  }
  return copy;
}

/**
 * aws-local-stepfunctions takes one context object per execution and has no `$$.State`: the executor passes
 * these stand-ins and puts each attempt's real values in their place, as it does for `$$.Task.Token`.
 */
const ENTERED_TIME_STAND_IN = '1970-01-01T00:00:00.000Z';
const RETRY_COUNT_STAND_IN = -1;

const sleep = (ms: number) =>
  ms > 0 ? new Promise<void>((resolve) => setTimeout(resolve, ms)) : Promise.resolve();

interface TaskState {
  readonly Type: string;
  readonly Resource: string;
  readonly Parameters?: { FunctionName?: string; Payload?: Record<string, unknown> } & Record<
    string,
    unknown
  >;
}

/** The field names under which a state's Parameters (or its Payload) pass `$$.State.*`. */
function contextFields(state: TaskState): { enteredTime: string[]; retryCount: string[] } {
  const parameters = state.Parameters?.Payload ?? state.Parameters ?? {};
  const fieldsOf = (path: string) =>
    Object.entries(parameters)
      .filter(([key, value]) => key.endsWith('.$') && value === path)
      .map(([key]) => key.slice(0, -2));
  return { enteredTime: fieldsOf('$$.State.EnteredTime'), retryCount: fieldsOf('$$.State.RetryCount') };
}

/** An error as Step Functions sees it: `name` is the error, `message` the cause. */
function stateError(name: string, cause: string): Error {
  const error = new Error(cause);
  error.name = name;
  return error;
}

/** A Lambda error reaches Step Functions as { errorType, errorMessage } in the cause. */
function asLambdaError(error: unknown): Error {
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return stateError(name, JSON.stringify({ errorType: name, errorMessage: message }));
}

/**
 * Runs the real `statemachine/rollout.asl.json` in-process with aws-local-stepfunctions, every Task state
 * overridden by the engine function its Lambda would run, and plays the parts of AWS the library lacks:
 * task tokens (SendTaskSuccess/Failure), task timeouts on a scaled clock, and the EventBridge status event
 * that triggers the safety net.
 */
export class LocalStepFunctions implements TaskCallbackPort, ExecutionStatusPort {
  private readonly openTasks = new Map<string, OpenTask>();
  private readonly executions = new Map<string, ExecutionView>();
  private readonly machine: StateMachine;
  private readonly msPerSecond: number;
  private counter = 0;

  constructor(private readonly options: LocalStepFunctionsOptions = {}) {
    this.msPerSecond = options.msPerSecond ?? 1000;
    // The scaled clock below replaces the library's own task timeouts; ARN syntax is ours to choose.
    this.machine = validatedStateMachine(withLibraryTimeoutPaths(loadDefinition(localFunctionArn)));
  }

  get stateMachineArn(): string {
    const {
      region = 'us-east-1',
      account = '000000000000',
      stateMachineName = 'swing-rollout',
    } = this.options;
    return `arn:aws:states:${region}:${account}:stateMachine:${stateMachineName}`;
  }

  /** Open task tokens (bakes and gates in progress), for status views and tests. */
  openTokens(): string[] {
    return [...this.openTasks.keys()];
  }

  async fail(token: string, error: string, cause: string): Promise<'sent' | 'stale'> {
    const task = this.takeTask(token);
    if (!task) return 'stale';
    task.reject(stateError(error, cause));
    return 'sent';
  }

  async succeed(token: string, output: unknown): Promise<'sent' | 'stale'> {
    const task = this.takeTask(token);
    if (!task) return 'stale';
    task.resolve(output);
    return 'sent';
  }

  /** DescribeExecution: RUNNING until the execution ends, then how and when it ended. */
  async describe(executionArn: string): Promise<ExecutionView> {
    const view = this.executions.get(executionArn);
    if (!view) {
      const error = new Error(`Execution Does Not Exist: '${executionArn}'`);
      error.name = 'ExecutionDoesNotExist';
      throw error;
    }
    return view;
  }

  /** One run of the scheduled reconciler, as EventBridge Scheduler would start it, against these executions. */
  reconcile(
    deps: EngineDeps & Pick<ReconcilerDeps, 'waitAfterStopMs' | 'notifyAfterFailures'>,
  ): Promise<ReconcileResult> {
    return reconcile({ ...deps, executions: this });
  }

  private takeTask(token: string): OpenTask | undefined {
    const task = this.openTasks.get(token);
    if (!task) return undefined;
    this.openTasks.delete(token);
    clearTimeout(task.timer);
    return task;
  }

  start(deps: EngineDeps, input: unknown, options: { name?: string } = {}): LocalExecution {
    this.counter += 1;
    const name = options.name ?? `rollout-${Date.now()}-${this.counter}`;
    const executionArn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    this.executions.set(executionArn, { status: 'RUNNING' });
    const inFlight = new Set<Promise<unknown>>();
    // After StopExecution the library may still re-invoke a task whose retry pause the abort cut short.
    let stopped = false;
    let invocations = 0;
    const track = <T>(promise: Promise<T>): Promise<T> => {
      inFlight.add(promise);
      void promise.finally(() => inFlight.delete(promise)).catch(() => {});
      return promise;
    };
    // $$.State of the attempt under way: the library runs one state at a time, and the only way a Task state
    // follows a failed attempt of itself is its Retry (no Catch of this ASL leads back to its own state).
    let lastAttempt:
      | { stateName: string; enteredTime: string; retryCount: number; failed: boolean }
      | undefined;

    const overrides: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [stateName, state] of Object.entries(this.taskStates())) {
      const handler = this.handlerFor(state);
      const engineFn = ENGINE[handler];
      const fields = contextFields(state);
      overrides[stateName] = (taskInput) => {
        if (stopped) return Promise.reject(stateError('States.Aborted', 'the execution was stopped'));
        const retried = lastAttempt?.stateName === stateName && lastAttempt.failed;
        const attempt = {
          stateName,
          enteredTime: retried && lastAttempt ? lastAttempt.enteredTime : new Date().toISOString(),
          retryCount: retried && lastAttempt ? lastAttempt.retryCount + 1 : 0,
          failed: false,
        };
        lastAttempt = attempt;
        invocations += 1;
        const call: InvocationCall = {
          executionArn,
          stateName,
          handler,
          retryCount: attempt.retryCount,
          n: invocations,
        };
        const timing = this.options.invocations?.(call) ?? {};
        const withContext = this.withStateContext(taskInput, fields, attempt);
        const outcome = state.Resource.endsWith('.waitForTaskToken')
          ? this.runWaitTask(deps, call, engineFn, withContext, timing, track)
          : this.runTask(deps, call, engineFn, withContext, timing, track);
        outcome.catch(() => {
          attempt.failed = true;
        });
        return outcome;
      };
    }
    const retryIntervalOverrides =
      this.options.retryDelayMs === undefined
        ? undefined
        : Object.fromEntries(
            Object.keys(overrides).map((stateName) => [stateName, this.options.retryDelayMs!]),
          );

    const execution = this.machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: overrides as never,
        ...(retryIntervalOverrides ? { retryIntervalOverrides } : {}),
      },
      context: {
        Execution: { Id: executionArn, Name: name },
        StateMachine: { Id: this.stateMachineArn, Name: this.options.stateMachineName ?? 'swing-rollout' },
        State: { EnteredTime: ENTERED_TIME_STAND_IN, RetryCount: RETRY_COUNT_STAND_IN },
        Task: { Token: 'replaced-per-task' },
      } as never,
    });

    const events: EventLog[] = [];
    const drained = (async () => {
      for await (const event of execution.eventLogs) events.push(event);
    })().catch(() => {});

    const settle = async (): Promise<ExecutionResult> => {
      try {
        return { status: 'SUCCEEDED', output: await execution.result };
      } catch (error) {
        if (error instanceof ExecutionAbortedError) return { status: 'ABORTED' };
        const cause = (error as { cause?: unknown }).cause;
        if (cause instanceof Error) return { status: 'FAILED', error: cause.name, cause: cause.message };
        return { status: 'FAILED', error: 'States.Runtime', cause: String(error) };
      }
    };
    const allInvocationsDone = async () => {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    };

    const result = (async () => {
      const ended = await settle();
      // DescribeExecution reports the end at once; the Lambdas it started may still run (StopExecution).
      this.executions.set(executionArn, { status: ended.status, stoppedAt: new Date() });
      // A stopped execution's open bake or gate ends with it; an in-flight Lambda still runs to completion.
      stopped = true;
      this.dropTasksOf(executionArn);
      if ((this.options.statusEventTiming ?? 'after-tasks') === 'after-tasks') await allInvocationsDone();
      await drained;
      if (ended.status === 'SUCCEEDED') return ended;
      const status = ended.status === 'ABORTED' ? 'ABORTED' : 'FAILED';
      if (this.options.deliverStatusEvent && !this.options.deliverStatusEvent(executionArn, status)) {
        return { ...ended, statusEventLost: true as const };
      }
      const action = await safetyNet(
        { ...deps, executions: this },
        {
          source: 'aws.states',
          'detail-type': 'Step Functions Execution Status Change',
          time: new Date().toISOString(),
          detail: { executionArn, stateMachineArn: this.stateMachineArn, status },
        },
      );
      return { ...ended, safetyNet: action };
    })();
    const idle = result.then(allInvocationsDone, allInvocationsDone);

    return {
      executionArn,
      result,
      idle,
      stop: () => {
        stopped = true;
        execution.abort();
      },
      transitions: () => events.filter((event) => event.type === 'StateEntered').length,
      events,
    };
  }

  private taskStates(): Record<string, TaskState> {
    const definition = loadDefinition(localFunctionArn) as { States: Record<string, TaskState> };
    return Object.fromEntries(Object.entries(definition.States).filter(([, state]) => state.Type === 'Task'));
  }

  private handlerFor(state: TaskState): HandlerName {
    const arn = state.Resource.startsWith('arn:aws:states:::')
      ? state.Parameters?.FunctionName
      : state.Resource;
    const handler = arn?.split(':function:swing-')[1] as HandlerName | undefined;
    if (!handler || !(handler in ENGINE)) throw new Error(`no local handler for task resource ${arn}`);
    return handler;
  }

  /** The task's input with this attempt's `$$.State.EnteredTime` and `$$.State.RetryCount` in place. */
  private withStateContext(
    input: unknown,
    fields: ReturnType<typeof contextFields>,
    attempt: { enteredTime: string; retryCount: number },
  ): unknown {
    if (fields.enteredTime.length === 0 && fields.retryCount.length === 0) return input;
    const copy = structuredClone(input) as { Payload?: Record<string, unknown> } & Record<string, unknown>;
    const target = copy.Payload ?? copy;
    for (const field of fields.enteredTime) target[field] = attempt.enteredTime;
    for (const field of fields.retryCount) target[field] = attempt.retryCount;
    return copy;
  }

  /** Lambda semantics: JSON in, JSON out, errors named by their class. */
  private async invoke(
    deps: EngineDeps,
    engineFn: (deps: EngineDeps, event: unknown) => Promise<unknown>,
    input: unknown,
  ): Promise<unknown> {
    try {
      const output = await engineFn(deps, JSON.parse(JSON.stringify(input)));
      return output === undefined ? null : JSON.parse(JSON.stringify(output));
    } catch (error) {
      throw asLambdaError(error);
    }
  }

  /**
   * One invocation, after its start delay. The attempt ends with its answer, or with Lambda.ServiceException
   * when the answer is lost, and then the function runs on: it stays tracked until it ends.
   */
  private runTask(
    deps: EngineDeps,
    call: InvocationCall,
    engineFn: (deps: EngineDeps, event: unknown) => Promise<unknown>,
    input: unknown,
    timing: InvocationTiming,
    track: <T>(promise: Promise<T>) => Promise<T>,
  ): Promise<unknown> {
    const running = track(
      sleep(timing.startDelayMs ?? 0).then(() =>
        runningInvocation.run(call, () => this.invoke(deps, engineFn, input)),
      ),
    );
    if (timing.answerLostAfterMs === undefined) return running;
    running.catch(() => {});
    return sleep(timing.answerLostAfterMs).then(() => {
      throw lostAnswer();
    });
  }

  /**
   * `.waitForTaskToken`: invoke the function with a fresh token and wait for a callback, the timeout, or the
   * invocation's failure, whichever comes first. As on AWS the timeout races the invocation: it runs from the
   * attempt's start, and a slow invocation runs on after it, its token dead.
   */
  private runWaitTask(
    deps: EngineDeps,
    call: InvocationCall,
    engineFn: (deps: EngineDeps, event: unknown) => Promise<unknown>,
    input: unknown,
    timing: InvocationTiming,
    track: <T>(promise: Promise<T>) => Promise<T>,
  ): Promise<unknown> {
    const { executionArn, stateName } = call;
    const payload = (input as { Payload: { timeoutSeconds: number } }).Payload;
    this.counter += 1;
    const token = `local-token-${this.counter}-${Math.random().toString(36).slice(2)}`;
    const waiting = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.takeTask(token)) reject(stateError('States.Timeout', 'the task timed out'));
      }, payload.timeoutSeconds * this.msPerSecond);
      this.openTasks.set(token, { executionArn, stateName, resolve, reject, timer });
    });
    // A callback can fail the token while the opening task itself fails: nobody awaits `waiting` then.
    waiting.catch(() => {});
    const endWith = (error: Error) => {
      const task = this.takeTask(token);
      task?.reject(error);
    };
    const running = track(
      sleep(timing.startDelayMs ?? 0).then(() =>
        runningInvocation.run(call, () => this.invoke(deps, engineFn, { ...payload, taskToken: token })),
      ),
    );
    // The invocation failing fails the task, if it is still open; its success only means it stored the token.
    running.catch((error: Error) => endWith(error));
    if (timing.answerLostAfterMs !== undefined) {
      void sleep(timing.answerLostAfterMs).then(() => endWith(lostAnswer()));
    }
    return waiting;
  }

  private dropTasksOf(executionArn: string): void {
    for (const [token, task] of this.openTasks) {
      if (task.executionArn === executionArn) {
        this.openTasks.delete(token);
        clearTimeout(task.timer);
        task.reject(stateError('States.Aborted', 'the execution ended'));
      }
    }
  }
}

/** What Step Functions reports when a Lambda invocation's answer does not come back. */
function lostAnswer(): Error {
  return stateError(
    'Lambda.ServiceException',
    JSON.stringify({ errorType: 'Lambda.ServiceException', errorMessage: 'the invocation answer was lost' }),
  );
}
