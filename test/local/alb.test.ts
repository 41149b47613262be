import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ValidationFailed } from '#domain/errors.ts';
import { type LocalAlb, startLocalAlb } from '#local/alb.ts';
import { type ClusterStandIn, startClusterStandIn } from '#local/clusters.ts';
import { seeded } from '#local/run.ts';

interface Answer {
  readonly status: number;
  readonly servedBy: string | null;
}

async function get(port: number, path = '/', init?: RequestInit): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, init);
  await response.arrayBuffer();
  return { status: response.status, servedBy: response.headers.get('x-served-by') };
}

/** Sends `total` requests, `concurrency` at a time, and returns every answer. */
async function burst(port: number, total: number, concurrency = 25, between?: () => void): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (let sent = 0; sent < total; sent += concurrency) {
    between?.();
    const batch = Array.from({ length: Math.min(concurrency, total - sent) }, () =>
      get(port, '/_cluster/health'),
    );
    answers.push(...(await Promise.all(batch)));
  }
  return answers;
}

const share = (answers: Answer[], cluster: string) =>
  answers.filter((answer) => answer.servedBy === cluster).length / answers.length;

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('Local ALB stand-in', () => {
  let source: ClusterStandIn;
  let target: ClusterStandIn;
  let alb: LocalAlb;

  beforeAll(async () => {
    source = await startClusterStandIn({ name: 'source', port: 0 });
    target = await startClusterStandIn({ name: 'target', port: 0, random: seeded(3) });
    alb = await startLocalAlb({
      portBase: 0,
      sourceUrl: source.url,
      targetUrl: target.url,
      random: seeded(11),
    });
  });
  afterAll(async () => {
    await alb.close();
    await source.close();
    await target.close();
  });
  beforeEach(() => {
    source.setFault({ errorRate: 0, latencyMs: 0 });
    target.setFault({ errorRate: 0, latencyMs: 0 });
  });

  it('listens on three distinct ephemeral ports with port base 0', () => {
    const ports = Object.values(alb.ports);

    expect(new Set(ports).size).toBe(3);
    expect(ports.every((port) => port > 0)).toBe(true);
  });

  it('sends all weighted traffic to the target at 0/999', async () => {
    alb.setWeights({ source: 0, target: 999 });

    const answers = await burst(alb.ports.weighted, 200);

    expect(share(answers, 'target')).toBe(1);
  });

  it('sends all weighted traffic to the source at 999/0', async () => {
    alb.setWeights({ source: 999, target: 0 });

    const answers = await burst(alb.ports.weighted, 200);

    expect(share(answers, 'source')).toBe(1);
  });

  it('serves 9201 from the source and 9202 from the target whatever the weights', async () => {
    for (const weights of [
      { source: 999, target: 0 },
      { source: 0, target: 999 },
    ]) {
      alb.setWeights(weights);

      const viaSource = await burst(alb.ports.source, 50);
      const viaTarget = await burst(alb.ports.target, 50);

      expect(share(viaSource, 'source')).toBe(1);
      expect(share(viaTarget, 'target')).toBe(1);
    }
  });

  it.each([10, 50])(
    'sends %i % of 1000 weighted requests to the target, within 3 points',
    async (percent) => {
      const targetWeight = Math.round((percent * 999) / 100);
      alb.setWeights({ source: 999 - targetWeight, target: targetWeight });

      const answers = await burst(alb.ports.weighted, 1000, 50);

      expect(answers.every((answer) => answer.status === 200)).toBe(true);
      expect(Math.abs(share(answers, 'target') * 100 - percent)).toBeLessThanOrEqual(3);
    },
  );

  it('fails no request when the weights change during a burst of concurrent requests', async () => {
    // Latency keeps requests in flight across each change: they must finish where they were sent.
    source.setFault({ latencyMs: 15 });
    target.setFault({ latencyMs: 15 });
    let flip = 0;
    const flipper = setInterval(() => {
      flip += 1;
      alb.setWeights(flip % 2 === 0 ? { source: 999, target: 0 } : { source: 0, target: 999 });
    }, 3);

    const answers = await burst(alb.ports.weighted, 600, 60);
    clearInterval(flipper);

    expect(flip).toBeGreaterThan(10);
    expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
    expect(share(answers, 'source')).toBeGreaterThan(0);
    expect(share(answers, 'target')).toBeGreaterThan(0);
  });

  it('refuses weights ALB would refuse and keeps the previous ones', () => {
    alb.setWeights({ source: 500, target: 499 });

    for (const bad of [
      { source: 0, target: 0 },
      { source: 1000, target: 0 },
      { source: -1, target: 5 },
      { source: 1.5, target: 5 },
    ]) {
      expect(() => alb.setWeights(bad)).toThrow(ValidationFailed);
    }
    expect(alb.getWeights()).toEqual({ source: 500, target: 499 });
  });

  it('counts 5xx from a faulty target in its window, per group and per listener', async () => {
    const before = alb.totals();
    target.setFault({ errorRate: 1 });
    alb.setWeights({ source: 0, target: 999 });

    const weighted = await burst(alb.ports.weighted, 30);
    const direct = await burst(alb.ports.target, 20);
    const viaSource = await burst(alb.ports.source, 10);
    const all = alb.window('target', 5000);
    const only9200 = alb.window('target', 5000, 'weighted');
    const totals = alb.totals();

    expect([...weighted, ...direct].every((answer) => answer.status === 503)).toBe(true);
    expect(viaSource.every((answer) => answer.status === 200)).toBe(true);
    expect(all.errors5xx).toBeGreaterThanOrEqual(50);
    expect(all.errorRate).toBeGreaterThan(0);
    expect(only9200.errors5xx).toBeGreaterThanOrEqual(30);
    expect(all.errors5xx - only9200.errors5xx).toBeGreaterThanOrEqual(20);
    expect(alb.window('source', 5000).errors5xx).toBe(0);
    expect(totals.all.target.errors5xx - before.all.target.errors5xx).toBe(50);
    expect(totals.weighted.target.errors5xx - before.weighted.target.errors5xx).toBe(30);
    expect(totals.all.source.requests - before.all.source.requests).toBe(10);
    expect(totals.weighted.source.requests - before.weighted.source.requests).toBe(0);
  });

  it('measures p99 latency from the target in its window', async () => {
    target.setFault({ latencyMs: 120 });

    await burst(alb.ports.target, 10, 10);

    expect(alb.window('target', 400).p99LatencyMs).toBeGreaterThanOrEqual(110);
  });

  it('forwards request bodies: a write lands on the cluster the listener chose', async () => {
    alb.setWeights({ source: 0, target: 999 });
    const documentsBefore = target.stats().documents;

    const answer = await get(alb.ports.weighted, '/alb-writes/_doc/1', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hello: 'target' }),
    });

    expect(answer).toEqual({ status: 201, servedBy: 'target' });
    expect(target.stats().documents).toBe(documentsBefore + 1);
  });
});

