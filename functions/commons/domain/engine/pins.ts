import { AlarmFiring } from '../errors.ts';
import { isPinRule } from '../swing-rules.ts';
import type { AlarmPort, FoundSwingRule } from '../types.ts';
import { firingSummary } from './record.ts';

/**
 * Removing the pins sends the reads they keep on the source (scroll, point in time, index-less search, tasks)
 * from 0 % to all on the target: like any raise, not while a watched alarm fires (I2).
 */
export async function refuseRemovingPinsUnderAlarm(
  alarms: AlarmPort,
  rules: readonly FoundSwingRule[],
): Promise<void> {
  if (!rules.some(isPinRule)) return;
  const evaluation = await alarms.evaluate();
  if (evaluation.firing.length > 0) {
    throw new AlarmFiring(
      `not removing the pins: watched alarms are firing: ${firingSummary(evaluation)}`,
      evaluation.firing.map((alarm) => alarm.name),
    );
  }
}
