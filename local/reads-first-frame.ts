import type { Rollout, RolloutStatus, Weights } from '#domain/types.ts';
import { weightsToPercent } from '#domain/weights.ts';
import type { LocalEvent } from './events.ts';

/**
 * What the live view says of a reads-first rollout: the read share and the write share are two things (the
 * read rules' weights, the default action's), and which phase it is in. The cutover gate says what passing it
 * does: writes move next, after which a rollback reports the write exposure.
 */

export type ReadsFirstPhase =
  | 'reads ramping'
  | 'waiting for the replayer'
  | 'at the cutover gate'
  | 'writes cut over'
  | 'pins gone'
  | 'ended';

/**
 * The warning the cutover gate carries, in the frame, its event line and its key prompt: what a rollback after
 * passing it does, with reverse capture (freeze and replay back) or without (the write exposure).
 */
export function cutoverGateWarning(reverseCapture: boolean): string {
  return reverseCapture
    ? 'writes move to the target next; after that a rollback freezes writes and replays them onto the source'
    : 'writes move to the target next; after that a rollback reports the write exposure (writes on the target only)';
}

export function readShare(rollout: Rollout | undefined, weights: Weights): number {
  // Before the cutover the read rules carry the reads; once they are gone (or restored) reads follow the default.
  return rollout?.readsWritten ? weightsToPercent(rollout.readsWritten) : weightsToPercent(weights);
}

export function readsFirstPhase(
  rollout: Rollout | undefined,
  status: RolloutStatus | 'starting',
  cutoverGate: boolean,
): ReadsFirstPhase {
  if (rollout?.outcome || status === 'rolled-back' || status === 'halted' || status === 'completed')
    return 'ended';
  if (status === 'waiting-replay') return 'waiting for the replayer';
  if (status === 'gated' && cutoverGate) return 'at the cutover gate';
  // The pins leave in a step of their own after the cutover's bake: the pinned reads then bake on the target.
  if (rollout?.steps.some((step) => step.kind === 'pins')) return 'pins gone';
  if (rollout?.cutoverStartedAt) return 'writes cut over';
  return 'reads ramping';
}

/** The frame's reads-first lines: the two shares as bars, then the phase in words. */
export function readsFirstLines(input: {
  readonly rollout: Rollout | undefined;
  readonly weights: Weights;
  readonly status: RolloutStatus | 'starting';
  readonly cutoverGate: boolean;
  readonly bar: (fraction: number) => string;
  /** The exposure measured from the weight writes (ExposureFromWrites), as the summary gives it. */
  readonly exposureMs?: number | undefined;
  /** The cutover's write as the weight events have it (ExposureFromWrites), the summary's and the report's instant. */
  readonly cutoverWriteAt?: string | undefined;
  /** The target path captures: a rollback after the cutover freezes writes and replays them onto the source. */
  readonly reverseCapture?: boolean;
}): string[] {
  const reads = readShare(input.rollout, input.weights);
  const writes = weightsToPercent(input.weights);
  const phase = readsFirstPhase(input.rollout, input.status, input.cutoverGate);
  const cutoverAt = input.cutoverWriteAt ?? input.rollout?.cutoverAt ?? input.rollout?.cutoverStartedAt;
  const rollback = input.reverseCapture
    ? 'a rollback now freezes writes, replays them onto the source'
    : 'a rollback now reports the write exposure';
  const replayed = input.rollout?.exposure?.reverseReplay === 'drained' ? '; replayed onto the source' : '';
  // Each line fits 80 columns: the frame is cut to the terminal's width, not wrapped.
  const detail: Record<ReadsFirstPhase, string> = {
    'reads ramping': 'reads ramping; writes stay on the source',
    'waiting for the replayer': 'waiting for the replayer to catch up before the next step',
    'at the cutover gate': `CUTOVER GATE: writes move to the target next\n         after that, ${input.reverseCapture ? 'a rollback freezes writes, replays them onto the source' : 'a rollback reports the write exposure'}`,
    'writes cut over': `writes cut over${cutoverAt ? ` at ${cutoverAt.slice(11, 19)}` : ''}; pins held on the source\n         ${rollback}`,
    'pins gone': `pins gone: the pinned reads bake on the target under alarm watch\n         ${rollback}`,
    ended: input.rollout?.exposure
      ? `ended; write exposure ${input.exposureMs ?? exposureMs(input.rollout)} ms, cutover to ${input.rollout.exposure.policy === 'hold' ? 'hold' : 'restore'}${replayed}`
      : 'ended',
  };
  return [
    `reads    ${input.bar(reads / 100)} ${reads.toFixed(1).padStart(5)} % target`,
    `writes   ${input.bar(writes / 100)} ${writes.toFixed(1).padStart(5)} % target`,
    ...`phase    ${detail[phase]}`.split('\n'),
  ];
}

function exposureMs(rollout: Rollout): number {
  const exposure = rollout.exposure!;
  return Math.max(0, Date.parse(exposure.endedAt) - Date.parse(exposure.cutoverAt));
}

/**
 * The write exposure as the summary and the report measure it, from the weight events the view sees: from the
 * cutover's write (the first, once the cutover step began, that gives the target a share) to the next write
 * that lowers it (the restore). The record's times come a few milliseconds after each write, so a frame that
 * read them said another number than the summary below it.
 */
export class ExposureFromWrites {
  private cutoverBegan = false;
  private cutover: { readonly at: number; readonly target: number } | undefined;
  private restoredAt: number | undefined;

  seen(event: LocalEvent): void {
    if (event.kind === 'phase' && event.status === 'shifting' && event.stepKind === 'cutover')
      this.cutoverBegan = true;
    if (event.kind !== 'weights' || !this.cutoverBegan || this.restoredAt !== undefined) return;
    const at = Date.parse(event.at);
    if (!this.cutover) {
      if (event.weights.target > 0) this.cutover = { at, target: event.weights.target };
    } else if (event.weights.target < this.cutover.target) this.restoredAt = at;
  }

  /** When the cutover's write was seen, ISO 8601; undefined until it was. */
  cutoverAt(): string | undefined {
    return this.cutover ? new Date(this.cutover.at).toISOString() : undefined;
  }

  /** Milliseconds from the cutover's write to the restore's; undefined until both were seen. */
  ms(): number | undefined {
    return this.cutover && this.restoredAt !== undefined ? this.restoredAt - this.cutover.at : undefined;
  }
}
