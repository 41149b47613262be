import { Client, errors } from '@opensearch-project/opensearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAlb } from '#local/alb.ts';
import { startCaptureProxy } from '#local/capture-proxy.ts';
import { type ClusterStandIn, startClusterStandIn } from '#local/clusters.ts';
import { measureDivergence } from '#local/divergence.ts';

/**
 * Every API the local traffic generator uses, called through the real OpenSearch client: each call must
 * parse in the client, and a 404 may only mean a missing document or index, as in OpenSearch.
 */
async function driveEveryApi(client: Client, index: string) {
  const indexed = await client.index({ index, id: '1', body: { title: 'one', tag: 'a' }, refresh: true });
  const auto = await client.index({ index, body: { title: 'auto', tag: 'b' } });
  const got = await client.get({ index, id: '1' });
  const exists = await client.exists({ index, id: '1' });
  const bulk = await client.bulk({
    body: [
      { index: { _index: index, _id: '2' } },
      { title: 'two', tag: 'a' },
      { create: { _index: index, _id: '3' } },
      { title: 'three', tag: 'b' },
      { update: { _index: index, _id: '2' } },
      { doc: { tag: 'c' } },
      { delete: { _index: index, _id: '3' } },
    ],
  });
  const mget = await client.mget({
    body: {
      docs: [
        { _index: index, _id: '1' },
        { _index: index, _id: '404' },
      ],
    },
  });
  const search = await client.search({ index, body: { query: { term: { tag: 'a' } } } });
  const msearch = await client.msearch({
    body: [{ index }, { query: { match_all: {} } }, {}, { query: { ids: { values: ['1'] } } }],
  });
  const count = await client.count({ index, body: { query: { match_all: {} } } });
  const opened = await client.search({ index, scroll: '1m', size: 1, body: { query: { match_all: {} } } });
  const scrollId = opened.body._scroll_id as string;
  const continued = await client.scroll({ body: { scroll_id: scrollId, scroll: '1m' } });
  const cleared = await client.clearScroll({ body: { scroll_id: scrollId } });
  const deleted = await client.delete({ index, id: '1' });
  const missingDoc = await client.get({ index, id: '1' }).catch((error: unknown) => error);
  const missingIndex = await client
    .search({ index: `${index}-missing`, body: { query: { match_all: {} } } })
    .catch((error: unknown) => error);
  return {
    indexed,
    auto,
    got,
    exists,
    bulk,
    mget,
    search,
    msearch,
    count,
    opened,
    continued,
    cleared,
    deleted,
    missingDoc,
    missingIndex,
  };
}

function expectEveryApiAnswered(results: Awaited<ReturnType<typeof driveEveryApi>>, servedBy: string) {
  expect(results.indexed).toMatchObject({ statusCode: 201, body: { result: 'created', _id: '1' } });
  expect(results.auto).toMatchObject({ statusCode: 201, body: { _id: expect.any(String) } });
  expect(results.got).toMatchObject({ statusCode: 200, body: { found: true, _source: { title: 'one' } } });
  expect(results.got.headers?.['x-served-by']).toBe(servedBy);
  expect(results.exists.body).toBe(true);
  expect(results.bulk).toMatchObject({ statusCode: 200, body: { errors: false } });
  expect(results.bulk.body.items).toHaveLength(4);
  expect(results.mget.body.docs).toMatchObject([{ found: true }, { found: false }]);
  expect(results.search.body.hits.hits.map((hit) => hit._id)).toEqual(['1']);
  expect(results.msearch.body.responses).toMatchObject([
    { status: 200 },
    { status: 200, hits: { total: { value: 1 } } },
  ]);
  expect(results.count.body.count).toBe(3);
  expect(results.opened.body.hits.hits).toHaveLength(1);
  expect(results.continued).toMatchObject({
    statusCode: 200,
    body: { _scroll_id: results.opened.body._scroll_id },
  });
  expect(results.continued.body.hits.hits).toHaveLength(1);
  expect(results.cleared).toMatchObject({ statusCode: 200, body: { succeeded: true, num_freed: 1 } });
  expect(results.deleted).toMatchObject({ statusCode: 200, body: { result: 'deleted' } });
  // The only 404s: a document that is not there, and an index that is not there.
  expect(results.missingDoc).toBeInstanceOf(errors.ResponseError);
  expect(results.missingDoc).toMatchObject({ meta: { statusCode: 404, body: { found: false } } });
  expect(results.missingIndex).toBeInstanceOf(errors.ResponseError);
  expect(results.missingIndex).toMatchObject({
    meta: { statusCode: 404, body: { error: { type: 'index_not_found_exception' } } },
  });
}

describe('The real OpenSearch client against the stand-ins', () => {
  let cluster: ClusterStandIn;
  let target: ClusterStandIn;

  beforeAll(async () => {
    cluster = await startClusterStandIn({ name: 'source', port: 0 });
    target = await startClusterStandIn({ name: 'target', port: 0 });
  });
  afterAll(async () => {
    await cluster.close();
    await target.close();
  });

  it('gets an answer it parses from every API the traffic generator uses, straight from a stand-in', async () => {
    const client = new Client({ node: cluster.url });
    try {
      expectEveryApiAnswered(await driveEveryApi(client, 'direct'), 'source');
    } finally {
      await client.close();
    }
  });

  it('gets the same answers through the capture proxy, whose replayer leaves the target with the same documents', async () => {
    const proxy = await startCaptureProxy({ sourceUrl: cluster.url, targetUrl: target.url, replayLagMs: 10 });
    const client = new Client({ node: proxy.url });
    try {
      expectEveryApiAnswered(await driveEveryApi(client, 'proxied'), 'source');
      expect(await proxy.drain()).toBe(true);

      expect(target.documents().get('proxied')).toEqual(cluster.documents().get('proxied'));
      expect(target.documents().get('proxied')?.size).toBe(2);
      expect(measureDivergence(cluster, target)).toMatchObject({ wrongClusterScrolls: 0 });
      expect(target.stats().wrongClusterScrollClears).toBe(0);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it.each([
    ['source', { source: 999, target: 0 }],
    ['target', { source: 0, target: 999 }],
  ] as const)(
    'gets an answer it parses from every API through the local ALB’s weighted listener, all to the %s',
    async (servedBy, weights) => {
      const proxy = await startCaptureProxy({
        sourceUrl: cluster.url,
        targetUrl: target.url,
        replayLagMs: 0,
      });
      const alb = await startLocalAlb({ portBase: 0, sourceUrl: proxy.url, targetUrl: target.url, weights });
      const client = new Client({ node: `http://127.0.0.1:${alb.ports.weighted}` });
      try {
        expectEveryApiAnswered(await driveEveryApi(client, `through-alb-to-${servedBy}`), servedBy);
      } finally {
        await client.close();
        await alb.close();
        await proxy.close();
      }
    },
  );
});
