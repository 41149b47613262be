import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type CaptureProxy, isDocumentWrite, startCaptureProxy } from '#local/capture-proxy.ts';
import { type ClusterStandIn, startClusterStandIn } from '#local/clusters.ts';
import { directWrites, measureDivergence } from '#local/divergence.ts';

async function call(url: string, method = 'GET', body?: unknown) {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(text !== undefined ? { body: text } : {}),
  });
  // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field, as a client reads them
  const answer: any = JSON.parse(await response.text());
  return { status: response.status, servedBy: response.headers.get('x-served-by'), body: answer };
}

const ndjson = (lines: unknown[]) => `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`;

describe('Capture proxy and replayer', () => {
  let source: ClusterStandIn;
  let target: ClusterStandIn;
  let proxy: CaptureProxy;

  const start = async (replayLagMs: number, extra: { maxAttempts?: number } = {}) => {
    source = await startClusterStandIn({ name: 'source', port: 0 });
    target = await startClusterStandIn({ name: 'target', port: 0 });
    proxy = await startCaptureProxy({
      sourceUrl: source.url,
      targetUrl: target.url,
      replayLagMs,
      retryDelayMs: 5,
      ...extra,
    });
  };
  afterEach(async () => {
    await proxy.close();
    await source.close();
    await target.close();
  });

  it('answers with the source’s answer and replays the write onto the target no sooner than the lag', async () => {
    await start(1000);

    const written = await call(`${proxy.url}/books/_doc/1`, 'PUT', { title: 'one' });
    const onTargetBeforeLag = target.documents().get('books')?.get('1');
    const pendingBeforeLag = proxy.pending();
    const drained = await proxy.drain();

    expect(written).toMatchObject({ status: 201, servedBy: 'source', body: { result: 'created' } });
    expect(onTargetBeforeLag).toBeUndefined();
    expect(pendingBeforeLag).toBe(1);
    expect(drained).toBe(true);
    expect(target.documents().get('books')?.get('1')).toEqual({ title: 'one' });
    expect(proxy.stats()).toMatchObject({
      captured: 1,
      replayed: 1,
      pending: 0,
      failed: 0,
      oldestPendingMs: 0,
    });
    expect(proxy.stats().lastLagMs).toBeGreaterThanOrEqual(1000);
    expect(target.writes()).toMatchObject([{ index: 'books', id: '1', replayed: true }]);
  });

  it('replays the writes in the order the source accepted them, so the target ends with the source’s documents', async () => {
    await start(0);

    await call(`${proxy.url}/books/_doc/1`, 'PUT', { v: 1 });
    await call(`${proxy.url}/books/_doc/1`, 'PUT', { v: 2 });
    await call(`${proxy.url}/books/_update/1`, 'POST', { doc: { w: 1 } });
    await call(`${proxy.url}/books/_doc/2`, 'PUT', { v: 1 });
    await call(`${proxy.url}/books/_doc/2`, 'DELETE');
    await call(
      `${proxy.url}/_bulk`,
      'POST',
      ndjson([
        { index: { _index: 'books', _id: '3' } },
        { v: 3 },
        { delete: { _index: 'books', _id: '1' } },
        { index: { _index: 'books', _id: '1' } },
        { v: 4 },
      ]),
    );
    await call(`${proxy.url}/books/_delete_by_query`, 'POST', { query: { ids: { values: ['3'] } } });
    await proxy.drain();

    const order = (cluster: ClusterStandIn) =>
      cluster.writes().map((write) => `${write.operation} ${write.id}`);
    expect(order(target)).toEqual(order(source));
    expect(target.documents()).toEqual(source.documents());
    expect(target.writes().every((write) => write.replayed)).toBe(true);
    expect(measureDivergence(source, target)).toMatchObject({ targetOnly: 0, sourceOnly: 0, different: 0 });
  });

  it('replays concurrent writes to the same ids in the order the source applied them', async () => {
    await start(0);

    await Promise.all(
      Array.from({ length: 60 }, (_, n) =>
        n % 3 === 2
          ? call(`${proxy.url}/books/_doc/${n % 4}`, 'DELETE')
          : call(`${proxy.url}/books/_doc/${n % 4}`, 'PUT', { n }),
      ),
    );
    await proxy.drain();

    const order = (cluster: ClusterStandIn) =>
      cluster.writes().map((write) => `${write.operation} ${write.id}`);
    expect(order(target)).toEqual(order(source));
    expect(target.documents()).toEqual(source.documents());
  });

  it('captures writes in the order the source applied them even when the source answers them out of order', async () => {
    // A source that applies writes as they arrive but answers the first one late: were both in flight at once,
    // the second's answer would come back first and be replayed first.
    const applied: string[] = [];
    const slowFirst = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      request.on('end', () => {
        applied.push(body);
        const answer = JSON.stringify({ _index: 'books', _id: '1', result: 'updated' });
        setTimeout(
          () => response.writeHead(200, { 'content-type': 'application/json' }).end(answer),
          applied.length === 1 ? 300 : 0,
        );
      });
    });
    await new Promise<void>((resolve) => slowFirst.listen(0, '127.0.0.1', resolve));
    source = await startClusterStandIn({ name: 'source', port: 0 });
    target = await startClusterStandIn({ name: 'target', port: 0 });
    proxy = await startCaptureProxy({
      sourceUrl: `http://127.0.0.1:${(slowFirst.address() as AddressInfo).port}`,
      targetUrl: target.url,
      replayLagMs: 0,
    });
    try {
      const first = call(`${proxy.url}/books/_doc/1`, 'PUT', { v: 1 });
      // The second write leaves once the source holds the first, whatever the machine's load.
      while (applied.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const second = call(`${proxy.url}/books/_doc/1`, 'PUT', { v: 2 });
      await Promise.all([first, second]);
      await proxy.drain();

      expect(applied.map((body) => JSON.parse(body))).toEqual([{ v: 1 }, { v: 2 }]);
      expect(target.documents().get('books')?.get('1')).toEqual({ v: 2 });
    } finally {
      slowFirst.closeAllConnections();
      await new Promise((resolve) => slowFirst.close(resolve));
    }
  });

  it('replays a document the source gave an id to under that same id', async () => {
    await start(0);

    const posted = await call(`${proxy.url}/books/_doc`, 'POST', { title: 'auto' });
    const bulk = await call(
      `${proxy.url}/_bulk`,
      'POST',
      ndjson([{ index: { _index: 'books' } }, { title: 'bulk auto' }]),
    );
    await proxy.drain();

    expect(target.documents().get('books')?.get(posted.body._id)).toEqual({ title: 'auto' });
    expect(target.documents().get('books')?.get(bulk.body.items[0].index._id)).toEqual({
      title: 'bulk auto',
    });
    expect(measureDivergence(source, target).targetOnly).toBe(0);
  });

  it('replays neither reads, nor scroll contexts, nor writes the source refused', async () => {
    await start(0);
    await call(`${proxy.url}/books/_doc/1`, 'PUT', { v: 1 });
    await proxy.drain();

    await call(`${proxy.url}/books/_doc/1`);
    await call(`${proxy.url}/books/_search`, 'POST', { query: { match_all: {} } });
    await call(`${proxy.url}/_msearch`, 'POST', ndjson([{ index: 'books' }, {}]));
    await call(`${proxy.url}/_mget`, 'POST', { docs: [{ _index: 'books', _id: '1' }] });
    await call(`${proxy.url}/books/_count`, 'POST', {});
    const opened = await call(`${proxy.url}/books/_search?scroll=1m`, 'POST', {});
    await call(`${proxy.url}/_search/scroll`, 'POST', { scroll_id: opened.body._scroll_id });
    await call(`${proxy.url}/_search/scroll`, 'DELETE', { scroll_id: opened.body._scroll_id });
    const refused = await call(`${proxy.url}/books/_create/1`, 'PUT', { v: 2 });
    await proxy.drain();

    expect(refused.status).toBe(409);
    expect(proxy.stats().captured).toBe(1);
    expect(target.stats()).toMatchObject({
      requests: 1,
      wrongClusterScrolls: 0,
      wrongClusterScrollClears: 0,
    });
  });

  it('keeps writes sent straight to the target on the target only', async () => {
    await start(0);
    await call(`${proxy.url}/books/_doc/1`, 'PUT', { v: 1 });
    const before = Date.now();

    await call(`${target.url}/books/_doc/direct`, 'PUT', { v: 1 });
    await proxy.drain();

    expect(source.documents().get('books')?.has('direct')).toBe(false);
    expect(directWrites(target).map((write) => write.id)).toEqual(['direct']);
    expect(directWrites(target, { from: before }).map((write) => write.id)).toEqual(['direct']);
    expect(directWrites(target, { to: before })).toEqual([]);
    expect(measureDivergence(source, target)).toMatchObject({
      targetOnly: 1,
      examples: { targetOnly: ['books/direct'] },
    });
  });

  it('retries a replay the target fails until it lands, and drain waits for it', async () => {
    await start(0, { maxAttempts: 1_000_000 });
    target.setFault({ errorRate: 1 });

    await call(`${proxy.url}/books/_doc/1`, 'PUT', { v: 1 });
    await call(`${proxy.url}/books/_doc/2`, 'PUT', { v: 2 });
    const drainedWhileFailing = await proxy.drain(200);
    const retriesWhileFailing = proxy.stats().retries;
    target.setFault({ errorRate: 0 });
    const drained = await proxy.drain();

    expect(drainedWhileFailing).toBe(false);
    expect(retriesWhileFailing).toBeGreaterThan(0);
    expect(drained).toBe(true);
    expect(proxy.stats()).toMatchObject({ captured: 2, replayed: 2, failed: 0, pending: 0 });
    expect(target.documents()).toEqual(source.documents());
  });

  it('counts a write as failed after its last attempt and goes on with the next', async () => {
    await start(0, { maxAttempts: 2 });
    target.setFault({ errorRate: 1 });

    await call(`${proxy.url}/books/_doc/1`, 'PUT', { v: 1 });
    await proxy.drain();
    target.setFault({ errorRate: 0 });
    await call(`${proxy.url}/books/_doc/2`, 'PUT', { v: 2 });
    await proxy.drain();

    expect(proxy.stats()).toMatchObject({ captured: 2, replayed: 1, failed: 1, retries: 1 });
    expect(measureDivergence(source, target)).toMatchObject({
      sourceOnly: 1,
      examples: { sourceOnly: ['books/1'] },
    });
  });

  it('refuses a negative replay lag', async () => {
    await expect(
      startCaptureProxy({
        sourceUrl: 'http://127.0.0.1:1',
        targetUrl: 'http://127.0.0.1:1',
        replayLagMs: -1,
      }),
    ).rejects.toThrow(/replayLagMs/);
    await start(0);
  });
});

