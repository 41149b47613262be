import { MIGRATION_ASSISTANT_REVERSE_LIMITS_IN_SHORT } from '#domain/lossless.ts';
import {
  describePlan,
  formatDuration,
  formatPlanSpec,
  listPresets,
  type PlanTimeline,
} from '#domain/plan.ts';
import { DEFAULT_READS_FIRST, type RunStep, runSteps } from '#domain/reads-first.ts';
import type { Plan, PlanEnd, ReadsFirstSettings, TrafficMode } from '#domain/types.ts';
import { percentToWeights } from '#domain/weights.ts';
import { type CommandHandler, planFromText } from '../action.ts';
import { table } from '../render.ts';
import { resolveTraffic, type TrafficOptions, trafficChoice } from '../traffic.ts';

/** How a plan moves traffic, for its timeline: all mode (the default) or reads-first, a rollout or a rehearsal. */
export interface TrafficView {
  readonly traffic: TrafficMode;
  readonly planEnd: PlanEnd;
  readonly settings: ReadsFirstSettings;
  /**
   * Whether a rollback after the write cutover would be lossless, as the stack says (its ReverseLagAlarm output):
   * the alarm's name, `null` when the stack has none; undefined when not known (`swing plan` reads no stack).
   */
  readonly reverseLagAlarm?: string | null;
}

const ALL_TRAFFIC: TrafficView = { traffic: 'all', planEnd: 'hold', settings: DEFAULT_READS_FIRST };

/**
 * The steps as the engine runs them (`runSteps`): in reads-first mode the read steps, then the write cutover,
 * which bakes at least the scroll keep-alive and waits at its gate when it is manual, then the pins leaving,
 * baked on their own.
 */
export function runStepsOf(plan: Plan, view: TrafficView = ALL_TRAFFIC): RunStep[] {
  const { settings } = view;
  return runSteps({
    plan,
    ...(view.traffic === 'reads-first' ? { traffic: view.traffic, readsFirst: settings } : {}),
    ...(view.planEnd === 'restore' ? { planEnd: view.planEnd } : {}),
  }).map((step) =>
    step.kind === 'cutover'
      ? {
          ...step,
          bakeSeconds: Math.max(step.bakeSeconds, settings.scrollKeepAliveSeconds),
          gate: settings.cutoverGate === 'manual',
        }
      : step,
  );
}

/** The timeline table that `plan`, `start --dry-run` and `schedule add` print. */
export function renderTimeline(plan: Plan, view: TrafficView = ALL_TRAFFIC): string {
  const steps = runStepsOf(plan, view);
  const timeline = describePlan({ steps });
  const rows = timeline.steps.map((step, position) => {
    const kind = steps[position]?.kind;
    const weights = percentToWeights(step.targetPercent);
    const gate = kind === 'cutover' ? (step.gate ? 'promote' : 'replay-lag') : step.gate ? 'promote' : '-';
    // Numbered as the live view, the summary, the report and the events number them: `2/5`, `4/5 cutover`.
    const label = `${step.index + 1}/${steps.length}${kind === 'cutover' || kind === 'pins' ? ` ${kind}` : ''}`;
    const target =
      kind === 'cutover'
        ? '100 % writes'
        : kind === 'pins'
          ? '100 % pinned reads'
          : `${step.targetPercent} %${kind === 'reads' ? ' reads' : ''}`;
    return [
      label,
      target,
      `${weights.source}/${weights.target}`,
      formatDuration(step.bakeSeconds),
      gate,
      `+${formatDuration(step.startsAtSeconds)}`,
      `+${formatDuration(step.endsAtSeconds)}`,
    ];
  });
  if (view.planEnd === 'restore') {
    const end = `+${formatDuration(timeline.totalSeconds)}`;
    rows.push(['restore', 'starting', 'starting', '-', '-', end, end]);
  }
  return [
    table(['STEP', 'TARGET', 'WEIGHTS', 'BAKE', 'GATE', 'STARTS', 'BAKED'], rows),
    ...trafficNotes(steps, view),
    totalLine(timeline),
  ].join('\n');
}

/**
 * Whether that rollback loses nothing, as far as the stack is known. On AWS never proven: the reverse replayer is
 * the Migration Assistant's and its drain signal a lag alarm (their limits, as Preflight records them).
 */
function losslessText(reverseLagAlarm: string | null | undefined): string {
  const freeze =
    "writes are frozen (503) until the reverse replayer has put the target's writes back on the source (at most " +
    'reverseCapture.drainTimeoutSeconds), then the starting weights come back';
  const limits = `not proven lossless (${MIGRATION_ASSISTANT_REVERSE_LIMITS_IN_SHORT}; \`swing status\` shows Preflight's verdict)`;
  if (typeof reverseLagAlarm === 'string')
    return `reverse capture is on (${reverseLagAlarm}), so ${freeze}; ${limits}`;
  const exposure = 'it reports the write exposure (the writes the target took are on the target only)';
  if (reverseLagAlarm === null)
    return `this stack has no reverse capture (no ReverseLagAlarm output): not lossless, ${exposure}`;
  return `with reverse capture (reverseCapture in the config) ${freeze}, ${limits}; without it ${exposure}`;
}

