import type { createColors } from 'picocolors';
import { describeDeliveredSplit } from '#domain/delivered-split.ts';
import { formatWeights } from '#domain/weights.ts';
import { exposureWindowText } from '#report/exposure-window.ts';
import { STEP_KIND_NAMES } from '#report/step-names.ts';
import { freezeSummaryLines } from './freeze-text.ts';
import type { LocalExposure, LocalSummary, StepSummary } from './summary.ts';

/**
 * What a local run in all mode says as it starts, as `swing start` does in AWS: its writes reach the target
 * stand-in from the first step and nothing captures them for the source. Undefined in reads-first mode.
 */
export function allModeWarning(options: {
  readonly traffic: LocalSummary['traffic'];
  readonly rehearsal: boolean;
}): string | undefined {
  if (options.traffic !== 'all') return undefined;
  const stay = options.rehearsal
    ? 'and this rehearsal restores the source, so every write the target takes stays on the target only'
    : 'and they stay on the target only if the rollout is rolled back';
  return (
    `Warning: traffic all: writes the weighted listener sends to the target are not captured for the source, ${stay}; ` +
    '--traffic reads-first ramps reads first and cuts writes over last'
  );
}

/** The text a local run prints when it ends (below the live view's last frame), line by line. */
export function summaryLines(summary: LocalSummary, c: ReturnType<typeof createColors>): string[] {
  const outcomeColor =
    summary.outcome === 'completed' ? c.green : summary.outcome === 'interrupted' ? c.yellow : c.red;
  const out: string[] = [''];
  for (const step of summary.steps) {
    out.push(
      `  ${stepName(step)}: requests source ${step.requests.source}, target ${step.requests.target}; ` +
        `5xx source ${step.errors.source}, target ${step.errors.target}`,
    );
    out.push(`    delivered split: ${deliveredSplitText(step)}`);
  }
  if (summary.rollback) {
    const latency =
      summary.rollback.msFromAlarmToRestore === undefined
        ? ''
        : `, ${summary.rollback.msFromAlarmToRestore} ms from alarm to restore`;
    out.push(
      `rolled back: ${summary.rollback.reason}${summary.rollback.alarm ? ` (${summary.rollback.alarm})` : ''}${latency}`,
    );
    out.push(`  ${summary.rollback.cause}`);
  }
  const clients = summary.clientRequests;
  const byCluster = Object.entries(clients.failedByCluster)
    .filter(([, count]) => count > 0)
    .map(([cluster, count]) => `${cluster} ${count}`);
  out.push(
    `clients: ${clients.sent} requests, ${clients.failed} failed${byCluster.length ? ` (${byCluster.join(', ')})` : ''}; ` +
      `failed by a weight change: ${clients.failedBySwitching}`,
  );
  const divergence = summary.divergence;
  if (divergence) {
    const examples = (ids: string[]) => (ids.length > 0 ? ` (e.g. ${ids.slice(0, 3).join(', ')})` : '');
    out.push(
      `divergence, from the clusters' documents after the replay ${divergence.replay.drained ? 'drained' : `did NOT drain (${divergence.replay.pending} writes pending)`}: ` +
        `${divergence.targetOnly} on the target only${examples(divergence.examples.targetOnly)}, ` +
        `${divergence.sourceOnly} on the source only${examples(divergence.examples.sourceOnly)}, ` +
        `${divergence.different} different${examples(divergence.examples.different)}; ` +
        `${divergence.wrongClusterScrolls} scroll continuations on the wrong cluster`,
    );
    out.push(
      `  ${divergence.targetDirectWrites} writes reached the target directly${divergence.targetDirectWritesBeforeCutover === undefined ? '' : ` (${divergence.targetDirectWritesBeforeCutover} before the write cutover)`}; the replayer applied ${divergence.replay.replayed} of ${divergence.replay.captured} captured on the source (lag ${divergence.replay.lagMs} ms, at most ${divergence.replay.maxLagMs} ms)`,
    );
  }
  if (summary.traffic === 'reads-first') {
    const writes = summary.targetWrites;
    out.push(
      `reads first: ${summary.cutoverAt ? `writes cut over at ${summary.cutoverAt}` : 'writes never cut over'}` +
        (writes
          ? `; writes the target took from clients: ${writes.beforeCutover} before the cutover, ${writes.afterCutover} after`
          : '') +
        `; rules of Swing left: ${summary.swingRulesLeft}`,
    );
  }
  out.push(...freezeSummaryLines(summary));
  if (summary.exposure) out.push(exposureLine(summary.exposure));
  out.push(
    `state transitions: ${summary.stateTransitions}; took ${(summary.durationMs / 1000).toFixed(1)} s`,
  );
  out.push(
    summary.traffic === 'reads-first'
      ? summary.divergence?.reverseReplay
        ? "note: reads-first sends no write to the target before the cutover; after it, the target path captures and a reverse replayer applies the target's writes to the source."
        : 'note: reads-first sends no write to the target before the cutover; after it, writes are on the target only.'
      : 'note: requests sent straight to the target are not captured; writes that reached the target are not on the source.',
  );
  // Last, so that they stay on screen however short the terminal: how it ended, and where the weights are.
  out.push(`final weights: ${formatWeights(summary.finalWeights)}`);
  out.push(`outcome: ${c.bold(outcomeColor(summary.outcome))}${summary.error ? ` (${summary.error})` : ''}`);
  return out;
}