describe('isDocumentWrite', () => {
  it.each([
    ['PUT', '/books/_doc/1', true],
    ['POST', '/books/_doc', true],
    ['POST', '/books/_doc/1?refresh=true', true],
    ['DELETE', '/books/_doc/1', true],
    ['POST', '/_bulk', true],
    ['POST', '/books/_update/1', true],
    ['PUT', '/books/_create/1', true],
    ['POST', '/books/_delete_by_query', true],
    ['POST', '/books/_update_by_query', true],
    ['PUT', '/books', true],
    ['DELETE', '/books', true],
    ['GET', '/books/_doc/1', false],
    ['HEAD', '/books/_doc/1', false],
    ['POST', '/books/_search', false],
    ['POST', '/books/_search?scroll=1m', false],
    ['POST', '/_msearch', false],
    ['POST', '/_mget', false],
    ['POST', '/books/_count', false],
    ['POST', '/_search/scroll', false],
    ['DELETE', '/_search/scroll', false],
    ['POST', '/books/_search/point_in_time', false],
    ['POST', '/books/_refresh', false],
  ])('%s %s is a write: %s', (method, path, write) => {
    expect(isDocumentWrite(method, path)).toBe(write);
  });
});

describe('measureDivergence', () => {
  const cluster = (
    documents: Record<string, Record<string, Record<string, unknown>>>,
    wrongClusterScrolls = 0,
  ) => ({
    documents: () =>
      new Map(Object.entries(documents).map(([index, byId]) => [index, new Map(Object.entries(byId))])),
    stats: () => ({
      requests: 0,
      injectedErrors: 0,
      documents: 0,
      directWrites: 0,
      replayedWrites: 0,
      openScrolls: 0,
      wrongClusterScrolls,
      wrongClusterScrollClears: 0,
    }),
  });

  it('finds nothing when both clusters hold the same documents, whatever their key order', () => {
    const divergence = measureDivergence(
      cluster({ a: { 1: { x: 1, y: { p: 1, q: 2 } } }, b: {} }),
      cluster({ a: { 1: { y: { q: 2, p: 1 }, x: 1 } } }),
    );

    expect(divergence).toEqual({
      targetOnly: 0,
      sourceOnly: 0,
      different: 0,
      wrongClusterScrolls: 0,
      documents: { source: 1, target: 1 },
      examples: { targetOnly: [], sourceOnly: [], different: [] },
    });
  });

  it('counts documents on the target only, on the source only, different, and wrong-cluster scrolls', () => {
    const divergence = measureDivergence(
      cluster({ a: { same: { v: 1 }, gone: { v: 1 }, changed: { v: 1 } }, onlySource: { 1: {} } }, 1),
      cluster({ a: { same: { v: 1 }, changed: { v: 2 }, added: { v: 1 } }, onlyTarget: { 1: {}, 2: {} } }, 2),
    );

    expect(divergence).toMatchObject({
      targetOnly: 3,
      sourceOnly: 2,
      different: 1,
      wrongClusterScrolls: 3,
      documents: { source: 4, target: 5 },
    });
    expect(divergence.examples.targetOnly.sort()).toEqual(['a/added', 'onlyTarget/1', 'onlyTarget/2']);
    expect(divergence.examples.sourceOnly.sort()).toEqual(['a/gone', 'onlySource/1']);
    expect(divergence.examples.different).toEqual(['a/changed']);
  });

  it('keeps at most the asked number of examples', () => {
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, n) => [`${n}`, {}]));

    const divergence = measureDivergence(cluster({}), cluster({ a: many }), { examples: 3 });

    expect(divergence.targetOnly).toBe(20);
    expect(divergence.examples.targetOnly).toHaveLength(3);
  });
});
