import type { LosslessVerdict } from './reverse-capture-types.ts';

/**
 * What reverse capture on AWS cannot promise: its reverse replayer is the Migration Assistant's, and its drain
 * signal that replayer's lag alarm. Preflight names them, so a rollback after the cutover is never called lossless
 * where it is not (the local mode's replayer and queue have none of these limits).
 */
export function migrationAssistantReverseLimits(missingData: 'lagging' | 'caught-up'): string[] {
  return [
    "the reverse lag alarm measures the replayer's lag, it does not count what is left: its OK (lag under its " +
      'threshold in a period after the freeze) can come while a write the target took is still queued or in ' +
      'flight, which then stays on the target only',
    "the Migration Assistant's replayer replays onto the source a write the target refused (an error answer): a " +
      'client that retries it after the restore applies it twice unless the write is idempotent',
    ...(missingData === 'caught-up'
      ? [
          'reverseCapture.lag.missingData is caught-up: a stopped reverse replayer publishes nothing and counts as drained',
        ]
      : []),
  ];
}

/** The same limits in one clause, for a plan's single line (Preflight records them whole). */
export const MIGRATION_ASSISTANT_REVERSE_LIMITS_IN_SHORT =
  "a lag alarm, not a count, ends the drain, and the Migration Assistant's replayer replays onto the source a " +
  'write the target refused';

/** Whether a rollback after the cutover freezes and drains (reverse capture), from Preflight's verdict, old or new. */
export function reverseCaptureOf(verdict: LosslessVerdict | undefined): boolean {
  return verdict?.reverseCapture ?? verdict?.lossless ?? false;
}

/**
 * What a rollback after the write cutover does, in one clause, from Preflight's verdict: `swing status` and the
 * live view say it once writes have moved.
 */
export function rollbackAfterCutoverText(verdict: LosslessVerdict | undefined): string {
  if (!reverseCaptureOf(verdict)) {
    return 'a rollback now leaves them there and reports them (the write exposure)';
  }
  const drain =
    'a rollback now freezes writes (503) until the reverse replayer has put them on the source, or its drain ' +
    'timeout, then restores';
  if (verdict?.lossless) return `${drain}: lossless`;
  const limits = verdict?.limits ?? [];
  return limits.length > 0
    ? `${drain}; not proven lossless: ${limits.join('; ')}`
    : `${drain}; ${verdict?.detail}`;
}
