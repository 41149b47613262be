import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAlb, startLocalAlb } from '#local/alb.ts';
import { startCaptureProxy } from '#local/capture-proxy.ts';
import { type ClientTraffic, seedDocuments, startClientTraffic } from '#local/client-traffic.ts';
import { type ClusterStandIn, startClusterStandIn } from '#local/clusters.ts';
import { measureDivergence } from '#local/divergence.ts';
import { seeded } from '#local/run.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Until the counts say enough happened, however loaded the machine is: a fixed sleep is a timing assumption. */
async function runUntil(
  traffic: ClientTraffic,
  enough: (counts: ReturnType<ClientTraffic['counts']>) => boolean,
) {
  for (let waited = 0; !enough(traffic.counts()) && waited < 20_000; waited += 50) await sleep(50);
  return traffic.stop();
}

const SEED = Number(process.env.SEED ?? 11);

describe('Client traffic: what OpenSearch clients send', () => {
  let source: ClusterStandIn;
  let target: ClusterStandIn;
  let alb: LocalAlb;

  beforeAll(async () => {
    source = await startClusterStandIn({ name: 'source', port: 0, documents: seedDocuments(50) });
    target = await startClusterStandIn({ name: 'target', port: 0, documents: seedDocuments(50) });
    alb = await startLocalAlb({
      portBase: 0,
      sourceUrl: source.url,
      targetUrl: target.url,
      random: seeded(SEED),
    });
  });
  afterAll(async () => {
    await alb.close();
    await source.close();
    await target.close();
  });

  it(`sends every operation of the mix and gets no 404 for an API, only for missing documents (seed ${SEED})`, async () => {
    const traffic = startClientTraffic({
      url: source.url,
      ratePerSecond: 400,
      writeRatio: 0.3,
      initialDocuments: 50,
      random: seeded(SEED),
    });

    const counts = await runUntil(
      traffic,
      (now) =>
        now.sent >= 400 && now.scrolls.continued >= 5 && (now.operations['scroll-clear']?.sent ?? 0) >= 1,
    );

    expect(Object.keys(counts.operations).sort()).toEqual(
      [
        'bulk',
        'count',
        'create',
        'delete',
        'get',
        'index',
        'mget',
        'msearch',
        'scroll-clear',
        'scroll-continue',
        'scroll-open',
        'search',
      ].sort(),
    );
    expect(counts.unknownApi).toBe(0);
    expect(counts.failed).toBe(0);
    expect(counts.sent).toBe(counts.ok);
    const gets = counts.operations.get!;
    // Reads hit documents that exist: most gets find one.
    expect(gets.ok - gets.notFound).toBeGreaterThan(gets.notFound);
    expect(counts.scrolls.opened).toBeGreaterThan(0);
    expect(counts.scrolls.wrongCluster).toBe(0);
    expect(source.stats().directWrites).toBeGreaterThan(0);
  });

  it(`counts the scroll continuations that another cluster answered, as the clusters do (seed ${SEED})`, async () => {
    alb.setWeights({ source: 500, target: 499 });
    const before = source.stats().wrongClusterScrolls + target.stats().wrongClusterScrolls;
    const traffic = startClientTraffic({
      url: `http://127.0.0.1:${alb.ports.weighted}`,
      ratePerSecond: 300,
      writeRatio: 0,
      mix: { reads: { get: 0, search: 0, msearch: 0, count: 0, mget: 0, scroll: 1 } },
      initialDocuments: 50,
      random: seeded(SEED),
    });

    const counts = await runUntil(traffic, (now) => now.scrolls.continued >= 40);

    const countedByClusters =
      source.stats().wrongClusterScrolls + target.stats().wrongClusterScrolls - before;
    expect(counts.scrolls.wrongCluster).toBeGreaterThan(0);
    expect(counts.scrolls.wrongCluster).toBe(countedByClusters);
    expect(counts.scrolls.lost).toBeGreaterThanOrEqual(counts.scrolls.wrongCluster);
    expect(counts.unknownApi).toBe(0);
  });

  it('sends only the operations the mix weighs', async () => {
    const traffic = startClientTraffic({
      url: source.url,
      ratePerSecond: 200,
      writeRatio: 0.5,
      mix: {
        reads: { search: 0, msearch: 0, count: 0, mget: 0, scroll: 0 },
        writes: { create: 0, bulk: 0, delete: 0 },
      },
      random: seeded(SEED),
    });

    const counts = await runUntil(traffic, (now) => now.sent >= 50);

    expect(Object.keys(counts.operations).sort()).toEqual(['get', 'index']);
  });

  it('refuses a mix weight that is not a number >= 0, naming it', () => {
    expect(() => startClientTraffic({ url: source.url, mix: { reads: { get: -1 } } })).toThrow(
      /mix\.reads\.get/,
    );
  });

  it(`leaves no divergence when every request takes the source path and the replayer drains (seed ${SEED})`, async () => {
    const cleanSource = await startClusterStandIn({ name: 'source', port: 0, documents: seedDocuments(30) });
    const cleanTarget = await startClusterStandIn({ name: 'target', port: 0, documents: seedDocuments(30) });
    const proxy = await startCaptureProxy({
      sourceUrl: cleanSource.url,
      targetUrl: cleanTarget.url,
      replayLagMs: 20,
    });
    try {
      const traffic = startClientTraffic({
        url: proxy.url,
        ratePerSecond: 300,
        writeRatio: 0.5,
        initialDocuments: 30,
        random: seeded(SEED),
      });
      const counts = await runUntil(traffic, (now) => now.sent >= 200);
      expect(await proxy.drain()).toBe(true);

      expect(counts.failed).toBe(0);
      expect(proxy.stats().captured).toBeGreaterThan(20);
      expect(measureDivergence(cleanSource, cleanTarget)).toMatchObject({
        targetOnly: 0,
        sourceOnly: 0,
        different: 0,
        wrongClusterScrolls: 0,
      });
      expect(cleanTarget.stats().directWrites).toBe(0);
    } finally {
      await proxy.close();
      await cleanSource.close();
      await cleanTarget.close();
    }
  });
});
