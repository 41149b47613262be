import { writeFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { renderReportHtml } from '#report/html.ts';
import type { LocalAlb } from './alb.ts';
import type { ClientTrafficCounts } from './client-traffic.ts';
import type { LocalEvent } from './events.ts';
import type { LocalOptions } from './options.ts';
import { localReportData } from './report.ts';
import { TargetRequestKinds } from './request-kinds.ts';
import { LOCAL_LISTENER_ARN, type LocalEngine, localEngine } from './run/engine.ts';
import { type ExecutionRun, runExecution } from './run/execution.ts';
import { measureLocalDivergence } from './run/measure.ts';
import { closeAll, type LocalServers, startServers } from './run/servers.ts';
import { summarize } from './summarize.ts';
import {
  EXIT,
  LOCAL_INITIAL_DOCUMENTS,
  type LocalDivergence,
  type LocalIo,
  type LocalSummary,
} from './summary.ts';
import { allModeWarning } from './summary-text.ts';
import { LocalTimeline } from './timeline.ts';
import { LiveView } from './view.ts';

export { LOCAL_LISTENER_ARN, LOCAL_REPLAY_LAG_ALARM, replayThresholdMs } from './run/engine.ts';
export { measureLocalDivergence } from './run/measure.ts';
export { isPortInUse } from './run/servers.ts';
export type { LocalDivergence, LocalIo, LocalSummary, StepSummary, TerminalSize } from './summary.ts';
// The run's callers (local/main.ts, the CLI, the tests) find its results and parts where they always did.
export { EXIT, LOCAL_INITIAL_DOCUMENTS };

/**
 * The local mode: stand-in clusters behind a local ALB with real HTTP traffic, and the real state machine
 * and engine driving the weights. Nothing here talks to AWS. Its phases: start the servers, record the run
 * (the timeline and the live view), build the engine over the servers, run the execution, drain the clients,
 * measure, summarize.
 */
export async function runLocal(
  options: LocalOptions,
  io: LocalIo,
  tuning: { msPerSecond?: number; alarmIntervalMs?: number } = {},
): Promise<{ exitCode: number; summary: LocalSummary; events: readonly LocalEvent[] }> {
  const startedAt = Date.now();
  const random = seeded(options.seed ?? 42);
  const targetKinds = new TargetRequestKinds();
  const servers = await startServers(options, random, targetKinds.onRouted);
  const { timeline, view, startingWeights } = startRecording(options, io, servers.alb, targetKinds);
  const engine = localEngine(options, servers, timeline, tuning.msPerSecond ?? 1000);
  const run = await runExecution(options, io, servers, engine, {
    timeline,
    view,
    random,
    alarmIntervalMs: tuning.alarmIntervalMs ?? 200,
  });
  const clients = await drain(run);
  const { rollout, divergence } = await measure(servers, engine, timeline, view, clients);
  const summary = summarize({
    result: run.result,
    rollout,
    interrupted: run.interrupted,
    startingWeights,
    finalWeights: servers.alb.getWeights(),
    writes: engine.writes,
    firstAlarmAt: run.firstAlarmAt,
    transitions: run.transitions(),
    clients,
    divergence,
    traffic: options.traffic,
    target: servers.target,
    swingRulesLeft: await engine.swingRulesLeft(),
    startedAt,
    endTotals: servers.alb.totals().weighted,
    plan: options.plan,
    timeline,
  });
  report(options, io, view, summary);
  await closeAll(servers.started);
  return { exitCode: exitCodeOf(summary), summary, events: summary.timeline.events };
}

/** The run's one record of events (the timeline) from the starting weights on, and the live view that draws it. */
function startRecording(options: LocalOptions, io: LocalIo, alb: LocalAlb, targetKinds: TargetRequestKinds) {
  alb.setWeights({ source: 1, target: 0 });
  const startingWeights = alb.getWeights();
  const timeline = new LocalTimeline(alb, Date.now, () => targetKinds.counts());
  const view = new LiveView({
    io,
    json: options.json,
    plan: options.plan,
    log: timeline,
    traffic: options.traffic,
    reverseCapture: options.reverseCapture,
    ...(options.promoteAt !== undefined ? { promoteAt: options.promoteAt } : {}),
  });
  view.notice(allModeWarning(options));
  timeline.recordWeights(startingWeights);
  timeline.start();
  return { timeline, view, startingWeights };
}

/** Lets the clients see the final weights for a moment (not after Ctrl-C), then stops them and counts. */
async function drain(run: ExecutionRun): Promise<ClientTrafficCounts> {
  if (!run.interrupted) await new Promise((resolve) => setTimeout(resolve, 300));
  return run.traffic.stop();
}

/** The rollout as it ended and, between two stand-ins, where the run's writes went; then the last frame. */
async function measure(
  servers: LocalServers,
  engine: LocalEngine,
  timeline: LocalTimeline,
  view: LiveView,
  clients: ClientTrafficCounts,
) {
  const { source, target, proxy, targetProxy, alb } = servers;
  const record = await engine.store.get(LOCAL_LISTENER_ARN);
  const rollout = record?.history.at(-1) ?? record?.rollout;
  // A rollback after the cutover restored with the run's last weight write (a hold restores nothing).
  const restoredAt =
    rollout?.exposure && rollout.exposure.policy !== 'hold' ? engine.writes.at(-1)?.at : undefined;
  const reverse = targetProxy
    ? { proxy: targetProxy, ...(restoredAt !== undefined ? { restoredAt } : {}) }
    : undefined;
  const divergence: LocalDivergence | undefined =
    source && target && proxy
      ? await measureLocalDivergence(source, target, proxy, rollout, reverse, restoredAt)
      : undefined;
  timeline.stop();
  // The last frame shows how the run ended, not the phase the last tick happened to catch.
  view.render({
    rollout,
    weights: alb.getWeights(),
    alb,
    alarms: await engine.alarms.evaluate(),
    traffic: clients,
  });
  return { rollout, divergence };
}

/** The HTML report if asked for, and the summary on screen (or as --json). */
async function report(
  options: LocalOptions,
  io: LocalIo,
  view: LiveView,
  summary: LocalSummary,
): Promise<void> {
  if (options.report) writeFileSync(options.report, renderReportHtml(localReportData(summary)));
  view.finish(summary);
  // Said last, so that it is on screen with the outcome: where the report went.
  if (options.report && !options.json) io.stdout(`report: ${resolvePath(options.report)}\n`);
}

function exitCodeOf(summary: LocalSummary): number {
  return summary.outcome === 'completed' || summary.outcome === 'rehearsed'
    ? EXIT.completed
    : summary.outcome === 'interrupted'
      ? EXIT.interrupted
      : summary.outcome === 'rolled-back'
        ? EXIT.rolledBack
        : EXIT.haltedOrInternal;
}

/** A small deterministic PRNG (mulberry32) so a seed reproduces the traffic split. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
