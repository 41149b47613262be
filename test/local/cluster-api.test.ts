import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterStandIn, REPLAY_HEADER, startClusterStandIn } from '#local/clusters.ts';

interface Reply {
  status: number;
  servedBy: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field, as a client reads them
  body: any;
}

async function call(url: string, method = 'GET', body?: unknown, headers: Record<string, string> = {}) {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(text !== undefined ? { body: text } : {}),
  });
  const raw = await response.text();
  return {
    status: response.status,
    servedBy: response.headers.get('x-served-by'),
    body: raw ? JSON.parse(raw) : undefined,
  } satisfies Reply;
}

const ndjson = (lines: unknown[]) => `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`;
const ids = (reply: Reply) => (reply.body.hits.hits as { _id: string }[]).map((hit) => hit._id);

describe('Cluster stand-in: the OpenSearch APIs clients use', () => {
  let cluster: ClusterStandIn;
  let other: ClusterStandIn;

  beforeAll(async () => {
    cluster = await startClusterStandIn({
      name: 'source',
      port: 0,
      documents: {
        books: Object.fromEntries(
          Array.from({ length: 25 }, (_, n) => [
            `b${n + 1}`,
            { title: `book ${n + 1}`, tag: n % 2 ? 'odd' : 'even', n: n + 1 },
          ]),
        ),
      },
    });
    other = await startClusterStandIn({ name: 'target', port: 0 });
  });
  afterAll(async () => {
    await cluster.close();
    await other.close();
  });

  describe('documents by id', () => {
    it('indexes, gets and deletes a document with versions and sequence numbers', async () => {
      const created = await call(`${cluster.url}/shelf/_doc/1`, 'PUT', { title: 'one' });
      const updated = await call(`${cluster.url}/shelf/_doc/1`, 'POST', { title: 'uno' });
      const got = await call(`${cluster.url}/shelf/_doc/1`);
      const exists = await fetch(`${cluster.url}/shelf/_doc/1`, { method: 'HEAD' });
      const deleted = await call(`${cluster.url}/shelf/_doc/1`, 'DELETE');
      const gone = await call(`${cluster.url}/shelf/_doc/1`);
      const notExists = await fetch(`${cluster.url}/shelf/_doc/1`, { method: 'HEAD' });
      const deletedAgain = await call(`${cluster.url}/shelf/_doc/1`, 'DELETE');

      expect(created).toMatchObject({
        status: 201,
        body: { _index: 'shelf', _id: '1', _version: 1, result: 'created', _seq_no: 0, _primary_term: 1 },
      });
      expect(updated).toMatchObject({ status: 200, body: { _version: 2, result: 'updated', _seq_no: 1 } });
      expect(got).toMatchObject({
        status: 200,
        servedBy: 'source',
        body: { _index: 'shelf', _id: '1', _version: 2, found: true, _source: { title: 'uno' } },
      });
      expect(exists.status).toBe(200);
      expect(deleted).toMatchObject({ status: 200, body: { result: 'deleted', _version: 3 } });
      expect(gone).toMatchObject({ status: 404, body: { _index: 'shelf', _id: '1', found: false } });
      expect(notExists.status).toBe(404);
      expect(deletedAgain).toMatchObject({ status: 404, body: { result: 'not_found' } });
    });

    it('answers a get on a missing index with 404 index_not_found_exception in OpenSearch error shape', async () => {
      const answer = await call(`${cluster.url}/nowhere/_doc/1`);

      expect(answer).toMatchObject({
        status: 404,
        body: {
          status: 404,
          error: {
            type: 'index_not_found_exception',
            index: 'nowhere',
            root_cause: [{ type: 'index_not_found_exception', reason: 'no such index [nowhere]' }],
          },
        },
      });
    });

    it('generates an id for POST /<index>/_doc', async () => {
      const answer = await call(`${cluster.url}/auto/_doc`, 'POST', { title: 'no id' });
      const got = await call(`${cluster.url}/auto/_doc/${answer.body._id}`);

      expect(answer).toMatchObject({ status: 201, body: { result: 'created', _id: expect.any(String) } });
      expect(got.body._source).toEqual({ title: 'no id' });
    });

    it('refuses to create a document that exists with 409, and updates, upserts and skips a no-op', async () => {
      await call(`${cluster.url}/shelf/_create/c1`, 'PUT', { a: 1, nested: { x: 1 } });
      const conflict = await call(`${cluster.url}/shelf/_create/c1`, 'PUT', { a: 2 });
      const opTypeConflict = await call(`${cluster.url}/shelf/_doc/c1?op_type=create`, 'PUT', { a: 2 });
      const merged = await call(`${cluster.url}/shelf/_update/c1`, 'POST', {
        doc: { b: 2, nested: { y: 2 } },
      });
      const noop = await call(`${cluster.url}/shelf/_update/c1`, 'POST', { doc: { b: 2 } });
      const missing = await call(`${cluster.url}/shelf/_update/c2`, 'POST', { doc: { b: 2 } });
      const upserted = await call(`${cluster.url}/shelf/_update/c2`, 'POST', {
        doc: { b: 2 },
        doc_as_upsert: true,
      });

      expect(conflict).toMatchObject({
        status: 409,
        body: { error: { type: 'version_conflict_engine_exception' } },
      });
      expect(opTypeConflict.status).toBe(409);
      expect(merged).toMatchObject({ status: 200, body: { result: 'updated', _version: 2 } });
      expect(noop).toMatchObject({ status: 200, body: { result: 'noop', _version: 2 } });
      expect(missing).toMatchObject({ status: 404, body: { error: { type: 'document_missing_exception' } } });
      expect(upserted).toMatchObject({ status: 201, body: { result: 'created' } });
      expect((await call(`${cluster.url}/shelf/_doc/c1`)).body._source).toEqual({
        a: 1,
        b: 2,
        nested: { x: 1, y: 2 },
      });
    });
  });

  describe('_bulk and _mget', () => {
    it('applies index, create, update and delete actions in order with a result per item', async () => {
      const answer = await call(
        `${cluster.url}/_bulk`,
        'POST',
        ndjson([
          { index: { _index: 'bulky', _id: '1' } },
          { v: 1 },
          { create: { _index: 'bulky', _id: '2' } },
          { v: 2 },
          { update: { _index: 'bulky', _id: '1' } },
          { doc: { w: 1 } },
          { delete: { _index: 'bulky', _id: '2' } },
          { create: { _index: 'bulky', _id: '1' } },
          { v: 9 },
          { delete: { _index: 'bulky', _id: 'never' } },
        ]),
        { 'content-type': 'application/x-ndjson' },
      );

      expect(answer.status).toBe(200);
      expect(answer.body.errors).toBe(true);
      expect(answer.body.items).toMatchObject([
        { index: { _id: '1', status: 201, result: 'created' } },
        { create: { _id: '2', status: 201, result: 'created' } },
        { update: { _id: '1', status: 200, result: 'updated' } },
        { delete: { _id: '2', status: 200, result: 'deleted' } },
        { create: { _id: '1', status: 409, error: { type: 'version_conflict_engine_exception' } } },
        { delete: { _id: 'never', status: 404, result: 'not_found' } },
      ]);
      expect(cluster.documents().get('bulky')).toEqual(new Map([['1', { v: 1, w: 1 }]]));
    });

    it('takes the index from the path in /<index>/_bulk and refuses a malformed action with 400', async () => {
      const ok = await call(
        `${cluster.url}/pathbulk/_bulk`,
        'POST',
        ndjson([{ index: { _id: 'x' } }, { v: 1 }]),
      );
      const bad = await call(`${cluster.url}/_bulk`, 'POST', ndjson([{ upsert: { _index: 'a' } }, {}]));

      expect(ok.body).toMatchObject({ errors: false, items: [{ index: { _index: 'pathbulk', _id: 'x' } }] });
      expect(bad).toMatchObject({ status: 400, body: { error: { type: 'illegal_argument_exception' } } });
    });

    it('gets many documents at once, found or not', async () => {
      const byDocs = await call(`${cluster.url}/_mget`, 'POST', {
        docs: [
          { _index: 'books', _id: 'b1' },
          { _index: 'books', _id: 'missing' },
          { _index: 'nowhere', _id: 'b1' },
        ],
      });
      const byIds = await call(`${cluster.url}/books/_mget`, 'POST', { ids: ['b2', 'b3'] });

      expect(byDocs).toMatchObject({
        status: 200,
        body: {
          docs: [
            { _id: 'b1', found: true, _source: { title: 'book 1' } },
            { _id: 'missing', found: false },
            { _id: 'b1', error: { type: 'index_not_found_exception' } },
          ],
        },
      });
      expect(byIds.body.docs.map((doc: { _id: string }) => doc._id)).toEqual(['b2', 'b3']);
    });
  });

  describe('_search, _msearch and _count', () => {
    it('searches by GET and POST with match_all, term, ids, size and from', async () => {
      const all = await call(`${cluster.url}/books/_search`);
      const term = await call(`${cluster.url}/books/_search`, 'POST', {
        query: { term: { tag: 'odd' } },
        size: 100,
      });
      const byIds = await call(`${cluster.url}/books/_search`, 'POST', {
        query: { ids: { values: ['b3', 'b5'] } },
      });
      const paged = await call(`${cluster.url}/books/_search?size=2&from=4`);
      const bool = await call(`${cluster.url}/books/_search`, 'POST', {
        query: { bool: { must: [{ match: { title: 'book' } }], must_not: [{ range: { n: { gt: 2 } } }] } },
      });

      expect(all).toMatchObject({
        status: 200,
        body: { timed_out: false, hits: { total: { value: 25, relation: 'eq' } } },
      });
      expect(ids(all)).toHaveLength(10);
      expect(term.body.hits.total.value).toBe(12);
      expect(ids(byIds)).toEqual(['b3', 'b5']);
      expect(ids(paged)).toEqual(['b5', 'b6']);
      expect(ids(bool)).toEqual(['b1', 'b2']);
    });

    it('answers a search on a missing index with 404 index_not_found_exception, and a wildcard with no hits', async () => {
      const missing = await call(`${cluster.url}/nowhere/_search`, 'POST', { query: { match_all: {} } });
      const wildcard = await call(`${cluster.url}/nowhere-*/_search`);
      const several = await call(`${cluster.url}/books,nowhere/_search`);

      expect(missing).toMatchObject({ status: 404, body: { error: { type: 'index_not_found_exception' } } });
      expect(wildcard).toMatchObject({ status: 200, body: { hits: { total: { value: 0 } } } });
      expect(several.status).toBe(404);
    });

    it('refuses a query it does not know with a 400 parsing_exception', async () => {
      const answer = await call(`${cluster.url}/books/_search`, 'POST', {
        query: { fuzzy: { title: 'bok' } },
      });

      expect(answer).toMatchObject({ status: 400, body: { error: { type: 'parsing_exception' } } });
    });

    it('runs several searches in one _msearch, each with its own status', async () => {
      const answer = await call(
        `${cluster.url}/_msearch`,
        'POST',
        ndjson([
          { index: 'books' },
          { query: { ids: { values: ['b1'] } } },
          { index: 'nowhere' },
          { query: { match_all: {} } },
          {},
          { query: { term: { tag: 'even' } }, size: 0 },
        ]),
        { 'content-type': 'application/x-ndjson' },
      );
      const withPathIndex = await call(`${cluster.url}/books/_msearch`, 'POST', ndjson([{}, { size: 1 }]));

      expect(answer.status).toBe(200);
      expect(answer.body.responses).toMatchObject([
        { status: 200, hits: { total: { value: 1 } } },
        { status: 404, error: { type: 'index_not_found_exception' } },
        { status: 200, hits: { total: { value: 13 }, hits: [] } },
      ]);
      expect(withPathIndex.body.responses[0].hits.hits).toHaveLength(1);
    });

    it('counts by GET and by POST with a query', async () => {
      const all = await call(`${cluster.url}/books/_count`);
      const odd = await call(`${cluster.url}/books/_count`, 'POST', { query: { term: { tag: 'odd' } } });

      expect(all.body).toMatchObject({ count: 25 });
      expect(odd.body).toMatchObject({ count: 12 });
    });
  });

  describe('scroll', () => {
    it('opens with ?scroll, continues by body, path and query parameter until empty, then clears', async () => {
      const opened = await call(`${cluster.url}/books/_search?scroll=1m`, 'POST', { size: 10 });
      const scrollId = opened.body._scroll_id as string;
      const second = await call(`${cluster.url}/_search/scroll`, 'POST', {
        scroll_id: scrollId,
        scroll: '1m',
      });
      const third = await call(`${cluster.url}/_search/scroll/${scrollId}?scroll=1m`);
      const fourth = await call(`${cluster.url}/_search/scroll?scroll_id=${scrollId}`);
      const openBeforeClear = cluster.stats().openScrolls;
      const cleared = await call(`${cluster.url}/_search/scroll`, 'DELETE', { scroll_id: [scrollId] });
      const afterClear = await call(`${cluster.url}/_search/scroll`, 'POST', { scroll_id: scrollId });

      expect(opened.body.hits.total.value).toBe(25);
      expect([ids(opened), ids(second), ids(third), ids(fourth)].map((page) => page.length)).toEqual([
        10, 10, 5, 0,
      ]);
      expect(new Set([...ids(opened), ...ids(second), ...ids(third)]).size).toBe(25);
      expect(openBeforeClear).toBeGreaterThanOrEqual(1);
      expect(cleared).toMatchObject({ status: 200, body: { succeeded: true, num_freed: 1 } });
      // A context this cluster issued and freed is missing, but it was not continued on the wrong cluster.
      expect(afterClear).toMatchObject({
        status: 404,
        body: { error: { root_cause: [{ type: 'search_context_missing_exception' }] } },
      });
      expect(cluster.stats().wrongClusterScrolls).toBe(0);
    });

    it('answers a continuation of another cluster’s scroll id with 404 and counts it as wrong-cluster', async () => {
      const opened = await call(`${cluster.url}/books/_search?scroll=30s`, 'POST', { size: 5 });
      const before = other.stats().wrongClusterScrolls;

      const elsewhere = await call(`${other.url}/_search/scroll`, 'POST', {
        scroll_id: opened.body._scroll_id,
      });
      const clearedElsewhere = await call(`${other.url}/_search/scroll`, 'DELETE', {
        scroll_id: opened.body._scroll_id,
      });
      const stillOpen = await call(`${cluster.url}/_search/scroll`, 'POST', {
        scroll_id: opened.body._scroll_id,
      });

      expect(elsewhere).toMatchObject({
        status: 404,
        servedBy: 'target',
        body: {
          status: 404,
          error: {
            type: 'search_phase_execution_exception',
            root_cause: [{ type: 'search_context_missing_exception' }],
          },
        },
      });
      expect(other.stats().wrongClusterScrolls - before).toBe(1);
      expect(clearedElsewhere).toMatchObject({ status: 404, body: { num_freed: 0 } });
      expect(other.stats().wrongClusterScrollClears).toBeGreaterThanOrEqual(1);
      expect(stillOpen.status).toBe(200);
      expect(cluster.stats().wrongClusterScrolls).toBe(0);
      await call(`${cluster.url}/_search/scroll/_all`, 'DELETE');
    });

    it('refuses a keep-alive it cannot read with 400', async () => {
      const answer = await call(`${cluster.url}/books/_search?scroll=forever`);

      expect(answer).toMatchObject({ status: 400, body: { error: { type: 'illegal_argument_exception' } } });
    });
  });

  describe('what divergence is measured from', () => {
    it('logs each write with its time and whether the replayer sent it, and counts none for the seeded documents', async () => {
      const fresh = await startClusterStandIn({
        name: 'target',
        port: 0,
        documents: { seeded: { s: { v: 0 } } },
      });
      try {
        const before = Date.now();
        await call(`${fresh.url}/log/_doc/direct`, 'PUT', { v: 1 });
        await call(`${fresh.url}/log/_doc/replayed`, 'PUT', { v: 2 }, { [REPLAY_HEADER]: 'capture-proxy' });
        await call(`${fresh.url}/log/_doc/direct`, 'DELETE');

        expect(fresh.writes()).toMatchObject([
          { index: 'log', id: 'direct', operation: 'index', replayed: false },
          { index: 'log', id: 'replayed', operation: 'index', replayed: true },
          { index: 'log', id: 'direct', operation: 'delete', replayed: false },
        ]);
        expect(fresh.writes().every((write) => write.at >= before && write.at <= Date.now())).toBe(true);
        expect(fresh.stats()).toMatchObject({ directWrites: 2, replayedWrites: 1, documents: 2 });
        expect(fresh.documents()).toEqual(
          new Map([
            ['seeded', new Map([['s', { v: 0 }]])],
            ['log', new Map([['replayed', { v: 2 }]])],
          ]),
        );
      } finally {
        await fresh.close();
      }
    });

    it('deletes by query', async () => {
      await call(
        `${other.url}/dbq/_bulk`,
        'POST',
        ndjson([{ index: { _id: '1' } }, { k: 'a' }, { index: { _id: '2' } }, { k: 'b' }]),
      );

      const answer = await call(`${other.url}/dbq/_delete_by_query`, 'POST', { query: { term: { k: 'a' } } });

      expect(answer).toMatchObject({ status: 200, body: { deleted: 1, failures: [] } });
      expect([...(other.documents().get('dbq')?.keys() ?? [])]).toEqual(['2']);
    });
  });
});
