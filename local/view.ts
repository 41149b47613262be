import { describeDeliveredSplit } from '#domain/delivered-split.ts';
import type { AlarmEvaluation, Plan, Rollout, Weights } from '#domain/types.ts';
import { formatWeights, weightsToPercent } from '#domain/weights.ts';
import type { LocalIo, LocalSummary } from './run.ts';

interface WindowSource {
  window(
    group: 'source' | 'target',
    ms: number,
  ): { requests: number; errorRate: number; p99LatencyMs: number };
}

export interface Frame {
  readonly rollout: Rollout | undefined;
  readonly weights: Weights;
  readonly alb: WindowSource;
  readonly alarms: AlarmEvaluation;
  readonly traffic: { sent: number; failed: number };
}

const WINDOW_MS = 2000;

function bar(fraction: number, width = 24): string {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** The terminal view: redrawn in place on a TTY, one line per change otherwise, silent with --json. */
export class LiveView {
  private drawnLines = 0;
  private lastLine = '';

  constructor(
    private readonly io: LocalIo,
    private readonly json: boolean,
    private readonly plan: Plan,
  ) {}

  render(frame: Frame): void {
    if (this.json) return;
    const { rollout, weights } = frame;
    const steps = this.plan.steps.length;
    const index = rollout?.stepIndex ?? 0;
    const share = weightsToPercent(weights);
    const status = rollout?.status ?? 'starting';
    if (!this.io.isTTY) {
      const line = `${status} step ${Math.min(index + 1, steps)}/${steps}: ${formatWeights(weights)}`;
      if (line !== this.lastLine) this.io.stdout(`${line}\n`);
      this.lastLine = line;
      return;
    }
    const rate = (group: 'source' | 'target') => {
      const window = frame.alb.window(group, WINDOW_MS);
      const perSecond = Math.round(window.requests / (WINDOW_MS / 1000));
      return `${group} ${String(perSecond).padStart(4)} req/s ${(window.errorRate * 100).toFixed(1).padStart(5)} % 5xx`;
    };
    let bake = '';
    if (rollout?.bakeEndsAt && (status === 'baking' || status === 'gated')) {
      const left = Math.max(0, Date.parse(rollout.bakeEndsAt) - Date.now());
      const total = (this.plan.steps[index]?.bakeSeconds ?? 1) * 1000 || 1000;
      bake =
        status === 'gated'
          ? 'waiting for promote'
          : `${bar(1 - left / total)} ${(left / 1000).toFixed(1)} s left`;
    }
    const lines = [
      `Swing local  ${status}  step ${Math.min(index + 1, steps)}/${steps}  ramp ${bar(share / 100)} ${share.toFixed(1)} %`,
      `  weights  ${formatWeights(weights)}`,
      `  bake     ${bake}`,
      `  traffic  ${rate('source')} | ${rate('target')}   clients sent ${frame.traffic.sent}, failed ${frame.traffic.failed}`,
      `  alarms   ${frame.alarms.alarms.map((alarm) => `${alarm.name} ${alarm.state}`).join('  ')}`,
    ];
    const clear = this.drawnLines > 0 ? `\u001b[${this.drawnLines}A` : '';
    this.io.stdout(`${clear}${lines.map((line) => `\u001b[2K${line}`).join('\n')}\n`);
    this.drawnLines = lines.length;
  }

  finish(summary: LocalSummary): void {
    if (this.json) {
      this.io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
      return;
    }
    const out: string[] = ['', `outcome: ${summary.outcome}${summary.error ? ` (${summary.error})` : ''}`];
    out.push(`final weights: ${formatWeights(summary.finalWeights)}`);
    for (const step of summary.steps) {
      out.push(
        `  step ${String(step.percent).padStart(5)} %: requests source ${step.requests.source}, target ${step.requests.target}; ` +
          `5xx source ${step.errors.source}, target ${step.errors.target}`,
      );
      out.push(`    delivered split: ${describeDeliveredSplit(step.delivered)}`);
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
    out.push(
      `state transitions: ${summary.stateTransitions}; took ${(summary.durationMs / 1000).toFixed(1)} s`,
    );
    out.push(
      'note: requests sent straight to the target are not captured; writes that reached the target are not on the source.',
    );
    this.io.stdout(`${out.join('\n')}\n`);
  }
}