/** What the reads-first steps, the write cutover and a rehearsal's restore do, in words. */
function trafficNotes(steps: readonly RunStep[], view: TrafficView): string[] {
  const { settings } = view;
  const notes: string[] = [];
  const replayWait = formatDuration(settings.replayWaitSeconds);
  if (view.traffic === 'reads-first') {
    notes.push(
      "Reads first: the steps move Swing's read rules (GET, HEAD; POST _search, _msearch, _count, _mget, " +
        '_field_caps); writes stay on the source, captured, until the cutover. Each ' +
        `step first waits for the replayer to catch up (at most ${replayWait}, then it rolls back).`,
    );
  }
  const cutover = steps.find((step) => step.kind === 'cutover');
  if (cutover) {
    const gate =
      settings.cutoverGate === 'manual'
        ? `waits for \`swing promote\` (after ${formatDuration(settings.cutoverGateTimeoutSeconds)}: ` +
          `${settings.cutoverGateTimeoutAction === 'rollback' ? 'rollback, the reads go back, nothing lost' : 'promote'})`
        : `goes once the replayer has caught up (after ${replayWait}: rollback, the reads go back, nothing lost)`;
    const after =
      settings.afterCutover === 'rollback'
        ? `a failure after it rolls back: ${losslessText(view.reverseLagAlarm)}`
        : 'a failure after it holds the writes on the target and halts (after-cutover policy hold)';
    notes.push(
      `Write cutover: ${gate}; it bakes ${formatDuration(cutover.bakeSeconds)} (at least the scroll keep-alive, ` +
        `${formatDuration(settings.scrollKeepAliveSeconds)}, before the pins go); ${after}.`,
      // The local mode freezes writes until the replayer is empty; on AWS no signal says "empty" yet.
      'On AWS the cutover does not freeze writes yet: a write the source took in the last seconds before it, ' +
        "still in the replayer's queue, can reach the target after a client's newer write to the same document " +
        '(docs/reads-first.md, the write cutover).',
    );
  }
  const pins = steps.find((step) => step.kind === 'pins');
  if (pins) {
    notes.push(
      'Pins: then the pins go, and the reads they kept on the source (index-less searches, scroll, point in ' +
        `time, tasks, cursors) move to the target at once; they bake ${formatDuration(pins.bakeSeconds)} under ` +
        'alarm watch, and an alarm then rolls back (or holds) by the after-cutover policy, as after the cutover.',
    );
  }
  if (view.planEnd === 'restore') {
    notes.push(
      view.traffic === 'reads-first'
        ? 'Restore: the starting weights come back after the last step (outcome rehearsed); writes never cut over, so nothing is lost.'
        : 'Restore: the starting weights come back after the last step (outcome rehearsed); the writes the target took stay on the target only (accepted with --accept-writes-on-target).',
    );
  }
  return notes;
}

function totalLine(timeline: PlanTimeline): string {
  const total = `Total: ${formatDuration(timeline.totalSeconds)} of bake after the smoke test`;
  if (timeline.gates === 0) return total;
  const gates = timeline.gates === 1 ? '1 gate' : `${timeline.gates} gates`;
  return `${total}, plus the wait at ${gates} for \`swing promote\``;
}

export function timelineJson(plan: Plan, view: TrafficView = ALL_TRAFFIC) {
  const steps = runStepsOf(plan, view);
  const timeline = describePlan({ steps });
  return {
    spec: formatPlanSpec(plan),
    plan,
    traffic: view.traffic,
    planEnd: view.planEnd,
    ...(view.traffic === 'reads-first' ? { readsFirst: view.settings } : {}),
    timeline: {
      ...timeline,
      steps: timeline.steps.map((step, position) => ({
        ...step,
        ...(steps[position]?.kind ? { kind: steps[position]?.kind } : {}),
      })),
    },
  };
}

/** `swing plan`: see its definition in cli/definitions/plan.ts. */
export const runPlan: CommandHandler = async (ctx, command) => {
  const [text] = command.processedArgs as [string | undefined];
  if (text === undefined) {
    const presets = listPresets();
    ctx.result(
      presets.map(({ name, spec, plan }) => ({
        name,
        spec,
        totalSeconds: describePlan(plan).totalSeconds,
      })),
      () =>
        table(
          ['PRESET', 'SPEC', 'BAKE'],
          presets.map(({ name, spec, plan }) => [
            name,
            spec,
            formatDuration(describePlan(plan).totalSeconds),
          ]),
        ),
    );
    return;
  }
  const plan = planFromText(text, 'plan');
  const choice = trafficChoice(command.opts<TrafficOptions>(), plan, 'plan');
  // No AWS here: without --traffic, all mode (the config's default) and Swing's default settings.
  const view: TrafficView = resolveTraffic(choice, plan, undefined, 'plan');
  ctx.result(timelineJson(plan, view), () => `Plan ${formatPlanSpec(plan)}\n${renderTimeline(plan, view)}`);
};
