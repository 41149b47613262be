import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { SwingError } from '#domain/errors.ts';
import { runSteps } from '#domain/reads-first.ts';
import { RECONCILE_INTERVAL_MINUTES } from '#domain/reconciler.ts';
import { malformedRecord, malformedStartingWeights } from '#domain/record-check.ts';
import { SAFETY_NET_WAIT_SECONDS } from '#domain/rollout.ts';
import { SAFETY_NET_MARGIN_SECONDS, safetyNetActsBy } from '#domain/safety-net-due.ts';
import type {
  AlarmEvaluation,
  ListenerRecord,
  Rollout,
  RolloutOutcome,
  RolloutStore,
  Weights,
} from '#domain/types.ts';
import { formatWeights, sameWeights, weightsToPercent } from '#domain/weights.ts';
import { printableDeep } from '#report/printable.ts';
import type { CommandContext } from './context.ts';
import { CliFailure, ExitCodes } from './exit-codes.ts';
import {
  endedTrafficLines,
  exposureText,
  readsFirstStatusLines,
  trafficLine,
  writesNotes,
} from './reads-first-status.ts';
import {
  durationText,
  executionName,
  loud,
  percentText,
  progressBar,
  publicRollout,
  secondsBetween,
  table,
} from './render.ts';

/** Everything `swing status` shows, read at one moment. Weights come from the listener, never the record. */
export interface StatusSnapshot {
  readonly at: Date;
  readonly listenerArn: string;
  readonly record?: ListenerRecord;
  readonly weights?: Weights;
  readonly weightsProblem?: string;
  readonly stickinessSeconds?: number;
  readonly alarms: AlarmEvaluation;
  /** Step Functions' view of the lock holder: a lock held by an execution that is not RUNNING is stale. */
  readonly lockOwnerStatus?: string;
  /** When the lock holder stopped, if it did: the safety net acts SAFETY_NET_WAIT_SECONDS later. */
  readonly lockOwnerStoppedAt?: Date;
}

export { safetyNetActsBy };

/** When the safety net will have acted for a lock holder that stopped, while that moment is still ahead. */
export function safetyNetDueAt(
  snapshot: Pick<StatusSnapshot, 'at' | 'lockOwnerStoppedAt'>,
): Date | undefined {
  if (!snapshot.lockOwnerStoppedAt) return undefined;
  const due = safetyNetActsBy(snapshot.lockOwnerStoppedAt);
  return due > snapshot.at ? due : undefined;
}

/**
 * When the scheduled reconciler will have acted for a lock holder that ended (at `stoppedAt`, else unknown:
 * counted from `at`) and whose safety net did not: its first run after the safety net's wait, plus its work.
 */
export function reconcilerActsBy(at: Date, stoppedAt: Date | undefined): Date {
  const from = stoppedAt ? stoppedAt.getTime() + SAFETY_NET_WAIT_SECONDS * 1000 : at.getTime();
  return new Date(from + (RECONCILE_INTERVAL_MINUTES * 60 + SAFETY_NET_MARGIN_SECONDS) * 1000);
}

/** The lock holder ended but still holds the lock: when the safety net, else the reconciler, acts. */
function endedHolderView(snapshot: StatusSnapshot) {
  const ended =
    Boolean(snapshot.record?.lockOwner) &&
    snapshot.lockOwnerStatus !== undefined &&
    snapshot.lockOwnerStatus !== 'RUNNING' &&
    snapshot.lockOwnerStatus !== 'PENDING_REDRIVE';
  if (!ended) return undefined;
  const safetyNetDue = safetyNetDueAt(snapshot);
  const reconcilerDue = reconcilerActsBy(snapshot.at, snapshot.lockOwnerStoppedAt);
  return {
    safetyNetDue,
    reconcilerDue,
    // Past both: something is wrong with the reconciler (its logs say what), and the lock is stale.
    stale: !safetyNetDue && reconcilerDue <= snapshot.at,
  };
}

export interface StatusSources {
  readonly ctx: CommandContext;
  readonly store: RolloutStore;
  readonly listenerArn: string;
}

