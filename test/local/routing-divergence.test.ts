import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_READS_FIRST } from '#domain/reads-first.ts';
import { isSourceOnly, PIN_WEIGHTS, SWING_RULE_SET, swingPriorities } from '#domain/swing-rules.ts';
import { type LocalAlb, startLocalAlb } from '#local/alb.ts';
import { compileConditions, firstMatchingRule, forwardTargets, parseRequest } from '#local/alb-rules.ts';
import { type CaptureProxy, startCaptureProxy } from '#local/capture-proxy.ts';
import { type ClientTrafficCounts, seedDocuments, startClientTraffic } from '#local/client-traffic.ts';
import { type ClusterStandIn, startClusterStandIn } from '#local/clusters.ts';
import { type Divergence, measureDivergence } from '#local/divergence.ts';
import { localSwingRules } from '#local/local-listener-rules.ts';
import { measureLocalDivergence, seeded } from '#local/run.ts';

const SEED = Number(process.env.SEED ?? 23);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The target's weight in the forward the local ALB's rules give a request (the default action's if none matches). */
function targetWeightFor(alb: LocalAlb, method: string, url: string): number {
  const rules = alb.describeRules();
  const table = rules
    .filter((rule) => !rule.IsDefault)
    .map((rule) => ({
      rule,
      priority: Number(rule.Priority),
      matches: compileConditions(rule.Conditions ?? []),
    }));
  const chosen =
    firstMatchingRule(table, parseRequest({ method, url, headers: {} }))?.rule ??
    rules.find((rule) => rule.IsDefault);
  const forward = chosen?.Actions?.[0];
  if (!forward) throw new Error(`no forward for ${method} ${url}`);
  return forwardTargets(forward)
    .filter((group) => group.arn === alb.targetGroupArns.target)
    .reduce((sum, group) => sum + group.weight, 0);
}

/**
 * The local mode's measure against the two ways of routing, with no engine in between: the same clients
 * through the local ALB, the source path through the capture proxy, and the divergence read from the
 * stand-ins' documents once the replayer drained.
 */
describe(`Divergence by routing (seed ${SEED})`, () => {
  let source: ClusterStandIn;
  let target: ClusterStandIn;
  let proxy: CaptureProxy;
  let alb: LocalAlb;

  const start = async () => {
    source = await startClusterStandIn({ name: 'source', port: 0, documents: seedDocuments(50) });
    target = await startClusterStandIn({ name: 'target', port: 0, documents: seedDocuments(50) });
    proxy = await startCaptureProxy({ sourceUrl: source.url, targetUrl: target.url, replayLagMs: 20 });
    alb = await startLocalAlb({
      portBase: 0,
      sourceUrl: proxy.url,
      targetUrl: target.url,
      random: seeded(SEED),
    });
  };
  afterEach(async () => {
    await alb.close();
    await proxy.close();
    await source.close();
    await target.close();
  });

  const runClients = async (): Promise<{ counts: ClientTrafficCounts; divergence: Divergence }> => {
    const traffic = startClientTraffic({
      url: `http://127.0.0.1:${alb.ports.weighted}`,
      ratePerSecond: 300,
      writeRatio: 0.3,
      initialDocuments: 50,
      random: seeded(SEED),
    });
    // Until enough happened, however loaded the machine is: a fixed sleep is a timing assumption.
    for (let waited = 0; waited < 20_000; waited += 50) {
      const now = traffic.counts();
      if (now.sent >= 400 && now.scrolls.continued >= 20) break;
      await sleep(50);
    }
    const counts = await traffic.stop();
    expect(await proxy.drain()).toBe(true);
    return { counts, divergence: measureDivergence(source, target) };
  };

  it('reads first (Swing’s rule set, reads at 50 %, writes and scrolls on the source): nothing diverges', async () => {
    await start();
    const rules = localSwingRules(alb);
    const priorities = swingPriorities(DEFAULT_READS_FIRST.basePriority);
    for (const [at, spec] of SWING_RULE_SET.entries()) {
      // As the engine writes them (writeReadRules): the pins and writes-to-source at the source only, the read
      // rules at the read share. writes-to-source at the read share sent POST /<index>/_doc/_searchable-<n> to
      // the target about half the time.
      const weights = isSourceOnly(spec) ? PIN_WEIGHTS : { source: 500, target: 499 };
      await rules.createRule(spec, priorities[at]!, weights, 'routing-divergence-test');
    }
    // Every kind of write the clients send, whatever the seed and the timing: none can reach the target.
    for (const [method, url] of [
      ['PUT', '/swing-demo/_doc/7'],
      ['POST', '/swing-demo/_doc'],
      ['POST', '/swing-demo/_doc/_searchable-2'],
      ['DELETE', '/swing-demo/_doc/7'],
      ['POST', '/_bulk'],
    ] as const) {
      expect(targetWeightFor(alb, method, url), `${method} ${url}`).toBe(0);
    }

    const { counts, divergence } = await runClients();

    expect(counts.servedBy.target).toBeGreaterThan(50);
    expect(counts.failed).toBe(0);
    expect(counts.unknownApi).toBe(0);
    expect(counts.scrolls.wrongCluster).toBe(0);
    expect(target.stats().directWrites).toBe(0);
    expect(divergence).toMatchObject({ targetOnly: 0, sourceOnly: 0, different: 0, wrongClusterScrolls: 0 });
  });

  it('all traffic by weight (50 %): writes stay on the target only and scrolls reach the wrong cluster', async () => {
    await start();
    alb.setWeights({ source: 500, target: 499 });

    const { counts, divergence } = await runClients();

    expect(target.stats().directWrites).toBeGreaterThan(0);
    expect(divergence.targetOnly).toBeGreaterThan(0);
    expect(divergence.wrongClusterScrolls).toBeGreaterThan(0);
    expect(divergence.wrongClusterScrolls).toBe(counts.scrolls.wrongCluster);
  });
});

describe('The local summary’s divergence', () => {
  it('counts, for a reads-first rollout, the writes the target took straight from clients before the cutover started', async () => {
    const source = await startClusterStandIn({ name: 'source', port: 0 });
    const target = await startClusterStandIn({ name: 'target', port: 0 });
    const proxy = await startCaptureProxy({ sourceUrl: source.url, targetUrl: target.url, replayLagMs: 0 });
    try {
      const put = (id: string) =>
        fetch(`${target.url}/books/_doc/${id}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        }).then((response) => response.arrayBuffer());
      await put('early');
      await sleep(5);
      const cutoverStartedAt = new Date().toISOString();
      await sleep(5);
      await put('late-1');
      await put('late-2');

      const readsFirst = await measureLocalDivergence(source, target, proxy, {
        traffic: 'reads-first',
        cutoverStartedAt,
      });
      const noCutover = await measureLocalDivergence(source, target, proxy, { traffic: 'reads-first' });
      const all = await measureLocalDivergence(source, target, proxy, { traffic: 'all' });

      expect(readsFirst).toMatchObject({
        targetDirectWrites: 3,
        targetDirectWritesBeforeCutover: 1,
        targetOnly: 3,
      });
      expect(noCutover.targetDirectWritesBeforeCutover).toBe(3);
      expect(all.targetDirectWritesBeforeCutover).toBeUndefined();
      expect(readsFirst.replay).toMatchObject({ drained: true, lagMs: 0, pending: 0 });
    } finally {
      await proxy.close();
      await source.close();
      await target.close();
    }
  });

  it('counts as late only the replays between the cutover and the restore, with or without reverse capture', async () => {
    const source = await startClusterStandIn({ name: 'source', port: 0 });
    const target = await startClusterStandIn({ name: 'target', port: 0 });
    const proxy = await startCaptureProxy({ sourceUrl: source.url, targetUrl: target.url, replayLagMs: 0 });
    try {
      const putThroughTheProxy = async (id: string) => {
        await fetch(`${proxy.url}/books/_doc/${id}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        }).then((response) => response.arrayBuffer());
        await proxy.drain(5_000);
      };
      const cutoverStartedAt = new Date().toISOString();
      await sleep(5);
      await putThroughTheProxy('while-cut-over');
      await sleep(5);
      const restoredAt = Date.now();
      await sleep(5);
      // After the restore clients write to the source again: its replay onto the target is the usual one.
      await putThroughTheProxy('after-the-restore');
      const rollout = { traffic: 'reads-first' as const, cutoverStartedAt };

      const bounded = await measureLocalDivergence(source, target, proxy, rollout, undefined, restoredAt);
      const unbounded = await measureLocalDivergence(source, target, proxy, rollout);

      expect(bounded.replay.appliedAfterCutover).toBe(1);
      expect(unbounded.replay.appliedAfterCutover).toBe(2);
    } finally {
      await proxy.close();
      await source.close();
      await target.close();
    }
  });
});
