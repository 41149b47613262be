import { malformedRecord } from '#domain/record-check.ts';
import type { AlarmEvaluation, Rollout } from '#domain/types.ts';
import { durationText, executionName, loud, secondsBetween, table } from './render.ts';

/** A record a restore cannot use: the rollout halts on it, and the operator's way out is named now. */
export function malformedRecordLines(rollout: Rollout, isTTY: boolean): [string, string][] {
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

/** Rules preflight found that answer or route requests themselves: a completed rollout did not move those. */
export function unswungRuleLines(rollout: Rollout): [string, string][] {
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

export function lastRolloutLine(rollout: Rollout): string {
  const name = executionName(rollout.executionArn);
  const took = rollout.endedAt
    ? ` after ${durationText(secondsBetween(rollout.startedAt, rollout.endedAt))}`
    : '';
  const ended = rollout.endedAt ? ` at ${rollout.endedAt}` : '';
  const reason = rollout.reason ? `: ${rollout.reason.error}: ${rollout.reason.cause}` : '';
  return `${name} ${rollout.outcome ?? rollout.status}${ended}${took}${reason}`;
}

export function alarmLines(evaluation: AlarmEvaluation): [string, string][] {
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