async function executionStatus(ctx: CommandContext, executionArn: string) {
  try {
    return await ctx.clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch {
    // Only an extra hint: status still shows everything else without it.
    return undefined;
  }
}

export async function readSnapshot({ ctx, store, listenerArn }: StatusSources): Promise<StatusSnapshot> {
  const listener = await ctx.listener();
  const { alarms } = await ctx.alarms();
  const record = await store.get(listenerArn);
  let weights: Weights | undefined;
  let weightsProblem: string | undefined;
  let stickinessSeconds: number | undefined;
  try {
    weights = await listener.readWeights();
    stickinessSeconds = await listener.stickinessSeconds();
  } catch (error) {
    // A listener in the wrong shape is something to show, not a reason to show nothing else.
    if (!(error instanceof SwingError)) throw error;
    weightsProblem = error.message;
  }
  const evaluation = await alarms.evaluate();
  const owner = record?.lockOwner ? await executionStatus(ctx, record.lockOwner) : undefined;
  return {
    at: ctx.deps.now(),
    listenerArn,
    ...(record ? { record } : {}),
    ...(weights ? { weights } : {}),
    ...(weightsProblem ? { weightsProblem } : {}),
    ...(stickinessSeconds !== undefined ? { stickinessSeconds } : {}),
    alarms: evaluation,
    ...(owner?.status ? { lockOwnerStatus: owner.status } : {}),
    ...(owner?.stopDate ? { lockOwnerStoppedAt: owner.stopDate } : {}),
  };
}

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

/** A record a restore cannot use: the rollout halts on it, and the operator's way out is named now. */
function malformedRecordLines(rollout: Rollout, isTTY: boolean): [string, string][] {
  const why = malformedRecord(rollout);
  if (!why) return [];
  return [
    [
      'RECORD',
      loud(
        `RecordMalformed: ${why}, so a rollback cannot trust it: it halts and leaves the listener as it is. ` +
          'Restore by hand with `swing rollback --force` (to the starting weights, or with none usable ' +
          'everything to the source), or ' +
          '`swing set-weights`',
        isTTY,
      ),
    ],
  ];
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

/** Rules preflight found that answer or route requests themselves: a completed rollout did not move those. */
function unswungRuleLines(rollout: Rollout): [string, string][] {
  const rules = rollout.unswungRules ?? [];
  if (rules.length === 0) return [];
  const count = rollout.unswungRuleCount ?? rules.length;
  const lines: [string, string][] = [
    [
      'Not swung',
      `${count === 1 ? '1 rule of the listener sends what it matches' : `${count} rules of the listener send what they match`} ` +
        'elsewhere, whatever the weights:',
    ],
  ];
  for (const rule of rules) {
    const conditions = rule.conditions.length > 0 ? `, ${rule.conditions.join(' and ')}` : '';
    lines.push(['', `priority ${rule.priority}: ${rule.arn}${conditions} -> ${rule.action}`]);
  }
  if (count > rules.length) lines.push(['', `and ${count - rules.length} more (aws elbv2 describe-rules)`]);
  return lines;
}

function lastRolloutLine(rollout: Rollout): string {
  const name = executionName(rollout.executionArn);
  const took = rollout.endedAt
    ? ` after ${durationText(secondsBetween(rollout.startedAt, rollout.endedAt))}`
    : '';
  const ended = rollout.endedAt ? ` at ${rollout.endedAt}` : '';
  const reason = rollout.reason ? `: ${rollout.reason.error}: ${rollout.reason.cause}` : '';
  return `${name} ${rollout.outcome ?? rollout.status}${ended}${took}${reason}`;
}

function alarmLines(evaluation: AlarmEvaluation): [string, string][] {
  if (evaluation.alarms.length === 0) return [['Alarms', 'none watched']];
  const rows = evaluation.alarms.map((alarm) => [
    alarm.firing ? `${alarm.state} (firing)` : alarm.state,
    alarm.name,
    alarm.firing ? alarm.reason : '',
  ]);
  const header: [string, string] = [
    'Alarms',
    `${evaluation.alarms.length} watched, ${evaluation.firing.length} firing`,
  ];
  const tableLines = table(['STATE', 'ALARM', 'REASON'], rows)
    .split('\n')
    .map((line): [string, string] => ['', `  ${line}`]);
  return [header, ...tableLines];
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

// ---- Outcome ---------------------------------------------------------------------------------------------

export interface RolloutEnd {
  readonly executionArn: string;
  readonly outcome: RolloutOutcome | 'refused';
  readonly rollout?: Rollout;
  /** For a refused start: Step Functions' error and cause. */
  readonly error?: string;
  readonly cause?: string;
}

const OUTCOME_EXIT: Record<RolloutEnd['outcome'], ExitCodes> = {
  completed: ExitCodes.Ok,
  rehearsed: ExitCodes.Ok,
  'rolled-back': ExitCodes.RolledBackOrRefused,
  refused: ExitCodes.RolledBackOrRefused,
  halted: ExitCodes.HaltedOrInternal,
};

export function exitCodeOf(end: RolloutEnd): ExitCodes {
  return OUTCOME_EXIT[end.outcome];
}

/** The rollout `executionArn` once it no longer holds the lock, from the record or its history. */
export function finishedRollout(
  record: ListenerRecord | undefined,
  executionArn: string,
): Rollout | undefined {
  if (!record || record.lockOwner === executionArn) return undefined;
  if (record.rollout?.executionArn === executionArn && record.rollout.outcome) return record.rollout;
  return [...record.history].reverse().find((rollout) => rollout.executionArn === executionArn);
}

/** Text from outside Swing in it is made printable first (no escape sequence reaches the terminal). */
export function renderEnd(end: RolloutEnd, isTTY: boolean): string {
  return renderEndText(printableDeep(end), isTTY);
}

function renderEndText(end: RolloutEnd, isTTY: boolean): string {
  const name = executionName(end.executionArn);
  if (end.outcome === 'refused' || !end.rollout) {
    return loud(
      `Rollout ${name} did not start: ${end.error ?? 'failed'}: ${end.cause ?? 'no cause given'}`,
      isTTY,
    );
  }
  const rollout = end.rollout;
  const took = rollout.endedAt
    ? ` in ${durationText(secondsBetween(rollout.startedAt, rollout.endedAt))}`
    : '';
  const reason = rollout.reason
    ? `${rollout.reason.error}: ${rollout.reason.cause}${rollout.reason.alarm ? ` (alarm ${rollout.reason.alarm})` : ''}`
    : 'no reason recorded';
  if (end.outcome === 'completed') {
    return `Rollout ${name} completed${took}: the listener is at ${formatWeights(rollout.lastWritten)}`;
  }
  const restored =
    rollout.restored && !malformedStartingWeights(rollout)
      ? `starting weights restored (${formatWeights(rollout.startingWeights)})`
      : 'the starting weights were NOT confirmed restored: check `swing status`';
  const writes = writesNotes(rollout, isTTY);
  if (end.outcome === 'rehearsed') {
    return [`Rehearsal ${name} rehearsed${took}: every step ran, then the ${restored}`, ...writes].join('\n');
  }
  if (end.outcome === 'rolled-back') {
    return [loud(`Rollout ${name} ROLLED BACK${took}: ${reason}; ${restored}`, isTTY), ...writes].join('\n');
  }
  return [
    loud(
      `Rollout ${name} HALTED${took}: ${reason}; Swing left the listener as it found it: check it with \`swing status\``,
      isTTY,
    ),
    ...(rollout.exposure ? [loud(exposureText(rollout.exposure), isTTY)] : []),
  ].join('\n');
}

export function endJson(end: RolloutEnd) {
  return {
    executionArn: end.executionArn,
    outcome: end.outcome,
    exitCode: exitCodeOf(end),
    ...(end.error ? { error: end.error } : {}),
    ...(end.cause ? { cause: end.cause } : {}),
    ...(end.rollout ? { rollout: publicRollout(end.rollout) } : {}),
  };
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

async function endOf(
  ctx: CommandContext,
  record: ListenerRecord | undefined,
  executionArn: string,
): Promise<RolloutEnd | undefined> {
  if (record?.lockOwner === executionArn) return undefined;
  const finished = finishedRollout(record, executionArn);
  if (finished?.outcome) return { executionArn, outcome: finished.outcome, rollout: finished };
  // Not in the record: still in preflight, or refused before it took the lock.
  const execution = await ctx.clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
  if (!execution || execution.status === 'RUNNING' || execution.status === 'PENDING_REDRIVE')
    return undefined;
  if (execution.status === 'SUCCEEDED') {
    throw new CliFailure(
      ExitCodes.HaltedOrInternal,
      `execution ${executionName(executionArn)} SUCCEEDED but left no rollout record: check the table name ` +
        '(--table-name) and listener (--listener-arn) match the stack',
    );
  }
  return {
    executionArn,
    outcome: 'refused',
    error: execution.error ?? execution.status ?? 'FAILED',
    cause: oneLineCause(execution.cause),
  };
}

/** Lambda wraps an error as { errorType, errorMessage }: show the message, on one line, bounded. */
function oneLineCause(cause: string | undefined): string {
  if (!cause) return 'no cause given';
  let text = cause;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') text = parsed.errorMessage;
  } catch {
    // not JSON: show as it is
  }
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 400 ? `${flat.slice(0, 400)}...` : flat;
}
