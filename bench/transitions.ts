import { readFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';
import { makeWorld } from '#test/support/rollout-world.ts';

export interface TransitionRow {
  readonly steps: number;
  readonly bakeSeconds: number;
  readonly swing: number;
  readonly polling: number;
  readonly ratio: number;
}

function evenPlan(steps: number, bakeSeconds: number): string {
  return Array.from(
    { length: steps },
    (_, i) => `${Math.round(((i + 1) * 1000) / steps) / 10}:${bakeSeconds}`,
  ).join(',');
}

/** Swing's real ASL and engine; bakes run on a scaled clock, so an hour costs milliseconds. */
async function swingTransitions(steps: number, bakeSeconds: number): Promise<number> {
  const world = makeWorld({ msPerSecond: 5 / bakeSeconds });
  const execution = world.start({ plan: evenPlan(steps, bakeSeconds) });
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

export async function measureTransitions(): Promise<TransitionRow[]> {
  const rows: TransitionRow[] = [];
  for (const steps of [1, 5, 10]) {
    for (const bakeSeconds of [60, 3600]) {
      const swing = await swingTransitions(steps, bakeSeconds);
      const polling = await pollingTransitions(steps, bakeSeconds);
      rows.push({ steps, bakeSeconds, swing, polling, ratio: Math.round((polling / swing) * 10) / 10 });
    }
  }
  return rows;
}
