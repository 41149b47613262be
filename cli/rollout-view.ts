import { runSteps } from '#domain/reads-first.ts';
import { malformedRecord } from '#domain/record-check.ts';
import type { Rollout, Weights } from '#domain/types.ts';
import { formatWeights, sameWeights, weightsToPercent } from '#domain/weights.ts';
import { printableDeep } from '#report/printable.ts';
import { CliFailure, ExitCodes } from './exit-codes.ts';
import { endedTrafficLines, readsFirstStatusLines, trafficLine } from './reads-first-status.ts';
import {
  durationText,
  executionName,
  loud,
  percentText,
  progressBar,
  publicRollout,
  secondsBetween,
} from './render.ts';
import { endOf, type RolloutEnd } from './rollout-end.ts';
import { alarmLines, lastRolloutLine, malformedRecordLines, unswungRuleLines } from './status-lines.ts';
import {
  endedHolderView,
  readSnapshot,
  type StatusSnapshot,
  type StatusSources,
  safetyNetDueAt,
} from './status-snapshot.ts';

type Drift = 'none' | 'writing' | 'drift';

/** Drift as the controller judges it (I4): neither what it last wrote nor the write it has begun. */
function driftOf(rollout: Rollout, weights: Weights): Drift {
  // A damaged record cannot say what Swing wrote: the RECORD line says so instead.
  if (malformedRecord(rollout)) return 'none';
  if (sameWeights(weights, rollout.lastWritten)) return 'none';
  if (rollout.pendingWeights && sameWeights(weights, rollout.pendingWeights)) return 'writing';
  return 'drift';
}

function targetPercentOf(weights: Weights): number | undefined {
  try {
    return weightsToPercent(weights);
  } catch {
    return undefined;
  }
}

function secondsLeft(snapshot: StatusSnapshot, rollout: Rollout): number | undefined {
  if (!rollout.bakeEndsAt) return undefined;
  return Math.max(0, secondsBetween(snapshot.at, rollout.bakeEndsAt));
}

export function snapshotJson(snapshot: StatusSnapshot) {
  const record = snapshot.record;
  const running = Boolean(record?.lockOwner);
  const rollout = record?.rollout;
  const weights = snapshot.weights;
  const endedHolder = endedHolderView(snapshot);
  return {
    listenerArn: snapshot.listenerArn,
    at: snapshot.at.toISOString(),
    weights: weights ?? null,
    targetPercent: weights ? (targetPercentOf(weights) ?? null) : null,
    ...(snapshot.weightsProblem ? { weightsProblem: snapshot.weightsProblem } : {}),
    stickinessSeconds: snapshot.stickinessSeconds ?? null,
    running,
    lockOwner: record?.lockOwner ?? null,
    lockOwnerStatus: snapshot.lockOwnerStatus ?? null,
    staleLock: endedHolder?.stale ?? false,
    safetyNetDueAt: running ? (safetyNetDueAt(snapshot)?.toISOString() ?? null) : null,
    reconcilerDueAt:
      endedHolder && !endedHolder.safetyNetDue && !endedHolder.stale
        ? endedHolder.reconcilerDue.toISOString()
        : null,
    reconcileFailures: running ? (rollout?.reconcileFailures ?? 0) : 0,
    drift: running && rollout && weights ? driftOf(rollout, weights) === 'drift' : false,
    step: rollout ? { number: rollout.stepIndex + 1, of: runSteps(rollout).length } : null,
    secondsLeft: running && rollout ? (secondsLeft(snapshot, rollout) ?? null) : null,
    traffic: rollout ? (rollout.traffic ?? 'all') : null,
    planEnd: rollout ? (rollout.planEnd ?? 'hold') : null,
    // Reads-first: the read rules' weights as Swing last wrote them; the write share is the listener's `weights`.
    reads: rollout?.traffic === 'reads-first' ? (rollout.readsWritten ?? null) : null,
    waitingForReplay: running && rollout?.status === 'waiting-replay',
    cutoverAt: rollout?.cutoverAt ?? null,
    // Preflight's verdict: would a rollback after the cutover lose nothing (reverse capture), and what limits it.
    losslessRollback: rollout?.losslessRollback ?? null,
    exposure: rollout?.exposure ?? null,
    alarms: snapshot.alarms.alarms,
    rollout: rollout ? publicRollout(rollout) : null,
  };
}

/** The human status screen. */
/** Text from outside Swing in it is made printable first (no escape sequence reaches the terminal). */
export function renderSnapshot(snapshot: StatusSnapshot, isTTY: boolean): string {
  return renderSnapshotText(printableDeep(snapshot), isTTY);
}

