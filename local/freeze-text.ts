import type { FreezeRecord, ReverseReplayVerdict } from '#domain/types.ts';
import type { LocalEvent } from './events.ts';
import type { LocalSummary } from './summary.ts';

/**
 * What the live view, the summary and the report say of a rollback's write freeze (reverse capture): how long
 * writes were answered 503, how many, the reverse replayer's drain, and what a drain that timed out left.
 */

const secondsText = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

type FreezeEvent = Extract<LocalEvent, { kind: 'freeze' }>;

export function freezeEventText(event: FreezeEvent): {
  text: string;
  tone: 'info' | 'good' | 'warn' | 'bad';
} {
  switch (event.stage) {
    case 'frozen':
      return {
        text:
          "WRITE FREEZE: Swing's rules answer every write 503 (reads keep flowing) while the reverse replayer " +
          `applies the target's writes to the source, at most ${secondsText(event.drainTimeoutMs ?? 0)}`,
        tone: 'warn',
      };
    case 'drained':
      return {
        text: `drained ${secondsText(event.afterMs ?? 0)} into the freeze: every write the target accepted is on the source; restoring`,
        tone: 'good',
      };
    case 'timed-out':
      return {
        text:
          `drain TIMED OUT ${secondsText(event.afterMs ?? 0)} into the freeze (${event.detail ?? 'no detail'}): ` +
          'restoring anyway; the exposure says what may not be replayed',
        tone: 'bad',
      };
    case 'lifted':
      return {
        text:
          `freeze lifted after ${secondsText(event.afterMs ?? 0)} of 503 for writes` +
          (event.refusedWrites !== undefined ? ` (${event.refusedWrites} writes refused)` : ''),
        tone: 'info',
      };
    case 'failed':
      return {
        text: `freeze REFUSED (${event.detail ?? 'no detail'}): restoring without a drain; the exposure says what is on the target only`,
        tone: 'bad',
      };
  }
}

/** The live view's line while a rollback freezes writes, and after. */
export function freezeFrameLine(
  freeze: FreezeRecord | undefined,
  reverse: ReverseReplayVerdict | undefined,
  now: number,
): string | undefined {
  if (!freeze) return undefined;
  if (freeze.failed) return `freeze   refused by ELBv2: ${freeze.failed}`;
  const frozenAt = Date.parse(freeze.frozenAt ?? freeze.startedAt);
  if (freeze.liftedAt) {
    return `freeze   lifted: ${secondsText(Date.parse(freeze.liftedAt) - frozenAt)} of 503 for writes${freeze.refusedWrites !== undefined ? `, ${freeze.refusedWrites} refused` : ''}`;
  }
  const frozenFor = secondsText(Math.max(0, now - frozenAt));
  if (freeze.drainEndedAt) {
    return `freeze   ${frozenFor}, ${freeze.drain === 'timed-out' ? 'drain TIMED OUT' : 'drained'}: restoring, then the freeze lifts`;
  }
  const bound = secondsText(Math.max(0, Date.parse(freeze.drainDeadline) - frozenAt));
  // What is left to drain last: on a narrow terminal the line is cut at its end.
  const left = (reverse?.detail ?? 'not read').replace(/^reverse replayer (lagging|drained): /, '');
  return `freeze   503 for writes ${frozenFor} (at most ${bound}); draining: ${left}`;
}

/** The summary's lines: the freeze, the clients' retries, the reverse replayer. */
export function freezeSummaryLines(summary: LocalSummary): string[] {
  const out: string[] = [];
  const { freeze } = summary;
  if (freeze?.failed) out.push(`write freeze: REFUSED (${freeze.failed}); restored without a drain`);
  else if (freeze) {
    const drain =
      freeze.drainMs === undefined
        ? 'the drain did not end'
        : freeze.drain === 'timed-out'
          ? `the drain TIMED OUT after ${freeze.drainMs} ms (bound ${freeze.drainTimeoutMs} ms): ${freeze.drainDetail ?? ''}`
          : `drained in ${freeze.drainMs} ms (bound ${freeze.drainTimeoutMs} ms)`;
    out.push(
      `write freeze: ${freeze.durationMs === undefined ? 'not lifted' : `${freeze.durationMs} ms of 503 for writes`}, ` +
        `${freeze.refusedWrites ?? 'an uncounted number of'} writes refused; ${drain}`,
    );
  }
  const retries = summary.clientRequests.writeRetries;
  if (retries && (freeze || retries.retries > 0)) {
    out.push(
      `  clients retried writes answered 503 ${retries.retries} times (${retries.afterRetryAfter} after a Retry-After): ` +
        `${retries.recovered} got through, ${retries.gaveUp} gave up; the load balancer itself refused ${retries.refusedByAlb}`,
    );
  }
  const reverse = summary.divergence?.reverseReplay;
  if (reverse) {
    out.push(
      `reverse replay: applied ${reverse.replayed} of ${reverse.captured} writes the target accepted onto the source ` +
        `(lag ${reverse.lagMs} ms, at most ${reverse.maxLagMs} ms; ${reverse.pending} pending, ${reverse.failed} failed)` +
        (reverse.appliedAfterRestore !== undefined
          ? `; ${reverse.appliedAfterRestore} of them after the restore`
          : ''),
    );
  }
  return out;
}

/** The report's note. */
export function freezeNote(summary: LocalSummary): string | undefined {
  const lines = freezeSummaryLines(summary);
  if (lines.length === 0) return undefined;
  return `${lines.map((line) => line.trim()).join('. ')}.`;
}