/** `step 2/5, reads 50 %`, `step 4/5, write cutover`, `step 5/5, pins removed`; all mode `step 2/3, 50 %`. */
export function stepName(step: Pick<StepSummary, 'number' | 'of' | 'kind' | 'percent'>): string {
  const what =
    step.kind === 'cutover' || step.kind === 'pins'
      ? STEP_KIND_NAMES[step.kind]
      : `${step.kind === 'reads' ? 'reads ' : ''}${step.percent} %`;
  return `step ${step.number}/${step.of}, ${what}`;
}

/**
 * The step's delivered split, judged as the report's row judges it. The pins' step writes no weight, so what
 * its split counts is said: the default action's requests from the pins' removal, which every request follows
 * once they are gone (local/step-splits.ts), judged against the cutover's weights.
 */
function deliveredSplitText(step: StepSummary): string {
  const split = describeDeliveredSplit(step.delivered);
  return step.kind === 'pins'
    ? `${split}; the default action's requests, which every read and write follows once the pins left`
    : split;
}

/** The write exposure, as measured here to the millisecond when it was (the record's whole seconds otherwise). */
export function exposureLine(exposure: LocalExposure): string {
  const held = exposure.policy === 'hold';
  const fate = held
    ? 'stays on the target, which keeps them'
    : exposure.reverseReplay === 'drained'
      ? 'was replayed onto the source before the restore (reverse capture drained)'
      : exposure.reverseReplay === 'timed-out'
        ? 'not yet replayed when the drain timed out is on the target only'
        : exposure.reverseReplay === 'not-frozen'
          ? 'is on the target only unless the reverse replayer applied it (no freeze was made)'
          : 'is on the target only';
  const measured = exposure.measured;
  if (!measured) {
    return (
      `write exposure: ${exposureWindowText(exposure)} from the cutover (${exposure.cutoverAt}) to ` +
      `${held ? 'the hold' : 'the restore'}; the target took ${exposure.targetRequests ?? 'an unmeasured number of'} ` +
      `requests in it (reads included): every write in it ${fate}`
    );
  }
  const { total, reads, writes } = measured.targetRequests;
  return (
    `write exposure: ${measured.windowMs} ms from the cutover's write (${measured.from}) to ` +
    `${measured.until === 'restore' ? "the restore's" : 'the end of the run'} (${measured.to}); the target took ` +
    `${total} requests in it: ${writes} writes, ${reads} reads. Every write in it ${fate}`
  );
}
