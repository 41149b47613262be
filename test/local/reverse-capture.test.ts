import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { startLocalAlb } from '#local/alb.ts';
import { type CaptureProxy, startTargetCaptureProxy } from '#local/capture-proxy.ts';
import { type ClusterStandIn, startClusterStandIn } from '#local/clusters.ts';
import { measureDivergence } from '#local/divergence.ts';
import { parseLocalOptions } from '#local/options.ts';
import { LOCAL_REVERSE_LAG_ALARM, localReverseCapture, reverseDrained } from '#local/run/reverse.ts';
import { seeded } from '#local/run.ts';
import { startTraffic } from '#local/traffic.ts';

/**
 * Issue 22's local parts: the target path captures and a reverse replayer applies what the target accepted onto
 * the source; ALB's fixed response (Swing's write freeze) carries no Retry-After, and the clients retry a 503
 * write by their own backoff, or after Retry-After when an answer has one.
 */

async function call(url: string, method: string, body?: unknown) {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe('The target path capturing, with a reverse replayer onto the source', () => {
  let source: ClusterStandIn;
  let target: ClusterStandIn;
  let proxy: CaptureProxy;

  const start = async (lagMs: number) => {
    source = await startClusterStandIn({ name: 'source', port: 0 });
    target = await startClusterStandIn({ name: 'target', port: 0, random: () => 0 });
    proxy = await startTargetCaptureProxy({
      sourceUrl: source.url,
      targetUrl: target.url,
      replayLagMs: lagMs,
      retryDelayMs: 5,
    });
  };
  afterEach(async () => {
    await proxy.close();
    await source.close();
    await target.close();
  });

  it('answers with the target, then applies the write to the source no sooner than the lag, as a replay', async () => {
    await start(300);

    const written = await call(`${proxy.url}/books/_doc/1`, 'PUT', { title: 'one' });
    const created = await call(`${proxy.url}/books/_doc`, 'POST', { title: 'auto' });
    const onSourceBeforeLag = source.documents().get('books');
    const pendingBeforeLag = proxy.pending();
    const drained = await proxy.drain(5000);

    expect(written.status).toBe(201);
    expect(created.status).toBe(201);
    expect(written.headers.get('x-served-by')).toBe('target');
    expect(onSourceBeforeLag).toBeUndefined();
    expect(pendingBeforeLag).toBe(2);
    expect(drained).toBe(true);
    // The id the target generated is the id the source gets.
    expect(measureDivergence(source, target)).toMatchObject({ targetOnly: 0, sourceOnly: 0, different: 0 });
    expect(source.writes().map((write) => write.replayed)).toEqual([true, true]);
    expect(target.writes().map((write) => write.replayed)).toEqual([false, false]);
    expect(proxy.stats()).toMatchObject({ captured: 2, replayed: 2, pending: 0, failed: 0 });
    expect(proxy.writesInFlight()).toBe(0);
  });

  it('does not replay a write the target refused, nor a read', async () => {
    await start(0);
    target.setFault({ errorRate: 1 });

    const refused = await call(`${proxy.url}/books/_doc/1`, 'PUT', { title: 'refused' });
    target.setFault({ errorRate: 0 });
    await call(`${proxy.url}/books/_doc/2`, 'PUT', { title: 'taken' });
    await call(`${proxy.url}/books/_search`, 'POST', { query: { match_all: {} } });
    await proxy.drain(5000);

    expect(refused.status).toBe(503);
    expect(proxy.stats()).toMatchObject({ captured: 1, replayed: 1 });
    expect([...(source.documents().get('books')?.keys() ?? [])]).toEqual(['2']);
  });

  it('is not drained while a write is on its way to the target or waits for its replay, and says so', async () => {
    await start(200);
    target.setFault({ latencyMs: 300 });

    const answer = call(`${proxy.url}/books/_doc/1`, 'PUT', { title: 'slow' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const onItsWay = reverseDrained(proxy);
    await answer;
    const pending = reverseDrained(proxy);
    await proxy.drain(5000);

    expect(onItsWay).toMatchObject({ drained: false });
    expect(onItsWay.detail).toMatch(/1 on their way to the target/);
    expect(pending).toMatchObject({ drained: false });
    expect(pending.detail).toMatch(/1 writes pending/);
    expect(reverseDrained(proxy)).toMatchObject({ drained: true });
  });

  it("gives the engine reverse capture's ports: the lag alarm, the drain's bound, the freeze's 503s by window", async () => {
    await start(0);
    const alb = await startLocalAlb({
      portBase: 0,
      sourceUrl: source.url,
      targetUrl: proxy.url,
      random: seeded(1),
    });
    onTestFinished(() => alb.close());
    const freezeAction = {
      Type: 'fixed-response' as const,
      FixedResponseConfig: { StatusCode: '503', ContentType: 'application/json', MessageBody: '{}' },
    };
    alb.createRule({
      priority: 1,
      conditions: [{ Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['PUT'] } }],
      actions: [freezeAction],
      tags: [{ Key: 'swing:rule', Value: 'freeze-methods' }],
    });
    alb.createRule({
      priority: 2,
      conditions: [{ Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['DELETE'] } }],
      actions: [freezeAction],
      tags: [{ Key: 'swing:rule', Value: 'someone-elses' }],
    });
    const from = new Date();
    const weighted = `http://127.0.0.1:${alb.ports.weighted}`;
    await call(`${weighted}/books/_doc/1`, 'PUT', {});
    await call(`${weighted}/books/_doc/2`, 'PUT', {});
    await call(`${weighted}/books/_doc/2`, 'DELETE');
    const to = new Date();

    const ports = localReverseCapture(proxy, alb, 30);
    expect(ports.reverseCapture).toEqual({
      lagAlarm: LOCAL_REVERSE_LAG_ALARM,
      missingData: 'lagging',
      drainTimeoutSeconds: 30,
    });
    expect(await ports.reverseReplay?.check()).toMatchObject({ drained: true });
    expect(await ports.frozenRequests?.countBetween(from, to)).toBe(2);
    expect(await ports.frozenRequests?.countBetween(to, new Date(to.getTime() + 1000))).toBe(0);
    // Without a capturing target path only the count is left: the write cutover's freeze refuses writes too.
    const withoutReverse = localReverseCapture(undefined, alb, 30);
    expect(Object.keys(withoutReverse)).toEqual(['frozenRequests']);
    expect(await withoutReverse.frozenRequests?.countBetween(from, to)).toBe(2);
  });
});

/** A server that answers each path's first request 503 with a Retry-After (seconds), then 200. */
async function retryAfterServer(
  retryAfter = '1',
): Promise<{ server: Server; url: string; seen: Map<string, number[]> }> {
  const seen = new Map<string, number[]>();
  const server = createServer((request, response) => {
    request.resume();
    const times = seen.get(request.url ?? '') ?? [];
    times.push(performance.now());
    seen.set(request.url ?? '', times);
    if (times.length === 1) {
      response.writeHead(503, { 'retry-after': retryAfter, 'x-served-by': 'target' });
      response.end('{}');
    } else {
      response.writeHead(200, { 'x-served-by': 'target' });
      response.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('The clients retry a write answered 503', () => {
  it("meets ALB's fixed response without Retry-After, retries by its backoff and gets through once it is gone", async () => {
    const source = await startClusterStandIn({ name: 'source', port: 0 });
    const target = await startClusterStandIn({ name: 'target', port: 0 });
    const alb = await startLocalAlb({
      portBase: 0,
      sourceUrl: source.url,
      targetUrl: target.url,
      random: seeded(1),
    });
    onTestFinished(async () => {
      await alb.close();
      await source.close();
      await target.close();
    });
    const freeze = alb.createRule({
      priority: 1,
      conditions: [{ Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['PUT'] } }],
      actions: [
        {
          Type: 'fixed-response',
          FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'writes frozen' },
        },
      ],
    });
    const direct = await call(`http://127.0.0.1:${alb.ports.weighted}/books/_doc/0`, 'PUT', {});
    let n = 0;
    const traffic = startTraffic({
      url: `http://127.0.0.1:${alb.ports.weighted}`,
      ratePerSecond: 40,
      writeRatio: 0.5,
      random: seeded(7),
      retryWrites: { attempts: 20, baseDelayMs: 50, maxDelayMs: 200, maxRetryAfterMs: 5000 },
      requests: () => {
        n += 1;
        return n % 2 === 0
          ? { method: 'PUT', path: `/books/_doc/${n}`, body: '{}' }
          : { method: 'GET', path: '/books/_count' };
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const frozen = traffic.counts();
    alb.deleteRule(freeze);
    await new Promise((resolve) => setTimeout(resolve, 700));
    const counts = await traffic.stop();

    // ALB's own answer: its Server header, the rule's status and body, and no Retry-After.
    expect(direct.status).toBe(503);
    expect(direct.text).toBe('writes frozen');
    expect(direct.headers.get('server')).toBe('awselb/2.0');
    expect(direct.headers.get('retry-after')).toBeNull();
    expect(direct.headers.get('x-served-by')).toBeNull();
    // Reads flowed during the freeze; writes were refused by the ALB and retried by backoff.
    expect(frozen.servedBy.source).toBeGreaterThan(0);
    expect(frozen.failedByCluster.alb).toBeGreaterThan(0);
    expect(frozen.failedByCluster.unknown ?? 0).toBe(0);
    expect(counts.writeRetries?.refusedByAlb).toBeGreaterThan(0);
    expect(counts.writeRetries?.afterRetryAfter).toBe(0);
    expect(counts.writeRetries?.recovered).toBeGreaterThan(0);
    expect(counts.writeRetries?.gaveUp).toBe(0);
    // Every write the freeze refused landed once it was lifted: none lost.
    expect(source.documents().get('books')?.size).toBe(Math.floor(n / 2));
  });

  it('waits the Retry-After an answer gives before the retry, and counts it', async () => {
    const { server, url, seen } = await retryAfterServer();
    onTestFinished(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    let n = 0;
    const traffic = startTraffic({
      url,
      ratePerSecond: 5,
      retryWrites: { attempts: 3, baseDelayMs: 10, maxDelayMs: 10, maxRetryAfterMs: 5000 },
      requests: () => ({ method: 'PUT', path: `/books/_doc/${++n}`, body: '{}' }),
    });
    await new Promise((resolve) => setTimeout(resolve, 1400));
    const counts = await traffic.stop();

    const first = seen.get('/books/_doc/1') ?? [];
    expect(first.length).toBe(2);
    expect(first[1]! - first[0]!).toBeGreaterThanOrEqual(950);
    expect(counts.writeRetries?.afterRetryAfter).toBeGreaterThan(0);
    expect(counts.writeRetries?.refusedByAlb).toBe(0);
  });
});

describe('The clients stop', () => {
  it('sending each write that waits for its retry at once, one last time, instead of dropping it', async () => {
    const { server, url, seen } = await retryAfterServer('30');
    onTestFinished(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    let n = 0;
    const traffic = startTraffic({
      url,
      ratePerSecond: 10,
      retryWrites: { attempts: 3, baseDelayMs: 10, maxDelayMs: 10, maxRetryAfterMs: 60_000 },
      requests: () => ({ method: 'PUT', path: `/books/_doc/${++n}`, body: '{}' }),
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stopping = performance.now();
    const counts = await traffic.stop();

    expect(performance.now() - stopping).toBeLessThan(5000);
    expect(counts.writeRetries).toMatchObject({ retries: n, recovered: n, gaveUp: 0 });
    expect([...seen.values()].every((times) => times.length === 2)).toBe(true);
  });
});

describe('--reverse-capture', () => {
  it('is on for reads-first between the stand-ins, off in all mode, and refused with upstream clusters', () => {
    expect(parseLocalOptions({ traffic: 'reads-first' })).toMatchObject({
      reverseCapture: true,
      reverseLagMs: 100,
    });
    expect(parseLocalOptions({ traffic: 'reads-first', reverseCapture: false }).reverseCapture).toBe(false);
    expect(parseLocalOptions({}).reverseCapture).toBe(false);
    expect(parseLocalOptions({ reverseCapture: true, reverseLag: '1s' })).toMatchObject({
      reverseCapture: true,
      reverseLagMs: 1000,
    });
    const upstream = { upstreamSource: 'http://127.0.0.1:1', upstreamTarget: 'http://127.0.0.1:2' };
    expect(parseLocalOptions({ ...upstream, traffic: 'reads-first' }).reverseCapture).toBe(false);
    expect(() => parseLocalOptions({ ...upstream, reverseCapture: true })).toThrow(/--reverse-capture/);
    expect(() => parseLocalOptions({ reverseLag: 'soon', traffic: 'reads-first' })).toThrow(/--reverse-lag/);
    expect(() =>
      parseLocalOptions({ reverseLag: '1s', traffic: 'reads-first', reverseCapture: false }),
    ).toThrow(/--reverse-lag/);
  });
});