describe('Local ALB stand-in with an unreachable target', () => {
  let source: ClusterStandIn;
  let alb: LocalAlb;

  beforeAll(async () => {
    source = await startClusterStandIn({ name: 'source', port: 0 });
    alb = await startLocalAlb({
      portBase: 0,
      sourceUrl: source.url,
      targetUrl: `http://127.0.0.1:${await closedPort()}`,
      metricsWindowMs: 300,
    });
  });
  afterAll(async () => {
    await alb.close();
    await source.close();
  });

  it('answers 502 attributed to the target and counts it as a target 5xx, as ELB_5XX', async () => {
    const answer = await get(alb.ports.target);

    expect(answer).toEqual({ status: 502, servedBy: 'target' });
    expect(alb.window('target', 1000)).toMatchObject({ requests: 1, errors5xx: 1, errorRate: 1 });
  });

  it('forgets samples older than the metrics window', async () => {
    await get(alb.ports.source);
    await new Promise((resolve) => setTimeout(resolve, 350));

    expect(alb.window('source', 10_000).requests).toBe(0);
    expect(alb.totals().all.source.requests).toBe(1);
  });
});

describe('Local ALB stand-in over a cluster that drops idle keep-alive connections', () => {
  let upstream: Server;
  let alb: LocalAlb;

  beforeAll(async () => {
    // The second request on a connection is reset unanswered: what a client sees when a cluster closes an
    // idle kept-alive socket just as the proxy reuses it.
    const served = new WeakMap<object, number>();
    upstream = createServer((request, response) => {
      const count = (served.get(request.socket) ?? 0) + 1;
      served.set(request.socket, count);
      if (count > 1) {
        request.socket.destroy();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    alb = await startLocalAlb({ portBase: 0, sourceUrl: url, targetUrl: url });
  });
  afterAll(async () => {
    await alb.close();
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  it('sends again on a fresh connection instead of failing the client, and stamps the group', async () => {
    const answers: Answer[] = [];
    for (let i = 0; i < 5; i += 1) answers.push(await get(alb.ports.source));

    expect(answers).toEqual(Array.from({ length: 5 }, () => ({ status: 200, servedBy: 'source' })));
    expect(alb.window('source', 5000)).toMatchObject({ requests: 5, errors5xx: 0 });
  });
});

describe('Local ALB stand-in: listening', () => {
  it('refuses a port base outside 0..65533 naming the fix', async () => {
    await expect(
      startLocalAlb({ portBase: 70000, sourceUrl: 'http://x', targetUrl: 'http://y' }),
    ).rejects.toThrow(/portBase: .*0 for ephemeral ports/);
  });

  it('says which ports are taken and how to choose others', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as AddressInfo).port;
    try {
      await expect(
        startLocalAlb({ portBase: taken, sourceUrl: 'http://127.0.0.1:1', targetUrl: 'http://127.0.0.1:2' }),
      ).rejects.toThrow(/choose another port base, or 0/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
