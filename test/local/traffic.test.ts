import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalAlb, startLocalAlb } from '#local/alb.ts';
import { type ClusterStandIn, startClusterStandIn } from '#local/clusters.ts';
import { seeded } from '#local/run.ts';
import { startTraffic, type TrafficCounts } from '#local/traffic.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function expectConsistent(counts: TrafficCounts) {
  expect(counts.sent).toBe(counts.ok + counts.failed);
  const failedByCluster = Object.values(counts.failedByCluster).reduce((sum, count) => sum + count, 0);
  expect(failedByCluster).toBe(counts.failed);
  const perSecond = (key: 'sent' | 'ok' | 'failed') =>
    counts.perSecond.reduce((sum, second) => sum + second[key], 0);
  expect([perSecond('sent'), perSecond('ok'), perSecond('failed')]).toEqual([
    counts.sent,
    counts.ok,
    counts.failed,
  ]);
  expect(counts.perSecond.map((second) => second.second)).toEqual(counts.perSecond.map((_, index) => index));
}

describe('Traffic generator', () => {
  let source: ClusterStandIn;
  let target: ClusterStandIn;
  let alb: LocalAlb;

  beforeAll(async () => {
    source = await startClusterStandIn({ name: 'source', port: 0 });
    target = await startClusterStandIn({ name: 'target', port: 0, random: seeded(9) });
    alb = await startLocalAlb({
      portBase: 0,
      sourceUrl: source.url,
      targetUrl: target.url,
      random: seeded(1),
    });
  });
  afterAll(async () => {
    await alb.close();
    await source.close();
    await target.close();
  });
  beforeEach(() => {
    target.setFault({ errorRate: 0, latencyMs: 0 });
  });

  it('counts add up and failures are attributed to the cluster that answered', async () => {
    alb.setWeights({ source: 500, target: 499 });
    target.setFault({ errorRate: 0.5 });
    const injectedBefore = target.stats().injectedErrors;
    const traffic = startTraffic({ url: `http://127.0.0.1:${alb.ports.weighted}`, ratePerSecond: 400 });

    // Until enough requests went out, however loaded the machine is: a fixed sleep is a timing assumption.
    for (let waited = 0; traffic.counts().sent <= 150 && waited < 20_000; waited += 50) await sleep(50);
    const counts = await traffic.stop();

    expect(counts.sent).toBeGreaterThan(150);
    expectConsistent(counts);
    expect(counts.servedBy.source + counts.servedBy.target).toBe(counts.sent);
    expect(counts.servedBy.source).toBeGreaterThan(0);
    expect(counts.servedBy.target).toBeGreaterThan(0);
    expect(counts.failedByCluster.source).toBe(0);
    expect(counts.failedByCluster.target).toBe(target.stats().injectedErrors - injectedBefore);
    expect(counts.failedByCluster.target).toBeGreaterThan(0);
    expect(counts.failedByCluster.unknown).toBeUndefined();
  });

  it('sends at about the rate asked', async () => {
    alb.setWeights({ source: 999, target: 0 });
    const started = performance.now();
    const traffic = startTraffic({ url: `http://127.0.0.1:${alb.ports.weighted}`, ratePerSecond: 200 });

    await sleep(2000);
    const elapsedSeconds = (performance.now() - started) / 1000;
    const counts = await traffic.stop();

    // Every tick of the schedule is sent or skipped: never more than the rate over the time that passed, and,
    // unless the machine stalled for most of that time, at least half of it. Skips only when clients lag.
    const ticks = counts.sent + counts.skipped;
    expect(ticks).toBeLessThanOrEqual(Math.ceil(200 * elapsedSeconds) + 1);
    expect(ticks).toBeGreaterThanOrEqual(200 * elapsedSeconds * 0.5);
    expect(counts.sent).toBeGreaterThan(0);
  });

  it('writes documents at the write ratio and only reads at ratio 0', async () => {
    alb.setWeights({ source: 0, target: 999 });
    const documentsBefore = target.stats().documents;

    const writes = await (async () => {
      const traffic = startTraffic({
        url: `http://127.0.0.1:${alb.ports.weighted}`,
        ratePerSecond: 200,
        writeRatio: 1,
        index: 'writes',
      });
      await sleep(300);
      return traffic.stop();
    })();
    const afterWrites = target.stats().documents;
    const reads = startTraffic({
      url: `http://127.0.0.1:${alb.ports.weighted}`,
      ratePerSecond: 200,
      writeRatio: 0,
    });
    await sleep(300);
    await reads.stop();

    expect(writes.ok).toBeGreaterThan(20);
    expect(afterWrites - documentsBefore).toBe(writes.ok);
    expect(target.stats().documents).toBe(afterWrites);
  });

  it('waits for requests in flight when stopped', async () => {
    alb.setWeights({ source: 0, target: 999 });
    target.setFault({ latencyMs: 300 });
    const traffic = startTraffic({ url: `http://127.0.0.1:${alb.ports.weighted}`, ratePerSecond: 100 });

    await sleep(150);
    const midway = traffic.counts();
    const final = await traffic.stop();

    expect(midway.ok + midway.failed).toBeLessThan(midway.sent);
    expect(final.sent).toBe(midway.sent);
    expect(final.ok).toBe(final.sent);
  });

  it('skips and counts sends beyond the in-flight bound instead of piling up', async () => {
    alb.setWeights({ source: 0, target: 999 });
    target.setFault({ latencyMs: 400 });
    const traffic = startTraffic({
      url: `http://127.0.0.1:${alb.ports.weighted}`,
      ratePerSecond: 200,
      maxInFlight: 5,
    });

    await sleep(300);
    const counts = await traffic.stop();

    expect(counts.sent).toBe(5);
    expect(counts.skipped).toBeGreaterThan(30);
    expectConsistent(counts);
  });
});

describe('Traffic generator without a load balancer', () => {
  it('counts connection errors as failed by an unknown cluster', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const traffic = startTraffic({ url: `http://127.0.0.1:${port}`, ratePerSecond: 100 });

    await sleep(200);
    const counts = await traffic.stop();

    expect(counts.sent).toBeGreaterThan(5);
    expect(counts.failed).toBe(counts.sent);
    expect(counts.failedByCluster).toEqual({ source: 0, target: 0, unknown: counts.sent });
    expect(counts.servedBy).toEqual({ source: 0, target: 0 });
    expectConsistent(counts);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => startTraffic({ url: 'http://127.0.0.1:1', ratePerSecond: 0 })).toThrow(/positive/);
  });
});
