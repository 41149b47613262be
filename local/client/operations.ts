import type { PlannedRequest } from '../traffic.ts';
import { type ClientState, json, ndjson } from './client.ts';
import type { ClientScrolls } from './scrolls.ts';

export type ReadOperation = 'get' | 'search' | 'msearch' | 'count' | 'mget' | 'scroll';
export type WriteOperation = 'index' | 'create' | 'bulk' | 'delete';

/** What an operation builds its request from. */
export interface Clients {
  readonly client: ClientState;
  readonly scrolls: ClientScrolls;
}

type Operation = (clients: Clients) => PlannedRequest;

/** The reads OpenSearch clients send, one request each, its name the operation's. */
export const READS: Readonly<Record<ReadOperation, Operation>> = {
  get: ({ client }) => ({
    method: 'GET',
    path: `/${client.index}/_doc/${client.anyId()}`,
    operation: 'get',
    onAnswer: client.counted(),
  }),
  search: ({ client }) => ({
    method: 'POST',
    path: `/${client.index}/_search`,
    body: json(client.searchBody()),
    operation: 'search',
    onAnswer: client.counted(),
  }),
  msearch: ({ client }) => {
    const { index } = client;
    return {
      method: 'POST',
      path: '/_msearch',
      body: ndjson([{ index }, client.searchBody(), { index }, client.searchBody()]),
      contentType: 'application/x-ndjson',
      operation: 'msearch',
      onAnswer: client.counted(),
    };
  },
  count: ({ client }) => ({
    method: 'POST',
    path: `/${client.index}/_count`,
    body: json({ query: { term: { tag: client.tag() } } }),
    operation: 'count',
    onAnswer: client.counted(),
  }),
  mget: ({ client }) => ({
    method: 'POST',
    path: '/_mget',
    body: json({
      docs: [client.anyId(), client.anyId(), client.anyId()].map((id) => ({ _index: client.index, _id: id })),
    }),
    operation: 'mget',
    onAnswer: client.counted(),
  }),
  // With as many scrolls open as allowed and none ready to continue, a plain search instead.
  scroll: (clients) => clients.scrolls.next() ?? READS.search(clients),
};

/** The writes, ids drawn from the same id space as the reads'. */
export const WRITES: Readonly<Record<WriteOperation, Operation>> = {
  index: ({ client }) => {
    const id = client.writeId();
    return {
      method: 'PUT',
      path: `/${client.index}/_doc/${id}`,
      body: json(client.body(id)),
      operation: 'index',
      onAnswer: client.counted(),
    };
  },
  create: ({ client }) => {
    // Every other create names its id like a read API (`_searchable-2`), as a client may: a write all the
    // same, which no read rule may take (`*/_search*` once did).
    client.creates += 1;
    const { creates } = client;
    return creates % 2 === 0
      ? {
          method: 'POST',
          path: `/${client.index}/_doc/_searchable-${creates}`,
          body: json({ ...client.body('0'), n: null, title: 'id named like a read' }),
          operation: 'create',
          onAnswer: client.counted(),
        }
      : {
          method: 'POST',
          path: `/${client.index}/_doc`,
          body: json({ ...client.body('0'), n: null, title: 'auto id' }),
          operation: 'create',
          onAnswer: client.counted(),
        };
  },
  delete: ({ client }) => ({
    method: 'DELETE',
    path: `/${client.index}/_doc/${client.anyId()}`,
    operation: 'delete',
    onAnswer: client.counted(),
  }),
  bulk: ({ client }) => {
    const { index } = client;
    const lines: unknown[] = [];
    const actions = 2 + Math.floor(client.random() * 4);
    for (let at = 0; at < actions; at += 1) {
      const roll = client.random();
      if (roll < 0.6) {
        const id = client.writeId();
        lines.push({ index: { _index: index, _id: id } }, client.body(id));
      } else if (roll < 0.85) {
        const id = client.anyId();
        lines.push({ update: { _index: index, _id: id } }, { doc: { revision: client.nextRevision() } });
      } else lines.push({ delete: { _index: index, _id: client.anyId() } });
    }
    return {
      method: 'POST',
      path: '/_bulk',
      body: ndjson(lines),
      contentType: 'application/x-ndjson',
      operation: 'bulk',
      onAnswer: client.counted(),
    };
  },
};
