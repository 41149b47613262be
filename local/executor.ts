import { ExecutionAbortedError, StateMachine } from 'aws-local-stepfunctions';
import {
  afterBake,
  type EngineDeps,
  finalize,
  openWaitTask,
  preflight,
  rollback,
  type SafetyNetAction,
  safetyNet,
  shiftWeights,
  smokeTest,
} from '#domain/rollout.ts';
import type { TaskCallbackPort } from '#domain/types.ts';
import { type FUNCTION_PLACEHOLDERS, loadDefinition, localFunctionArn } from '../statemachine/definition.ts';

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
  /** Settles when the execution has ended and, for FAILED/ABORTED, the safety net has run (as EventBridge would). */
  readonly result: Promise<ExecutionResult & { readonly safetyNet?: SafetyNetAction }>;
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
}

interface OpenTask {
  readonly executionArn: string;
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
export class LocalStepFunctions implements TaskCallbackPort {
  private readonly openTasks = new Map<string, OpenTask>();
  private readonly machine: StateMachine;
  private readonly msPerSecond: number;
  private counter = 0;

  constructor(private readonly options: LocalStepFunctionsOptions = {}) {
    this.msPerSecond = options.msPerSecond ?? 1000;
    // The scaled clock below replaces the library's own task timeouts; ARN syntax is ours to choose.
    this.machine = new StateMachine(withLibraryTimeoutPaths(loadDefinition(localFunctionArn)) as never, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
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
    const inFlight = new Set<Promise<unknown>>();
    // After StopExecution the library may still re-invoke a task whose retry pause the abort cut short.
    let stopped = false;
    const track = <T>(promise: Promise<T>): Promise<T> => {
      inFlight.add(promise);
      void promise.finally(() => inFlight.delete(promise)).catch(() => {});
      return promise;
    };

    const overrides: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [stateName, state] of Object.entries(this.taskStates())) {
      const handler = this.handlerFor(state);
      const engineFn = ENGINE[handler];
      overrides[stateName] = (taskInput) => {
        if (stopped) return Promise.reject(stateError('States.Aborted', 'the execution was stopped'));
        return track(
          state.Resource.endsWith('.waitForTaskToken')
            ? this.runWaitTask(deps, executionArn, engineFn, taskInput)
            : this.invoke(deps, engineFn, taskInput),
        );
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
        Task: { Token: 'replaced-per-task' },
      },
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

    const result = (async () => {
      const ended = await settle();
      // A stopped execution's open bake or gate ends with it; an in-flight Lambda still runs to completion.
      stopped = true;
      this.dropTasksOf(executionArn);
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      await drained;
      if (ended.status === 'SUCCEEDED') return ended;
      const status = ended.status === 'ABORTED' ? 'ABORTED' : 'FAILED';
      const action = await safetyNet(deps, {
        source: 'aws.states',
        'detail-type': 'Step Functions Execution Status Change',
        time: new Date().toISOString(),
        detail: { executionArn, stateMachineArn: this.stateMachineArn, status },
      });
      return { ...ended, safetyNet: action };
    })();

    return {
      executionArn,
      result,
      stop: () => {
        stopped = true;
        execution.abort();
      },
      transitions: () => events.filter((event) => event.type === 'StateEntered').length,
      events,
    };
  }

  private taskStates(): Record<string, { Resource: string; Parameters?: { FunctionName?: string } }> {
    const definition = loadDefinition(localFunctionArn) as {
      States: Record<string, { Type: string; Resource: string; Parameters?: { FunctionName?: string } }>;
    };
    return Object.fromEntries(Object.entries(definition.States).filter(([, state]) => state.Type === 'Task'));
  }

  private handlerFor(state: { Resource: string; Parameters?: { FunctionName?: string } }): HandlerName {
    const arn = state.Resource.startsWith('arn:aws:states:::')
      ? state.Parameters?.FunctionName
      : state.Resource;
    const handler = arn?.split(':function:swing-')[1] as HandlerName | undefined;
    if (!handler || !(handler in ENGINE)) throw new Error(`no local handler for task resource ${arn}`);
    return handler;
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

  /** `.waitForTaskToken`: invoke the function with a fresh token, then wait for a callback or the timeout. */
  private async runWaitTask(
    deps: EngineDeps,
    executionArn: string,
    engineFn: (deps: EngineDeps, event: unknown) => Promise<unknown>,
    input: unknown,
  ): Promise<unknown> {
    const payload = (input as { Payload: { timeoutSeconds: number } }).Payload;
    this.counter += 1;
    const token = `local-token-${this.counter}-${Math.random().toString(36).slice(2)}`;
    const waiting = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.takeTask(token)) reject(stateError('States.Timeout', 'the task timed out'));
      }, payload.timeoutSeconds * this.msPerSecond);
      this.openTasks.set(token, { executionArn, resolve, reject, timer });
    });
    // A callback can fail the token while the opening task itself fails: nobody awaits `waiting` then.
    waiting.catch(() => {});
    try {
      await this.invoke(deps, engineFn, { ...payload, taskToken: token });
    } catch (error) {
      this.takeTask(token);
      throw error;
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