function renderSnapshotText(snapshot: StatusSnapshot, isTTY: boolean): string {
  const lines: [string, string][] = [['Listener', snapshot.listenerArn]];
  const record = snapshot.record;
  const rollout = record?.rollout;
  const running = Boolean(record?.lockOwner);
  const weights = snapshot.weights;

  if (weights) lines.push(['Weights', `${formatWeights(weights)}, read from the listener`]);
  else lines.push(['Weights', loud(`unreadable: ${snapshot.weightsProblem ?? 'unknown'}`, isTTY)]);
  if (snapshot.stickinessSeconds !== undefined) {
    lines.push([
      'Stickiness',
      `on, ${durationText(snapshot.stickinessSeconds)}: clients stay on their target group that long, ` +
        'so real traffic lags these weights',
    ]);
  }

  if (!rollout) {
    lines.push(['Rollout', 'none recorded for this listener: start one with `swing start --plan canary`']);
  } else if (running) {
    lines.push(...runningLines(snapshot, rollout, isTTY));
    lines.push(...malformedRecordLines(rollout, isTTY));
    lines.push(...unswungRuleLines(rollout));
  } else {
    lines.push(['Rollout', 'none running']);
    lines.push(['Last', lastRolloutLine(rollout)]);
    lines.push(...endedTrafficLines(rollout, isTTY));
    if (weights && !malformedRecord(rollout) && !sameWeights(weights, rollout.lastWritten)) {
      lines.push([
        'Changed',
        `the listener changed since that rollout ended (it left ${formatWeights(rollout.lastWritten)})`,
      ]);
    }
    lines.push(...unswungRuleLines(rollout));
  }
  lines.push(...alarmLines(snapshot.alarms));
  const width = Math.max(...lines.map(([label]) => label.length));
  return lines.map(([label, text]) => `${label.padEnd(width)}  ${text}`).join('\n');
}

function runningLines(snapshot: StatusSnapshot, rollout: Rollout, isTTY: boolean): [string, string][] {
  const lines: [string, string][] = [];
  const steps = runSteps(rollout).length;
  const started = durationText(secondsBetween(rollout.startedAt, snapshot.at));
  lines.push([
    'Rollout',
    `${executionName(rollout.executionArn)}: ${rollout.status}, step ${rollout.stepIndex + 1} of ${steps}, ` +
      `started ${started} ago`,
  ]);
  lines.push(['Traffic', trafficLine(rollout)]);
  const owner = snapshot.record?.lockOwner ?? '';
  const endedHolder = endedHolderView(snapshot);
  if (endedHolder?.safetyNetDue) {
    lines.push([
      'Safety net',
      `execution ${executionName(owner)} is ${snapshot.lockOwnerStatus}: the safety net restores the starting ` +
        `weights and frees the lock by ${endedHolder.safetyNetDue.toISOString()}, once no task of it can still write`,
    ]);
  } else if (endedHolder && !endedHolder.stale) {
    lines.push([
      'Reconciler',
      `execution ${executionName(owner)} is ${snapshot.lockOwnerStatus} and still holds the lock: the ` +
        'reconciler restores the starting weights and frees the lock by ' +
        `${endedHolder.reconcilerDue.toISOString()} (its status event was lost, or the safety net failed)`,
    ]);
  } else if (endedHolder) {
    lines.push([
      'STALE LOCK',
      loud(
        `execution ${executionName(owner)} is ${snapshot.lockOwnerStatus} but still holds the lock, and the ` +
          `reconciler should have freed it by ${endedHolder.reconcilerDue.toISOString()}: check its logs, then ` +
          'restore and free it with `swing rollback --force --release-lock`',
        isTTY,
      ),
    ]);
  }
  if (rollout.reconcileFailures) {
    lines.push([
      'Reconciler',
      loud(
        `could not learn whether execution ${executionName(owner)} still runs, ${rollout.reconcileFailures} ` +
          'runs in a row (DescribeExecution failed): it leaves the lock held until it can',
        isTTY,
      ),
    ]);
  }
  const weights = snapshot.weights;
  const percent = weights ? targetPercentOf(weights) : undefined;
  const finalPercent = rollout.plan.steps.at(-1)?.targetPercent ?? 100;
  if (rollout.traffic === 'reads-first') {
    lines.push(...readsFirstStatusLines(snapshot.at, rollout, percent, isTTY));
  } else if (percent !== undefined) {
    lines.push([
      'Progress',
      `${progressBar(percent / 100)} ${percentText(percent)} to the target; the plan ends at ${finalPercent} %`,
    ]);
  }
  if (weights) {
    const drift = driftOf(rollout, weights);
    if (drift === 'drift') {
      lines.push([
        'DRIFT',
        loud(
          `!! the listener is at ${formatWeights(weights)} but Swing last wrote ${formatWeights(rollout.lastWritten)}: ` +
            'someone changed the weights by hand; the rollout halts at its next check and leaves them alone !!',
          isTTY,
        ),
      ]);
    } else if (drift === 'writing' && rollout.pendingWeights) {
      lines.push(['Writing', `Swing is moving the listener to ${formatWeights(rollout.pendingWeights)}`]);
    }
  }
  const left = secondsLeft(snapshot, rollout);
  const step = rollout.plan.steps[rollout.stepIndex];
  if (rollout.taskKind === 'bake' && left !== undefined) {
    const bake = step ? ` of ${durationText(step.bakeSeconds)}` : '';
    lines.push(['Bake', `${durationText(left)} left${bake}`]);
  } else if (rollout.taskKind === 'gate') {
    const timeout = left !== undefined ? `; the gate times out in ${durationText(left)}` : '';
    const what = runSteps(rollout)[rollout.stepIndex + 1]?.kind === 'cutover' ? ' to cut writes over' : '';
    lines.push(['Gate', `waiting for \`swing promote\`${what} (or \`swing abort\`)${timeout}`]);
  } else if (rollout.taskKind === 'pause' || rollout.status === 'paused') {
    const timeout =
      left !== undefined ? `; it rolls back in ${durationText(left)} if not (a pause never promotes)` : '';
    lines.push(['Pause', loud(`PAUSED: \`swing resume\` (or \`swing promote\`) goes on${timeout}`, isTTY)]);
  }
  if (rollout.status === 'waiting-replay' || rollout.taskKind === 'replay') {
    const timeout =
      left !== undefined && rollout.taskKind === 'replay'
        ? `; it rolls back in ${durationText(left)} if it has not`
        : '';
    lines.push([
      'Replay',
      loud(
        `WAITING FOR REPLAY: the replayer has not caught up with the source; step ${rollout.stepIndex + 1} goes on once it has${timeout}`,
        isTTY,
      ),
    ]);
  }
  if (rollout.abortRequested && rollout.status !== 'completing') {
    lines.push(['Abort', 'requested: the rollout is rolling back']);
  } else if (rollout.pauseRequested && rollout.taskKind !== 'pause' && rollout.status !== 'paused') {
    const where =
      rollout.taskKind === 'gate' || rollout.status === 'gated'
        ? 'at this gate, which no longer passes on its timeout'
        : 'before the next step starts';
    lines.push(['Pause', `requested: the rollout holds ${where}; \`swing resume\` withdraws it`]);
  }
  return lines;
}

