import { formatDuration } from '#domain/plan.ts';
import type { WriteExposure } from '#domain/types.ts';

/**
 * The write exposure's window in words, from its two instants: the record's `windowSeconds` is rounded to whole
 * seconds, so a window of 0.4 s would read "0 s". Under a second it is said in milliseconds (the instants carry
 * them), or "<1 s" when they cannot be read; a minute or more as a duration.
 */
export function exposureWindowText(
  exposure: Pick<WriteExposure, 'cutoverAt' | 'endedAt' | 'windowSeconds'>,
): string {
  const ms = Date.parse(exposure.endedAt) - Date.parse(exposure.cutoverAt);
  if (!Number.isFinite(ms) || ms < 0) {
    return exposure.windowSeconds < 1 ? '<1 s' : formatDuration(Math.round(exposure.windowSeconds));
  }
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  return formatDuration(Math.round(ms / 1000));
}
