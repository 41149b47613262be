import { Agent, request } from 'node:http';
import { startLocalAlb } from '#local/alb.ts';
import { startClusterStandIn } from '#local/clusters.ts';
import { parseLocalOptions } from '#local/options.ts';
import { runLocal } from '#local/run.ts';

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
};
const round = (value: number) => Math.round(value * 10) / 10;

/** Alarm state change (event time) to the starting weights written back, through the real engine, local mode. */
export async function measureAlarmToRestore(trials = 50) {
  const latencies: number[] = [];
  for (let trial = 0; trial < trials; trial += 1) {
    const { summary } = await runLocal(
      parseLocalOptions({
        plan: '50:30s,100',
        portBase: '0',
        rate: '200',
        targetErrors: '1@50',
        seed: String(trial),
      }),
      { stdout: () => {}, isTTY: false },
    );
    const ms = summary.rollback?.msFromAlarmToRestore;
    if (summary.outcome !== 'rolled-back' || ms === undefined) {
      throw new Error(`trial ${trial} did not roll back on the alarm: ${JSON.stringify(summary.rollback)}`);
    }
    latencies.push(ms);
  }
  return {
    trials,
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(Math.max(...latencies)),
  };
}

async function timedRequests(port: number, seconds: number, concurrency: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const started = performance.now();
      await new Promise<void>((resolve, reject) => {
        const call = request({ agent, host: '127.0.0.1', port, path: '/demo/_count' }, (response) => {
          response.resume();
          response.on('end', () => resolve());
        });
        call.on('error', reject);
        call.end();
      });
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return {
    requestsPerSecond: Math.round(latencies.length / seconds),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/** The local ALB stand-in's throughput and the latency it adds over calling the cluster stand-in directly. */
export async function measureLocalAlb(seconds = 3, concurrency = 16) {
  const source = await startClusterStandIn({ name: 'source', port: 0 });
  const target = await startClusterStandIn({ name: 'target', port: 0 });
  const alb = await startLocalAlb({ portBase: 0, sourceUrl: source.url, targetUrl: target.url });
  alb.setWeights({ source: 500, target: 499 });
  try {
    const direct = await timedRequests(source.port, seconds, concurrency);
    const viaAlb = await timedRequests(alb.ports.weighted, seconds, concurrency);
    return {
      concurrency,
      seconds,
      directRequestsPerSecond: direct.requestsPerSecond,
      albRequestsPerSecond: viaAlb.requestsPerSecond,
      addedLatencyP50Ms: round(viaAlb.p50 - direct.p50),
      addedLatencyP99Ms: round(viaAlb.p99 - direct.p99),
    };
  } finally {
    await alb.close();
    await source.close();
    await target.close();
  }
}
