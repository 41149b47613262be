import { DEFAULT_READS_FIRST } from '#domain/reads-first.ts';
import type { Rollout, Weights, WriteExposure } from '#domain/types.ts';
import { formatWeights, weightsToPercent } from '#domain/weights.ts';
import { exposureWindowText } from '#report/exposure-window.ts';
import { durationText, loud, percentText, progressBar, secondsBetween } from './render.ts';

/** What `swing status` and `swing history` say of a rollout's traffic mode: reads-first's read and write shares. */

function targetPercentOf(weights: Weights): number | undefined {
  try {
    return weightsToPercent(weights);
  } catch {
    return undefined;
  }
}

/** The rollout's traffic mode in words: how it moves traffic and what that means for writes. */
export function trafficLine(rollout: Rollout): string {
  const rehearsal =
    rollout.planEnd === 'restore' ? ', a rehearsal: it restores its starting weights at its end' : '';
  if (rollout.traffic !== 'reads-first') {
    return `all: every request split by weight, writes too (those sent to the target are not captured)${rehearsal}`;
  }
  return rollout.planEnd === 'restore'
    ? `reads-first${rehearsal}: only reads move, writes stay on the source (it never cuts writes over)`
    : 'reads-first: reads move step by step, writes stay on the source until the write cutover; then the pins leave';
}

/** Reads-first: the read share (Swing's rules, as last written) against the write share (the listener's default action). */
export function readsFirstStatusLines(
  at: Date,
  rollout: Rollout,
  writePercent: number | undefined,
  isTTY: boolean,
): [string, string][] {
  const lines: [string, string][] = [];
  const reads = rollout.readsWritten;
  const cutOver = rollout.cutoverAt !== undefined;
  const readPercent = reads ? targetPercentOf(reads) : cutOver ? writePercent : 0;
  const readSource = reads
    ? `Swing's read rules at ${formatWeights(reads)}, as Swing last wrote them`
    : cutOver
      ? 'the read rules are gone: reads follow the default action'
      : "Swing's read rules are not created yet";
  lines.push([
    'Reads',
    `${progressBar((readPercent ?? 0) / 100)} ${readPercent === undefined ? '?' : percentText(readPercent)} to the target (${readSource})`,
  ]);
  if (writePercent !== undefined) {
    lines.push([
      'Writes',
      `${progressBar(writePercent / 100)} ${percentText(writePercent)} to the target (the default action, read from the listener)`,
    ]);
  }
  if (rollout.cutoverAt) {
    const ago = durationText(secondsBetween(rollout.cutoverAt, at));
    lines.push([
      'Cutover',
      loud(
        `writes cut over at ${rollout.cutoverAt} (${ago} ago): every write since is on the target only, and a rollback now leaves them there`,
        isTTY,
      ),
    ]);
  } else if (rollout.cutoverStartedAt) {
    lines.push(['Cutover', `Swing is cutting writes over (began at ${rollout.cutoverStartedAt})`]);
  } else if (rollout.planEnd === 'restore') {
    lines.push(['Cutover', 'none: a rehearsal never cuts writes over, so a rollback loses nothing']);
  } else {
    const settings = rollout.readsFirst ?? DEFAULT_READS_FIRST;
    const gate =
      settings.cutoverGate === 'manual' ? 'behind `swing promote`' : 'once the replayer has caught up';
    lines.push([
      'Cutover',
      `not yet: writes stay on the source (captured), so a rollback now loses nothing; the cutover comes last, ${gate}`,
    ]);
  }
  const pins = pinsLine(rollout);
  if (pins) lines.push(['Pins', pins]);
  return lines;
}

/**
 * Where the pinned reads (index-less searches, scroll, point in time, tasks, cursors) are: on the source until
 * the pins leave in a step of their own after the cutover's bake, then on the target, baked under alarm watch.
 */
function pinsLine(rollout: Rollout): string | undefined {
  // A rehearsal never cuts over; a rollback or a hold removed or kept the pins as its own line says.
  if (rollout.planEnd === 'restore' || (rollout.outcome && rollout.outcome !== 'completed')) return undefined;
  const released = rollout.steps.find((step) => step.kind === 'pins');
  if (released) {
    return released.bakedAt
      ? `gone since ${released.startedAt}: the pinned reads are on the target, baked with no alarm`
      : `gone since ${released.startedAt}: the pinned reads are on the target, baking under alarm watch (an alarm rolls back as after the cutover)`;
  }
  return rollout.cutoverAt
    ? 'keep scroll, point-in-time, task and cursor reads on the source until the cutover has baked; then they go, under alarm watch'
    : 'keep scroll, point-in-time, task and cursor reads on the source until after the cutover';
}

/** What a rollback (or a hold) after the write cutover left on the target only. */
export function exposureText(exposure: WriteExposure): string {
  const requests =
    exposure.targetRequests === undefined
      ? 'the requests the target took in it were not measured'
      : `the target took ${exposure.targetRequests} requests in it (RequestCount counts reads too)`;
  const window = exposureWindowText(exposure);
  if (exposure.policy === 'hold') {
    return (
      `writes held on the target: ${window} from the cutover (${exposure.cutoverAt}) to the hold (${exposure.endedAt}); ` +
      `${requests}; the target keeps the writes and keeps serving, and the source does not have them`
    );
  }
  return (
    `write exposure: ${window} from the cutover (${exposure.cutoverAt}) to the restore (${exposure.endedAt}); ` +
    `${requests}; every write in it is on the target only`
  );
}