/** A short line for `--watch` without a terminal: printed only when it changes. */
/** Text from outside Swing in it is made printable first (no escape sequence reaches the terminal). */
export function snapshotLine(snapshot: StatusSnapshot): string {
  return snapshotLineText(printableDeep(snapshot));
}

function snapshotLineText(snapshot: StatusSnapshot): string {
  const rollout = snapshot.record?.rollout;
  const weights = snapshot.weights ? formatWeights(snapshot.weights) : 'weights unreadable';
  const alarms =
    snapshot.alarms.firing.length > 0
      ? `alarms firing: ${snapshot.alarms.firing.map((a) => a.name).join(', ')}`
      : 'alarms ok';
  if (!rollout || !snapshot.record?.lockOwner) return `${weights}; ${alarms}`;
  const left = secondsLeft(snapshot, rollout);
  const wait =
    left !== undefined && rollout.taskKind ? `, ${rollout.taskKind} ${durationText(left)} left` : '';
  const drift = snapshot.weights && driftOf(rollout, snapshot.weights) === 'drift' ? ' DRIFT' : '';
  const status = rollout.status === 'waiting-replay' ? 'WAITING FOR REPLAY' : rollout.status;
  const reads =
    rollout.traffic === 'reads-first'
      ? `reads ${rollout.readsWritten ? formatWeights(rollout.readsWritten) : 'all on the source'}; writes `
      : '';
  const cutover = rollout.cutoverAt ? `; writes cut over at ${rollout.cutoverAt}` : '';
  return `step ${rollout.stepIndex + 1}/${runSteps(rollout).length} ${status}${wait}; ${reads}${weights}${drift}${cutover}; ${alarms}`;
}

// ---- Watch -----------------------------------------------------------------------------------------------

export interface WatchOptions {
  readonly intervalMs: number;
  readonly maxWaitMs: number;
}

const CLEAR_SCREEN = '\u001b[H\u001b[2J';

/**
 * Refreshes until `executionArn` no longer holds the lock, then reports how it ended. An execution that
 * never took the lock (preflight refused it) ends as `refused`, with Step Functions' error.
 */
export async function watchRollout(
  sources: StatusSources,
  executionArn: string,
  options: WatchOptions,
): Promise<RolloutEnd> {
  const { ctx } = sources;
  const deadline = ctx.deps.now().getTime() + options.maxWaitMs;
  let lastLine = '';
  for (;;) {
    const snapshot = await readSnapshot(sources);
    const ended = await endOf(ctx, snapshot.record, executionArn);
    if (ended) return ended;
    if (!ctx.json) {
      if (ctx.deps.isTTY) {
        ctx.deps.stdout(
          `${CLEAR_SCREEN}${renderSnapshot(snapshot, true)}\n\nRefreshing every ${durationText(options.intervalMs / 1000)}; ` +
            'Ctrl-C stops watching, not the rollout.\n',
        );
      } else {
        const line = snapshotLine(snapshot);
        if (line !== lastLine) ctx.deps.stdout(`${snapshot.at.toISOString()} ${line}\n`);
        lastLine = line;
      }
    }
    if (ctx.deps.now().getTime() >= deadline) {
      throw new CliFailure(
        ExitCodes.StillRunning,
        `rollout ${executionName(executionArn)} is still running after --max-wait: ` +
          'watch again with `swing status --watch`, or raise --max-wait',
      );
    }
    await ctx.deps.sleep(options.intervalMs);
  }
}
