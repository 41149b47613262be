import { reverseCaptureOf, rollbackAfterCutoverText } from '#domain/lossless.ts';
import { DEFAULT_READS_FIRST, runSteps } from '#domain/reads-first.ts';
import { malformedStartingWeights } from '#domain/record-check.ts';
import type { LosslessVerdict, Rollout, Weights, WriteExposure } from '#domain/types.ts';
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

/**
 * Which phase a reads-first rollout is in, in words, as the live view says it: reads ramping, waiting for the
 * replayer, at the cutover gate, writes cut over (pins held), or how it ended and whether writes had moved.
 */
export function readsFirstPhase(rollout: Rollout): string {
  const stepKind = (index: number) => runSteps(rollout)[index]?.kind as string | undefined;
  if (rollout.outcome) {
    const moved = rollout.cutoverAt ?? rollout.cutoverStartedAt;
    return `ended ${rollout.outcome}: ${moved ? `writes had been cut over at ${moved}` : 'writes never left the source'}`;
  }
  if (rollout.status === 'waiting-replay' || rollout.taskKind === 'replay') return 'waiting for the replayer';
  if (rollout.cutoverAt) {
    return stepKind(rollout.stepIndex) === 'pins'
      ? 'writes cut over; the pins are gone, pinned reads on the target'
      : 'writes cut over; pins held on the source';
  }
  if (rollout.cutoverStartedAt) return 'cutting writes over';
  if (
    (rollout.taskKind === 'gate' || rollout.status === 'gated') &&
    stepKind(rollout.stepIndex + 1) === 'cutover'
  )
    return 'at the cutover gate: passing it moves the writes to the target';
  return 'reads ramping; writes stay on the source';
}

/** The read and write shares Swing last wrote: the read rules' (the default's once they are gone) and the default's. */
export function sharesOf(rollout: Rollout): { readPercent?: number; writePercent?: number } {
  const writePercent = targetPercentOf(rollout.lastWritten);
  const readPercent = rollout.readsWritten ? targetPercentOf(rollout.readsWritten) : writePercent;
  return {
    ...(readPercent !== undefined ? { readPercent } : {}),
    ...(writePercent !== undefined ? { writePercent } : {}),
  };
}

/**
 * How far a rollout took each share (from its step records): reads-first `reads 100 %, writes cut over`, or
 * `reads 50 %, writes never moved`; all mode the furthest share.
 */
export function reachedShares(rollout: Rollout): {
  readonly readPercent: number;
  readonly writePercent: number;
  readonly text: string;
} {
  const furthest = (steps: readonly { targetPercent: number }[]) =>
    Math.max(0, ...steps.map((step) => step.targetPercent));
  if (rollout.traffic !== 'reads-first') {
    const percent = furthest(rollout.steps);
    return { readPercent: percent, writePercent: percent, text: `${percent} %` };
  }
  const readPercent = furthest(rollout.steps.filter((step) => step.kind === 'reads'));
  const moved = rollout.cutoverAt ?? rollout.cutoverStartedAt;
  return {
    readPercent: moved ? 100 : readPercent,
    writePercent: moved ? 100 : 0,
    text: `reads ${moved ? 100 : readPercent} %, writes ${moved ? 'cut over' : 'never moved'}`,
  };
}

/** `reads 100.0 %, writes 0.0 %` (to the target), or `?` where the record cannot say. */
export function sharesText(rollout: Rollout): string {
  const { readPercent, writePercent } = sharesOf(rollout);
  const shown = (percent: number | undefined) => (percent === undefined ? '?' : percentText(percent));
  return `reads ${shown(readPercent)}, writes ${shown(writePercent)} to the target`;
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
  lines.push(['Phase', readsFirstPhase(rollout)]);
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
        `writes cut over at ${rollout.cutoverAt} (${ago} ago): ${writesSinceText(rollout)}; ${rollbackAfterCutoverText(rollout.losslessRollback)}`,
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
    if (rollout.losslessRollback) lines.push(['After it', afterCutoverVerdict(rollout.losslessRollback)]);
  }
  const pins = pinsLine(rollout);
  if (pins) lines.push(['Pins', pins]);
  return lines;
}

/** Where the target's writes since the cutover are: on the target only, or replayed back (reverse capture). */
function writesSinceText(rollout: Rollout): string {
  return reverseCaptureOf(rollout.losslessRollback)
    ? 'every write since is on the target, and replayed onto the source by the reverse replayer'
    : 'every write since is on the target only';
}

/** Preflight's verdict on a rollback after the cutover, as `swing status` says it before the cutover. */
function afterCutoverVerdict(verdict: LosslessVerdict): string {
  if (verdict.lossless) return `a rollback after the cutover is lossless: ${verdict.detail}`;
  return `a rollback after the cutover is NOT lossless: ${verdict.detail}`;
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

/** An ended rollout's traffic, phase and shares, cutover and exposure, as `swing status` lists them. */
export function endedTrafficLines(rollout: Rollout, isTTY: boolean): [string, string][] {
  const lines: [string, string][] = [['Traffic', trafficLine(rollout)]];
  if (rollout.traffic === 'reads-first') {
    lines.push(['Phase', `${readsFirstPhase(rollout)}; left ${sharesText(rollout)}`]);
  }
  if (rollout.cutoverAt) lines.push(['Cutover', `writes cut over at ${rollout.cutoverAt}`]);
  if (rollout.exposure) lines.push(['Exposure', loud(exposureText(rollout.exposure), isTTY)]);
  return lines;
}

/** Writes that reached the target were not captured for the source: a rollback must say so. */
function uncapturedWritesNote(rollout: Rollout): string | undefined {
  // Reads-first: the read steps moved reads only, and the exposure report covers what the cutover sent.
  if (rollout.traffic === 'reads-first') return undefined;
  // A malformed record's starting weights are unknown: every step that sent the target anything counts.
  const startTarget = malformedStartingWeights(rollout) ? 0 : rollout.startingWeights.target;
  const reachedTarget = rollout.steps.filter((step) => step.weights.target > startTarget);
  const first = reachedTarget[0];
  if (!first) return undefined;
  return (
    `Client writes the listener sent to the target from ${first.startedAt} to ${rollout.endedAt ?? 'the rollback'} ` +
    'were not captured for the source: reconcile them before the next rollout'
  );
}

/** What an ended rollout that went back to its starting weights left on the target only, if anything. */
export function writesNotes(rollout: Rollout, isTTY: boolean): string[] {
  if (rollout.exposure) return [loud(exposureText(rollout.exposure), isTTY)];
  if (rollout.traffic === 'reads-first') {
    return rollout.cutoverAt || rollout.cutoverStartedAt
      ? [
          loud(
            'write exposure: not measured (the record has no exposure report): writes after the cutover may be on the target only',
            isTTY,
          ),
        ]
      : [
          'Reads first: it ended before the write cutover, so every write stayed on the source: nothing is on the target only',
        ];
  }
  const note = uncapturedWritesNote(rollout);
  return note ? [note] : [];
}
