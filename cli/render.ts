import { createHash } from 'node:crypto';
import { formatDuration } from '#domain/plan.ts';
import type { ListenerRecord, Rollout } from '#domain/types.ts';

/** Plain-text tables and bars for humans; `--json` output never goes through here. */

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `[##########..........]` for a share from 0 to 1. */
export function progressBar(fraction: number, width = 30): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.round(clamped * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** Seconds rounded up to whole seconds, as `1h2m3s`. */
export function durationText(seconds: number): string {
  return formatDuration(Math.max(0, Math.ceil(seconds)));
}

export function secondsBetween(from: string | Date, to: string | Date): number {
  return (new Date(to).getTime() - new Date(from).getTime()) / 1000;
}

export function percentText(percent: number): string {
  return `${percent.toFixed(1)} %`;
}

/** The last part of an execution ARN: what the console shows as the execution name. */
export function executionName(executionArn: string): string {
  return executionArn.split(':').pop() ?? executionArn;
}

/** A task token is a credential for the open task: show at most a short hash, enough to tell two apart. */
export function tokenHash(token: string): string {
  return `sha256:${createHash('sha256').update(token).digest('hex').slice(0, 12)}`;
}

/** A rollout fit for `--json`: the task token replaced by its short hash. */
export function publicRollout(rollout: Rollout): Omit<Rollout, 'taskToken'> & { taskTokenHash?: string } {
  const { taskToken, ...rest } = rollout;
  return taskToken ? { ...rest, taskTokenHash: tokenHash(taskToken) } : rest;
}

export function publicRecord(record: ListenerRecord) {
  return {
    listenerArn: record.listenerArn,
    ...(record.lockOwner ? { lockOwner: record.lockOwner } : {}),
    ...(record.rollout ? { rollout: publicRollout(record.rollout) } : {}),
    history: record.history.map(publicRollout),
  };
}

/** Red and bold on a terminal (unless NO_COLOR), plain otherwise: the words carry the meaning either way. */
export function loud(text: string, isTTY: boolean): string {
  return isTTY && !process.env.NO_COLOR ? `\u001b[1;31m${text}\u001b[0m` : text;
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
