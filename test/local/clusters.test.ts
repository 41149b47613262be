import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterStandIn, startClusterStandIn } from '#local/clusters.ts';

/** Returns 0, 0.1, ..., 0.9, 0, ...: an error rate r fails exactly r of every ten requests. */
function cyclingTenths(): () => number {
  let call = 0;
  return () => (call++ % 10) / 10;
}

async function call(url: string, init?: RequestInit) {
  const response = await fetch(url, init);
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, servedBy: response.headers.get('x-served-by'), body };
}

/** A request with its path exactly as given: fetch would resolve dot segments before sending. */
function rawCall(port: number, method: string, path: string, body: string) {
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const sent = request(
      { host: '127.0.0.1', port, method, path, headers: { 'content-type': 'application/json' } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }),
        );
      },
    );
    sent.on('error', reject);
    sent.end(body);
  });
}

describe('Cluster stand-in', () => {
  let cluster: ClusterStandIn;

  beforeAll(async () => {
    cluster = await startClusterStandIn({ name: 'target', port: 0, random: cyclingTenths() });
  });
  afterAll(async () => {
    await cluster.close();
  });

  it('answers GET / with cluster info naming the cluster, and says who served it', async () => {
    const answer = await call(`${cluster.url}/`);

    expect(answer).toMatchObject({
      status: 200,
      servedBy: 'target',
      body: { cluster_name: 'target', _served_by: 'target', version: { number: expect.any(String) } },
    });
    expect(cluster.url).toBe(`http://127.0.0.1:${cluster.port}`);
  });

  it.each([
    '/dots/_search/../_doc/X',
    '/dots/_search/%2e%2e/_doc/X',
    '/dots/_search/%2E%2E/_doc/X',
    '/dots/_count/./_doc/X',
  ])('answers POST %s as OpenSearch does, 400 no handler found, writing nothing', async (path) => {
    const before = cluster.stats().documents;

    const answer = await rawCall(cluster.port, 'POST', path, '{"a":1}');

    expect(answer).toMatchObject({
      status: 400,
      body: { error: `no handler found for uri [${path}] and method [POST]`, status: 400 },
    });
    expect(cluster.stats().documents).toBe(before);
  });

  it('answers GET /_cluster/health green', async () => {
    const answer = await call(`${cluster.url}/_cluster/health`);

    expect(answer).toMatchObject({ status: 200, servedBy: 'target', body: { status: 'green' } });
  });

  it('stores documents (201 created, then 200 updated) and counts and finds them', async () => {
    const put = (id: string, method: string) =>
      call(`${cluster.url}/books/_doc/${id}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: `book ${id}` }),
      });

    const created = await put('1', 'PUT');
    const updated = await put('1', 'PUT');
    const posted = await put('2', 'POST');
    const count = await call(`${cluster.url}/books/_count`);
    const search = await call(`${cluster.url}/books/_search`);
    const searchByPost = await call(`${cluster.url}/books/_search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: { match_all: {} } }),
    });

    expect(created).toMatchObject({ status: 201, servedBy: 'target', body: { result: 'created' } });
    expect(updated).toMatchObject({ status: 200, servedBy: 'target', body: { result: 'updated' } });
    expect(posted).toMatchObject({ status: 201, servedBy: 'target' });
    expect(count).toMatchObject({
      status: 200,
      servedBy: 'target',
      body: { count: 2, _served_by: 'target' },
    });
    for (const answer of [search, searchByPost]) {
      expect(answer).toMatchObject({
        status: 200,
        servedBy: 'target',
        body: { hits: { total: { value: 2 } } },
      });
      expect((answer.body.hits as { hits: { _id: string }[] }).hits.map((hit) => hit._id).sort()).toEqual([
        '1',
        '2',
      ]);
    }
    expect(cluster.stats().documents).toBe(2);
  });

  it('counts 0 in an index that has no documents, and answers a count on a missing index with 404', async () => {
    const created = await call(`${cluster.url}/empty`, { method: 'PUT' });
    const count = await call(`${cluster.url}/empty/_count`);
    const missing = await call(`${cluster.url}/no-such-index/_count`);

    expect(created).toMatchObject({ status: 200, body: { acknowledged: true, index: 'empty' } });
    expect(count).toMatchObject({ status: 200, body: { count: 0 } });
    expect(missing).toMatchObject({ status: 404, body: { error: { type: 'index_not_found_exception' } } });
  });

  it('answers an unknown path with a 404 JSON error that still says who served it', async () => {
    const answer = await call(`${cluster.url}/_nodes/stats`, { method: 'DELETE' });

    expect(answer).toMatchObject({
      status: 404,
      servedBy: 'target',
      body: { error: { type: 'not_found' }, _served_by: 'target' },
    });
  });

  it('refuses a document that is not JSON with a 400', async () => {
    const answer = await call(`${cluster.url}/books/_doc/3`, { method: 'PUT', body: '{not json' });

    expect(answer).toMatchObject({
      status: 400,
      servedBy: 'target',
      body: { error: { type: 'parse_exception' } },
    });
  });

  it('fails the set fraction of requests with 503 while an error rate is injected, then recovers', async () => {
    const before = cluster.stats();
    cluster.setFault({ errorRate: 0.3 });

    const statuses = [];
    for (let i = 0; i < 100; i += 1) statuses.push((await call(`${cluster.url}/_cluster/health`)).status);
    cluster.setFault({ errorRate: 0 });
    const after = await call(`${cluster.url}/_cluster/health`);

    expect(statuses.filter((status) => status === 503)).toHaveLength(30);
    expect(statuses.filter((status) => status === 200)).toHaveLength(70);
    expect(cluster.stats().injectedErrors - before.injectedErrors).toBe(30);
    expect(after.status).toBe(200);
  });

  it('marks injected failures as served by the cluster', async () => {
    cluster.setFault({ errorRate: 1 });

    const answer = await call(`${cluster.url}/`);
    cluster.setFault({ errorRate: 0 });

    expect(answer).toMatchObject({ status: 503, servedBy: 'target', body: { _served_by: 'target' } });
  });

  it('delays every answer by the injected latency', async () => {
    cluster.setFault({ latencyMs: 150 });

    const started = performance.now();
    await call(`${cluster.url}/`);
    const took = performance.now() - started;
    cluster.setFault({ latencyMs: 0 });

    expect(took).toBeGreaterThanOrEqual(140);
  });

  it('refuses an error rate outside 0..1', () => {
    expect(() => cluster.setFault({ errorRate: 1.5 })).toThrow(/between 0 and 1/);
  });

  it('stores a document whose id is a read API name, as OpenSearch does: POST /i/_doc/_searchable-1 is a write', async () => {
    const answer = await rawCall(cluster.port, 'POST', '/ids/_doc/_searchable-1', '{"a":1}');

    expect(answer).toMatchObject({ status: 201, body: { _id: '_searchable-1', result: 'created' } });
  });
});
