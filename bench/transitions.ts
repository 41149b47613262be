import { readFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';
import { handleAlarmEvent } from '#domain/engine/alarm-event.ts';
import { makeWorld } from '#test/support/rollout-world.ts';

export interface TransitionRow {
  readonly steps: number;
  readonly bakeSeconds: number;
  readonly swing: number;
  /** The same plan in reads-first mode: its steps move the read rules, then the write cutover (replay-lag gate). */
  readonly readsFirst: number;
  readonly polling: number;
  readonly ratio: number;
}

export interface ReplayWaitRow {
  readonly waitSeconds: number;
  /** A reads-first rollout of one step that waits this long for the replayer before it goes. */
  readonly transitions: number;
}

function evenPlan(steps: number, bakeSeconds: number): string {
  return Array.from(
    { length: steps },
    (_, i) => `${Math.round(((i + 1) * 1000) / steps) / 10}:${bakeSeconds}`,
  ).join(',');
}

/** Swing's real ASL and engine; bakes run on a scaled clock, so an hour costs milliseconds. */
async function swingTransitions(
  steps: number,
  bakeSeconds: number,
  traffic: 'all' | 'reads-first' = 'all',
): Promise<number> {
  const world = makeWorld({ msPerSecond: 5 / bakeSeconds });
  const execution = world.start({
    plan: evenPlan(steps, bakeSeconds),
    ...(traffic === 'reads-first'
      ? {
          traffic,
          readsFirst: {
            cutoverGate: 'replay-lag',
            cutoverBakeSeconds: bakeSeconds,
            scrollKeepAliveSeconds: 0,
          },
        }
      : {}),
  });
  const result = await execution.result;
  if (result.status !== 'SUCCEEDED') throw new Error(`swing run failed: ${JSON.stringify(result)}`);
  return execution.transitions();
}

const POLL_SECONDS = 30;

/** The polling baseline: the same rollout, with every bake a 30 s wait-and-check loop. */
async function pollingTransitions(steps: number, bakeSeconds: number): Promise<number> {
  const definition = JSON.parse(
    readFileSync(new URL('./polling-baseline.asl.json', import.meta.url), 'utf8'),
  );
  const machine = new StateMachine(definition);
  let index = 0;
  const execution = machine.run(
    {},
    {
      overrides: {
        taskResourceLocalHandlers: {
          Preflight: async () => ({ index: 0, done: false }),
          SmokeTest: async () => ({}),
          ShiftWeights: async () => ({ pollsLeft: Math.ceil(bakeSeconds / POLL_SECONDS) }),
          PollAlarms: async (input) => (input as { pollsLeft: number }).pollsLeft - 1,
          AfterBake: async () => {
            index += 1;
            return { index, done: index >= steps };
          },
          Complete: async () => ({}),
        },
        waitTimeOverrides: { WaitPoll: 0 },
      },
    },
  );
  let entered = 0;
  const counting = (async () => {
    for await (const event of execution.eventLogs) if (event.type === 'StateEntered') entered += 1;
  })();
  await execution.result;
  await counting;
  return entered;
}

export async function measureTransitions(stepCounts = [1, 5, 10]): Promise<TransitionRow[]> {
  const rows: TransitionRow[] = [];
  for (const steps of stepCounts) {
    for (const bakeSeconds of [60, 3600]) {
      const swing = await swingTransitions(steps, bakeSeconds);
      const readsFirst = await swingTransitions(steps, bakeSeconds, 'reads-first');
      const polling = await pollingTransitions(steps, bakeSeconds);
      rows.push({
        steps,
        bakeSeconds,
        swing,
        readsFirst,
        polling,
        ratio: Math.round((polling / swing) * 10) / 10,
      });
    }
  }
  return rows;
}

/** The largest bound of a wait for the replayer (replayWaitSeconds, a day). */
const REPLAY_WAIT_BOUND_SECONDS = 86_400;

/**
 * The wait for the replayer is a task token like the bake: its length costs no transition. A one-step
 * reads-first rollout meets a lagging replayer, waits `waitSeconds` (plan seconds, scaled), and goes on when the
 * lag alarm's return to OK arrives, as EventBridge would deliver it.
 */
async function replayWaitTransitions(waitSeconds: number): Promise<number> {
  // The wait's bound at its largest (a day) is ten real seconds: the OK below wins however busy the machine is
  // (a bound of ten times the wait, 50 ms real, lost that race on a loaded machine).
  const msPerSecond = 10_000 / REPLAY_WAIT_BOUND_SECONDS;
  const world = makeWorld({ msPerSecond });
  let lagging = true;
  const lagAlarm = 'swing-replay-lag';
  const deps = {
    ...world.deps,
    replayLagAlarm: lagAlarm,
    replayLag: {
      check: async () => ({ caughtUp: !lagging, detail: lagging ? 'lagging' : 'caught up' }),
    },
  };
  const execution = world.sfn.start(deps, {
    plan: '100:1',
    traffic: 'reads-first',
    readsFirst: {
      cutoverGate: 'replay-lag',
      cutoverBakeSeconds: 1,
      scrollKeepAliveSeconds: 0,
      replayWaitSeconds: REPLAY_WAIT_BOUND_SECONDS,
    },
  });
  await world.until(
    (rollout) => rollout?.status === 'waiting-replay' && rollout.taskKind === 'replay' && !!rollout.taskToken,
    'the wait for the replayer',
  );
  // `waitSeconds` of lag on the scaled clock, then the alarm's return to OK.
  await new Promise((resolve) => setTimeout(resolve, waitSeconds * msPerSecond));
  lagging = false;
  await handleAlarmEvent(deps, {
    source: 'aws.cloudwatch',
    'detail-type': 'CloudWatch Alarm State Change',
    time: new Date().toISOString(),
    detail: { alarmName: lagAlarm, state: { value: 'OK', reason: 'caught up' } },
  });
  const result = await execution.result;
  if (result.status !== 'SUCCEEDED') throw new Error(`reads-first run failed: ${JSON.stringify(result)}`);
  return execution.transitions();
}

export async function measureReplayWait(): Promise<ReplayWaitRow[]> {
  const rows: ReplayWaitRow[] = [];
  for (const waitSeconds of [60, 3600])
    rows.push({ waitSeconds, transitions: await replayWaitTransitions(waitSeconds) });
  return rows;
}
