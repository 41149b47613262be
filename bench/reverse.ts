import { parseLocalOptions, type RawLocalOptions } from '#local/options.ts';
import { type LocalSummary, runLocal } from '#local/run.ts';

/**
 * Issue 22: what a lossless rollback after the cutover costs. A reads-first run whose target fails at the cutover
 * rolls back; with reverse capture the rollback freezes writes until the reverse replayer has drained, so the
 * freeze lasts about the reverse lag. Beside it, the same run without reverse capture: no freeze, and the
 * exposure (the writes left on the target only).
 */

const RUN: RawLocalOptions = {
  traffic: 'reads-first',
  targetErrors: '0.5@cutover',
  portBase: '0',
  // A loaded machine's own latency is not the target's fault: the 5xx alarm is what rolls back.
  alarmP99: '30000',
};

const LAGS = ['100ms', '1s', '5s'] as const;

async function rollBack(options: RawLocalOptions, seed: number): Promise<LocalSummary> {
  const { summary } = await runLocal(parseLocalOptions({ ...RUN, ...options, seed: String(seed) }), {
    stdout: () => {},
    isTTY: false,
  });
  if (summary.outcome !== 'rolled-back' || !summary.cutoverAt) {
    throw new Error(
      `the run did not roll back after the cutover: ${summary.outcome}, ${JSON.stringify(summary.rollback)}`,
    );
  }
  return summary;
}

function withReverseCapture(lag: string, summary: LocalSummary) {
  const { freeze, divergence } = summary;
  if (!freeze?.durationMs) {
    throw new Error(`reverse capture at ${lag}: the rollback made no freeze: ${JSON.stringify(freeze)}`);
  }
  const retries = summary.clientRequests.writeRetries;
  return {
    reverseLag: lag,
    freezeMs: freeze.durationMs,
    drainMs: freeze.drainMs ?? null,
    drain: freeze.drain ?? null,
    refusedWrites: freeze.refusedWrites ?? null,
    clientRetries: retries?.retries ?? 0,
    clientsGaveUp: retries?.gaveUp ?? 0,
    targetOnly: divergence?.targetOnly ?? null,
    different: divergence?.different ?? null,
    // Forward replays landing after the cutover (over clients' newer writes): 0 with the cutover's freeze.
    lateForwardReplays: divergence?.replay.appliedAfterCutover ?? null,
    ...cutoverFreeze(summary),
  };
}

function withoutReverseCapture(summary: LocalSummary) {
  const { exposure, divergence } = summary;
  return {
    reverseLag: 'none',
    exposureMs: exposure?.measured?.windowMs ?? null,
    exposureWrites: exposure?.measured?.targetRequests.writes ?? null,
    targetOnly: divergence?.targetOnly ?? null,
    sourceOnly: divergence?.sourceOnly ?? null,
    different: divergence?.different ?? null,
    lateForwardReplays: divergence?.replay.appliedAfterCutover ?? null,
    ...cutoverFreeze(summary),
  };
}

/** The write cutover's own brief freeze, while the forward replayer emptied: its length and the 503s it gave. */
function cutoverFreeze(summary: LocalSummary) {
  return {
    cutoverFreezeMs: summary.cutoverFreeze?.durationMs ?? null,
    cutoverRefusedWrites: summary.cutoverFreeze?.refusedWrites ?? null,
  };
}

/** The freeze per reverse lag (`trials` runs each, the median), and the same run's exposure without it. */
export async function measureReverseCapture(options: {
  trials: number;
  plan: string;
  lags?: readonly string[];
}) {
  const { trials, plan } = options;
  const median = <T extends Record<string, unknown>>(rows: T[], key: keyof T): T =>
    [...rows].sort((a, b) => Number(a[key]) - Number(b[key]))[Math.floor((rows.length - 1) / 2)]!;
  const frozen = [];
  for (const lag of options.lags ?? LAGS) {
    const rows = [];
    for (let trial = 0; trial < trials; trial += 1) {
      rows.push(
        withReverseCapture(lag, await rollBack({ plan, reverseCapture: true, reverseLag: lag }, trial)),
      );
    }
    frozen.push({ ...median(rows, 'freezeMs'), trials });
  }
  const exposed = [];
  for (let trial = 0; trial < trials; trial += 1) {
    exposed.push(withoutReverseCapture(await rollBack({ plan, reverseCapture: false }, trial)));
  }
  return { plan, frozen, exposed: { ...median(exposed, 'exposureMs'), trials } };
}
