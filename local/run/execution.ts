import { type ClientTraffic, startClientTraffic } from '../client-traffic.ts';
import type { ExecutionResult } from '../executor.ts';
import type { LocalOptions } from '../options.ts';
import { LOCAL_INITIAL_DOCUMENTS, type LocalIo } from '../summary.ts';
import type { LocalTimeline } from '../timeline.ts';
import type { LiveView } from '../view.ts';
import type { LocalEngine } from './engine.ts';
import { operatorControls } from './operator-controls.ts';
import type { LocalServers } from './servers.ts';
import { TargetFaults, watchAlarms, watchProgress } from './watches.ts';

export interface ExecutionRun {
  readonly result: ExecutionResult;
  /** State transitions (StateEntered events), the unit Step Functions bills. */
  transitions(): number;
  /** Still sending: the drain stops it. */
  readonly traffic: ClientTraffic;
  /** Ctrl-C stopped the execution. */
  readonly interrupted: boolean;
  readonly firstAlarmAt: number | undefined;
}

/**
 * The execution with everything around it: the alarms watched, the target's faults, the clients' traffic, the
 * operator's keys and flags, a frame of the live view every 100 ms. All of it but the traffic stops when the
 * execution ends.
 */
export async function runExecution(
  options: LocalOptions,
  io: LocalIo,
  servers: LocalServers,
  engine: LocalEngine,
  run: {
    readonly timeline: LocalTimeline;
    readonly view: LiveView;
    readonly random: () => number;
    readonly alarmIntervalMs: number;
  },
): Promise<ExecutionRun> {
  const { timeline, view } = run;
  const alarmWatch = watchAlarms(engine, timeline, run.alarmIntervalMs);
  const faults = new TargetFaults(options, servers.target, timeline);
  faults.apply(0);
  const traffic = startClientTraffic({
    url: `http://127.0.0.1:${servers.alb.ports.weighted}`,
    ratePerSecond: options.rate,
    writeRatio: options.writeRatio,
    initialDocuments: LOCAL_INITIAL_DOCUMENTS,
    random: run.random,
  });
  const execution = engine.sfn.start(engine.deps, executionInput(options), { name: 'local' });
  const controls = operatorControls(options, io, engine, timeline, execution);
  const stopProgress = watchProgress(servers, engine, view, faults, traffic);
  let result: ExecutionResult;
  try {
    result = await execution.result;
  } finally {
    stopProgress();
    alarmWatch.stop();
    controls.stop();
  }
  return {
    result,
    transitions: () => execution.transitions(),
    traffic,
    interrupted: controls.interrupted(),
    firstAlarmAt: alarmWatch.firstAlarmAt(),
  };
}

/** The execution input of a local run: the plan, the traffic mode, and the reads-first settings scaled to seconds. */
function executionInput(options: LocalOptions): Record<string, unknown> {
  return {
    plan: options.planSpec,
    requestedBy: 'swing local',
    traffic: options.traffic,
    ...(options.traffic === 'reads-first'
      ? {
          readsFirst: {
            cutoverGate: options.cutoverGate,
            afterCutover: options.afterCutover,
            cutoverBakeSeconds: 3,
            scrollKeepAliveSeconds: 2,
            replayWaitSeconds: 30,
          },
        }
      : {}),
    // `then: restore`, spelled so that the input object is not taken for a thenable.
    ...(options.rehearsal ? Object.fromEntries([['then', 'restore']]) : {}),
    ...(options.acceptWritesOnTarget ? { acceptWritesOnTarget: true } : {}),
  };
}
